//! Hidden users: the toggle, the two checks, the lists, the `403 user_hidden` interplay with
//! the actions, a race of toggles, and the static paths under `/api/v2/user/` that must not be
//! read as an `{id}`.

use futures::future::join_all;
use serde_json::{Value, json};

use connections_api::domain::{Action, Relation};

use crate::concurrency::action_path;
use crate::harness::{TestApp, assert_error, json};

async fn flags(app: &TestApp, caller: &connections_api::db::entities::users::Model, other: i64) -> (Value, Value) {
    let (_, hidden) = json(app.get(caller, &format!("/api/v2/user/{other}/is_hidden/")).await).await;
    let (_, hidden_by) = json(app.get(caller, &format!("/api/v2/user/{other}/is_hidden_by/")).await).await;
    (hidden, hidden_by)
}

async fn hide(app: &TestApp, caller: &connections_api::db::entities::users::Model, other: i64) {
    let response = app.post(caller, &format!("/api/v2/user/{other}/hide/")).await;
    assert_eq!(response.status().as_u16(), 204, "hide {other}");
    assert!(response.bytes().await.unwrap().is_empty(), "204 has no body");
}

#[tokio::test]
async fn hiding_toggles_and_both_sides_can_check_it() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.user("a").await, app.user("b").await);
    assert_eq!(flags(&app, &a, b.id).await, (json!({"is_hidden": false}), json!({"is_hidden_by": false})));

    hide(&app, &a, b.id).await;
    assert_eq!(flags(&app, &a, b.id).await, (json!({"is_hidden": true}), json!({"is_hidden_by": false})));
    assert_eq!(flags(&app, &b, a.id).await, (json!({"is_hidden": false}), json!({"is_hidden_by": true})));

    hide(&app, &a, b.id).await;
    assert_eq!(flags(&app, &a, b.id).await, (json!({"is_hidden": false}), json!({"is_hidden_by": false})), "shown again");

    // Oneself: not hideable, never hidden.
    assert_error(app.post(&a, &format!("/api/v2/user/{}/hide/", a.id)).await, 400, "self_hide").await;
    assert_eq!(flags(&app, &a, a.id).await, (json!({"is_hidden": false}), json!({"is_hidden_by": false})));
    // Unknown users, and no token.
    assert_error(app.post(&a, "/api/v2/user/987654/hide/").await, 404, "not_found").await;
    assert_error(app.get(&a, "/api/v2/user/987654/is_hidden/").await, 404, "not_found").await;
    assert_error(app.get(&a, "/api/v2/user/987654/is_hidden_by/").await, 404, "not_found").await;
    for path in ["/api/v2/user/hidden_users/", "/api/v2/user/hidden_users_id/"] {
        let anonymous = reqwest::Client::new().get(app.url(path)).send().await.unwrap();
        assert_error(anonymous, 401, "not_authenticated").await;
    }
}

#[tokio::test]
async fn the_hidden_users_list_newest_first_without_deleted_users() {
    let app = TestApp::spawn().await;
    let me = app.user("me").await;
    let mut others = Vec::new();
    for name in ["x", "y", "z", "gone"] {
        others.push(app.user(name).await);
    }
    app.act(&me, &others[0], Action::Request).await; // before hiding: hiding refuses requests
    for user in &others {
        hide(&app, &me, user.id).await;
    }
    assert!(app.repo.delete_user(others[3].id).await.unwrap());

    let (status, ids) = json(app.get(&me, "/api/v2/user/hidden_users_id/").await).await;
    assert_eq!(status, 200);
    let (x, y, z) = (others[0].id, others[1].id, others[2].id);
    assert_eq!(ids, json!([z, y, x]), "most recently hidden first; deleted users left out");

    let (status, page) = json(app.get(&me, "/api/v2/user/hidden_users/?limit=2").await).await;
    assert_eq!(status, 200);
    assert_eq!(page["count"], 3);
    let listed: Vec<i64> = page["results"].as_array().unwrap().iter().map(|u| u["id"].as_i64().unwrap()).collect();
    assert_eq!(listed, vec![z, y]);
    let next = page["next"].as_str().expect("a next page").to_owned();
    let (_, rest) = json(app.client.get(next).bearer_auth(app.token(&me)).send().await.unwrap()).await;
    assert_eq!(rest["results"][0]["id"], x);
    assert_eq!(rest["results"][0]["connection_status"], "sent_connection_request", "the caller's status with each");
    assert_eq!(rest["next"], Value::Null);
}

/// While either user hid the other, `request`, `accept` and `cancel_reject` by either of them
/// are `403 user_hidden`, whatever the pair's state (checked after `404`, before the state
/// machine); the actions that undo a relation still work; hiding changes no relation.
#[tokio::test]
async fn hiding_refuses_the_actions_that_create_or_restore_a_relation() {
    let app = TestApp::spawn().await;
    let mut n = 0;
    for relation in Relation::ALL {
        for hider_is_a in [true, false] {
            n += 1;
            let (a, b) = (app.user(&format!("a{n}")).await, app.user(&format!("b{n}")).await);
            app.set_up(&a, &b, relation).await;
            let (hider, hidden) = if hider_is_a { (&a, &b) } else { (&b, &a) };
            hide(&app, hider, hidden.id).await;
            assert_eq!(app.relation(&a, &b).await, relation, "hiding changes no relation");
            for (actor, target) in [(&a, &b), (&b, &a)] {
                for action in [Action::Request, Action::Accept, Action::CancelReject] {
                    let response = app.post(actor, &action_path(action, target.id)).await;
                    assert_error(response, 403, "user_hidden").await;
                }
            }
            assert_eq!(app.relation(&a, &b).await, relation, "refused actions changed nothing");
            // Shown again: the actions work as the state machine says.
            hide(&app, hider, hidden.id).await;
            let status = app.post(&a, &action_path(Action::Request, b.id)).await.status().as_u16();
            assert_eq!(status, 200, "{relation:?}: request after showing again");
        }
    }
    // The undoing actions still work while hidden.
    let (a, b) = (app.user("undo_a").await, app.user("undo_b").await);
    app.set_up(&a, &b, Relation::Connected).await;
    hide(&app, &b, a.id).await;
    let (status, body) = json(app.post(&a, &action_path(Action::Remove, b.id)).await).await;
    assert_eq!((status, body), (200, json!({"connection_status": null})));
    hide(&app, &b, a.id).await; // shown, to set the next state up
    app.set_up(&a, &b, Relation::ReceivedPending).await;
    hide(&app, &b, a.id).await;
    assert_eq!(app.post(&a, &action_path(Action::MarkSeen, b.id)).await.status().as_u16(), 204);
    assert_eq!(app.post(&a, &action_path(Action::Reject, b.id)).await.status().as_u16(), 200);
    assert_eq!(app.post(&b, &action_path(Action::CancelRequest, a.id)).await.status().as_u16(), 200);
    assert_eq!(app.relation(&a, &b).await, Relation::None);
    // A deleted target is still `404` first.
    assert!(app.repo.delete_user(b.id).await.unwrap());
    assert_error(app.post(&a, &action_path(Action::Request, b.id)).await, 404, "not_found").await;
}

/// Toggles of one user, at once, on two instances: the result is what as many toggles in a
/// row leave (hidden after an odd number).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_toggles_leave_what_the_same_toggles_in_a_row_would() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    let (a, b) = (app.user("a").await, app.user("b").await);
    for toggles in [7usize, 8] {
        let calls = (0..toggles).map(|i| {
            let server = if i % 2 == 0 { &app } else { &other };
            let (a, b) = (&a, &b);
            async move { server.post(a, &format!("/api/v2/user/{}/hide/", b.id)).await.status().as_u16() }
        });
        assert!(join_all(calls).await.iter().all(|s| *s == 204));
        let expected = toggles % 2 == 1;
        assert_eq!(flags(&app, &a, b.id).await.0, json!({"is_hidden": expected}), "after {toggles} toggles");
        if expected {
            hide(&app, &a, b.id).await; // start the next round shown
        }
    }
}

/// Every static path under `/api/v2/user/` is served as itself, never read as an `{id}`
/// (which would answer `400` about the field `id`).
#[tokio::test]
async fn static_user_paths_win_over_the_id_route() {
    let app = TestApp::spawn().await;
    let me = app.user("me").await;
    let spec = connections_api::server::spec::generate().unwrap();
    let mut walked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        let Some(rest) = path.strip_prefix("/api/v2/user/") else { continue };
        if rest.contains('{') {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            let url = app.url(path);
            let response = match method.as_str() {
                "get" => app.client.get(&url),
                "post" => app.client.post(&url).json(&json!({"users": [me.id]})),
                other => panic!("{other} {path}: not walked"),
            }
            .bearer_auth(app.token(&me))
            .send()
            .await
            .unwrap();
            let (status, body) = json(response).await;
            assert!(status == 200 || status == 403, "{method} {path}: {status} {body}");
            assert!(body["errors"][0]["field"] != "id", "{method} {path} read as an id: {body}");
            walked += 1;
        }
    }
    assert!(walked >= 6, "walked {walked} static paths");
}
