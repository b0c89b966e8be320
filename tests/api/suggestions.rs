//! "People you may know": who is suggested, in what order, and the part of the graph read.

use serde_json::Value;

use connections_api::domain::{Action, Relation};
use connections_api::db::entities::users::Model as User;
use connections_api::features::suggestions::friendship::{FRIENDS as SUGGESTION_FRIENDS, PER_FRIEND as SUGGESTION_PER_FRIEND};

use crate::harness::{TestApp, assert_error, json};

async fn suggested(app: &TestApp, caller: &User, query: &str) -> (Vec<i64>, Value) {
    let (status, page) = json(app.get(caller, &format!("/api/v2/suggestion/user/{query}")).await).await;
    assert_eq!(status, 200, "{page}");
    let ids = page["results"].as_array().unwrap().iter().map(|u| u["id"].as_i64().unwrap()).collect();
    (ids, page)
}

#[tokio::test]
async fn friends_of_friends_ranked_by_shared_connections_without_related_hidden_or_deleted_users() {
    let app = TestApp::spawn().await;
    let me = app.user("me").await;
    let mut users = std::collections::HashMap::new();
    for name in ["a", "b", "x", "y", "asked", "rejected", "hidden", "hiding", "gone", "friend_too"] {
        users.insert(name, app.user(name).await);
    }
    let u = |name: &str| users[name].clone();
    for friend in ["a", "b", "friend_too"] {
        app.set_up(&me, &u(friend), Relation::Connected).await;
    }
    // x shares a and b with me; y shares a; the others share a but may not be suggested.
    for (one, other) in [("x", "a"), ("x", "b"), ("y", "a"), ("asked", "a"), ("rejected", "b"), ("hidden", "a"), ("hiding", "b"), ("gone", "a"), ("friend_too", "a")] {
        app.set_up(&u(one), &u(other), Relation::Connected).await;
    }
    app.set_up(&me, &u("asked"), Relation::SentPending).await;
    app.set_up(&me, &u("rejected"), Relation::ReceivedRejected).await;
    app.post(&me, &format!("/api/v2/user/{}/hide/", u("hidden").id)).await;
    app.post(&u("hiding"), &format!("/api/v2/user/{}/hide/", me.id)).await;
    assert!(app.repo.delete_user(u("gone").id).await.unwrap());

    let (ids, page) = suggested(&app, &me, "").await;
    assert_eq!(ids, vec![u("x").id, u("y").id], "most shared first; related, hidden, deleted users and connections left out");
    assert_eq!(page["count"], 2);
    assert!(page["results"].as_array().unwrap().iter().all(|u| u["connection_status"].is_null()));

    let (first, page) = suggested(&app, &me, "?limit=1").await;
    assert_eq!(first, vec![u("x").id]);
    assert!(page["next"].as_str().unwrap().ends_with("/api/v2/suggestion/user/?limit=1&offset=1"));

    // Once connected, x is no longer suggested; a user with no connections gets nobody.
    app.set_up(&me, &u("x"), Relation::Connected).await;
    assert_eq!(suggested(&app, &me, "").await.0, vec![u("y").id]);
    let lonely = app.user("lonely").await;
    assert_eq!(suggested(&app, &lonely, "").await.1["count"], 0);

    // Follow mode ranks follows (none here), and in neither mode there is nothing to rank.
    app.set_preference("follow_enabled", true).await;
    assert_eq!(suggested(&app, &me, "").await.1["count"], 0, "no follows, no follow-mode suggestions");
    app.set_preference("follow_enabled", false).await;
    app.set_preference("connection_enabled", false).await;
    assert_error(app.get(&me, "/api/v2/suggestion/user/").await, 403, "friendship_mode_disabled").await;
}

/// Only the caller's most recent connections are read, and of each only their most recent
/// connections: what lies beyond either bound is not suggested.
#[tokio::test]
async fn only_the_documented_part_of_the_graph_is_read() {
    let app = TestApp::spawn().await;
    let me = app.user("me").await;
    // My oldest friend knows `beyond_mine`; then as many newer friends as the bound reads.
    let (oldest, beyond_mine) = (app.user("oldest").await, app.user("beyond_mine").await);
    app.set_up(&oldest, &beyond_mine, Relation::Connected).await;
    app.set_up(&me, &oldest, Relation::Connected).await;
    let mut newest = Vec::new();
    for i in 0..SUGGESTION_FRIENDS {
        let friend = app.user(&format!("f{i}")).await;
        app.set_up(&me, &friend, Relation::Connected).await;
        newest.push(friend);
    }
    // The newest friend's oldest connection, then as many newer ones as the bound reads.
    let hub = newest.last().unwrap().clone();
    let beyond_theirs = app.user("beyond_theirs").await;
    app.set_up(&hub, &beyond_theirs, Relation::Connected).await;
    let mut theirs = Vec::new();
    for i in 0..SUGGESTION_PER_FRIEND {
        let user = app.user(&format!("t{i}")).await;
        app.act(&hub, &user, Action::Request).await;
        app.act(&user, &hub, Action::Accept).await;
        theirs.push(user.id);
    }
    let (ids, page) = suggested(&app, &me, "?limit=100").await;
    assert!(!ids.contains(&beyond_mine.id), "the friend beyond my {SUGGESTION_FRIENDS} most recent is not read");
    assert!(!ids.contains(&beyond_theirs.id), "a connection beyond their {SUGGESTION_PER_FRIEND} most recent is not read");
    theirs.sort_unstable();
    assert_eq!(ids, theirs, "each shares one connection: by id");
    assert_eq!(page["count"], SUGGESTION_PER_FRIEND);
}
