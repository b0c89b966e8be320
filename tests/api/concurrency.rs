//! Races of real requests: the database, not luck, keeps one relation per pair.

use futures::future::join_all;

use connections_api::domain::Relation;
use connections_api::db::connection::RelationCounts;

use crate::harness::{TestApp, json, status_of};

const ROUNDS: usize = 12;
const PER_SIDE: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_users_requesting_each_other_at_once_end_connected() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    for round in 0..ROUNDS {
        let a = app.user(&format!("a{round}")).await;
        let b = app.user(&format!("b{round}")).await;
        // Both sides fire at once, half through each server instance.
        let calls = (0..PER_SIDE).flat_map(|i| {
            let server = if i % 2 == 0 { &app } else { &other };
            [server.request(&a, b.id), server.request(&b, a.id)]
        });
        let answers = join_all(join_all(calls).await.into_iter().map(json)).await;
        let mut connected = 0;
        for (status, body) in &answers {
            assert_eq!(*status, 200, "round {round}: {body}");
            match status_of(body) {
                Some("connected") => connected += 1,
                Some("sent_connection_request") => {}
                other => panic!("round {round}: unexpected status {other:?}"),
            }
        }
        assert!(connected >= 1, "round {round}: someone saw the connection");
        assert_eq!(app.relation(&a, &b).await, Relation::Connected, "round {round}");
    }
    let counts = app.repo.relation_counts().await.unwrap();
    assert_eq!(counts, RelationCounts { requests: 0, connections: ROUNDS as u64 }, "one connection per pair, no crossing requests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_request_many_times_at_once_is_one_request() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    for round in 0..ROUNDS {
        let a = app.user(&format!("a{round}")).await;
        let b = app.user(&format!("b{round}")).await;
        let calls = (0..2 * PER_SIDE).map(|i| if i % 2 == 0 { app.request(&a, b.id) } else { other.request(&a, b.id) });
        for (status, body) in join_all(join_all(calls).await.into_iter().map(json)).await {
            assert_eq!((status, status_of(&body)), (200, Some("sent_connection_request")), "round {round}: {body}");
        }
        assert_eq!(app.relation(&a, &b).await, Relation::SentPending, "round {round}");
    }
    let counts = app.repo.relation_counts().await.unwrap();
    assert_eq!(counts, RelationCounts { requests: ROUNDS as u64, connections: 0 });
}

/// The rounds are reproducible from their seed.
#[path = "../support/random.rs"]
mod random;
use random::XorShift;

pub fn action_path(action: connections_api::domain::Action, id: i64) -> String {
    use connections_api::domain::Action::*;
    let tail = match action {
        Request => "connection/request",
        Accept => "connection/accept",
        Reject => "connection/reject",
        CancelReject => "connection/cancel_reject",
        CancelRequest => "connection/cancel_request",
        Remove => "connection/remove",
        MarkSeen => "connection_requests/mark_seen",
    };
    format!("/api/v2/user/{id}/{tail}/")
}

/// Both users of a pair fire random actions at each other at once, through two instances:
/// every answer is one the contract allows, every round ends in a state of its table with the
/// rows to match, and the lists agree with the relations.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn random_actions_from_both_sides_keep_the_invariants() {
    use connections_api::domain::Action;

    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    let mut rng = XorShift(0x5eed_cafe_f00d_1234);
    let mut pairs = Vec::new();
    for round in 0..ROUNDS {
        let a = app.user(&format!("ra{round}")).await;
        let b = app.user(&format!("rb{round}")).await;
        let mut calls = Vec::new();
        for i in 0..2 * PER_SIDE {
            let action = Action::ALL[(rng.next() % Action::ALL.len() as u64) as usize];
            let (me, them) = if rng.next() % 2 == 0 { (&a, &b) } else { (&b, &a) };
            let server = if i % 2 == 0 { &app } else { &other };
            calls.push(async move { (action, server.post(me, &action_path(action, them.id)).await) });
        }
        for (action, response) in join_all(calls).await {
            let status = response.status().as_u16();
            assert!(matches!(status, 200 | 204 | 409), "round {round}: {action:?} answered {status}");
            if status == 204 {
                assert_eq!(action, Action::MarkSeen);
            }
        }
        let relation = app.relation(&a, &b).await;
        assert_eq!(app.relation(&b, &a).await, relation.reversed(), "round {round}: both sides agree");
        pairs.push((a, b, relation));
    }

    // The lists and their counts agree with the relations, from both sides of every pair.
    for (a, b, relation) in &pairs {
        for (me, them, seen) in [(a, b, *relation), (b, a, relation.reversed())] {
            let (_, connections) = json(app.get(me, &format!("/api/v2/user/{}/connections/", me.id)).await).await;
            let (_, received) = json(app.get(me, "/api/v2/user/connection/requests/").await).await;
            let (_, sent) = json(app.get(me, "/api/v2/user/connection/requests_sent/").await).await;
            let expect = |listed: bool| u64::from(listed);
            assert_eq!(connections["count"], expect(seen == Relation::Connected), "{seen:?}");
            assert_eq!(received["count"], expect(seen == Relation::ReceivedPending), "{seen:?}");
            assert_eq!(sent["count"], expect(matches!(seen, Relation::SentPending | Relation::SentRejected)), "{seen:?}");
            let (_, status) = json(app.get(me, &format!("/api/v2/user/{}/connection_status/", them.id)).await).await;
            assert_eq!(status_of(&status), seen.status().map(|s| s.as_str()));
        }
    }
    let counts = app.repo.relation_counts().await.unwrap();
    let connected = pairs.iter().filter(|(_, _, r)| *r == Relation::Connected).count() as u64;
    let requested = pairs.iter().filter(|(_, _, r)| !matches!(r, Relation::Connected | Relation::None)).count() as u64;
    assert_eq!(counts, RelationCounts { requests: requested, connections: connected });
}

/// Two instances on one database: a preference changed by the operator reaches both within a
/// second, with no restart.
#[tokio::test]
async fn a_preference_change_reaches_every_instance_within_a_second() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    let (a, b) = (app.user("alice").await, app.user("bob").await);
    for server in [&app, &other] {
        assert_eq!(server.request(&a, b.id).await.status(), 200, "friendship mode on");
    }
    app.repo.set_preference("configurations", "follow_enabled", "true").await.unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    for server in [&app, &other] {
        assert_eq!(server.request(&a, b.id).await.status(), 403, "seen within a second");
    }
}
