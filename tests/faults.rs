//! Faults and several instances, with real server processes: PostgreSQL stopped in the middle
//! of a load and started again, a server killed in the middle of a load (both engines), two
//! processes on one PostgreSQL database, and a locked or read-only SQLite file.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use connections_api::http::tokens::Authenticator;
use connections_api::domain::Relation;
use connections_api::db::connection::Repo;
use sea_orm::ConnectionTrait;

#[path = "support/postgres.rs"]
mod postgres;
#[path = "support/process.rs"]
mod process;
#[path = "support/receiver.rs"]
#[allow(dead_code)]
mod receiver;

use process::{Cli, SECRET, hold_sqlite_write_lock, json_of, start_server};

fn token(user_id: i64) -> String {
    Authenticator::new(SECRET.as_bytes(), 0).issue(user_id, 3600)
}

/// A client that gives up on a hung request: the failure this file looks for.
fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap()
}

/// `caller`'s view of `other` (`connection_status`), through the server at `base`.
async fn connection_status(client: &reqwest::Client, base: &str, caller: i64, other: i64) -> serde_json::Value {
    let request = client.get(format!("{base}/api/v2/user/{other}/connection_status/")).bearer_auth(token(caller));
    json_of(request).await["connection_status"].clone()
}

/// The error body's code, and `Retry-After`, of a response.
async fn error_of(response: reqwest::Response) -> (u16, Option<String>, String) {
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap_or_default().to_owned());
    let body: serde_json::Value = response.json().await.expect("a JSON body");
    (status, retry_after, body["errors"][0]["code"].as_str().unwrap_or_default().to_owned())
}

/// Users whose counters disagree with the pairs' rows: zero when no action was half-applied
/// (a pair's request or connection is one row, kept to its kind by the schema; the counters are
/// other rows of the same transaction).
async fn inconsistent_pairs(repo: &Repo) -> usize {
    repo.miscounted_users().await.unwrap().len()
}

/// What a write load saw: the requests answered `200`, the `503`s, the slowest answer, and
/// whether a request got no answer at all (the server was gone, or hung past the client's limit).
#[derive(Default)]
struct LoadSeen {
    acknowledged: Vec<(i64, i64)>,
    unavailable: usize,
    slowest: Duration,
    unanswered: bool,
}

/// How far a running load has got: answers `200` and `503` so far (what the tests wait for,
/// instead of letting a load run for a fixed time that a busy machine may not use).
#[derive(Default)]
struct Progress {
    acknowledged: AtomicUsize,
    unavailable: AtomicUsize,
}

impl Progress {
    /// Waits (a bounded poll) until `what` of this progress reaches `at_least`.
    async fn wait_for(&self, what: fn(&Progress) -> &AtomicUsize, at_least: usize, doing: &str) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while what(self).load(Ordering::Relaxed) < at_least {
            assert!(Instant::now() < deadline, "{doing}: not reached within 120 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A write load until `stop`: `workers` tasks sending connection requests between the first
/// `users` users. A `503` must carry `Retry-After` and the error body; any other status than
/// `200` and `503` fails; a request without an answer ends its worker.
fn request_load(base: &str, users: i64, workers: i64, stop: Arc<AtomicBool>) -> (tokio::task::JoinHandle<LoadSeen>, Arc<Progress>) {
    let tokens: Arc<Vec<String>> = Arc::new((1..=users).map(token).collect());
    let progress = Arc::new(Progress::default());
    let tasks: Vec<_> = (0..workers)
        .map(|worker| {
            let (client, base, stop, tokens, progress) = (client(), base.to_owned(), stop.clone(), tokens.clone(), progress.clone());
            tokio::spawn(async move {
                let mut seen = LoadSeen::default();
                let mut n = worker;
                while !stop.load(Ordering::Relaxed) {
                    n = (n * 7919 + 17) % (users * (users - 1));
                    let (a, b) = (n % users + 1, (n / users + n % users + 1) % users + 1);
                    if a == b {
                        continue;
                    }
                    let started = Instant::now();
                    let request = client.post(format!("{base}/api/v2/user/{b}/connection/request/"));
                    let Ok(response) = request.bearer_auth(&tokens[(a - 1) as usize]).send().await else {
                        seen.unanswered = true;
                        break;
                    };
                    seen.slowest = seen.slowest.max(started.elapsed());
                    match response.status().as_u16() {
                        200 => {
                            seen.acknowledged.push((a, b));
                            progress.acknowledged.fetch_add(1, Ordering::Relaxed);
                        }
                        503 => {
                            let (_, retry_after, code) = error_of(response).await;
                            assert_eq!((retry_after.as_deref(), code.as_str()), (Some("1"), "service_unavailable"));
                            seen.unavailable += 1;
                            progress.unavailable.fetch_add(1, Ordering::Relaxed);
                            // The client's back-off that Retry-After asks for, not a wait on the test's part.
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        other => panic!("{a} -> {b}: {other}: {}", response.text().await.unwrap_or_default()),
                    }
                }
                seen
            })
        })
        .collect();
    let all = tokio::spawn(async move {
        let mut all = LoadSeen::default();
        for task in tasks {
            let seen = task.await.unwrap();
            all.acknowledged.extend(seen.acknowledged);
            all.unavailable += seen.unavailable;
            all.slowest = all.slowest.max(seen.slowest);
            all.unanswered |= seen.unanswered;
        }
        all
    });
    (all, progress)
}

/// Every acknowledged request is in the database, and no action is half-applied.
async fn assert_kept(repo: &Repo, acknowledged: &[(i64, i64)]) {
    for (a, b) in acknowledged {
        let relation = repo.relation(*a, *b).await.unwrap();
        assert!(matches!(relation, Relation::SentPending | Relation::Connected), "{a} -> {b} was acknowledged, now {relation:?}");
    }
    assert_eq!(inconsistent_pairs(repo).await, 0, "no half-applied action");
}

/// PostgreSQL crashes in the middle of a write load: requests get `503` with the error body and
/// `Retry-After`, none hangs, `/readyz` says not ready; when PostgreSQL is back the same process
/// serves again, and every acknowledged request is in the database.
#[test]
fn postgres_stopped_mid_load_gives_503_then_recovers_without_restart() {
    let Some(cluster) = postgres::Cluster::start_new() else { return };
    let cli = Cli::on(&cluster.url());
    cli.seed_friendship_community(100);
    let (mut server, base, _) = start_server(&cli, |command| {
        command.args(["--rate-limit-actions", "0"]);
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let seen = runtime.block_on(async {
        let stop = Arc::new(AtomicBool::new(false));
        let (load, progress) = request_load(&base, 100, 8, stop.clone());
        let client = client();
        progress.wait_for(|p| &p.acknowledged, 50, "the load runs").await;
        cluster.stop();
        progress.wait_for(|p| &p.unavailable, 1, "the outage is answered 503").await;
        let (status, retry_after, code) = error_of(client.get(format!("{base}/readyz")).send().await.unwrap()).await;
        assert_eq!((status, retry_after.as_deref(), code.as_str()), (503, Some("1"), "service_unavailable"), "/readyz while PostgreSQL is down");

        cluster.start();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = client.get(format!("{base}/readyz")).send().await.unwrap().status();
            if ready == 200 {
                break;
            }
            assert!(Instant::now() < deadline, "not ready again 60 s after PostgreSQL came back");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // The load runs on the recovered database.
        let before = progress.acknowledged.load(Ordering::Relaxed);
        progress.wait_for(|p| &p.acknowledged, before + 50, "the load runs again after recovery").await;
        stop.store(true, Ordering::Relaxed);
        let seen = load.await.unwrap();
        // Recovered, through the same process: every request succeeds again (none meets a
        // connection left over from before the crash).
        for caller in 1..=40 {
            let response = client
                .post(format!("{base}/api/v2/user/100/connection/request/"))
                .bearer_auth(token(caller))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "served again after recovery");
        }
        seen
    });
    assert!(server.try_wait().unwrap().is_none(), "the same server process, never restarted");
    server.kill().ok();
    server.wait().ok();
    eprintln!("{} acknowledged, {} answered 503, slowest answer {:?}", seen.acknowledged.len(), seen.unavailable, seen.slowest);
    assert!(!seen.unanswered, "every request was answered");
    assert!(seen.unavailable > 0, "the outage was seen as 503");
    assert!(seen.acknowledged.len() > 20, "the load ran: {} acknowledged", seen.acknowledged.len());
    // Bounded by the pool's 5 s acquire timeout, well within the 30 s request deadline (and the
    // client's 60 s, where a hung request would end).
    assert!(seen.slowest < Duration::from_secs(20), "an answer took {:?}", seen.slowest);
    runtime.block_on(async { assert_kept(&Repo::connect(&cluster.url()).await.unwrap(), &seen.acknowledged).await });
}

/// Two server processes on one PostgreSQL database, users of the same pairs acting through both
/// at once: every pair ends in a state of the contract's table, seen alike through both and from
/// both sides; a preference changed by the operator is seen by both within a second.
#[test]
fn two_processes_on_one_postgres_database_agree() {
    let Some(cluster) = postgres::Cluster::start_new() else { return };
    let cli = Cli::on(&cluster.url());
    cli.seed_friendship_community(6);
    let no_limit = |command: &mut Command| {
        command.args(["--rate-limit-actions", "0"]);
    };
    let (mut first, first_base, _) = start_server(&cli, no_limit);
    let (mut second, second_base, _) = start_server(&cli, no_limit);
    let bases = [first_base, second_base];
    let actions = ["request", "accept", "reject", "cancel_reject", "cancel_request", "remove"];
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut workers = Vec::new();
        for worker in 0..12u64 {
            let (client, bases) = (client(), bases.clone());
            workers.push(tokio::spawn(async move {
                let mut n = worker * 31 + 7;
                for _ in 0..60 {
                    n = n.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    let (a, b) = ((n >> 10) % 6 + 1, (n >> 20) % 6 + 1);
                    if a == b {
                        continue;
                    }
                    let action = actions[((n >> 30) % 6) as usize];
                    let base = &bases[((n >> 40) % 2) as usize];
                    let response = client
                        .post(format!("{base}/api/v2/user/{b}/connection/{action}/"))
                        .bearer_auth(token(a as i64))
                        .send()
                        .await
                        .expect("answered");
                    let status = response.status().as_u16();
                    assert!([200, 409].contains(&status), "{a} {action} {b} via {base}: {status}");
                }
            }));
        }
        for worker in workers {
            worker.await.unwrap();
        }

        let client = client();
        let repo = Repo::connect(&cluster.url()).await.unwrap();
        for a in 1..=6i64 {
            for b in (a + 1)..=6 {
                // The pair's state (one of the table's), and what each side must see of it.
                let relation = repo.relation(a, b).await.unwrap();
                let expected = |r: Relation| serde_json::json!(r.status().map(|s| s.as_str()));
                for base in &bases {
                    assert_eq!(connection_status(&client, base, a, b).await, expected(relation), "{a}/{b} via {base}, {relation:?}");
                    assert_eq!(connection_status(&client, base, b, a).await, expected(relation.reversed()), "{b}/{a} via {base}, {relation:?}");
                }
            }
        }
        assert_eq!(inconsistent_pairs(&repo).await, 0, "no half-applied action");

        // The operator turns friendship mode off: a request made a second later, through either
        // process, sees it.
        cli.ok(&["preference", "set", "configurations.follow_enabled", "true"]);
        // The contract's bound, not a wait for an event: a second later, the change is seen.
        tokio::time::sleep(Duration::from_secs(1)).await;
        for base in &bases {
            let response = client
                .post(format!("{base}/api/v2/user/2/connection/request/"))
                .bearer_auth(token(1))
                .send()
                .await
                .unwrap();
            assert_eq!(error_of(response).await.0, 403, "{base} sees follow mode within a second");
        }
    });
    for server in [&mut first, &mut second] {
        server.kill().ok();
        server.wait().ok();
    }
}

/// `kill -9` in the middle of a write load, then a new process on the same database: every
/// request that was answered `200` is there, no action is half-applied, and it serves.
fn a_killed_server_loses_no_acknowledged_change(cli: &Cli) {
    cli.seed_friendship_community(200);
    let (mut server, base, _) = start_server(cli, |command| {
        command.args(["--rate-limit-actions", "0"]);
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let acknowledged = runtime.block_on(async {
        let stop = Arc::new(AtomicBool::new(false));
        let (load, progress) = request_load(&base, 200, 16, stop.clone());
        progress.wait_for(|p| &p.acknowledged, 100, "the load runs").await;
        server.kill().unwrap(); // SIGKILL
        server.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        let seen = load.await.unwrap();
        assert_eq!(seen.unavailable, 0, "no 503 before the kill");
        seen.acknowledged
    });
    assert!(acknowledged.len() > 20, "the load ran: {} acknowledged", acknowledged.len());

    let (_restarted, base, _) = start_server(cli, |_| {});
    runtime.block_on(async {
        assert_kept(&Repo::connect(&cli.url()).await.unwrap(), &acknowledged).await;
        let (a, b) = acknowledged[0];
        let status = connection_status(&client(), &base, a, b).await;
        assert!(status.is_string(), "the restarted server serves the pair: {status}");
    });
}

#[test]
fn a_killed_server_loses_no_acknowledged_change_on_sqlite() {
    a_killed_server_loses_no_acknowledged_change(&Cli::new());
}

#[test]
fn a_killed_server_loses_no_acknowledged_change_on_postgres() {
    let Some(cluster) = postgres::Cluster::start_new() else { return };
    a_killed_server_loses_no_acknowledged_change(&Cli::on(&cluster.url()));
}

/// A change acknowledged (`200`) and the server killed (`kill -9`) at once: its event is in the
/// outbox, and the restarted server delivers it, signed, to the endpoint `webhook add` made.
fn an_acknowledged_change_is_delivered_after_a_kill(cli: &Cli) {
    cli.seed_friendship_community(3);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let hook = runtime.block_on(receiver::Receiver::start(receiver::Behaviour::Answer));
    let added: serde_json::Value =
        serde_json::from_str(&cli.ok(&["webhook", "add", &hook.url, "--events", "connection_request.created", "--allow-private-targets", "true"]))
            .expect("webhook add prints the endpoint as JSON");
    let secret = added["signing_secret"].as_str().expect("with its secret").to_owned();
    let allow_private = |command: &mut Command| {
        command.env("WEBHOOK_ALLOW_PRIVATE_TARGETS", "true");
    };
    let (mut server, base, _) = start_server(cli, allow_private);
    runtime.block_on(async {
        let answer = client().post(format!("{base}/api/v2/user/2/connection/request/")).bearer_auth(token(1)).send().await.unwrap();
        assert_eq!(answer.status(), 200);
    });
    server.kill().unwrap(); // SIGKILL, right after the 200
    server.wait().unwrap();
    let before_restart = hook.received().len();

    let (_restarted, _, _) = start_server(cli, allow_private);
    let got = runtime.block_on(hook.wait_for(before_restart.max(1)));
    let last = got.last().unwrap();
    assert!(connections_api::features::webhooks::signature::verify(&secret, &last.signature, last.body.as_bytes()).is_some());
    let payload = last.json();
    assert_eq!(payload["type"], "connection_request.created", "{payload}");
    assert_eq!((payload["data"]["from_user"]["id"].as_i64(), payload["data"]["to_user"]["id"].as_i64()), (Some(1), Some(2)));
    assert_eq!(payload["event_id"], 1);
}

#[test]
fn an_acknowledged_change_is_delivered_after_a_kill_on_sqlite() {
    an_acknowledged_change_is_delivered_after_a_kill(&Cli::new());
}

#[test]
fn an_acknowledged_change_is_delivered_after_a_kill_on_postgres() {
    let Some(cluster) = postgres::Cluster::start_new() else { return };
    an_acknowledged_change_is_delivered_after_a_kill(&Cli::on(&cluster.url()));
}

/// Two server processes on one PostgreSQL database under a write load through both: every
/// event is delivered, and none twice (the receiver counts deliveries by `event_id`; it answers
/// at once, so a second delivery could only come from two dispatchers attempting one delivery).
#[test]
fn two_processes_on_one_postgres_deliver_every_event_once() {
    let Some(cluster) = postgres::Cluster::start_new() else { return };
    let cli = Cli::on(&cluster.url());
    cli.seed_friendship_community(40);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let hook = runtime.block_on(receiver::Receiver::start(receiver::Behaviour::Answer));
    let added: serde_json::Value = serde_json::from_str(&cli.ok(&["webhook", "add", &hook.url, "--allow-private-targets", "true"])).unwrap();
    let endpoint = added["id"].as_i64().unwrap();
    let configure = |command: &mut Command| {
        command.env("WEBHOOK_ALLOW_PRIVATE_TARGETS", "true").args(["--rate-limit-actions", "0"]);
    };
    let (_first, first_base, _) = start_server(&cli, configure);
    let (_second, second_base, _) = start_server(&cli, configure);
    let bases = [first_base, second_base];
    runtime.block_on(async {
        // Each pair: a request through one process, its withdrawal through the other.
        let pairs: Vec<(i64, i64)> = (1..=40i64).flat_map(|a| ((a + 1)..=40).map(move |b| (a, b))).take(320).collect();
        let workers: Vec<_> = pairs
            .chunks(40)
            .map(|chunk| {
                let (chunk, bases, client) = (chunk.to_vec(), bases.clone(), client());
                tokio::spawn(async move {
                    for (i, (a, b)) in chunk.into_iter().enumerate() {
                        for (step, action) in ["request", "cancel_request"].into_iter().enumerate() {
                            let base = &bases[(i + step) % 2];
                            let url = format!("{base}/api/v2/user/{b}/connection/{action}/");
                            let response = client.post(url).bearer_auth(token(a)).send().await.expect("answered");
                            assert_eq!(response.status(), 200, "{a} {action} {b} via {base}");
                        }
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.await.unwrap();
        }
        let repo = Repo::connect(&cluster.url()).await.unwrap();
        let count = repo
            .connection()
            .query_one_raw(sea_orm::Statement::from_string(repo.backend(), "SELECT COUNT(*) AS n FROM events"))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap() as usize;
        assert_eq!(count, 640, "one event per change");
        hook.wait_for(count).await;
        // Every delivery made (none pending): the receiver gets nothing more from here.
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let deliveries = repo.deliveries_of(endpoint).await.unwrap();
            if deliveries.len() == count && deliveries.iter().all(|(_, state, _)| state != "pending") {
                break;
            }
            assert!(Instant::now() < deadline, "the deliveries did not settle");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut seen = std::collections::HashMap::<i64, usize>::new();
        for delivery in hook.received() {
            *seen.entry(delivery.json()["event_id"].as_i64().unwrap()).or_default() += 1;
        }
        assert_eq!(seen.len(), count, "every event delivered");
        let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    });
}

/// SQLite: a file another process holds locked answers writes with `503` (once the busy
/// timeout runs out) while reads go on; a read-only file answers writes with `503` and serves reads.
#[test]
fn a_locked_or_read_only_sqlite_file_gives_503() {
    let cli = Cli::new();
    cli.seed_friendship_community(3);
    let (mut server, base, _) = start_server(&cli, |_| {});
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = client();
        let request = |base: String, caller: i64, other: i64| {
            client.post(format!("{base}/api/v2/user/{other}/connection/request/")).bearer_auth(token(caller)).send()
        };
        let (other, lock) = hold_sqlite_write_lock(&cli.url()).await;
        let (status, retry_after, code) = error_of(request(base.clone(), 1, 2).await.unwrap()).await;
        assert_eq!((status, retry_after.as_deref(), code.as_str()), (503, Some("1"), "service_unavailable"), "locked");
        let read = client.get(format!("{base}/api/v2/user/2/connection_status/")).bearer_auth(token(1)).send().await.unwrap();
        assert_eq!(read.status(), 200, "reads go on while a writer holds the lock");
        lock.rollback().await.unwrap();
        assert_eq!(request(base.clone(), 1, 2).await.unwrap().status(), 200, "unlocked");
        other.connection().execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await.unwrap();
    });
    server.kill().ok();
    server.wait().ok();

    let read_only = Cli::on(&format!("{}?mode=ro", cli.url()));
    let (mut server, base, _) = start_server(&read_only, |_| {});
    runtime.block_on(async {
        let client = client();
        let write = client.post(format!("{base}/api/v2/user/3/connection/request/")).bearer_auth(token(1)).send().await.unwrap();
        let (status, retry_after, code) = error_of(write).await;
        assert_eq!((status, retry_after.as_deref(), code.as_str()), (503, Some("1"), "service_unavailable"), "read-only");
        assert_eq!(connection_status(&client, &base, 1, 2).await, "sent_connection_request", "reads are served");
    });
    server.kill().ok();
    server.wait().ok();
}
