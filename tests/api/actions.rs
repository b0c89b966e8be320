//! The other actions over HTTP: each cell of the contract's table reaches the state machine
//! and comes back with the right answer (the logic itself is tested in `src/domain`).

use connections_api::domain::{self, Action, Relation};

use crate::harness::{TestApp, assert_error, json, status_of};

fn path(action: Action, id: i64) -> String {
    let tail = match action {
        Action::Request => "connection/request",
        Action::Accept => "connection/accept",
        Action::Reject => "connection/reject",
        Action::CancelReject => "connection/cancel_reject",
        Action::CancelRequest => "connection/cancel_request",
        Action::Remove => "connection/remove",
        Action::MarkSeen => "connection_requests/mark_seen",
    };
    format!("/api/v2/user/{id}/{tail}/")
}

#[tokio::test]
async fn every_action_in_every_state_over_http() {
    let app = TestApp::spawn().await;
    let mut n = 0;
    for action in Action::ALL {
        for before in Relation::ALL {
            n += 1;
            let a = app.user(&format!("a{n}")).await;
            let b = app.user(&format!("b{n}")).await;
            app.set_up(&a, &b, before).await;
            let response = app.post(&a, &path(action, b.id)).await;
            match domain::apply(before, action) {
                Ok(_) if action == Action::MarkSeen => {
                    assert_eq!(response.status(), 204, "{action:?} in {before:?}");
                    assert!(response.bytes().await.unwrap().is_empty(), "204 has no body");
                }
                Ok(transition) => {
                    let (status, body) = json(response).await;
                    assert_eq!(status, 200, "{action:?} in {before:?}: {body}");
                    let expected = transition.status().map(|s| s.as_str());
                    assert_eq!(status_of(&body), expected, "{action:?} in {before:?}");
                }
                Err(conflict) => {
                    assert_error(response, 409, conflict.code()).await;
                }
            }
            let after = domain::apply(before, action).map_or(before, |t| t.to);
            assert_eq!(app.relation(&a, &b).await, after, "{action:?} in {before:?}: the stored state");
        }
    }
}

#[tokio::test]
async fn request_accept_remove_cycle() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.user("alice").await, app.user("bob").await);
    let step = |caller, action, target: i64| {
        let path = path(action, target);
        let app = &app;
        async move { json(app.post(caller, &path).await).await }
    };
    assert_eq!(status_of(&step(&a, Action::Request, b.id).await.1), Some("sent_connection_request"));
    assert_eq!(status_of(&step(&b, Action::Accept, a.id).await.1), Some("connected"));
    assert_eq!(status_of(&step(&a, Action::Remove, b.id).await.1), None);
    assert_eq!(app.relation(&a, &b).await, Relation::None);
    // And again from nothing: a removed connection can be requested anew.
    assert_eq!(status_of(&step(&b, Action::Request, a.id).await.1), Some("sent_connection_request"));
}

#[tokio::test]
async fn mark_seen_sets_viewed_once() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.user("alice").await, app.user("bob").await);
    app.set_up(&a, &b, Relation::ReceivedPending).await;
    let viewed = || async {
        let (_, page) = json(app.get(&a, "/api/v2/user/connection/requests/").await).await;
        page["results"][0]["viewed"].clone()
    };
    assert_eq!(viewed().await, serde_json::Value::Null);
    assert_eq!(app.post(&a, &path(Action::MarkSeen, b.id)).await.status(), 204);
    let first = viewed().await;
    assert!(first.is_string(), "viewed is set: {first}");
    // Time passes (a later mark would carry a later time): not a wait for anything to happen.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert_eq!(app.post(&a, &path(Action::MarkSeen, b.id)).await.status(), 204);
    assert_eq!(viewed().await, first, "the first time stays");
}

#[tokio::test]
async fn actions_check_self_target_and_mode_like_request() {
    let app = TestApp::spawn().await;
    let a = app.user("alice").await;
    for action in Action::ALL {
        assert_error(app.post(&a, &path(action, a.id)).await, 400, "self_connection").await;
        assert_error(app.post(&a, &path(action, 999_999)).await, 404, "not_found").await;
        let body = assert_error(app.post(&a, &path(action, 0)).await, 400, "invalid").await;
        assert_eq!(body["errors"][0]["field"], "id");
    }
    app.set_preference("follow_enabled", true).await;
    let b = app.user("bob").await;
    for action in Action::ALL {
        assert_error(app.post(&a, &path(action, b.id)).await, 403, "friendship_mode_disabled").await;
    }
}
