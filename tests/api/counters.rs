//! Each user's stored counters (connections, pending requests received, requests sent) equal
//! the `count` of the matching list at every moment: after racing actions from both sides
//! through two instances, and after a user is deleted.

use futures::future::join_all;

use connections_api::domain::Action;

use crate::harness::{TestApp, json};

/// Random actions among a few users at once, from both instances: afterwards every stored
/// counter equals what the rows count and what each list's `count` says.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn counters_equal_the_lists_after_racing_actions() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    let mut users = Vec::new();
    for i in 0..6 {
        users.push(app.user(&format!("u{i}")).await);
    }
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..10 {
        let mut calls = Vec::new();
        for i in 0..24 {
            let me = &users[(next() % users.len() as u64) as usize];
            let them = &users[(next() % users.len() as u64) as usize];
            if me.id == them.id {
                continue;
            }
            let action = Action::ALL[(next() % Action::ALL.len() as u64) as usize];
            let server = if i % 2 == 0 { &app } else { &other };
            let path = crate::concurrency::action_path(action, them.id);
            calls.push(async move { server.post(me, &path).await });
        }
        for response in join_all(calls).await {
            let status = response.status().as_u16();
            assert!(matches!(status, 200 | 204 | 409), "round {round}: {status}");
        }
        assert_eq!(app.repo.miscounted_users().await.unwrap(), vec![], "round {round}: stored counters = counted rows");
    }
    // What clients see: the counters endpoint (read by a user outside the race), `me`, and every
    // user object in the lists carry the same three numbers, each the `count` of its list.
    let reader = app.user("reader").await;
    let (app, reader) = (&app, &reader);
    let counters_of = |id: i64| async move {
        let (status, body) = json(app.get(reader, &format!("/api/v2/user/{id}/counters/")).await).await;
        assert_eq!(status, 200, "{body}");
        (body["connections"].as_i64(), body["connection_requests_received"].as_i64(), body["connection_requests_sent"].as_i64())
    };
    let in_object = |user: &serde_json::Value| {
        (
            user["connections_counter"].as_i64(),
            user["connection_requests_received_counter"].as_i64(),
            user["connection_requests_sent_counter"].as_i64(),
        )
    };
    for me in &users {
        let count = |path: String| async move { json(app.get(me, &path).await).await.1["count"].as_i64() };
        let listed = (
            count(format!("/api/v2/user/{}/connections/", me.id)).await,
            count("/api/v2/user/connection/requests/".into()).await,
            count("/api/v2/user/connection/requests_sent/".into()).await,
        );
        assert_eq!(counters_of(me.id).await, listed, "user {}: the counters endpoint against the lists", me.id);
        let (_, own) = json(app.get(me, "/api/v2/user/me/").await).await;
        assert_eq!(in_object(&own), listed, "user {}: `me` against the lists", me.id);
        let (_, connections) = json(app.get(me, &format!("/api/v2/user/{}/connections/?limit=100", me.id)).await).await;
        for user in connections["results"].as_array().unwrap() {
            let id = user["id"].as_i64().unwrap();
            assert_eq!(in_object(user), counters_of(id).await, "user {id} as listed among {}'s connections", me.id);
        }
    }
}

/// A deleted user counts nowhere: the counters of the users they were related to drop in the
/// same transaction, and equal the lists (which leave deleted users out).
#[tokio::test]
async fn deleting_a_user_takes_them_out_of_everyone_elses_counters() {
    let app = TestApp::spawn().await;
    let (gone, a, b, c) = (app.user("gone").await, app.user("a").await, app.user("b").await, app.user("c").await);
    app.act(&gone, &a, Action::Request).await; // a received one
    app.act(&b, &gone, Action::Request).await; // b sent one
    app.act(&c, &gone, Action::Request).await;
    app.act(&gone, &c, Action::Accept).await; // c connected
    app.act(&a, &b, Action::Request).await; // unrelated to `gone`: stays
    let before = app.repo.find_active_user(a.id).await.unwrap().unwrap();
    assert_eq!((before.connection_requests_received_counter, before.connection_requests_sent_counter), (1, 1));
    assert!(app.repo.delete_user(gone.id).await.unwrap());
    assert_eq!(app.repo.miscounted_users().await.unwrap(), vec![]);
    let counters = |u: connections_api::db::entities::users::Model| {
        (u.connections_counter, u.connection_requests_received_counter, u.connection_requests_sent_counter)
    };
    let app = &app;
    let now = |id| async move { counters(app.repo.find_active_user(id).await.unwrap().unwrap()) };
    assert_eq!(now(a.id).await, (0, 0, 1), "a: the request from `gone` no longer counts");
    assert_eq!(now(b.id).await, (0, 1, 0), "b: the request to `gone` no longer counts");
    assert_eq!(now(c.id).await, (0, 0, 0), "c: the connection with `gone` no longer counts");
    assert!(!app.repo.delete_user(gone.id).await.unwrap(), "a second delete changes nothing");
    assert_eq!(app.repo.miscounted_users().await.unwrap(), vec![]);
}

/// `GET /api/v2/user/{id}/counters/`: the three counts in friendship mode, follow mode's two in
/// follow mode, `{}` in neither; `404` for an unknown or deleted user, `401` without a token.
#[tokio::test]
async fn the_counters_endpoint_answers_each_modes_counters() {
    let app = TestApp::spawn().await;
    let (a, b, c) = (app.user("a").await, app.user("b").await, app.user("c").await);
    app.act(&a, &b, Action::Request).await;
    app.act(&c, &b, Action::Request).await;
    app.act(&b, &c, Action::Accept).await;
    let (status, body) = json(app.get(&a, &format!("/api/v2/user/{}/counters/", b.id)).await).await;
    assert_eq!(status, 200);
    assert_eq!(body, serde_json::json!({"connections": 1, "connection_requests_sent": 0, "connection_requests_received": 1}));
    let (_, user) = json(app.get(&a, &format!("/api/v2/user/{}/", b.id)).await).await;
    assert_eq!(
        (&user["connections_counter"], &user["connection_requests_received_counter"], &user["connection_requests_sent_counter"]),
        (&serde_json::json!(1), &serde_json::json!(1), &serde_json::json!(0))
    );

    crate::harness::assert_error(app.get(&a, "/api/v2/user/999999/counters/").await, 404, "not_found").await;
    let anonymous = reqwest::Client::new().get(app.url(&format!("/api/v2/user/{}/counters/", b.id))).send().await.unwrap();
    crate::harness::assert_error(anonymous, 401, "not_authenticated").await;

    app.set_preference("follow_enabled", true).await;
    let (status, body) = json(app.get(&a, &format!("/api/v2/user/{}/counters/", b.id)).await).await;
    assert_eq!((status, body), (200, serde_json::json!({"followers": 0, "followings": 0})), "follow mode: its own two, not the connections'");
    app.set_preference("follow_enabled", false).await;
    app.set_preference("connection_enabled", false).await;
    let (status, body) = json(app.get(&a, &format!("/api/v2/user/{}/counters/", b.id)).await).await;
    assert_eq!((status, body), (200, serde_json::json!({})), "in neither mode the keys are left out");
    assert!(app.repo.delete_user(b.id).await.unwrap());
    crate::harness::assert_error(app.get(&a, &format!("/api/v2/user/{}/counters/", b.id)).await, 404, "not_found").await;
}
