//! Overload and slow clients: the header timeout, the request deadline, the connection cap, and
//! one client flooding while others are served.

use std::time::Duration;

use connections_api::server::Limits;
use sea_orm::{ConnectionTrait, DbBackend, TransactionTrait};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::{Options, TestApp, assert_error, json};

/// How long a test waits for something the server must do by itself before calling it a hang.
const PATIENCE: Duration = Duration::from_secs(30);

fn limits(header_timeout: u64, request_timeout: u64, max_connections: usize) -> Limits {
    Limits {
        header_timeout: Duration::from_secs(header_timeout),
        request_timeout: Duration::from_secs(request_timeout),
        max_connections,
        ..Limits::default()
    }
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://")).await.expect("connect")
}

/// Reads until the server closes the connection; what it sent, as text.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    match tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer)).await {
        Ok(_) => String::from_utf8_lossy(&answer).into_owned(),
        Err(_) => panic!("the server kept the connection open; it sent {:?}", String::from_utf8_lossy(&answer)),
    }
}

/// Connections that send nothing, or half a header, are closed after the header timeout, and
/// while they hold every connection slot, a real client waits only until they are cut off.
#[tokio::test]
async fn slow_headers_are_cut_off_and_do_not_lock_others_out() {
    let app = TestApp::spawn_with(Options { limits: limits(1, 30, 8), ..Options::default() }).await;
    let alice = app.user("alice").await;
    let mut slow = Vec::new();
    for i in 0..8 {
        let mut stream = connect(&app).await;
        if i % 2 == 0 {
            // Half a request, then nothing: slowloris.
            stream.write_all(b"GET /api/v2/user/me/ HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.unwrap();
        }
        slow.push(stream);
    }
    // Every slot is taken: this request waits for the server to close the slow ones.
    let client = reqwest::Client::builder().timeout(PATIENCE).build().unwrap();
    let response = client.get(app.url("/api/v2/user/me/")).bearer_auth(app.token(&alice)).send().await;
    let (status, me) = json(response.expect("served once the slow connections are cut off")).await;
    assert_eq!((status, me["id"].as_i64()), (200, Some(alice.id)));
    for mut stream in slow {
        let sent = read_until_closed(&mut stream).await;
        assert!(!sent.contains("200 OK"), "nothing was served on a slow connection: {sent:?}");
    }
}

/// A body that does not arrive within the request timeout is `408` with the error body.
#[tokio::test]
async fn a_slow_body_is_408() {
    let app = TestApp::spawn_with(Options { limits: limits(10, 1, 64), ..Options::default() }).await;
    let alice = app.user("alice").await;
    let mut stream = connect(&app).await;
    let head = format!(
        "POST /api/v2/user/connection/statuses/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 40\r\n\r\n{{\"users\": [",
        app.token(&alice)
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let sent = read_until_closed(&mut stream).await;
    assert!(sent.starts_with("HTTP/1.1 408"), "{sent:?}");
    assert!(sent.to_ascii_lowercase().contains("content-type: application/json"), "{sent:?}");
    assert!(sent.contains(r#""code":"request_timeout""#), "{sent:?}");
}

/// Another session holding the lock every action needs (SQLite's write lock; on PostgreSQL the
/// `relations` table), until the transaction is rolled back. The pool comes with it.
async fn hold_write_lock(app: &TestApp) -> (connections_api::db::connection::Repo, sea_orm::DatabaseTransaction) {
    let other = connections_api::db::connection::Repo::connect(&app.database_url).await.unwrap();
    let lock = match other.backend() {
        DbBackend::Sqlite => {
            let options = sea_orm::TransactionOptions {
                sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                ..Default::default()
            };
            other.connection().begin_with_options(options).await.unwrap()
        }
        _ => {
            let txn = other.connection().begin().await.unwrap();
            txn.execute_unprepared("LOCK TABLE relations IN EXCLUSIVE MODE").await.unwrap();
            txn
        }
    };
    (other, lock)
}

/// Past `in_flight_per_user` requests of one user at once, the next is `429 too_many_requests`
/// with `Retry-After`, at once; other users are served; the slots come back when the requests end.
#[tokio::test]
async fn one_users_requests_in_flight_are_capped() {
    let app = TestApp::spawn_with(Options { in_flight_per_user: Some(3), ..Options::default() }).await;
    let (alice, bob) = (app.user("alice").await, app.user("bob").await);
    let mut targets = Vec::new();
    for i in 0..3 {
        targets.push(app.user(&format!("target{i}")).await);
    }
    let (_other, lock) = hold_write_lock(&app).await;
    // Three of alice's actions wait for the lock: her three slots are taken.
    let held: Vec<_> = targets
        .iter()
        .map(|t| {
            let request = app.client.post(app.url(&format!("/api/v2/user/{}/connection/request/", t.id)));
            tokio::spawn(request.bearer_auth(app.token(&alice)).send())
        })
        .collect();
    app.wait_for_metric("connections_http_user_requests_in_flight", 3.0).await;
    let refused = app.get(&alice, "/api/v2/user/me/").await;
    assert_eq!(refused.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned()), Some("1".to_owned()));
    assert_error(refused, 429, "too_many_requests").await;
    let (status, _) = json(app.get(&bob, "/api/v2/user/me/").await).await;
    assert_eq!(status, 200, "another user is served");
    lock.rollback().await.unwrap();
    for request in held {
        assert_eq!(request.await.unwrap().unwrap().status(), 200, "the held requests finish");
    }
    let (status, _) = json(app.get(&alice, "/api/v2/user/me/").await).await;
    assert_eq!(status, 200, "her slots came back");
}

/// An answer the database cannot give within the request timeout is `503` with `Retry-After`,
/// and nothing is half-applied: once the database is free, the action works.
#[tokio::test]
async fn an_answer_that_takes_too_long_is_503() {
    let app = TestApp::spawn_with(Options { limits: limits(10, 1, 64), ..Options::default() }).await;
    let (alice, bob) = (app.user("alice").await, app.user("bob").await);
    let (_other, lock) = hold_write_lock(&app).await;
    let response = app.request(&alice, bob.id).await;
    assert_eq!(response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned()), Some("1".to_owned()));
    assert_error(response, 503, "service_unavailable").await;
    lock.rollback().await.unwrap();
    let (status, body) = json(app.request(&alice, bob.id).await).await;
    assert_eq!((status, body["connection_status"].as_str()), (200, Some("sent_connection_request")), "{body}");
}

/// One user floods the server with reads and actions from many connections; another user's
/// requests, made meanwhile, are all answered. The flood meets the per-user limits (`429`),
/// never a `5xx`.
#[tokio::test]
async fn one_client_flooding_leaves_others_served() {
    let app = TestApp::spawn_with(Options { actions_per_minute: Some(60), in_flight_per_user: Some(32), ..Options::default() }).await;
    let (flooder, other) = (app.user("flooder").await, app.user("other").await);
    let mut targets = Vec::new();
    for i in 0..40 {
        targets.push(app.user(&format!("target{i}")).await);
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let flood_token = app.token(&flooder);
    let mut flood = Vec::new();
    for worker in 0..48usize {
        let (client, base, token, stop, answered) =
            (reqwest::Client::new(), app.base.clone(), flood_token.clone(), stop.clone(), answered.clone());
        let ids: Vec<i64> = targets.iter().map(|t| t.id).collect();
        flood.push(tokio::spawn(async move {
            let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
            let mut n = worker;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let target = ids[n % ids.len()];
                let request = match n % 3 {
                    0 => client.post(format!("{base}/api/v2/user/{target}/connection/request/")),
                    1 => client.get(format!("{base}/api/v2/user/{target}/connection_status/")),
                    _ => client.get(format!("{base}/api/v2/user/connection/requests_sent/?limit=100")),
                };
                let status = request.bearer_auth(&token).send().await.expect("the flood is answered").status();
                *statuses.entry(status.as_u16()).or_default() += 1;
                answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            statuses
        }));
    }
    // The flood is under way: every worker has had answers (a bounded poll, not a pause).
    let deadline = std::time::Instant::now() + PATIENCE;
    while answered.load(std::sync::atomic::Ordering::Relaxed) < 200 {
        assert!(std::time::Instant::now() < deadline, "the flood got no answers");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let client = reqwest::Client::builder().timeout(PATIENCE).build().unwrap();
    let token = app.token(&other);
    for target in &targets[..20] {
        let requested = client
            .post(app.url(&format!("/api/v2/user/{}/connection/request/", target.id)))
            .bearer_auth(&token)
            .send()
            .await
            .expect("answered during the flood");
        assert_eq!(requested.status(), 200, "another user's action during the flood");
        let read = client
            .get(app.url(&format!("/api/v2/user/{}/connection_status/", target.id)))
            .bearer_auth(&token)
            .send()
            .await
            .expect("answered during the flood");
        assert_eq!(read.status(), 200, "another user's read during the flood");
    }
    let flood_still_running = flood.iter().all(|worker| !worker.is_finished());
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut seen = std::collections::BTreeMap::<u16, usize>::new();
    for worker in flood {
        for (status, count) in worker.await.unwrap() {
            *seen.entry(status).or_default() += count;
        }
    }
    assert!(flood_still_running, "the flood lasted as long as the other user's requests");
    assert!(seen.get(&429).copied().unwrap_or(0) > 0, "the flood met the rate limit: {seen:?}");
    assert!(seen.keys().all(|s| [200, 409, 429].contains(s)), "only answers, no server errors: {seen:?}");
}
