//! `POST /api/v2/user/{id}/connection/request/`: every cell of the contract's `request` row,
//! and every error it can answer.

use connections_api::domain::{Action, Relation};
use connections_api::db::connection::RelationCounts;

use crate::harness::{TestApp, assert_error, json, status_of};

/// Each state of the contract's table, set up between a fresh pair, then A requests B.
#[tokio::test]
async fn request_in_every_state() {
    let app = TestApp::spawn().await;
    // (state before, A's status in the answer, state after)
    let cells = [
        (Relation::None, "sent_connection_request", Relation::SentPending),
        (Relation::SentPending, "sent_connection_request", Relation::SentPending),
        (Relation::SentRejected, "sent_connection_request", Relation::SentRejected),
        (Relation::ReceivedPending, "connected", Relation::Connected),
        (Relation::ReceivedRejected, "connected", Relation::Connected),
        (Relation::Connected, "connected", Relation::Connected),
    ];
    for (i, (before, answer, after)) in cells.into_iter().enumerate() {
        let a = app.user(&format!("a{i}")).await;
        let b = app.user(&format!("b{i}")).await;
        app.set_up(&a, &b, before).await;

        let (status, body) = json(app.request(&a, b.id).await).await;
        assert_eq!(status, 200, "{before:?}: {body}");
        assert_eq!(status_of(&body), Some(answer), "{before:?}");
        assert_eq!(body.as_object().map(|o| o.len()), Some(1), "only connection_status: {body}");
        assert_eq!(app.relation(&a, &b).await, after, "{before:?} → {after:?}");
        assert_eq!(app.relation(&b, &a).await, after.reversed(), "B's side of {after:?}");

        // Idempotent: the same request again changes nothing and answers the same.
        let (status, again) = json(app.request(&a, b.id).await).await;
        assert_eq!((status, status_of(&again)), (200, Some(answer)), "{before:?} repeated");
        assert_eq!(app.relation(&a, &b).await, after, "{before:?} repeated");
    }
}

#[tokio::test]
async fn a_mutual_request_leaves_one_connection_and_no_request() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.user("alice").await, app.user("bob").await);
    app.request(&a, b.id).await;
    assert_eq!(app.repo.relation_counts().await.unwrap(), RelationCounts { requests: 1, connections: 0 });
    let (_, body) = json(app.request(&b, a.id).await).await;
    assert_eq!(status_of(&body), Some("connected"));
    assert_eq!(app.repo.relation_counts().await.unwrap(), RelationCounts { requests: 0, connections: 1 });
}

#[tokio::test]
async fn rejection_is_silent_to_the_requester() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.user("alice").await, app.user("bob").await);
    app.request(&a, b.id).await;
    app.act(&b, &a, Action::Reject).await;
    let (_, body) = json(app.request(&a, b.id).await).await;
    assert_eq!(status_of(&body), Some("sent_connection_request"));
    // And B, who rejected, sees nothing.
    assert_eq!(app.relation(&b, &a).await.status(), None);
}

#[tokio::test]
async fn unknown_or_deleted_target_is_404_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.user("alice").await, app.user("bob").await);
    assert_error(app.request(&a, 987_654).await, 404, "not_found").await;
    assert!(app.repo.delete_user(b.id).await.unwrap());
    assert_error(app.request(&a, b.id).await, 404, "not_found").await;
    assert_eq!(app.repo.relation_counts().await.unwrap(), RelationCounts { requests: 0, connections: 0 });
}

#[tokio::test]
async fn requesting_oneself_is_400_self_connection() {
    let app = TestApp::spawn().await;
    let a = app.user("alice").await;
    assert_error(app.request(&a, a.id).await, 400, "self_connection").await;
    assert_eq!(app.repo.relation_counts().await.unwrap(), RelationCounts { requests: 0, connections: 0 });
}

#[tokio::test]
async fn outside_friendship_mode_it_is_403() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.user("alice").await, app.user("bob").await);

    // Follow mode (follows enabled): no connections.
    app.set_preference("follow_enabled", true).await;
    assert_error(app.request(&a, b.id).await, 403, "friendship_mode_disabled").await;

    // Connections disabled altogether.
    app.set_preference("follow_enabled", false).await;
    app.set_preference("connection_enabled", false).await;
    assert_error(app.request(&a, b.id).await, 403, "friendship_mode_disabled").await;
    assert_eq!(app.repo.relation_counts().await.unwrap(), RelationCounts { requests: 0, connections: 0 });

    // Back in friendship mode, seen within the contract's second: no restart.
    app.set_preference("connection_enabled", true).await;
    let (status, _) = json(app.request(&a, b.id).await).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_three_content_types_and_both_bodies_are_accepted() {
    let app = TestApp::spawn().await;
    let a = app.user("alice").await;
    let cases: [(Option<&str>, &str); 5] = [
        (Some("application/json"), ""),
        (Some("application/json"), "{}"),
        (Some("application/x-www-form-urlencoded"), ""),
        (None, ""),
        (None, "{}"),
    ];
    for (i, (content_type, body)) in cases.into_iter().enumerate() {
        let b = app.user(&format!("target{i}")).await;
        let mut request = app
            .client
            .post(app.url(&format!("/api/v2/user/{}/connection/request/", b.id)))
            .bearer_auth(app.token(&a))
            .header("Accept", "application/json")
            .body(body.to_owned());
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        let (status, answer) = json(request.send().await.unwrap()).await;
        assert_eq!(status, 200, "{content_type:?} with {body:?}: {answer}");
        assert_eq!(status_of(&answer), Some("sent_connection_request"));
    }
}

#[tokio::test]
async fn the_path_without_its_trailing_slash_is_served_the_same() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.user("alice").await, app.user("bob").await);
    let response = app
        .client
        .post(app.url(&format!("/api/v2/user/{}/connection/request", b.id)))
        .bearer_auth(app.token(&a))
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!((status, status_of(&body)), (200, Some("sent_connection_request")));
    assert_eq!(app.relation(&a, &b).await, Relation::SentPending);
}

#[tokio::test]
async fn a_non_positive_or_non_integer_id_is_400_on_the_id_field() {
    let app = TestApp::spawn().await;
    let a = app.user("alice").await;
    for id in ["0", "-3", "abc", "1.5", "99999999999999999999", "%20"] {
        let response = app
            .client
            .post(app.url(&format!("/api/v2/user/{id}/connection/request/")))
            .bearer_auth(app.token(&a))
            .send()
            .await
            .unwrap();
        let body = assert_error(response, 400, "invalid").await;
        assert_eq!(body["errors"][0]["field"], "id", "id {id:?}: {body}");
    }
    assert_eq!(app.repo.relation_counts().await.unwrap(), RelationCounts { requests: 0, connections: 0 });
}
