//! Follow mode (SelfCommunity's default): the toggle, the two checks, a user's followers and
//! followings, the checks' order, the mode gates both ways, hiding, `followed` wherever a status
//! shows, the counters, suggestions, events and notifications, a deleted user, and concurrent
//! toggles of one pair on one instance and on two.

use std::collections::HashSet;

use connections_api::db::entities::follows;
use connections_api::db::entities::users::Model as User;
use connections_api::domain::Relation;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::harness::{TestApp, assert_error, json, status_of};

fn path(id: i64, what: &str) -> String {
    format!("/api/v2/user/{id}/{what}/")
}

/// `POST follow/` as the SDK sends it: `204`, no body.
async fn toggle(app: &TestApp, caller: &User, target: &User) {
    let response = app
        .client
        .post(app.url(&path(target.id, "follow")))
        .bearer_auth(app.token(caller))
        .header("Content-Type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204, "follow {} -> {}", caller.username, target.username);
    assert_eq!(response.text().await.unwrap(), "", "no body");
}

/// `(is_followed, is_follower)` of `target` as `caller` asks.
async fn flags(app: &TestApp, caller: &User, target: &User) -> (bool, bool) {
    let (s1, followed) = json(app.get(caller, &path(target.id, "is_followed")).await).await;
    let (s2, follower) = json(app.get(caller, &path(target.id, "is_follower")).await).await;
    assert_eq!((s1, s2), (200, 200), "{followed} {follower}");
    (followed["is_followed"].as_bool().unwrap(), follower["is_follower"].as_bool().unwrap())
}

/// A page: the users' ids and the body.
async fn page(app: &TestApp, caller: &User, path: &str) -> (Vec<i64>, Value) {
    let (status, body) = json(app.get(caller, path).await).await;
    assert_eq!(status, 200, "{path}: {body}");
    let ids = body["results"].as_array().unwrap().iter().map(|u| u["id"].as_i64().unwrap()).collect();
    (ids, body)
}

async fn user_json(app: &TestApp, caller: &User, of: &User) -> Value {
    let (status, body) = json(app.get(caller, &format!("/api/v2/user/{}/", of.id)).await).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn follow_toggles_and_every_read_shows_it() {
    let app = TestApp::spawn_in_follow_mode().await;
    let (alice, bob) = (app.user("alice").await, app.user("bob").await);
    assert_eq!(flags(&app, &alice, &bob).await, (false, false));

    toggle(&app, &alice, &bob).await;
    assert_eq!(flags(&app, &alice, &bob).await, (true, false), "alice follows bob");
    assert_eq!(flags(&app, &bob, &alice).await, (false, true), "bob is followed by alice");

    // `followed` wherever a status shows, from the follower's side only.
    assert_eq!(user_json(&app, &alice, &bob).await["connection_status"], "followed");
    assert_eq!(user_json(&app, &bob, &alice).await["connection_status"], Value::Null);
    let (_, status) = json(app.get(&alice, &path(bob.id, "connection_status")).await).await;
    assert_eq!(status, json!({"connection_status": "followed"}));
    let (_, statuses) = json(app.post_json(&alice, "/api/v2/user/connection/statuses/", &json!({"users": [bob.id, alice.id]})).await).await;
    assert_eq!(statuses["connection_statuses"], json!({bob.id.to_string(): "followed", alice.id.to_string(): null}));
    let (_, connected) = json(app.get(&alice, &path(bob.id, "is_connection")).await).await;
    assert_eq!(connected, json!({"is_connection": false}), "a follow is not a connection");

    // Both counters, on User objects and in `counters/`.
    let bobs = user_json(&app, &alice, &bob).await;
    assert_eq!((&bobs["followers_counter"], &bobs["followings_counter"]), (&json!(1), &json!(0)));
    let (_, me) = json(app.get(&alice, "/api/v2/user/me/").await).await;
    assert_eq!((&me["followers_counter"], &me["followings_counter"]), (&json!(0), &json!(1)));
    let (_, counters) = json(app.get(&alice, &path(bob.id, "counters")).await).await;
    assert_eq!(counters, json!({"followers": 1, "followings": 0}));

    // The toggle again: unfollowed, everything back.
    toggle(&app, &alice, &bob).await;
    assert_eq!(flags(&app, &alice, &bob).await, (false, false));
    assert_eq!(status_of(&user_json(&app, &alice, &bob).await), None);
    let (_, counters) = json(app.get(&alice, &path(bob.id, "counters")).await).await;
    assert_eq!(counters, json!({"followers": 0, "followings": 0}));
    assert_eq!(app.repo.miscounted_users().await.unwrap(), vec![]);
}

/// Checks in the connection family's order: token, mode, self, target, hiding.
#[tokio::test]
async fn errors_come_in_the_contracts_order() {
    let app = TestApp::spawn_in_follow_mode().await;
    let (alice, bob, gone) = (app.user("alice").await, app.user("bob").await, app.user("gone").await);
    assert!(app.repo.delete_user(gone.id).await.unwrap());

    for what in ["follow", "is_followed", "is_follower", "followers", "followings"] {
        let anonymous = if what == "follow" { app.client.post(app.url(&path(bob.id, what))) } else { app.client.get(app.url(&path(bob.id, what))) };
        assert_error(anonymous.send().await.unwrap(), 401, "not_authenticated").await;
        let as_gone = if what == "follow" { app.post(&gone, &path(bob.id, what)).await } else { app.get(&gone, &path(bob.id, what)).await };
        assert_error(as_gone, 401, "user_not_found").await;
        for target in [999_999, gone.id] {
            let response = if what == "follow" { app.post(&alice, &path(target, what)).await } else { app.get(&alice, &path(target, what)).await };
            assert_error(response, 404, "not_found").await;
        }
        let bad = if what == "follow" { app.post(&alice, &format!("/api/v2/user/abc/{what}/")).await } else { app.get(&alice, &format!("/api/v2/user/0/{what}/")).await };
        assert_eq!(bad.status(), 400, "{what}: a bad id");
    }
    assert_error(app.post(&alice, &path(alice.id, "follow")).await, 400, "self_follow").await;
    assert_eq!(flags(&app, &alice, &alice).await, (false, false), "about oneself: false");

    // Outside follow mode every one of them is 403, after the token and before the rest.
    app.set_preference("follow_enabled", false).await;
    for what in ["is_followed", "is_follower", "followers", "followings"] {
        assert_error(app.get(&alice, &path(bob.id, what)).await, 403, "follow_mode_disabled").await;
        assert_error(app.get(&alice, &path(999_999, what)).await, 403, "follow_mode_disabled").await;
    }
    assert_error(app.post(&alice, &path(alice.id, "follow")).await, 403, "follow_mode_disabled").await;
    assert_error(app.post(&gone, &path(bob.id, "follow")).await, 401, "user_not_found").await;

    // And in follow mode the friendship family's FM endpoints answer their own 403.
    app.set_preference("follow_enabled", true).await;
    assert_error(app.request(&alice, bob.id).await, 403, "friendship_mode_disabled").await;
    assert_error(app.get(&alice, &path(bob.id, "connections")).await, 403, "friendship_mode_disabled").await;
}

/// Each mode shows only its own relation; both are kept across a change of mode.
#[tokio::test]
async fn both_relations_are_kept_and_each_mode_shows_its_own() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.user("alice").await, app.user("bob").await);
    app.set_up(&alice, &bob, Relation::Connected).await;

    app.set_preference("follow_enabled", true).await;
    assert_eq!(status_of(&user_json(&app, &alice, &bob).await), None, "no friendship state in follow mode");
    let (_, connected) = json(app.get(&alice, &path(bob.id, "is_connection")).await).await;
    assert_eq!(connected["is_connection"], false);
    toggle(&app, &bob, &alice).await;
    assert_eq!(user_json(&app, &bob, &alice).await["connection_status"], "followed");

    app.set_preference("follow_enabled", false).await;
    assert_eq!(user_json(&app, &bob, &alice).await["connection_status"], "connected", "the connection is back");
    let bobs = user_json(&app, &alice, &bob).await;
    assert_eq!((&bobs["connections_counter"], &bobs["followings_counter"]), (&json!(1), &json!(1)), "both counters, in either mode");

    app.set_preference("follow_enabled", true).await;
    assert_eq!(flags(&app, &bob, &alice).await, (true, false), "the follow is back");
}

/// Hiding refuses a follow either way, never an unfollow, and changes no follow or counter.
#[tokio::test]
async fn hiding_refuses_a_follow_never_an_unfollow() {
    let app = TestApp::spawn_in_follow_mode().await;
    let (alice, bob) = (app.user("alice").await, app.user("bob").await);
    toggle(&app, &alice, &bob).await;
    assert_eq!(app.post(&bob, &path(alice.id, "hide")).await.status(), 204);
    assert_eq!(flags(&app, &alice, &bob).await, (true, false), "hiding changes no follow");
    assert_eq!(user_json(&app, &alice, &bob).await["followers_counter"], 1);

    toggle(&app, &alice, &bob).await; // an unfollow still works
    assert_eq!(flags(&app, &alice, &bob).await, (false, false));
    assert_error(app.post(&alice, &path(bob.id, "follow")).await, 403, "user_hidden").await;
    assert_error(app.post(&bob, &path(alice.id, "follow")).await, 403, "user_hidden").await;
    assert_eq!(app.post(&bob, &path(alice.id, "hide")).await.status(), 204, "shown again");
    toggle(&app, &alice, &bob).await;
    assert_eq!(flags(&app, &alice, &bob).await, (true, false));
}

/// Every page of a list, checked against the order the contract gives, computed here from the
/// rows: those the caller follows first, then the others, newest follow first, id last.
async fn assert_every_page(app: &TestApp, caller: &User, of: &User, followers: bool) {
    let rows = follows::Entity::find().all(app.repo.connection()).await.unwrap();
    let deleted: HashSet<i64> = app.repo.deleted_among(&rows.iter().flat_map(|r| [r.follower_id, r.followed_id]).collect::<Vec<_>>()).await.unwrap().into_iter().collect();
    let caller_follows: HashSet<i64> = rows.iter().filter(|r| r.follower_id == caller.id).map(|r| r.followed_id).collect();
    let mut listed: Vec<(chrono::DateTime<chrono::Utc>, i64)> = rows
        .iter()
        .filter_map(|r| match followers {
            true => (r.followed_id == of.id).then_some((r.created, r.follower_id)),
            false => (r.follower_id == of.id).then_some((r.created, r.followed_id)),
        })
        .filter(|(_, id)| !deleted.contains(id))
        .collect();
    listed.sort_by(|a, b| b.cmp(a));
    let (mutual, others): (Vec<i64>, Vec<i64>) = listed.into_iter().map(|(_, id)| id).partition(|id| caller_follows.contains(id));
    let expected: Vec<i64> = mutual.iter().chain(&others).copied().collect();
    let list = if followers { "followers" } else { "followings" };
    let count_field = if followers { "followers_counter" } else { "followings_counter" };
    assert_eq!(user_json(app, caller, of).await[count_field], expected.len(), "the counter is the list's count");
    for limit in 1..=expected.len().max(1) + 1 {
        for offset in 0..=expected.len() {
            let (ids, body) = page(app, caller, &format!("{}?limit={limit}&offset={offset}", path(of.id, list))).await;
            let want: Vec<i64> = expected.iter().copied().skip(offset).take(limit).collect();
            assert_eq!(ids, want, "{list} of {} as {}, limit {limit} offset {offset}", of.username, caller.username);
            assert_eq!(body["count"], expected.len());
            for user in body["results"].as_array().unwrap() {
                let id = user["id"].as_i64().unwrap();
                let want = if caller_follows.contains(&id) { json!("followed") } else { Value::Null };
                assert_eq!(user["connection_status"], want, "{user}");
            }
        }
    }
    let (ids, body) = page(app, caller, &format!("{}?mutual=1&limit=100", path(of.id, list))).await;
    assert_eq!((ids, body["count"].as_u64()), (mutual.clone(), Some(mutual.len() as u64)), "mutual=1");
}

#[tokio::test]
async fn followers_and_followings_mutual_first_newest_first_paged() {
    let app = TestApp::spawn_in_follow_mode().await;
    let owner = app.user("owner").await;
    let caller = app.user("caller").await;
    let mut fans = Vec::new();
    for i in 0..7 {
        let fan = app.user(&format!("fan{i}")).await;
        app.repo.toggle_follow(fan.id, owner.id).await.unwrap();
        app.repo.toggle_follow(owner.id, fan.id).await.unwrap();
        fans.push(fan);
    }
    // The caller follows some of them (not in list order), and the owner; one fan is deleted.
    for i in [5, 1, 3] {
        app.repo.toggle_follow(caller.id, fans[i].id).await.unwrap();
    }
    app.repo.toggle_follow(caller.id, owner.id).await.unwrap();
    assert!(app.repo.delete_user(fans[3].id).await.unwrap());
    for followers in [true, false] {
        assert_every_page(&app, &caller, &owner, followers).await;
        assert_every_page(&app, &owner, &owner, followers).await;
    }
    // The caller among the owner's followers reads `null` for themselves.
    let (_, body) = page(&app, &caller, &format!("{}?limit=100", path(owner.id, "followers"))).await;
    let me = body["results"].as_array().unwrap().iter().find(|u| u["id"] == caller.id).expect("the caller follows the owner");
    assert_eq!(me["connection_status"], Value::Null);
    assert_eq!(app.repo.miscounted_users().await.unwrap(), vec![]);
}

/// A celebrity's list, with the caller following a few of their followers: the same order and
/// pages whichever side is bigger.
#[tokio::test]
async fn a_celebritys_followers_are_paged_from_the_callers_side() {
    let app = TestApp::spawn_in_follow_mode().await;
    let star = app.user("star").await;
    let caller = app.user("caller").await;
    let mut fans = Vec::new();
    for i in 0..30 {
        let fan = app.user(&format!("fan{i}")).await;
        app.repo.toggle_follow(fan.id, star.id).await.unwrap();
        fans.push(fan);
    }
    for i in [29, 0, 14] {
        app.repo.toggle_follow(caller.id, fans[i].id).await.unwrap();
    }
    let (ids, _) = page(&app, &caller, &format!("{}?limit=3", path(star.id, "followers"))).await;
    assert_eq!(ids, vec![fans[29].id, fans[14].id, fans[0].id], "those the caller follows first, newest follow of the star first");
    assert_every_page(&app, &caller, &star, true).await;
}

/// A follow notifies the followed user (`user_follow`, with `follower`); an unfollow adds
/// nothing and removes nothing; following again notifies again. Each is an event of its type.
#[tokio::test]
async fn a_follow_is_an_event_and_a_notification() {
    let app = TestApp::spawn_in_follow_mode().await;
    let (alice, bob) = (app.user("alice").await, app.user("bob").await);
    toggle(&app, &alice, &bob).await;
    toggle(&app, &alice, &bob).await;
    toggle(&app, &alice, &bob).await;

    let (status, feed) = json(app.get(&bob, "/api/v2/notification/").await).await;
    assert_eq!(status, 200);
    assert_eq!(feed["count"], 2, "two follows, and nothing for the unfollow: {feed}");
    let item = &feed["results"][0]["aggregated"][0];
    assert_eq!((item["type"].as_str(), item["follower"]["id"].as_i64(), item["is_new"].as_bool()), (Some("user_follow"), Some(alice.id), Some(true)), "{item}");
    assert!(item.get("request_user").is_none() && item.get("accept_user").is_none(), "{item}");
    assert_eq!(item["follower"]["followings_counter"], 1, "a User with its counters: {item}");
    let (_, unseen) = json(app.get(&bob, "/api/v2/notification/unseen/count/").await).await;
    assert_eq!(unseen["count"], 2);
    let (_, alices) = json(app.get(&alice, "/api/v2/notification/").await).await;
    assert_eq!(alices["count"], 0, "the follower is not notified");

    // Numbered after commit (at once on SQLite, by the relay on PostgreSQL): a bounded poll.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let events = loop {
        let events = app.repo.events_of_user_after(bob.id, 0, 10).await.unwrap();
        if events.len() == 3 || std::time::Instant::now() > deadline {
            break events;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let types: Vec<&str> = events.iter().map(|e| e.event.r#type.as_str()).collect();
    assert_eq!(types, vec!["connection.follow", "connection.unfollow", "connection.follow"]);
    assert!(events.iter().all(|e| e.event.from_user_id == alice.id && e.event.to_user_id == bob.id));
    let first = connections_api::outbox::payload::payload(&events[0]);
    assert_eq!((&first["data"]["from_user"]["followings_counter"], &first["data"]["to_user"]["followers_counter"]), (&json!(1), &json!(1)), "counters after the change: {first}");
    let second = connections_api::outbox::payload::payload(&events[1]);
    assert_eq!(second["data"]["to_user"]["followers_counter"], 0, "{second}");
}

/// Follow mode's suggestions: followed by those the caller follows, not followed by the
/// caller, ranked by how many of the caller's followings follow them, then by id.
#[tokio::test]
async fn suggestions_in_follow_mode_rank_the_followings_of_followings() {
    let app = TestApp::spawn_in_follow_mode().await;
    let me = app.user("me").await;
    let (f1, f2, f3) = (app.user("f1").await, app.user("f2").await, app.user("f3").await);
    let (x, y, z, hidden, followed) = (app.user("x").await, app.user("y").await, app.user("z").await, app.user("hidden").await, app.user("followed").await);
    for f in [&f1, &f2, &f3] {
        app.repo.toggle_follow(me.id, f.id).await.unwrap();
    }
    for (who, whom) in [(&f1, &y), (&f2, &y), (&f3, &y), (&f1, &x), (&f2, &x), (&f1, &z), (&f1, &hidden), (&f2, &followed), (&f1, &me)] {
        app.repo.toggle_follow(who.id, whom.id).await.unwrap();
    }
    app.repo.toggle_follow(me.id, followed.id).await.unwrap();
    assert_eq!(app.post(&hidden, &path(me.id, "hide")).await.status(), 204);
    let (ids, body) = page(&app, &me, "/api/v2/suggestion/user/").await;
    assert_eq!(ids, vec![y.id, x.id, z.id], "{body}");
    assert!(body["results"].as_array().unwrap().iter().all(|u| u["connection_status"].is_null()));
}

/// `user delete` takes the user's follows out of every list and counter, in one transaction.
#[tokio::test]
async fn a_deleted_user_leaves_every_list_and_counter() {
    let app = TestApp::spawn_in_follow_mode().await;
    let (alice, bob, carol) = (app.user("alice").await, app.user("bob").await, app.user("carol").await);
    toggle(&app, &alice, &bob).await;
    toggle(&app, &bob, &alice).await;
    toggle(&app, &carol, &alice).await;
    assert!(app.repo.delete_user(bob.id).await.unwrap());
    let mine = user_json(&app, &carol, &alice).await;
    assert_eq!((&mine["followers_counter"], &mine["followings_counter"]), (&json!(1), &json!(0)));
    assert_eq!(page(&app, &carol, &path(alice.id, "followers")).await.0, vec![carol.id]);
    assert_eq!(page(&app, &carol, &path(alice.id, "followings")).await.0, Vec::<i64>::new());
    assert_eq!(app.repo.miscounted_users().await.unwrap(), vec![]);
    // The lists read the follows' indexes alone: a deleted user's rows are gone with them.
    let left = follows::Entity::find().all(app.repo.connection()).await.unwrap();
    assert_eq!(left.iter().map(|r| (r.follower_id, r.followed_id)).collect::<Vec<_>>(), vec![(carol.id, alice.id)]);
}

/// n toggles of one pair sent at once leave it followed exactly when n is odd, on one instance
/// and across two sharing the database; the counters equal the lists after every round.
#[tokio::test]
async fn concurrent_toggles_of_one_pair_are_serialized() {
    let app = TestApp::spawn_in_follow_mode().await;
    let other = app.another_instance().await;
    let (alice, bob) = (app.user("alice").await, app.user("bob").await);
    let mut followed = false;
    for n in [7usize, 4, 9, 2] {
        let sends = (0..n).map(|i| {
            let server = if i % 2 == 0 { &app } else { &other };
            let (alice, bob) = (&alice, &bob);
            async move { server.post(alice, &path(bob.id, "follow")).await.status().as_u16() }
        });
        let statuses = futures::future::join_all(sends).await;
        assert!(statuses.iter().all(|s| *s == 204), "{statuses:?}");
        followed ^= n % 2 == 1;
        assert_eq!(flags(&app, &alice, &bob).await.0, followed, "after {n} toggles at once");
        assert_eq!(app.repo.miscounted_users().await.unwrap(), vec![], "after {n} toggles");
    }
    // Both directions at once: each pair is its own.
    let both = futures::future::join_all([app.post(&alice, &path(bob.id, "follow")), other.post(&bob, &path(alice.id, "follow"))]).await;
    assert!(both.iter().all(|r| r.status() == 204));
    assert_eq!(flags(&app, &alice, &bob).await, (!followed, true));
    assert_eq!(app.repo.miscounted_users().await.unwrap(), vec![]);
}
