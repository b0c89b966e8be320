//! Races of real requests: the database, not luck, keeps one relation per pair.

use futures::future::join_all;

use connections_api::domain::Relation;
use connections_api::repo::RelationCounts;

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
