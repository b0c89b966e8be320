//! Nobody acts as someone else, and oversized bodies are refused.

use serde_json::json;

use connections_api::domain::Relation;

use crate::harness::{TestApp, assert_error, json};

/// Every action and list is the token's user's own: a third user cannot read or change a
/// pair's relation through any endpoint.
#[tokio::test]
async fn a_third_user_cannot_touch_another_pairs_relation() {
    let app = TestApp::spawn().await;
    let (a, b, mallory) = (app.user("alice").await, app.user("bob").await, app.user("mallory").await);
    app.set_up(&a, &b, Relation::SentPending).await;

    // Mallory's actions on either of them act on Mallory's own relations.
    assert_error(app.post(&mallory, &format!("/api/v2/user/{}/connection/accept/", a.id)).await, 409, "no_connection_request").await;
    assert_error(app.post(&mallory, &format!("/api/v2/user/{}/connection/reject/", a.id)).await, 409, "no_connection_request").await;
    let (_, body) = json(app.post(&mallory, &format!("/api/v2/user/{}/connection/cancel_request/", b.id)).await).await;
    assert_eq!(body["connection_status"], serde_json::Value::Null);
    assert_error(app.post(&mallory, &format!("/api/v2/user/{}/connection_requests/mark_seen/", a.id)).await, 409, "no_connection_request").await;
    let (_, body) = json(app.post(&mallory, &format!("/api/v2/user/{}/connection/remove/", a.id)).await).await;
    assert_eq!(body["connection_status"], serde_json::Value::Null);
    assert_eq!(app.relation(&a, &b).await, Relation::SentPending, "A's request to B is untouched");

    // Mallory's reads show Mallory's relations, not theirs.
    let (_, status) = json(app.get(&mallory, &format!("/api/v2/user/{}/connection_status/", b.id)).await).await;
    assert_eq!(status["connection_status"], serde_json::Value::Null);
    let (_, statuses) = json(app.post_json(&mallory, "/api/v2/user/connection/statuses/", &json!({"users": [a.id, b.id]})).await).await;
    assert_eq!(statuses, json!({"connection_statuses": {a.id.to_string(): null, b.id.to_string(): null}}));
    for list in ["/api/v2/user/connection/requests/", "/api/v2/user/connection/requests_sent/"] {
        let (_, page) = json(app.get(&mallory, list).await).await;
        assert_eq!(page["count"], 0, "{list}");
    }
    let (_, seen_by_b) = json(app.get(&b, "/api/v2/user/connection/requests/").await).await;
    assert_eq!(seen_by_b["count"], 1, "B still has A's request");
}

#[tokio::test]
async fn a_body_declared_too_large_is_413() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.user("alice").await, app.user("bob").await);
    let big = "x".repeat(connections_api::server::MAX_BODY_BYTES + 1);
    let response = app
        .client
        .post(app.url(&format!("/api/v2/user/{}/connection/request/", b.id)))
        .bearer_auth(app.token(&a))
        .header("Content-Type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_error(response, 413, "payload_too_large").await;
    assert_eq!(app.relation(&a, &b).await, Relation::None, "nothing happened");

    // Streamed without a length, the body is read up to the limit, and refused past it.
    let chunks = futures::stream::iter((0..80).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1024])));
    let response = app
        .client
        .post(app.url("/api/v2/user/connection/statuses/"))
        .bearer_auth(app.token(&a))
        .header("Content-Type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_error(response, 413, "payload_too_large").await;
}

/// Past the per-user limit, actions answer 429 with Retry-After; other users are not affected.
#[tokio::test]
async fn actions_past_the_rate_limit_are_429() {
    let app = TestApp::spawn_with_rate_limit(5).await;
    let (a, b, c) = (app.user("alice").await, app.user("bob").await, app.user("carol").await);
    for _ in 0..5 {
        assert_eq!(app.request(&a, b.id).await.status(), 200);
    }
    let limited = app.request(&a, b.id).await;
    let retry_after: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=12).contains(&retry_after), "{retry_after}");
    assert_error(limited, 429, "rate_limited").await;
    assert_eq!(app.request(&c, b.id).await.status(), 200, "another user still acts");
    let (status, _) = json(app.get(&a, &format!("/api/v2/user/{}/connection_status/", b.id)).await).await;
    assert_eq!(status, 200, "reads are not limited");
}
