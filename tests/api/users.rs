//! Users, preferences and token verification.

use serde_json::{Value, json};

use connections_api::domain::Relation;

use crate::harness::{SECRET, TestApp, assert_error, json};

#[tokio::test]
async fn me_and_another_user_with_the_status_between_us() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.user("alice").await, app.user("bob").await);
    app.set_up(&a, &b, Relation::SentPending).await;
    let (status, me) = json(app.get(&a, "/api/v2/user/me/").await).await;
    assert_eq!(status, 200);
    assert_eq!(me["id"], a.id);
    assert_eq!(me["username"], "alice");
    assert_eq!(me["connection_status"], Value::Null);
    assert_eq!(me["avatar"], Value::Null);
    assert!(me["date_joined"].as_str().unwrap().contains('T'), "RFC 3339: {me}");

    let (_, other) = json(app.get(&a, &format!("/api/v2/user/{}/", b.id)).await).await;
    assert_eq!((other["id"].as_i64(), other["connection_status"].as_str()), (Some(b.id), Some("sent_connection_request")));
    let (_, other) = json(app.get(&b, &format!("/api/v2/user/{}", a.id)).await).await;
    assert_eq!(other["connection_status"], "received_connection_request");

    app.repo.delete_user(b.id).await.unwrap();
    assert_error(app.get(&a, &format!("/api/v2/user/{}/", b.id)).await, 404, "not_found").await;
    assert_error(app.client.get(app.url("/api/v2/user/me/")).send().await.unwrap(), 401, "not_authenticated").await;
}

#[tokio::test]
async fn preferences_are_listed_without_auth_as_json_values() {
    let app = TestApp::spawn().await;
    let (status, page) = json(app.client.get(app.url("/api/v2/dynamic_preference/")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{page}");
    let results = page["results"].as_array().unwrap();
    let find = |name: &str| results.iter().find(|p| p["name"] == name).cloned().unwrap();
    assert_eq!(find("follow_enabled"), json!({"id": find("follow_enabled")["id"], "section": "configurations", "name": "follow_enabled", "value": false}));
    assert_eq!(find("connection_enabled")["value"], true);
    assert_eq!(page["count"], results.len());

    let (_, first) = json(app.client.get(app.url("/api/v2/dynamic_preference/?limit=1")).send().await.unwrap()).await;
    assert_eq!(first["results"].as_array().unwrap().len(), 1);
    assert!(first["next"].as_str().unwrap().contains("/api/v2/dynamic_preference/?limit=1&offset=1"));
}

#[tokio::test]
async fn verify_token_answers_200_or_401() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.user("alice").await, app.user("bob").await);
    let verify = |body: Value| app.client.post(app.url("/api/v2/jwt/verify_token/")).json(&body).send();

    let (status, body) = json(verify(json!({"token": app.token(&a)})).await.unwrap()).await;
    assert_eq!((status, body), (200, json!({})));

    let forged = connections_api::auth::Authenticator::new(b"another-secret", 0).issue(a.id, 60);
    assert_error(verify(json!({"token": forged})).await.unwrap(), 401, "token_not_valid").await;
    let token_b = app.token(&b);
    app.repo.delete_user(b.id).await.unwrap();
    assert_error(verify(json!({"token": token_b})).await.unwrap(), 401, "user_not_found").await;

    let body = assert_error(verify(json!({"nope": 1})).await.unwrap(), 400, "invalid").await;
    assert_eq!(body["errors"][0]["field"], "token");
    let plain = app.client.post(app.url("/api/v2/jwt/verify_token/")).body("token=x").send().await.unwrap();
    assert_error(plain, 415, "unsupported_media_type").await;
    assert!(!body.to_string().contains(std::str::from_utf8(SECRET).unwrap()));
}
