//! User settings (each user's own, defaults until changed, a change writes only what it names)
//! and the staff role (`me` shows it; nobody else's answer does).

use futures::future::join_all;
use serde_json::{Value, json};

use crate::harness::{TestApp, assert_error, json};

const DEFAULTS: fn() -> Value = || {
    json!({
        "qa_frequency": 0,
        "email_notification_not_qa": 0,
        "mobile_notifications_scmty": 0,
        "show_toast_notifications": 1,
        "toast_notifications_emit_sound": 1
    })
};

async fn patch(app: &TestApp, caller: &connections_api::db::entities::users::Model, id: i64, body: Value) -> reqwest::Response {
    app.client.patch(app.url(&format!("/api/v2/user/{id}/settings/"))).bearer_auth(app.token(caller)).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn settings_are_each_users_own_with_defaults_until_changed() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.user("a").await, app.user("b").await);
    let path = format!("/api/v2/user/{}/settings/", a.id);
    assert_eq!(json(app.get(&a, &path).await).await, (200, DEFAULTS()));

    let (status, changed) = json(patch(&app, &a, a.id, json!({"qa_frequency": -1, "show_toast_notifications": 0, "other": 5})).await).await;
    let mut expected = DEFAULTS();
    expected["qa_frequency"] = json!(-1);
    expected["show_toast_notifications"] = json!(0);
    assert_eq!((status, changed), (200, expected.clone()), "named fields change, others keep theirs, unknown keys are ignored");
    assert_eq!(json(app.get(&a, &path).await).await, (200, expected.clone()));
    assert_eq!(json(patch(&app, &a, a.id, json!({})).await).await, (200, expected.clone()), "an empty change changes nothing");

    // A value outside its enumeration names its field; nothing changes.
    for (field, value) in [("qa_frequency", json!(2)), ("toast_notifications_emit_sound", json!(-1)), ("email_notification_not_qa", json!("1"))] {
        let body = assert_error(patch(&app, &a, a.id, json!({ field: value })).await, 400, "invalid").await;
        assert_eq!(body["errors"][0]["field"], field, "{body}");
    }
    assert_error(patch(&app, &a, a.id, json!([1])).await, 400, "invalid").await;
    assert_eq!(json(app.get(&a, &path).await).await, (200, expected));

    // Nobody else's, whether they exist or not.
    assert_error(app.get(&b, &path).await, 403, "permission_denied").await;
    assert_error(patch(&app, &b, a.id, json!({"qa_frequency": 1})).await, 403, "permission_denied").await;
    assert_error(app.get(&b, "/api/v2/user/987654/settings/").await, 403, "permission_denied").await;
    let anonymous = app.client.get(app.url(&path)).send().await.unwrap();
    assert_error(anonymous, 401, "not_authenticated").await;
    let form = app
        .client
        .patch(app.url(&path))
        .bearer_auth(app.token(&a))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("qa_frequency=1")
        .send()
        .await
        .unwrap();
    assert_error(form, 415, "unsupported_media_type").await;
}

/// Changes of different settings at once, through two instances: every one stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_changes_of_different_settings_all_stay() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    let a = app.user("a").await;
    let changes = [
        json!({"qa_frequency": 1}),
        json!({"email_notification_not_qa": 1}),
        json!({"mobile_notifications_scmty": 1}),
        json!({"show_toast_notifications": 0}),
        json!({"toast_notifications_emit_sound": 0}),
    ];
    let calls = changes.iter().enumerate().map(|(i, body)| {
        let server = if i % 2 == 0 { &app } else { &other };
        patch(server, &a, a.id, body.clone())
    });
    assert!(join_all(calls).await.iter().all(|r| r.status() == 200));
    let (_, now) = json(app.get(&a, &format!("/api/v2/user/{}/settings/", a.id)).await).await;
    assert_eq!(
        now,
        json!({
            "qa_frequency": 1,
            "email_notification_not_qa": 1,
            "mobile_notifications_scmty": 1,
            "show_toast_notifications": 0,
            "toast_notifications_emit_sound": 0
        })
    );
}

/// `role` is in `me` (`null` for everyone but staff) and in no other user object; the staff
/// check refuses everyone but staff with `403 permission_denied`.
#[tokio::test]
async fn the_role_shows_in_me_only() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.user("a").await, app.user("b").await);
    let (_, me) = json(app.get(&a, "/api/v2/user/me/").await).await;
    assert_eq!(me["role"], Value::Null);
    assert!(me.as_object().unwrap().contains_key("role"), "a normal user reads \"role\": null");
    assert!(app.repo.set_role(a.id, Some("admin")).await.unwrap());
    let (_, me) = json(app.get(&a, "/api/v2/user/me/").await).await;
    assert_eq!(me["role"], "admin");
    let (_, seen) = json(app.get(&b, &format!("/api/v2/user/{}/", a.id)).await).await;
    assert!(!seen.as_object().unwrap().contains_key("role"), "another user's object leaves it out: {seen}");
    assert!(!app.repo.set_role(987654, None).await.unwrap(), "no such user");

    let service = connections_api::features::webhooks::endpoints::WebhookService::new(app.repo.clone(), false);
    let caller = |u: &connections_api::db::entities::users::Model| connections_api::domain::users::Caller(u.id);
    assert_eq!(service.require_staff(caller(&a)).await.unwrap().id, a.id);
    assert!(matches!(service.require_staff(caller(&b)).await, Err(connections_api::domain::error::ServiceError::PermissionDenied)));
    assert!(app.repo.set_role(a.id, None).await.unwrap());
    assert!(matches!(service.require_staff(caller(&a)).await, Err(connections_api::domain::error::ServiceError::PermissionDenied)));
}
