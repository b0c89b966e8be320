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

/// SelfCommunity's React UI reads the preference list once, without `limit`, and crashes on a
/// preference it expects and does not find: a fresh database answers every one `react-core`
/// names (the fixture is copied from its `constants/Preferences.ts`) in one page.
#[tokio::test]
async fn a_fresh_database_answers_every_preference_the_react_ui_reads_in_one_page() {
    let app = TestApp::spawn().await;
    let (status, page) = json(app.client.get(app.url("/api/v2/dynamic_preference/")).send().await.unwrap()).await;
    assert_eq!(status, 200);
    let results = page["results"].as_array().unwrap();
    assert_eq!(page["count"], results.len(), "one page holds them all");
    assert_eq!((&page["next"], &page["previous"]), (&Value::Null, &Value::Null));
    let served: std::collections::HashSet<String> =
        results.iter().map(|p| format!("{}.{}", p["section"].as_str().unwrap(), p["name"].as_str().unwrap())).collect();
    let expected = std::fs::read_to_string("tests/fixtures/react-core-preferences.txt").unwrap();
    let missing: Vec<&str> =
        expected.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).filter(|name| !served.contains(*name)).collect();
    assert!(missing.is_empty(), "missing preferences: {missing:?}");
    assert!(results.len() > 100, "{} preferences", results.len());
    let value = |key: &str| results.iter().find(|p| format!("{}.{}", p["section"].as_str().unwrap(), p["name"].as_str().unwrap()) == key).unwrap()["value"].clone();
    assert_eq!(value("configurations.url_template_profile"), json!("/user/{id}/"), "templates the router reads");
    assert!(value("images.user_default_cover").as_str().unwrap().starts_with("data:image/"), "a cover the profile header can draw");
    assert_eq!(value("covers.covers_visibility"), json!(0), "integers stay integers");
    assert_eq!(value("addons.polls_enabled"), json!(false), "booleans stay booleans");
    // The UI's `UserCounters` shows a followed-categories count when this is on, and this server
    // has no categories: off, or the profile reads "NaN categories followed".
    assert_eq!(value("configurations.category_follow_enabled"), json!(false));

    // With `limit`, pages as every list; an offset without `limit` answers the rest.
    let (_, paged) = json(app.client.get(app.url("/api/v2/dynamic_preference/?limit=100")).send().await.unwrap()).await;
    assert_eq!(paged["results"].as_array().unwrap().len(), 100);
    assert!(paged["next"].as_str().unwrap().ends_with("?limit=100&offset=100"));
    let (_, rest) = json(app.client.get(app.url("/api/v2/dynamic_preference/?offset=100")).send().await.unwrap()).await;
    assert_eq!(rest["results"].as_array().unwrap().len(), results.len() - 100);
    assert_eq!(rest["next"], Value::Null);
    assert!(rest["previous"].as_str().unwrap().ends_with("/api/v2/dynamic_preference/?"), "{}", rest["previous"]);

    // The operator's change is seen; a preference keeps its JSON type.
    app.repo.set_preference("text", "application_name", "\"Our place\"").await.unwrap();
    let (_, again) = json(app.client.get(app.url("/api/v2/dynamic_preference/")).send().await.unwrap()).await;
    let name = again["results"].as_array().unwrap().iter().find(|p| p["name"] == "application_name").unwrap().clone();
    assert_eq!(name["value"], "Our place");
}

/// Features: none on a fresh database; the operator's are listed, whole without `limit`.
#[tokio::test]
async fn features_are_listed_without_auth_as_the_operator_set_them() {
    let app = TestApp::spawn().await;
    let get = |path: &'static str| async { json(app.client.get(app.url(path)).send().await.unwrap()).await };
    assert_eq!(get("/api/v2/feature/").await, (200, json!({"count": 0, "next": null, "previous": null, "results": []})));
    app.repo.set_feature("groups", true).await.unwrap();
    app.repo.set_feature("events", false).await.unwrap();
    app.repo.set_feature("groups", false).await.unwrap();
    app.repo.set_feature("groups", true).await.unwrap();
    let (status, page) = get("/api/v2/feature/").await;
    assert_eq!(status, 200);
    let names: Vec<(&str, bool)> =
        page["results"].as_array().unwrap().iter().map(|f| (f["name"].as_str().unwrap(), f["enabled"].as_bool().unwrap())).collect();
    assert_eq!(names, vec![("groups", true), ("events", false)], "in the order first set, each once");
    let (_, first) = get("/api/v2/feature/?limit=1").await;
    assert_eq!(first["count"], 2);
    assert!(first["next"].as_str().unwrap().ends_with("/api/v2/feature/?limit=1&offset=1"));
    assert!(matches!(app.repo.set_feature("", true).await, Err(connections_api::db::error::RepoError::Invalid(_))));
    crate::harness::assert_error(app.client.get(app.url("/api/v2/feature/?limit=0")).send().await.unwrap(), 400, "invalid").await;
}

#[tokio::test]
async fn verify_token_answers_200_or_401() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.user("alice").await, app.user("bob").await);
    let verify = |body: Value| app.client.post(app.url("/api/v2/jwt/verify_token/")).json(&body).send();

    let (status, body) = json(verify(json!({"token": app.token(&a)})).await.unwrap()).await;
    assert_eq!((status, body), (200, json!({})));

    let forged = connections_api::http::tokens::Authenticator::new(b"another-secret", 0).issue(a.id, 60);
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
