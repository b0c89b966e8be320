//! The write path without HTTP: how many connection requests a second the data path itself can
//! commit on this machine, and how much of this process's CPU each costs. `make bench-engine`.
//!
//! 1. `repository`: the server's own path (`Repo::apply`, group commit on SQLite; sqlx on
//!    PostgreSQL when `TEST_POSTGRES_URL` is set), 64 concurrent writers, random new pairs among
//!    10,000 users, no HTTP, no token, no JSON.
//! 2. `narrowest` (SQLite only): a lower bound for any schema that keeps the pair unique, lists
//!    received and sent requests in order and counts them: one row in one table (`WITHOUT
//!    ROWID`), two partial indexes, counters in a narrow table, with the writer's discipline
//!    (batches of 64, a savepoint per request, `synchronous=FULL`, a passive checkpoint at most
//!    every 100 ms), on one thread with nothing else in the way.
//! 3. `narrowest, with its event`: the same, plus the two rows the webhooks and the notification
//!    feed require in the change's own transaction, each in its narrowest form: the event,
//!    numbered by the row's own key (appended at the end of its table), and the notification of
//!    the user asked (a `WITHOUT ROWID` row keyed by user and event).
//!
//! If `narrowest` cannot reach a target on one core, no schema and no plumbing can.

use std::time::{Duration, Instant};

use connections_api::domain::Action;
use connections_api::{db::connection::Repo, db::seed::Seeding, db::sqlite::Durability};
use rusqlite::{Connection, params};

const USERS: i64 = 10_000;
const WRITERS: usize = 64;
const BATCH: usize = 64;

/// This process's user + system CPU time so far (Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of the file (utime, stime), counted after the name's ')'.
    (ticks(11) + ticks(12)) / 100.0
}

#[path = "../support/random.rs"]
mod random;
use random::XorShift as Random;

/// Two different users in 1..=USERS.
fn pair(random: &mut Random) -> (i64, i64) {
    let a = (random.next() % USERS as u64) as i64 + 1;
    let b = (random.next() % (USERS as u64 - 1)) as i64 + 1;
    (a, if b >= a { b + 1 } else { b })
}

fn report(name: &str, writes: u64, elapsed: Duration, cpu: f64) {
    let secs = elapsed.as_secs_f64();
    println!(
        "{name:<24} {writes:>8} writes in {secs:>5.1} s: {:>7.0} writes/s, {:>6.1} µs of this process's CPU per write",
        writes as f64 / secs,
        cpu * 1e6 / writes as f64
    );
}

async fn repository(label: &str, url: &str, duration: Duration) {
    let repo = Repo::connect_with(url, Durability::Full).await.expect("connect");
    repo.migrate().await.expect("migrate");
    repo.seed(Seeding { users: USERS as u64, ..Default::default() }).await.expect("seed");
    let (cpu, started) = (cpu_seconds(), Instant::now());
    let tasks: Vec<_> = (0..WRITERS)
        .map(|w| {
            let repo = repo.clone();
            tokio::spawn(async move {
                let mut random = Random(0x9E37_79B9_7F4A_7C15 ^ (w as u64 + 1));
                let mut writes = 0u64;
                while started.elapsed() < duration {
                    let (caller, other) = pair(&mut random);
                    // A pair already asked the other way round connects: a write all the same.
                    repo.apply(caller, other, Action::Request).await.expect("write").ok();
                    writes += 1;
                }
                writes
            })
        })
        .collect();
    let mut writes = 0;
    for task in tasks {
        writes += task.await.expect("writer task");
    }
    report(label, writes, started.elapsed(), cpu_seconds() - cpu);
}

const NARROWEST: &str = "
CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, deleted BOOLEAN NOT NULL DEFAULT FALSE);
CREATE TABLE counters (user_id INTEGER PRIMARY KEY REFERENCES users (id),
    connections INTEGER NOT NULL DEFAULT 0 CHECK (connections >= 0), received INTEGER NOT NULL DEFAULT 0 CHECK (received >= 0), sent INTEGER NOT NULL DEFAULT 0 CHECK (sent >= 0));
CREATE TABLE relations (user_low INTEGER NOT NULL REFERENCES users (id), user_high INTEGER NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL CHECK (kind IN ('request', 'connection')), sender INTEGER NOT NULL, receiver INTEGER NOT NULL,
    created TEXT NOT NULL, PRIMARY KEY (user_low, user_high), CHECK (user_low < user_high)) WITHOUT ROWID;
CREATE INDEX requests_received ON relations (receiver, created) WHERE kind = 'request';
CREATE INDEX requests_sent ON relations (sender, created) WHERE kind = 'request';
";

/// The event and the notification, narrowest: the event's number is its row's key.
const NARROWEST_EVENTS: &str = "
CREATE TABLE events (event_id INTEGER PRIMARY KEY, type TEXT NOT NULL, from_user_id INTEGER NOT NULL,
    to_user_id INTEGER NOT NULL, created TEXT NOT NULL, from_connections INTEGER NOT NULL, from_received INTEGER NOT NULL,
    from_sent INTEGER NOT NULL, to_connections INTEGER NOT NULL, to_received INTEGER NOT NULL, to_sent INTEGER NOT NULL);
CREATE TABLE notifications (user_id INTEGER NOT NULL, event_id INTEGER NOT NULL, other_user_id INTEGER NOT NULL,
    type TEXT NOT NULL, created TEXT NOT NULL, is_read BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (user_id, event_id)) WITHOUT ROWID;
";

/// Both users' counters after a request: `(connections, received, sent)` of each.
type Counters = (i64, i64, i64);

fn narrowest(path: &std::path::Path, duration: Duration, with_event: bool) {
    let mut conn = Connection::open(path).expect("open");
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
         PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = MEMORY;",
    )
    .expect("pragmas");
    conn.execute_batch(NARROWEST).expect("schema");
    if with_event {
        conn.execute_batch(NARROWEST_EVENTS).expect("events' schema");
    }
    let tx = conn.transaction().expect("begin");
    for id in 1..=USERS {
        tx.execute("INSERT INTO users (id, username) VALUES (?1, ?2)", params![id, format!("user{id}")]).expect("user");
        tx.execute("INSERT INTO counters (user_id) VALUES (?1)", params![id]).expect("counter");
    }
    tx.commit().expect("commit");
    let mut random = Random(0x9E37_79B9_7F4A_7C15);
    let (cpu, started) = (cpu_seconds(), Instant::now());
    let mut checkpointed = Instant::now();
    let mut writes = 0u64;
    while started.elapsed() < duration {
        conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
        for _ in 0..BATCH {
            let (caller, other) = pair(&mut random);
            let (low, high) = (caller.min(other), caller.max(other));
            let created = chrono::Utc::now().to_rfc3339();
            conn.execute_batch("SAVEPOINT request").expect("savepoint");
            let active: i64 = conn
                .prepare_cached("SELECT COUNT(*) FROM users WHERE id IN (?1, ?2) AND deleted = FALSE")
                .and_then(|mut s| s.query_row(params![caller, other], |r| r.get(0)))
                .expect("users");
            let inserted = active == 2
                && conn
                    .prepare_cached(
                        "INSERT INTO relations (user_low, user_high, kind, sender, receiver, created) \
                         VALUES (?1, ?2, 'request', ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                    )
                    .and_then(|mut s| s.execute(params![low, high, caller, other, created]))
                    .expect("relation")
                    == 1;
            if inserted {
                let count = |sql: &str, id: i64| -> Counters {
                    conn.prepare_cached(sql)
                        .and_then(|mut s| s.query_row(params![id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))))
                        .expect("counters")
                };
                let f = count("UPDATE counters SET sent = sent + 1 WHERE user_id = ?1 RETURNING connections, received, sent", caller);
                let g = count("UPDATE counters SET received = received + 1 WHERE user_id = ?1 RETURNING connections, received, sent", other);
                if with_event {
                    conn.prepare_cached(
                        "INSERT INTO events (type, from_user_id, to_user_id, created, from_connections, from_received, \
                         from_sent, to_connections, to_received, to_sent) \
                         VALUES ('connection_request.created', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    )
                    .and_then(|mut s| s.execute(params![caller, other, created, f.0, f.1, f.2, g.0, g.1, g.2]))
                    .expect("event");
                    let event = conn.last_insert_rowid();
                    conn.prepare_cached(
                        "INSERT INTO notifications (user_id, event_id, other_user_id, type, created) \
                         VALUES (?1, ?2, ?3, 'connection_request', ?4)",
                    )
                    .and_then(|mut s| s.execute(params![other, event, caller, created]))
                    .expect("notification");
                }
            }
            conn.execute_batch("RELEASE request").expect("release");
            writes += 1;
        }
        conn.execute_batch("COMMIT").expect("commit");
        if checkpointed.elapsed() >= Duration::from_millis(100) {
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())).expect("checkpoint");
            checkpointed = Instant::now();
        }
    }
    let label = if with_event { "SQLite narrowest, event" } else { "SQLite narrowest schema" };
    report(label, writes, started.elapsed(), cpu_seconds() - cpu);
}

#[tokio::main]
async fn main() {
    let seconds = std::env::var("BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let duration = Duration::from_secs(seconds);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!(
        "write path without HTTP: {USERS} users, random new pairs, {seconds} s each, {cores} cores, \
         synchronous=FULL (SQLite), {WRITERS} concurrent writers (repository)"
    );
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("repository.sqlite3");
    repository("SQLite repository", &format!("sqlite://{}", file.display()), duration).await;
    narrowest(&dir.path().join("narrowest.sqlite3"), duration, false);
    narrowest(&dir.path().join("narrowest-event.sqlite3"), duration, true);
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(url) => repository("PostgreSQL repository", &url, duration).await,
        Err(_) => println!("PostgreSQL: skipped (run under tests/with-postgres.sh, as `make bench-engine` does)"),
    }
}
