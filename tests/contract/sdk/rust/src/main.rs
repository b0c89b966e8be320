//! The progenitor client of openapi.yaml, against a live server: BASE_URL, and for two seeded
//! users USER_A/TOKEN_A and USER_B/TOKEN_B. Friendship mode: a full cycle, request, accept,
//! status, remove, and errors as typed error bodies. Follow mode (MODE=follow): the toggle,
//! both checks, both lists, the counters.

progenitor::generate_api!(spec = "../../../../openapi.yaml", interface = Builder);

use std::num::NonZeroU64;

use types::ConnectionStatusInner as Status;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"))
}

fn client(base: &str, token: &str) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    let value = format!("Bearer {token}").parse().expect("header value");
    headers.insert(reqwest::header::AUTHORIZATION, value);
    let http = reqwest::Client::builder().default_headers(headers).build().expect("http client");
    Client::new_with_client(base, http)
}

#[tokio::main]
async fn main() {
    let base = env("BASE_URL");
    // The spec says ids are positive int64: progenitor makes them `NonZeroU64`.
    let (a, b): (NonZeroU64, NonZeroU64) = (env("USER_A").parse().unwrap(), env("USER_B").parse().unwrap());
    let alice = client(&base, &env("TOKEN_A"));
    let bob = client(&base, &env("TOKEN_B"));
    if std::env::var("MODE").as_deref() == Ok("follow") {
        return follow_mode(&alice, &bob, a, b).await;
    }

    let sent = alice.user_request_connection().id(b).send().await.expect("A requests B").into_inner();
    assert_eq!(sent.connection_status.0, Some(Status::SentConnectionRequest), "A asked B");

    let received = bob.get_user_connection_requests().send().await.expect("B's requests").into_inner();
    assert!(received.results.iter().any(|r| r.from_user.id == a.get() as i64), "B sees A's request");

    let connected = bob.user_accept_request_connection().id(a).send().await.expect("B accepts").into_inner();
    assert_eq!(connected.connection_status.0, Some(Status::Connected));

    let check = alice.check_user_connections().id(b).send().await.expect("is_connection").into_inner();
    assert!(check.is_connection, "connected after accept");
    let counters = alice.get_user_counters().id(b).send().await.expect("B's counters").into_inner();
    assert_eq!(counters.connections, Some(1), "B's counters after the accept");
    let me = bob.get_me().send().await.expect("B's own user").into_inner();
    assert_eq!(me.connections_counter, 1, "B's own counter");

    let removed = alice.user_remove_connection().id(b).send().await.expect("A removes B").into_inner();
    assert_eq!(removed.connection_status.0, None, "no relation after remove");
    let status = bob.get_user_connection_status().id(a).send().await.expect("status").into_inner();
    assert_eq!(status.connection_status.0, None);

    match alice.user_accept_request_connection().id(b).send().await {
        Err(Error::ErrorResponse(response)) => {
            assert_eq!(response.status().as_u16(), 409);
            let body = serde_json::to_value(response.into_inner()).unwrap();
            assert_eq!(body["errors"][0]["code"], "no_connection_request", "{body}");
        }
        other => panic!("accepting nothing: expected a 409 error body, got {other:?}"),
    }
    match alice.user_request_connection().id(a).send().await {
        Err(Error::ErrorResponse(response)) => assert_eq!(response.status().as_u16(), 400),
        other => panic!("requesting oneself: expected a 400 error body, got {other:?}"),
    }
    alice.show_hide_user().id(b).send().await.expect("A hides B");
    let hidden = alice.check_user_hidden().id(b).send().await.expect("is_hidden").into_inner();
    assert!(hidden.is_hidden, "hidden after the toggle");
    let ids = alice.get_hidden_users_id().send().await.expect("hidden ids").into_inner();
    assert_eq!(ids, vec![b.get() as i64]);
    alice.show_hide_user().id(b).send().await.expect("A shows B again");
    println!("rust sdk (progenitor): request, accept, is_connection, counters, remove, typed 400 and 409, hide: ok");
}

async fn follow_mode(alice: &Client, bob: &Client, a: NonZeroU64, b: NonZeroU64) {
    alice.follow_user().id(b).send().await.expect("A follows B");
    assert!(alice.check_user_followed().id(b).send().await.expect("is_followed").into_inner().is_followed);
    assert!(bob.check_user_follower().id(a).send().await.expect("is_follower").into_inner().is_follower);
    let followers = bob.get_user_followers().id(b).limit(NonZeroU64::new(10).unwrap()).send().await.expect("followers").into_inner();
    assert_eq!(followers.results.iter().map(|u| u.id).collect::<Vec<_>>(), vec![a.get() as i64]);
    let followings = alice.get_user_followings().id(a).send().await.expect("followings").into_inner();
    assert_eq!(followings.count, 1);
    assert_eq!(followings.results[0].connection_status.0, Some(Status::Followed));
    let counters = alice.get_user_counters().id(b).send().await.expect("B's counters").into_inner();
    assert_eq!((counters.followers, counters.followings, counters.connections), (Some(1), Some(0), None));
    match alice.follow_user().id(a).send().await {
        Err(Error::ErrorResponse(response)) => {
            assert_eq!(response.status().as_u16(), 400);
            let body = serde_json::to_value(response.into_inner()).unwrap();
            assert_eq!(body["errors"][0]["code"], "self_follow", "{body}");
        }
        other => panic!("following oneself: expected a 400 error body, got {other:?}"),
    }
    alice.follow_user().id(b).send().await.expect("A unfollows B");
    assert!(!alice.check_user_followed().id(b).send().await.expect("is_followed").into_inner().is_followed);
    println!("rust sdk (progenitor), follow mode: follow, is_followed, is_follower, followers, followings, counters, typed 400, unfollow: ok");
}
