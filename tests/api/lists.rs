//! The lists: orders, filters, the paging envelope, and who is left out.

use std::time::Duration;

use serde_json::Value;

use connections_api::domain::{Action, Relation};
use connections_api::db::entities::users::Model as User;

use crate::harness::{TestApp, assert_error, json};

fn ids(page: &Value) -> Vec<i64> {
    page["results"].as_array().unwrap().iter().map(|u| u["id"].as_i64().unwrap()).collect()
}

/// Connections are ordered by their creation time: a pause keeps them apart. (The clock moving
/// on is the point, not a wait for the server: a busy machine only makes the gap longer.)
async fn connect(app: &TestApp, a: &User, b: &User) {
    app.set_up(a, b, Relation::Connected).await;
    tokio::time::sleep(Duration::from_millis(3)).await;
}

#[tokio::test]
async fn a_users_connections_mutual_first_newest_first_paged() {
    let app = TestApp::spawn().await;
    let caller = app.user("caller").await;
    let x = app.user("xavier").await;
    connect(&app, &x, &caller).await; // the oldest of x's connections
    let mut u = Vec::new();
    for i in 1..=5 {
        let user = app.user(&format!("u{i}")).await;
        connect(&app, &x, &user).await;
        u.push(user);
    }
    connect(&app, &caller, &u[1]).await;
    connect(&app, &caller, &u[3]).await;
    app.set_up(&caller, &u[4], Relation::SentPending).await;

    let (status, page) = json(app.get(&caller, &format!("/api/v2/user/{}/connections/", x.id)).await).await;
    assert_eq!(status, 200, "{page}");
    let expected = vec![u[3].id, u[1].id, u[4].id, u[2].id, u[0].id, caller.id];
    assert_eq!(ids(&page), expected, "mutual first, then newest first");
    assert_eq!(page["count"], 6);
    assert_eq!((page["next"].clone(), page["previous"].clone()), (Value::Null, Value::Null));
    let statuses: Vec<Value> = page["results"].as_array().unwrap().iter().map(|u| u["connection_status"].clone()).collect();
    assert_eq!(
        statuses,
        vec!["connected".into(), "connected".into(), "sent_connection_request".into(), Value::Null, Value::Null, Value::Null]
    );
    let first = &page["results"][0];
    for key in ["id", "username", "real_name", "avatar", "ext_id", "date_joined", "connection_status"] {
        assert!(first.get(key).is_some(), "User has {key}: {first}");
    }

    let (_, mutual) = json(app.get(&caller, &format!("/api/v2/user/{}/connections/?mutual=1", x.id)).await).await;
    assert_eq!(ids(&mutual), vec![u[3].id, u[1].id]);
    assert_eq!(mutual["count"], 2);

    // Page by page through the absolute `next` URLs: the same items, none twice, none lost.
    let mut url = app.url(&format!("/api/v2/user/{}/connections/?limit=2", x.id));
    let mut seen = Vec::new();
    let mut previous;
    loop {
        let response = app.client.get(&url).bearer_auth(app.token(&caller)).send().await.unwrap();
        let (status, page) = json(response).await;
        assert_eq!(status, 200, "{url}: {page}");
        assert_eq!(page["count"], 6);
        if !seen.is_empty() {
            assert!(page["previous"].is_string(), "{page}");
        } else {
            assert_eq!(page["previous"], Value::Null);
        }
        previous = page["previous"].clone();
        seen.extend(ids(&page));
        match page["next"].as_str() {
            Some(next) => {
                assert!(next.starts_with(&app.base) && next.contains("/connections/?"), "{next}");
                url = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!(seen, expected);
    let previous = previous.as_str().unwrap().to_owned();
    assert!(previous.ends_with("limit=2&offset=2"), "{previous}");

    // Pages that straddle the two groups, at every offset: the same order.
    for limit in [1, 3, 4] {
        for offset in 0..=6 {
            let path = format!("/api/v2/user/{}/connections/?limit={limit}&offset={offset}", x.id);
            let (_, page) = json(app.get(&caller, &path).await).await;
            let want: Vec<i64> = expected.iter().copied().skip(offset).take(limit).collect();
            assert_eq!(ids(&page), want, "{path}");
            assert_eq!(page["count"], 6, "{path}");
        }
    }

    // Deleted users stop counting, a mutual one too.
    app.repo.delete_user(u[3].id).await.unwrap();
    let (_, mutual) = json(app.get(&caller, &format!("/api/v2/user/{}/connections/?mutual=1", x.id)).await).await;
    assert_eq!((ids(&mutual), mutual["count"].clone()), (vec![u[1].id], 1.into()));
    let (_, page) = json(app.get(&caller, &format!("/api/v2/user/{}/connections/?limit=2&offset=1", x.id)).await).await;
    assert_eq!(ids(&page), vec![u[4].id, u[2].id], "the others follow the one mutual connection left");
    app.repo.delete_user(u[2].id).await.unwrap();
    let (_, page) = json(app.get(&caller, &format!("/api/v2/user/{}/connections/", x.id)).await).await;
    assert_eq!(page["count"], 4);
    assert_eq!(ids(&page), vec![u[1].id, u[4].id, u[0].id, caller.id]);
}

/// A list whose owner has many more connections than the caller: the mutual ones are found
/// from the caller's side, the others read only as far as each page needs; the same order and
/// the same pages as any list.
#[tokio::test]
async fn a_big_list_is_paged_from_the_callers_side_in_the_same_order() {
    let app = TestApp::spawn().await;
    let caller = app.user("caller").await;
    let x = app.user("xavier").await;
    connect(&app, &x, &caller).await; // the oldest of x's connections
    let mut v = Vec::new();
    for i in 0..13 {
        let user = app.user(&format!("v{i}")).await;
        connect(&app, &x, &user).await;
        v.push(user);
    }
    connect(&app, &caller, &v[2]).await;
    connect(&app, &caller, &v[7]).await;
    // The caller has 3 connections, x has 14: more than 4 times as many.
    let mut expected = vec![v[7].id, v[2].id];
    expected.extend((0..13).rev().filter(|i| *i != 2 && *i != 7).map(|i| v[i].id));
    expected.push(caller.id);
    for limit in [1, 2, 5, 20] {
        for offset in 0..=15 {
            let path = format!("/api/v2/user/{}/connections/?limit={limit}&offset={offset}", x.id);
            let (status, page) = json(app.get(&caller, &path).await).await;
            assert_eq!(status, 200, "{path}: {page}");
            let want: Vec<i64> = expected.iter().copied().skip(offset).take(limit).collect();
            assert_eq!(ids(&page), want, "{path}");
            assert_eq!(page["count"], 14, "{path}");
            let statuses: Vec<bool> = page["results"].as_array().unwrap().iter().map(|u| u["connection_status"] == "connected").collect();
            let want_connected: Vec<bool> = (offset..offset + want.len()).map(|i| i < 2).collect();
            assert_eq!(statuses, want_connected, "{path}: the mutual ones are the caller's connections");
        }
    }
    let (_, mutual) = json(app.get(&caller, &format!("/api/v2/user/{}/connections/?mutual=1&limit=1&offset=1", x.id)).await).await;
    assert_eq!((ids(&mutual), mutual["count"].clone()), (vec![v[2].id], 2.into()));
    // Deleted users drop out of both groups.
    app.repo.delete_user(v[7].id).await.unwrap();
    app.repo.delete_user(v[12].id).await.unwrap();
    let (_, page) = json(app.get(&caller, &format!("/api/v2/user/{}/connections/?limit=3", x.id)).await).await;
    assert_eq!((ids(&page), page["count"].clone()), (vec![v[2].id, v[11].id, v[10].id], 12.into()));
}

#[tokio::test]
async fn received_and_sent_requests_newest_first() {
    let app = TestApp::spawn().await;
    let caller = app.user("caller").await;
    let mut askers = Vec::new();
    for i in 0..3 {
        let user = app.user(&format!("asker{i}")).await;
        app.act(&user, &caller, Action::Request).await;
        tokio::time::sleep(Duration::from_millis(3)).await;
        askers.push(user);
    }
    app.act(&caller, &askers[1], Action::Reject).await;
    let mut asked = Vec::new();
    for i in 0..3 {
        let user = app.user(&format!("asked{i}")).await;
        app.act(&caller, &user, Action::Request).await;
        tokio::time::sleep(Duration::from_millis(3)).await;
        asked.push(user);
    }
    app.act(&asked[0], &caller, Action::Reject).await;

    let (status, received) = json(app.get(&caller, "/api/v2/user/connection/requests/").await).await;
    assert_eq!(status, 200, "{received}");
    let from: Vec<i64> = received["results"].as_array().unwrap().iter().map(|r| r["from_user"]["id"].as_i64().unwrap()).collect();
    assert_eq!(from, vec![askers[2].id, askers[0].id], "pending only, newest first");
    assert_eq!(received["count"], 2);
    let first = &received["results"][0];
    assert_eq!(first["to_user"]["id"], caller.id);
    assert_eq!(first["from_user"]["connection_status"], "received_connection_request");
    assert_eq!(first["to_user"]["connection_status"], Value::Null);
    for key in ["id", "created", "rejected", "viewed"] {
        assert!(first.get(key).is_some(), "ConnectionRequest has {key}: {first}");
    }

    let (_, sent) = json(app.get(&caller, "/api/v2/user/connection/requests_sent/").await).await;
    let to: Vec<i64> = sent["results"].as_array().unwrap().iter().map(|r| r["to_user"]["id"].as_i64().unwrap()).collect();
    assert_eq!(to, vec![asked[2].id, asked[1].id, asked[0].id], "rejected ones too, newest first");
    for request in sent["results"].as_array().unwrap() {
        assert_eq!(request["rejected"], Value::Null, "a rejection is silent: {request}");
        assert_eq!(request["to_user"]["connection_status"], "sent_connection_request");
    }

    app.repo.delete_user(askers[2].id).await.unwrap();
    app.repo.delete_user(asked[2].id).await.unwrap();
    let (_, received) = json(app.get(&caller, "/api/v2/user/connection/requests/").await).await;
    assert_eq!(received["count"], 1);
    let (_, sent) = json(app.get(&caller, "/api/v2/user/connection/requests_sent/").await).await;
    assert_eq!(sent["count"], 2);
}

#[tokio::test]
async fn a_limit_above_100_is_clamped() {
    let app = TestApp::spawn().await;
    let caller = app.user("caller").await;
    for i in 0..101 {
        let user = app.user(&format!("asker{i}")).await;
        app.act(&user, &caller, Action::Request).await;
    }
    let (status, page) = json(app.get(&caller, "/api/v2/user/connection/requests/?limit=1000").await).await;
    assert_eq!(status, 200);
    assert_eq!(page["results"].as_array().unwrap().len(), 100);
    assert_eq!(page["count"], 101);
    assert!(page["next"].as_str().unwrap().ends_with("limit=100&offset=100"), "{}", page["next"]);
    let (_, page) = json(app.get(&caller, "/api/v2/user/connection/requests/").await).await;
    assert_eq!(page["results"].as_array().unwrap().len(), 20, "the default page size");
}

/// A full page of someone's connections holds a full page of users, as the caller's own does
/// (the page's users are read with one statement of 100 places).
#[tokio::test]
async fn full_pages_of_connections_hold_every_user() {
    let app = TestApp::spawn().await;
    let (owner, viewer) = (app.user("owner").await, app.user("viewer").await);
    for i in 0..101 {
        let user = app.user(&format!("friend{i}")).await;
        connect(&app, &owner, &user).await;
    }
    for (caller, label) in [(&viewer, "another user's view"), (&owner, "the owner's own")] {
        let path = format!("/api/v2/user/{}/connections/?limit=100", owner.id);
        let (status, page) = json(app.get(caller, &path).await).await;
        assert_eq!(status, 200);
        assert_eq!(page["count"], 101, "{label}");
        assert_eq!(page["results"].as_array().unwrap().len(), 100, "{label}");
        let (_, page) = json(app.get(caller, &format!("/api/v2/user/{}/connections/", owner.id)).await).await;
        assert_eq!(page["results"].as_array().unwrap().len(), 20, "{label}: the default page");
    }
}

#[tokio::test]
async fn bad_paging_parameters_are_field_errors() {
    let app = TestApp::spawn().await;
    let caller = app.user("caller").await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("limit=abc", "limit"),
        ("offset=-1", "offset"),
        ("offset=1.5", "offset"),
        ("mutual=2", "mutual"),
        ("mutual=yes", "mutual"),
    ] {
        let path = format!("/api/v2/user/{}/connections/?{query}", caller.id);
        let body = assert_error(app.get(&caller, &path).await, 400, "invalid").await;
        assert_eq!(body["errors"][0]["field"], field, "{query}: {body}");
    }
    let body = assert_error(app.get(&caller, "/api/v2/user/connection/requests/?limit=x").await, 400, "invalid").await;
    assert_eq!(body["errors"][0]["field"], "limit");
}

#[tokio::test]
async fn lists_need_friendship_mode_and_an_existing_user() {
    let app = TestApp::spawn().await;
    let caller = app.user("caller").await;
    assert_error(app.get(&caller, "/api/v2/user/9999/connections/").await, 404, "not_found").await;
    app.set_preference("follow_enabled", true).await;
    for path in [
        format!("/api/v2/user/{}/connections/", caller.id),
        "/api/v2/user/connection/requests/".to_owned(),
        "/api/v2/user/connection/requests_sent/".to_owned(),
    ] {
        assert_error(app.get(&caller, &path).await, 403, "friendship_mode_disabled").await;
    }
}
