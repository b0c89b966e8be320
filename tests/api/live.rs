//! Live updates: SelfCommunity's notification socket (`/ws/notify`, subprotocol auth, the
//! heartbeat, one `interaction` message per event for the notified user, across instances),
//! and the event stream (`GET /api/v2/stream/`: its resume with `Last-Event-ID`, its caps, its
//! end at shutdown).

use std::time::Duration;

use connections_api::db::entities::users::Model as User;
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

use connections_api::domain::Action;
use crate::harness::{Options, TestApp, assert_error};

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const HEARTBEAT: &str = "--1a61c1de89b75ddfbb684b8d224ee3ae--";

/// Opens `/ws/notify?subscribe-user` as SelfCommunity's client does: the token as subprotocol.
async fn socket(app: &TestApp, protocol: &str) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let url = format!("{}/ws/notify?subscribe-user", app.base.replacen("http", "ws", 1));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", protocol.parse().unwrap());
    let (socket, response) = tokio_tungstenite::connect_async(request).await?;
    assert_eq!(
        response.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok()),
        Some(protocol),
        "the subprotocol is echoed, as browsers require"
    );
    Ok(socket)
}

async fn socket_of(app: &TestApp, user: &User) -> Socket {
    socket(app, &format!("__{}", app.token(user))).await.expect("the socket opens")
}

/// The next text message within `wait`, as JSON (`None`: none came).
async fn next_message(socket: &mut Socket, wait: Duration) -> Option<Value> {
    loop {
        match tokio::time::timeout(wait, socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => return Some(serde_json::from_str(&text).expect("JSON")),
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

async fn act(app: &TestApp, caller: &User, other: &User, action: &str) {
    let response = app.post(caller, &format!("/api/v2/user/{}/connection/{action}/", other.id)).await;
    assert!(response.status().is_success(), "{action}: {}", response.status());
}

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn the_socket_pushes_one_interaction_per_event_to_the_notified_user() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.user("alice").await, app.user("bob").await);
    let (mut alice, mut bob) = (socket_of(&app, &a).await, socket_of(&app, &b).await);

    bob.send(Message::Text(HEARTBEAT.into())).await.unwrap();
    match tokio::time::timeout(WAIT, bob.next()).await {
        Ok(Some(Ok(Message::Text(text)))) => assert_eq!(text.as_str(), HEARTBEAT, "the heartbeat is echoed"),
        other => panic!("no heartbeat echo: {other:?}"),
    }

    act(&app, &a, &b, "request").await;
    let message = next_message(&mut bob, WAIT).await.expect("bob is told at once");
    assert_eq!(message["type"], "interaction");
    assert_eq!(message["data"]["activity_type"], 55, "{message}");
    assert_eq!(message["data"]["request_user"]["id"], a.id, "{message}");
    assert!(message["data"]["connection"].is_object(), "react-core's manager needs `connection`: {message}");
    assert_eq!(message["data"]["notification_obj"]["type"], "connection_request");
    assert_eq!(message["data"]["notification_obj"]["request_user"]["id"], a.id);
    // A repeat changes nothing and pushes nothing; nobody is told of their own action. Messages
    // come in event order, so each "next message" below proves that none came before it.
    act(&app, &a, &b, "request").await;

    act(&app, &b, &a, "accept").await;
    let message = next_message(&mut alice, WAIT).await.expect("alice is told");
    assert_eq!(
        (message["data"]["activity_type"].as_i64(), message["data"]["accept_user"]["id"].as_i64()),
        (Some(56), Some(b.id)),
        "alice's first message: nothing for her own request or its repeat: {message}"
    );
    act(&app, &b, &a, "remove").await;
    let message = next_message(&mut alice, WAIT).await.expect("alice is told");
    assert_eq!((message["data"]["activity_type"].as_i64(), message["data"]["remove_user"]["id"].as_i64()), (Some(59), Some(b.id)));
    let c = app.user("carol").await;
    act(&app, &c, &b, "request").await;
    let message = next_message(&mut bob, WAIT).await.expect("bob is told of carol's request");
    assert_eq!(
        (message["data"]["activity_type"].as_i64(), message["data"]["request_user"]["id"].as_i64()),
        (Some(55), Some(c.id)),
        "bob's next message is carol's: nothing for alice's repeat, nor for his own accept and remove: {message}"
    );
}

/// Follow mode: a follow reaches the followed user's socket as `user_follow` (97, `follower`),
/// an unfollow as `user_unfollow` (98, `unfollower`), in the shapes `react-core`'s followers
/// manager and toasts read; the follower is told nothing; both users' streams carry the events.
#[tokio::test]
async fn a_follow_and_an_unfollow_reach_the_followed_users_socket_and_both_streams() {
    let app = TestApp::spawn_with(crate::harness::Options { follow_mode: true, ..Default::default() }).await;
    let (a, b) = (app.user("alice").await, app.user("bob").await);
    let (mut alice, mut bob) = (socket_of(&app, &a).await, socket_of(&app, &b).await);
    let (mut alice_stream, mut bob_stream) = (open_stream(&app, &a, None).await, open_stream(&app, &b, None).await);
    let follow = |who: User, whom: User| {
        let app = &app;
        async move { assert_eq!(app.post(&who, &format!("/api/v2/user/{}/follow/", whom.id)).await.status(), 204) }
    };
    follow(a.clone(), b.clone()).await;
    let message = next_message(&mut bob, WAIT).await.expect("bob is told at once");
    assert_eq!((message["type"].as_str(), message["data"]["activity_type"].as_i64()), (Some("interaction"), Some(97)), "{message}");
    assert_eq!(message["data"]["follower"]["id"], a.id, "{message}");
    assert_eq!(message["data"]["notification_obj"]["type"], "user_follow");
    assert_eq!(message["data"]["notification_obj"]["follower"]["id"], a.id);
    assert!(message["data"]["feed_serialization_id"].is_string(), "{message}");
    follow(a.clone(), b.clone()).await;
    let message = next_message(&mut bob, WAIT).await.expect("bob is told of the unfollow");
    assert_eq!((message["data"]["activity_type"].as_i64(), message["data"]["unfollower"]["id"].as_i64()), (Some(98), Some(a.id)), "{message}");
    follow(b.clone(), a.clone()).await;
    let message = next_message(&mut alice, WAIT).await.expect("alice is told of bob's follow");
    assert_eq!(
        (message["data"]["activity_type"].as_i64(), message["data"]["follower"]["id"].as_i64()),
        (Some(97), Some(b.id)),
        "alice's first message: nothing for her own follow and unfollow: {message}"
    );
    for stream in [&mut alice_stream, &mut bob_stream] {
        let events = read_events(stream, &mut String::new(), 3).await;
        let kinds: Vec<&str> = events.iter().map(|(_, kind, _)| kind.as_str()).collect();
        assert_eq!(kinds, vec!["connection.follow", "connection.unfollow", "connection.follow"]);
    }
}

#[tokio::test]
async fn a_bad_or_missing_token_never_opens_the_socket() {
    let app = TestApp::spawn().await;
    let a = app.user("alice").await;
    let forged = connections_api::http::tokens::Authenticator::new(b"another-secret-another-secret-00", 30).issue(a.id, 600);
    for protocol in [format!("__{forged}"), "__not.a.token".to_owned(), "graphql-ws".to_owned()] {
        match socket(&app, &protocol).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401, "{protocol}"),
            other => panic!("{protocol}: the socket opened: {:?}", other.map(|_| ())),
        }
    }
}

#[tokio::test]
async fn an_event_made_on_one_instance_reaches_a_socket_on_another() {
    let first = TestApp::spawn().await;
    let second = first.another_instance().await;
    let (a, b) = (first.user("alice").await, first.user("bob").await);
    let mut bob = socket_of(&second, &b).await;
    act(&first, &a, &b, "request").await;
    let message = next_message(&mut bob, WAIT).await.expect("bob is told through the other instance");
    assert_eq!(message["data"]["activity_type"], 55);
}

/// Reads a stream's events until `n` came: `(id, event type, payload)`.
async fn read_events(response: &mut reqwest::Response, buffer: &mut String, n: usize) -> Vec<(i64, String, Value)> {
    let mut events = Vec::new();
    while events.len() < n {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let field = |name: &str| block.lines().find_map(|l| l.strip_prefix(&format!("{name}:")).map(|v| v.trim().to_owned()));
            if let (Some(id), Some(kind), Some(data)) = (field("id"), field("event"), field("data")) {
                events.push((id.parse().unwrap(), kind, serde_json::from_str(&data).unwrap()));
            }
        }
        if events.len() >= n {
            break;
        }
        let chunk = tokio::time::timeout(WAIT, response.chunk()).await.expect("an event within 10 s").unwrap().expect("the stream goes on");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
    events
}

async fn open_stream(app: &TestApp, user: &User, last_event_id: Option<i64>) -> reqwest::Response {
    let mut request = app.client.get(app.url("/api/v2/stream/")).bearer_auth(app.token(user));
    if let Some(id) = last_event_id {
        request = request.header("Last-Event-ID", id.to_string());
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn the_stream_resumes_from_last_event_id_without_losing_one() {
    let app = TestApp::spawn().await;
    let (a, b, c) = (app.user("alice").await, app.user("bob").await, app.user("carol").await);
    let mut stream = open_stream(&app, &b, None).await;
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["content-type"].to_str().unwrap().split(';').next(), Some("text/event-stream"));
    act(&app, &a, &b, "request").await;
    act(&app, &a, &c, "request").await; // not bob's
    let mut buffer = String::new();
    let first = read_events(&mut stream, &mut buffer, 1).await;
    assert_eq!(first[0].1, "connection_request.created");
    assert_eq!(first[0].2["data"]["to_user"]["id"], b.id);
    assert_eq!(first[0].2["event_id"], first[0].0, "id is the event_id");
    drop(stream);

    // Missed while away: two of bob's, one of someone else's.
    act(&app, &a, &b, "cancel_request").await;
    act(&app, &c, &a, "request").await;
    act(&app, &c, &b, "request").await;
    let mut resumed = open_stream(&app, &b, Some(first[0].0)).await;
    let mut buffer = String::new();
    let missed = read_events(&mut resumed, &mut buffer, 2).await;
    let kinds: Vec<&str> = missed.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(kinds, ["connection_request.cancelled", "connection_request.created"]);
    assert!(missed[0].0 > first[0].0 && missed[1].0 > missed[0].0, "in order, after the last one seen");
    // Then live ones.
    act(&app, &b, &c, "accept").await;
    let live = read_events(&mut resumed, &mut buffer, 1).await;
    assert_eq!(live[0].1, "connection.created");
    assert!(live[0].0 > missed[1].0);
}

/// A client that missed more events than one read of the outbox gives (1,100: three pages)
/// gets every one, in order, then the live ones made meanwhile, with no gap and no repeat:
/// here every event concerns bob, so his stream must carry exactly ids 1..=n. The live feed's
/// backlog is tiny, so the stream also falls behind it while it replays, and reads on from the
/// outbox.
#[tokio::test]
async fn a_resume_gets_every_missed_event_then_the_live_ones_with_no_gap() {
    const MISSED: usize = 1_100;
    const LIVE: usize = 100;
    let app = TestApp::spawn_with(Options { live_backlog: Some(4), ..Options::default() }).await;
    let (a, b) = (app.user("alice").await, app.user("bob").await);
    for i in 0..MISSED {
        let action = if i % 2 == 0 { Action::Request } else { Action::CancelRequest };
        app.act(&a, &b, action).await;
    }
    let mut resumed = open_stream(&app, &b, Some(0)).await;
    assert_eq!(resumed.status(), 200);
    // Live events while the replay runs.
    let live = {
        let (repo, a, b) = (app.repo.clone(), a.id, b.id);
        tokio::spawn(async move {
            for i in 0..LIVE {
                let action = if i % 2 == 0 { Action::Request } else { Action::CancelRequest };
                repo.apply(a, b, action).await.unwrap().unwrap();
            }
        })
    };
    let mut buffer = String::new();
    let got = read_events(&mut resumed, &mut buffer, MISSED + LIVE).await;
    live.await.unwrap();
    let ids: Vec<i64> = got.iter().map(|e| e.0).collect();
    assert_eq!(ids, (1..=(MISSED + LIVE) as i64).collect::<Vec<_>>(), "every event once, in order");
}

/// Live connections are not request slots: with the server's connection cap at 10, two users
/// holding 5 streams each and a third 3 sockets and 2 streams (every live place they have),
/// every other request, `/healthz` included, is still answered at once.
#[tokio::test]
async fn live_connections_never_take_the_place_of_requests() {
    let limits = connections_api::server::Limits { max_connections: 10, ..Default::default() };
    let app = TestApp::spawn_with(Options { limits, ..Options::default() }).await;
    let (a, b, c, d) = (app.user("alice").await, app.user("bob").await, app.user("carol").await, app.user("dave").await);
    let mut held = Vec::new();
    let mut sockets = Vec::new();
    for (user, streams) in [(&a, 5), (&b, 5), (&d, 2)] {
        for i in 0..5 {
            if i < streams {
                // A connection of its own for each stream; opened at once, or the test fails.
                let client = reqwest::Client::builder().no_proxy().build().unwrap();
                let open = client.get(app.url("/api/v2/stream/")).bearer_auth(app.token(user)).send();
                let stream = tokio::time::timeout(WAIT, open).await.expect("the stream opens at once").unwrap();
                assert_eq!(stream.status(), 200);
                held.push((client, stream));
            } else {
                sockets.push(socket_of(&app, user).await);
            }
        }
    }
    let quick = reqwest::Client::builder().no_proxy().timeout(WAIT).build().unwrap();
    for _ in 0..12 {
        let health = quick.get(app.url("/healthz")).send().await.expect("/healthz answers with every live place taken");
        assert_eq!(health.status(), 200);
        let me = quick.get(app.url("/api/v2/user/me/")).bearer_auth(app.token(&c)).send().await.expect("the API answers");
        assert_eq!(me.status(), 200);
    }
    // The streams are still open and live.
    act(&app, &c, &a, "request").await;
    let mut buffer = String::new();
    let got = read_events(&mut held[0].1, &mut buffer, 1).await;
    assert_eq!(got[0].1, "connection_request.created");
}

#[tokio::test]
async fn streams_and_sockets_are_capped_per_user_and_end_at_shutdown() {
    let mut app = TestApp::spawn_with(Options { live_max_per_user: Some(2), ..Options::default() }).await;
    let (a, b) = (app.user("alice").await, app.user("bob").await);
    let mut stream = open_stream(&app, &a, None).await;
    assert_eq!(stream.status(), 200);
    let mut held = socket_of(&app, &a).await;
    assert_error(open_stream(&app, &a, None).await, 429, "too_many_streams").await;
    match socket(&app, &format!("__{}", app.token(&a))).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 429),
        other => panic!("a third one opened: {:?}", other.map(|_| ())),
    }
    assert_eq!(open_stream(&app, &b, None).await.status(), 200, "another user's are counted apart");

    // Shutdown ends the stream (its body completes) well within the grace period.
    app.stop();
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stream ended at shutdown");
    // And the socket is closed by the server, as going away (1001).
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match held.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await;
    assert_eq!(closed, Ok(Some(1001)), "the socket closed at shutdown, going away");
}

#[tokio::test]
async fn the_notification_feed_has_requests_received_and_accepted() {
    let app = TestApp::spawn().await;
    let (a, b, c) = (app.user("alice").await, app.user("bob").await, app.user("carol").await);
    act(&app, &a, &b, "request").await; // bob: a request from alice
    act(&app, &c, &b, "request").await; // bob: a request from carol
    act(&app, &b, &a, "accept").await; // alice: bob accepted
    act(&app, &a, &c, "request").await;
    act(&app, &a, &c, "cancel_request").await; // a cancellation is not a feed type: carol keeps the request's

    let feed = |user: User| {
        let app = &app;
        async move {
            let (status, body) = crate::harness::json(app.get(&user, "/api/v2/notification/").await).await;
            assert_eq!(status, 200, "{body}");
            body
        }
    };
    let bobs = feed(b.clone()).await;
    assert_eq!(bobs["count"], 2, "{bobs}");
    let first = &bobs["results"][0]["aggregated"][0];
    assert_eq!((first["type"].as_str(), first["request_user"]["id"].as_i64()), (Some("connection_request"), Some(c.id)), "newest first: {bobs}");
    assert_eq!(bobs["results"][1]["aggregated"][0]["request_user"]["id"], a.id);
    assert_eq!(first["is_new"], true);
    // The users are Users as every list shows them: the caller's status towards them now, and
    // their counters.
    assert_eq!(first["request_user"]["connection_status"], "received_connection_request", "{first}");
    assert_eq!(bobs["results"][1]["aggregated"][0]["request_user"]["connection_status"], "connected", "bob accepted alice since");
    assert_eq!(first["request_user"]["connection_requests_sent_counter"], 1, "{first}");
    let alices = feed(a.clone()).await;
    assert_eq!(alices["count"], 1, "{alices}");
    let accepted = &alices["results"][0]["aggregated"][0];
    assert_eq!((accepted["type"].as_str(), accepted["accept_user"]["id"].as_i64()), (Some("connection_accept"), Some(b.id)));
    assert_eq!(accepted["accept_user"]["connection_status"], "connected", "{accepted}");
    assert_eq!(feed(c.clone()).await["count"], 1, "the request carol got, and nothing for its cancellation");

    let unseen = |user: User| {
        let app = &app;
        async move { crate::harness::json(app.get(&user, "/api/v2/notification/unseen/count/").await).await.1["count"].as_i64() }
    };
    assert_eq!(unseen(b.clone()).await, Some(2));
    // Bob reads one; a sid of someone else's is ignored.
    let sid = first["sid"].as_str().unwrap().to_owned();
    let alices_sid = accepted["sid"].as_str().unwrap().to_owned();
    let read = app.post_json(&b, "/api/v2/notification/read/", &serde_json::json!({"sids": [sid, alices_sid, "post_7"]})).await;
    assert_eq!(read.status(), 204);
    assert_eq!(unseen(b.clone()).await, Some(1));
    assert_eq!(unseen(a.clone()).await, Some(1), "alice's is not bob's to read");
    assert_eq!(feed(b.clone()).await["results"][0]["aggregated"][0]["is_new"], false);
    assert_error(app.post_json(&b, "/api/v2/notification/read/", &serde_json::json!({"sids": "all"})).await, 400, "invalid").await;

    // The socket's message names the same notification.
    let mut bob = socket_of(&app, &b).await;
    let d = app.user("dave").await;
    act(&app, &d, &b, "request").await;
    // (A socket may also get an event committed just before it opened: the one about dave is
    // the one to compare.)
    let message = loop {
        let message = next_message(&mut bob, WAIT).await.expect("bob is told");
        if message["data"]["request_user"]["id"] == d.id {
            break message;
        }
    };
    let newest = feed(b.clone()).await;
    assert_eq!(message["data"]["feed_serialization_id"], newest["results"][0]["sid"], "{message}");
}

/// The close code the server sends next (skipping other messages), or `None` when the socket
/// ended without a close frame; fails when nothing ends it within `wait`.
async fn close_code(socket: &mut Socket, wait: Duration) -> Option<u16> {
    tokio::time::timeout(wait, async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .expect("the socket was closed in time")
}

/// Reads a stream until its body ends; fails when it has not ended within `wait`.
async fn stream_ends(stream: &mut reqwest::Response, wait: Duration) {
    let ended = tokio::time::timeout(wait, async { while let Ok(Some(_)) = stream.chunk().await {} }).await;
    assert!(ended.is_ok(), "the stream ended in time");
}

/// A socket and a stream end when the token that opened them expires: close `1008`.
#[tokio::test]
async fn a_socket_and_a_stream_end_when_their_token_expires() {
    let app = TestApp::spawn().await;
    let a = app.user("alice").await;
    let short = app.auth.issue(a.id, 2);
    let mut held = socket(&app, &format!("__{short}")).await.expect("the socket opens");
    let mut stream = app.client.get(app.url("/api/v2/stream/")).bearer_auth(&short).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    assert_eq!(close_code(&mut held, WAIT).await, Some(1008), "closed as a policy violation at exp");
    stream_ends(&mut stream, WAIT).await;
}

/// A socket and a stream end when their user is deleted (within 10 s): close `1008`.
#[tokio::test]
async fn a_socket_and_a_stream_end_when_their_user_is_deleted() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.user("alice").await, app.user("bob").await);
    let mut held = socket_of(&app, &a).await;
    let mut stream = open_stream(&app, &a, None).await;
    let mut kept = socket_of(&app, &b).await;
    assert!(app.repo.delete_user(a.id).await.unwrap());
    assert_eq!(close_code(&mut held, Duration::from_secs(15)).await, Some(1008), "closed: the user is gone");
    stream_ends(&mut stream, Duration::from_secs(15)).await;
    // Another user's socket goes on.
    kept.send(Message::Text(HEARTBEAT.into())).await.unwrap();
    match tokio::time::timeout(WAIT, kept.next()).await {
        Ok(Some(Ok(Message::Text(text)))) => assert_eq!(text.as_str(), HEARTBEAT),
        other => panic!("bob's socket ended too: {other:?}"),
    }
}

/// An idle socket is pinged; one that answers stays open, one that never answers is closed.
#[tokio::test]
async fn an_unanswered_ping_closes_the_socket() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn_with(Options { live_ping_ms: Some(300), ..Options::default() }).await;
    let (a, b) = (app.user("alice").await, app.user("bob").await);

    // A client that answers (tungstenite answers pings while it reads): three pings, still open.
    let mut answering = socket_of(&app, &a).await;
    let mut pings = 0;
    while pings < 3 {
        match tokio::time::timeout(WAIT, answering.next()).await.expect("pinged") {
            Some(Ok(Message::Ping(_))) => pings += 1,
            Some(Ok(Message::Close(frame))) => panic!("an answering client was closed: {frame:?}"),
            other => assert!(matches!(other, Some(Ok(_))), "{other:?}"),
        }
    }

    // A client that never answers: the handshake by hand, then only reading bytes.
    let mut raw = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://")).await.unwrap();
    let request = format!(
        "GET /ws/notify?subscribe-user HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: __{}\r\n\r\n",
        app.token(&b)
    );
    raw.write_all(request.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let closed = tokio::time::timeout(WAIT, async {
        let mut chunk = [0u8; 1024];
        loop {
            match raw.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "a client that never answers a ping is closed");
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 101"), "{text}");
    let head_end = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(got.get(head_end), Some(&0x89), "the first frame is a ping");
}

/// A client message over 4 KiB (after its frames are put together) closes the socket with
/// `1009`; one of 4 KiB is read (the socket goes on).
#[tokio::test]
async fn a_client_message_over_4_kib_closes_the_socket_with_1009() {
    let app = TestApp::spawn().await;
    let a = app.user("alice").await;
    let mut held = socket_of(&app, &a).await;
    held.send(Message::Text("x".repeat(4096).into())).await.unwrap();
    held.send(Message::Text(HEARTBEAT.into())).await.unwrap();
    match tokio::time::timeout(WAIT, held.next()).await {
        Ok(Some(Ok(Message::Text(text)))) => assert_eq!(text.as_str(), HEARTBEAT, "4 KiB is allowed"),
        other => panic!("no heartbeat after a 4 KiB message: {other:?}"),
    }
    held.send(Message::Text("x".repeat(4097).into())).await.unwrap();
    assert_eq!(close_code(&mut held, WAIT).await, Some(1009));

    // Fragmented: three frames of 2 KiB make one message of 6 KiB.
    let mut fragmented = socket_of(&app, &a).await;
    use tokio_tungstenite::tungstenite::protocol::frame::{Frame, coding::{Data, OpCode}};
    let part = |opcode, last| Message::Frame(Frame::message(vec![b'y'; 2048], opcode, last));
    for (opcode, last) in [(OpCode::Data(Data::Text), false), (OpCode::Data(Data::Continue), false), (OpCode::Data(Data::Continue), true)] {
        if fragmented.send(part(opcode, last)).await.is_err() {
            break;
        }
    }
    assert_eq!(close_code(&mut fragmented, WAIT).await, Some(1009), "a message put together from frames counts whole");
}
