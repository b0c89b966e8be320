//! Status reads: one user, `is_connection`, and the batch.

use serde_json::json;

use connections_api::domain::Relation;

use crate::harness::{TestApp, assert_error, json, status_of};

#[tokio::test]
async fn status_and_is_connection_in_every_state_from_both_sides() {
    let app = TestApp::spawn().await;
    for (i, relation) in Relation::ALL.into_iter().enumerate() {
        let a = app.user(&format!("a{i}")).await;
        let b = app.user(&format!("b{i}")).await;
        app.set_up(&a, &b, relation).await;
        for (me, other, seen) in [(&a, &b, relation), (&b, &a, relation.reversed())] {
            let (status, body) = json(app.get(me, &format!("/api/v2/user/{}/connection_status/", other.id)).await).await;
            assert_eq!(status, 200);
            assert_eq!(status_of(&body), seen.status().map(|s| s.as_str()), "{relation:?}");
            let (_, body) = json(app.get(me, &format!("/api/v2/user/{}/is_connection/", other.id)).await).await;
            assert_eq!(body, json!({"is_connection": relation == Relation::Connected}), "{relation:?}");
        }
    }
}

#[tokio::test]
async fn reads_about_oneself_are_null_and_false_and_unknown_users_404() {
    let app = TestApp::spawn().await;
    let a = app.user("alice").await;
    let (_, body) = json(app.get(&a, &format!("/api/v2/user/{}/connection_status/", a.id)).await).await;
    assert_eq!(body, json!({"connection_status": null}));
    let (_, body) = json(app.get(&a, &format!("/api/v2/user/{}/is_connection/", a.id)).await).await;
    assert_eq!(body, json!({"is_connection": false}));
    assert_error(app.get(&a, "/api/v2/user/4242/connection_status/").await, 404, "not_found").await;
    assert_error(app.get(&a, "/api/v2/user/4242/is_connection/").await, 404, "not_found").await;
}

#[tokio::test]
async fn status_reads_do_not_need_friendship_mode() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.user("alice").await, app.user("bob").await);
    app.set_preference("follow_enabled", true).await;
    assert_eq!(app.get(&a, &format!("/api/v2/user/{}/connection_status/", b.id)).await.status(), 200);
    assert_eq!(app.get(&a, &format!("/api/v2/user/{}/is_connection/", b.id)).await.status(), 200);
    let response = app.post_json(&a, "/api/v2/user/connection/statuses/", &json!({"users": [b.id]})).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn the_batch_collapses_duplicates_and_leaves_out_unknown_users() {
    let app = TestApp::spawn().await;
    let (a, b, c) = (app.user("alice").await, app.user("bob").await, app.user("carol").await);
    let gone = app.user("gone").await;
    app.set_up(&a, &b, Relation::Connected).await;
    app.set_up(&a, &c, Relation::ReceivedRejected).await;
    app.repo.delete_user(gone.id).await.unwrap();
    let body = json!({"users": [b.id, c.id, b.id, a.id, gone.id, 777_777]});
    let (status, answer) = json(app.post_json(&a, "/api/v2/user/connection/statuses/", &body).await).await;
    assert_eq!(status, 200, "{answer}");
    let expected = json!({"connection_statuses": {
        b.id.to_string(): "connected",
        c.id.to_string(): null,
        a.id.to_string(): null,
    }});
    assert_eq!(answer, expected);

    let (_, answer) = json(app.post_json(&a, "/api/v2/user/connection/statuses/", &json!({"users": []})).await).await;
    assert_eq!(answer, json!({"connection_statuses": {}}));
}

#[tokio::test]
async fn a_bad_batch_body_is_a_field_error_on_users() {
    let app = TestApp::spawn().await;
    let a = app.user("alice").await;
    let too_many: Vec<i64> = (1..=101).collect();
    for body in [
        json!({}),
        json!({"users": "1,2"}),
        json!({"users": [1, "2"]}),
        json!({"users": [0]}),
        json!({"users": [-4]}),
        json!({"users": [1.5]}),
        json!([1, 2]),
        json!(null),
        json!({"users": too_many}),
    ] {
        let response = app.post_json(&a, "/api/v2/user/connection/statuses/", &body).await;
        let answer = assert_error(response, 400, "invalid").await;
        assert_eq!(answer["errors"][0]["field"], "users", "{body}: {answer}");
    }
    let send = |content_type: Option<&'static str>, body: &'static str| {
        let mut request = app.client.post(app.url("/api/v2/user/connection/statuses/")).bearer_auth(app.token(&a)).body(body);
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        request.send()
    };
    assert_error(send(Some("application/json"), "{not json").await.unwrap(), 400, "parse_error").await;
    assert_error(send(Some("text/plain"), "{\"users\": [1]}").await.unwrap(), 415, "unsupported_media_type").await;
    assert_error(send(None, "{\"users\": [1]}").await.unwrap(), 415, "unsupported_media_type").await;
    assert_error(send(Some("application/json"), "").await.unwrap(), 400, "invalid").await;
}
