//! The invariants live in the schema: writes that break them fail in the database itself,
//! whatever code sends them.

use sea_orm::{ConnectionTrait, DbBackend, DbErr};

use connections_api::db::connection::Repo;
use connections_api::db::migration::{self, Migrator};
use connections_api::domain::{Action, Relation};

use crate::harness::{TestApp, fresh_database};

async fn exec(app: &TestApp, sql: &str) -> Result<(), DbErr> {
    app.repo.connection().execute_unprepared(sql).await.map(|_| ())
}

/// A named constraint, as each engine reports it when it refuses a write: PostgreSQL names
/// every constraint; SQLite names a `CHECK`, gives a `UNIQUE`'s columns, and says only that
/// some foreign key failed.
#[derive(Clone, Copy, Debug)]
enum Rule {
    Check(&'static str),
    Unique(&'static str, &'static str),
    ForeignKey(&'static str),
}

/// `sql` fails, refused by `rule`.
async fn refused(app: &TestApp, sql: &str, rule: Rule, why: &str) {
    let err = exec(app, sql).await.expect_err(why).to_string();
    let expected = match (app.repo.backend(), rule) {
        (DbBackend::Postgres, Rule::Check(name) | Rule::Unique(name, _) | Rule::ForeignKey(name)) => format!("\"{name}\""),
        (_, Rule::Check(name)) => format!("CHECK constraint failed: {name}"),
        (_, Rule::Unique(_, columns)) => format!("UNIQUE constraint failed: {columns}"),
        (_, Rule::ForeignKey(_)) => "FOREIGN KEY constraint failed".to_owned(),
    };
    assert!(err.contains(&expected), "{why}: refused by {rule:?}? {err}");
}

#[tokio::test]
async fn the_schema_refuses_what_the_contract_forbids() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.user("alice").await.id, app.user("bob").await.id);
    let (low, high) = (a.min(b), a.max(b));
    let now = "CURRENT_TIMESTAMP";
    const NO_SELF_RELATION: Rule = Rule::Check("no_self_relation");
    const ONE_ROW_PER_PAIR: Rule = Rule::Unique("one_row_per_pair", "relations.user_low, relations.user_high");
    const FIELDS_OF_ITS_KIND: Rule = Rule::Check("request_fields_only_on_requests");
    const ITS_PAIR: Rule = Rule::Check("request_users_are_its_pair");

    // No self relation, and pairs are stored ordered.
    let relation = |l: i64, h: i64| format!("INSERT INTO relations (user_low, user_high, kind) VALUES ({l}, {h}, 'none')");
    refused(&app, &relation(a, a), NO_SELF_RELATION, "a self relation").await;
    refused(&app, &relation(high, low), NO_SELF_RELATION, "a pair stored the wrong way round").await;
    // A pair's users exist; a request's users are its pair's (below), so they exist too.
    let nobody = high + 1_000_000;
    refused(&app, &relation(low, nobody), Rule::ForeignKey("relation_high_user_exists"), "a pair with nobody").await;
    // A request is its pair's row, with an id, a sender and a receiver.
    let request = |from: i64, to: i64, id: i64| {
        format!(
            "INSERT INTO relations (user_low, user_high, kind, request_id, from_user_id, to_user_id, created) \
             VALUES ({low}, {high}, 'request', {id}, {from}, {to}, {now})"
        )
    };
    refused(
        &app,
        &format!("INSERT INTO relations (user_low, user_high, kind, created) VALUES ({low}, {high}, 'request', {now})"),
        FIELDS_OF_ITS_KIND,
        "a request without its sender",
    )
    .await;
    refused(
        &app,
        &format!("INSERT INTO relations (user_low, user_high, kind, request_id, from_user_id, to_user_id) VALUES ({low}, {high}, 'request', 1, {a}, {b})"),
        Rule::Check("dated_unless_none"),
        "a request without a date",
    )
    .await;
    // A request's users must be two, and its pair.
    refused(&app, &request(a, a, 1), ITS_PAIR, "a self request").await;
    let carol = app.user("carol").await.id;
    refused(&app, &request(carol, b, 1), ITS_PAIR, "a request filed under another pair").await;
    exec(&app, &request(a, b, 1)).await.expect("a request of the pair's users");

    // At most one request per pair, in either direction: the pair has one row.
    refused(&app, &request(a, b, 2), ONE_ROW_PER_PAIR, "a second request from A").await;
    refused(&app, &request(b, a, 2), ONE_ROW_PER_PAIR, "a crossing request from B").await;

    // Never a request and a connection for the same pair at once: a connection has no request's
    // fields, and a row of no relation has none of either.
    let pair = format!("WHERE user_low = {low} AND user_high = {high}");
    refused(&app, &format!("UPDATE relations SET kind = 'connection' {pair}"), FIELDS_OF_ITS_KIND, "a connection beside the request").await;
    refused(
        &app,
        &format!("UPDATE relations SET kind = 'none', request_id = NULL, from_user_id = NULL, to_user_id = NULL {pair}"),
        Rule::Check("dated_unless_none"),
        "no relation, dated",
    )
    .await;
    let connect = format!("UPDATE relations SET kind = 'connection', request_id = NULL, from_user_id = NULL, to_user_id = NULL {pair}");
    exec(&app, &connect).await.expect("the request becomes the connection");
    refused(&app, &format!("UPDATE relations SET rejected = {now} {pair}"), FIELDS_OF_ITS_KIND, "a rejected connection").await;
    refused(&app, &request(a, b, 2), ONE_ROW_PER_PAIR, "a request beside the connection").await;
    refused(&app, "UPDATE relations SET kind = 'friends'", Rule::Check("relation_kind_known"), "unknown kinds").await;

    // Hiding: never oneself, once per hider and hidden user, only real users.
    let hide = |user: i64, hidden: i64| format!("INSERT INTO hidden_users (user_id, hidden_user_id, created) VALUES ({user}, {hidden}, {now})");
    refused(&app, &hide(a, a), Rule::Check("no_self_hide"), "hiding oneself").await;
    exec(&app, &hide(a, b)).await.expect("a hides b");
    let once = Rule::Unique("one_hide_per_pair", "hidden_users.user_id, hidden_users.hidden_user_id");
    refused(&app, &hide(a, b), once, "hiding twice").await;
    refused(&app, &hide(a, high + 1_000_000), Rule::ForeignKey("hidden_user_exists"), "hiding nobody").await;

    // Follows: never oneself, once per follower and followed user, only real users; their
    // counters never below zero.
    let follow = |follower: i64, followed: i64| format!("INSERT INTO follows (follower_id, followed_id, created) VALUES ({follower}, {followed}, {now})");
    refused(&app, &follow(a, a), Rule::Check("no_self_follow"), "following oneself").await;
    exec(&app, &follow(a, b)).await.expect("a follows b");
    exec(&app, &follow(b, a)).await.expect("b follows a: the other direction is its own pair");
    let once = Rule::Unique("one_follow_per_pair", "follows.follower_id, follows.followed_id");
    refused(&app, &follow(a, b), once, "following twice").await;
    refused(&app, &follow(a, high + 1_000_000), Rule::ForeignKey("followed_exists"), "following nobody").await;
    for counter in ["followers_counter", "followings_counter"] {
        refused(&app, &format!("UPDATE users SET {counter} = -1 WHERE id = {a}"), Rule::Check(if counter == "followers_counter" { "followers_counter_not_negative" } else { "followings_counter_not_negative" }), "a negative follow counter").await;
    }

    // Users: a name of 1 to 150 characters, taken once; counters never below zero.
    refused(&app, &format!("INSERT INTO users (username, date_joined) VALUES ('', {now})"), Rule::Check("username_length"), "an empty name").await;
    refused(
        &app,
        &format!("INSERT INTO users (username, date_joined) VALUES ('alice', {now})"),
        Rule::Unique("username_unique", "users.username"),
        "a taken name",
    )
    .await;
    refused(
        &app,
        &format!("UPDATE users SET connections_counter = -1 WHERE id = {a}"),
        Rule::Check("connections_counter_not_negative"),
        "a negative counter",
    )
    .await;
}

/// SQLite runs in WAL mode with a busy timeout, so readers never block the writer and writers
/// queue instead of failing at once.
#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_a_busy_timeout() {
    let app = TestApp::spawn().await;
    if app.repo.backend() != sea_orm::DbBackend::Sqlite {
        return; // The PostgreSQL leg: nothing of this applies.
    }
    let db = app.repo.connection();
    let pragma = |name: &'static str| async move {
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(sea_orm::DbBackend::Sqlite, format!("PRAGMA {name}")))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index::<String>(0).or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string())).unwrap()
    };
    assert_eq!(pragma("journal_mode").await, "wal");
    assert_eq!(pragma("busy_timeout").await, "5000");
    assert_eq!(pragma("foreign_keys").await, "1");
}

/// PostgreSQL keeps room in `users`' pages, so that the counter updates every write makes stay
/// on their row's page and touch no index (HOT updates). (Whether PostgreSQL then makes them
/// HOT is its business: `make bench-engine` shows the share.)
#[tokio::test]
async fn postgres_updates_counters_in_place() {
    let app = TestApp::spawn().await;
    if app.repo.backend() != DbBackend::Postgres {
        return; // SQLite updates rows in place.
    }
    let db = app.repo.connection();
    let options = db
        .query_one_raw(sea_orm::Statement::from_string(
            DbBackend::Postgres,
            "SELECT array_to_string(reloptions, ',') FROM pg_class WHERE oid = 'users'::regclass",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<Option<String>>(0)
        .unwrap();
    let expected = format!("fillfactor={}", connections_api::db::migration::USERS_FILLFACTOR);
    assert_eq!(options.as_deref(), Some(expected.as_str()));
}

/// A database made before the counters existed, with relations in it, is upgraded with every
/// counter set from its rows.
#[tokio::test]
async fn upgrading_a_database_counts_its_existing_relations() {
    use sea_orm_migration::MigratorTrait;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("old.sqlite3").display());
    let repo = connections_api::db::connection::Repo::connect(&url).await.unwrap();
    connections_api::db::migration::Migrator::up(repo.connection(), Some(1)).await.unwrap();
    let db = repo.connection();
    let now = "'2026-11-27T10:00:00+00:00'";
    for sql in [
        format!("INSERT INTO users (username, date_joined) VALUES ('a', {now}), ('b', {now}), ('c', {now})"),
        "INSERT INTO relations (user_low, user_high, kind) VALUES (1, 2, 'connection'), (1, 3, 'request')".to_owned(),
        format!("INSERT INTO connections (user_low, user_high, created) VALUES (1, 2, {now})"),
        format!("INSERT INTO connection_requests (from_user_id, to_user_id, user_low, user_high, created) VALUES (3, 1, 1, 3, {now})"),
        // A request made and withdrawn: its id is never given again, across the upgrade too.
        "INSERT INTO relations (user_low, user_high, kind) VALUES (2, 3, 'request')".to_owned(),
        format!("INSERT INTO connection_requests (from_user_id, to_user_id, user_low, user_high, created) VALUES (2, 3, 2, 3, {now})"),
        "DELETE FROM connection_requests WHERE user_low = 2 AND user_high = 3".to_owned(),
        "UPDATE relations SET kind = 'none' WHERE user_low = 2 AND user_high = 3".to_owned(),
    ] {
        db.execute_unprepared(&sql).await.unwrap();
    }
    repo.migrate().await.unwrap();
    repo.apply(3, 2, Action::Request).await.unwrap().expect("a request from no relation");
    let sent = repo.sent_requests_page(3, 20, 0).await.unwrap();
    assert_eq!(sent.items.iter().map(|r| r.request.id).collect::<Vec<_>>(), vec![3, 1], "the new request, newest first, is id 3: ids 1 and 2 were given before the upgrade");
    repo.apply(3, 2, Action::CancelRequest).await.unwrap().expect("the request withdrawn");
    let counters = |id| {
        let repo = &repo;
        async move {
            let u = repo.find_active_user(id).await.unwrap().unwrap();
            (u.connections_counter, u.connection_requests_received_counter, u.connection_requests_sent_counter)
        }
    };
    assert_eq!(counters(1).await, (1, 1, 0));
    assert_eq!(counters(2).await, (1, 0, 0));
    assert_eq!(counters(3).await, (0, 0, 1));
    assert_eq!(repo.miscounted_users().await.unwrap(), vec![]);
}

/// Follow mode's migration on a database with events, deliveries and notifications (SQLite
/// rebuilds the tables whose type `CHECK` widens): every row kept, ids go on where they were,
/// the deliveries still reference the events, and the new types are accepted.
#[tokio::test]
async fn upgrading_to_follow_mode_keeps_the_outbox() {
    use sea_orm_migration::MigratorTrait;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("old.sqlite3").display());
    let repo = connections_api::db::connection::Repo::connect(&url).await.unwrap();
    connections_api::db::migration::Migrator::up(repo.connection(), Some(10)).await.unwrap();
    let db = repo.connection();
    let now = "'2026-12-01T10:00:00+00:00'";
    for sql in [
        format!("INSERT INTO users (username, date_joined) VALUES ('a', {now}), ('b', {now})"),
        format!(
            "INSERT INTO events (event_id, type, from_user_id, to_user_id, created, from_connections, from_received, from_sent, \
             to_connections, to_received, to_sent) VALUES (1, 'connection_request.created', 1, 2, {now}, 0, 0, 1, 0, 1, 0), \
             (2, 'connection_request.cancelled', 1, 2, {now}, 0, 0, 0, 0, 0, 0), (3, 'connection_request.created', 1, 2, {now}, 0, 0, 1, 0, 1, 0)"
        ),
        "DELETE FROM events WHERE id = 3".to_owned(),
        format!("INSERT INTO webhook_endpoints (target, secret, created_at, updated_at) VALUES ('https://example.com/hook', 's', {now}, {now})"),
        format!("INSERT INTO webhook_endpoint_events (endpoint_id, type, added_at) VALUES (1, 'connection_request.created', {now})"),
        "INSERT INTO webhook_deliveries (endpoint_id, event_id, state, next_attempt_ms) VALUES (1, 1, 'pending', 0)".to_owned(),
        format!("INSERT INTO notifications (user_id, event_row, other_user_id, type, created) VALUES (2, 1, 1, 'connection_request', {now})"),
    ] {
        db.execute_unprepared(&sql).await.unwrap();
    }
    repo.migrate().await.unwrap();
    let one = |sql: &'static str| async move {
        db.query_one_raw(sea_orm::Statement::from_string(DbBackend::Sqlite, sql)).await.unwrap().unwrap().try_get_by_index::<i64>(0).unwrap()
    };
    assert_eq!(one("SELECT count(*) FROM events").await, 2);
    assert_eq!(one("SELECT count(*) FROM webhook_deliveries").await, 1);
    assert_eq!(one("SELECT count(*) FROM webhook_endpoint_events").await, 1);
    assert_eq!(one("SELECT count(*) FROM notifications").await, 1);
    // The deliveries reference the new events table, by its name.
    let err = exec_on(db, "INSERT INTO webhook_deliveries (endpoint_id, event_id, state, next_attempt_ms) VALUES (1, 99, 'pending', 0)").await;
    assert!(err.expect_err("a delivery of no event").to_string().contains("FOREIGN KEY constraint failed"));
    // The new types, and an id after the highest ever given (3, deleted before the upgrade).
    db.execute_unprepared(&format!(
        "INSERT INTO events (type, from_user_id, to_user_id, created, from_connections, from_received, from_sent, \
         to_connections, to_received, to_sent) VALUES ('connection.follow', 1, 2, {now}, 0, 0, 0, 0, 0, 0)"
    ))
    .await
    .unwrap();
    assert_eq!(one("SELECT max(id) FROM events").await, 4, "ids go on after the upgrade");
    db.execute_unprepared(&format!("INSERT INTO notifications (user_id, event_row, other_user_id, type, created) VALUES (2, 4, 1, 'user_follow', {now})")).await.unwrap();
    db.execute_unprepared(&format!("INSERT INTO webhook_endpoint_events (endpoint_id, type, added_at) VALUES (1, 'connection.unfollow', {now})")).await.unwrap();
    assert!(exec_on(db, "UPDATE events SET type = 'connection.liked' WHERE id = 4").await.expect_err("an unknown type").to_string().contains("event_type_known"));
}

async fn exec_on(db: &sea_orm::DatabaseConnection, sql: &str) -> Result<(), DbErr> {
    db.execute_unprepared(sql).await.map(|_| ())
}

/// Two creations of one username race: the unique index decides, and the loser is told the
/// name is taken (not a database error).
#[tokio::test]
async fn a_username_is_taken_once_even_in_a_race() {
    let app = TestApp::spawn().await;
    let attempts = (0..8).map(|_| {
        let repo = app.repo.clone();
        tokio::spawn(async move { repo.create_user("same", "Same").await })
    });
    let results = futures::future::join_all(attempts).await;
    let created = results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
    assert_eq!(created, 1, "{results:?}");
    for result in results {
        match result.expect("the task ran") {
            Ok(_) => {}
            Err(connections_api::db::error::RepoError::Invalid(message)) => assert!(message.contains("taken"), "{message}"),
            Err(other) => panic!("the loser of the race: {other:?}"),
        }
    }
}

/// A database as it was before each pair became one row (migration 11), with every kind of pair
/// in it, is upgraded in place, on either engine: each pair arrives as its rows said (a pair whose
/// kind had no row behind it, as none), requests keep their ids, dates, rejection and viewing,
/// new request ids go on past every id given, and the counters still agree with the rows.
#[tokio::test]
async fn pairs_become_one_row_each_in_place() {
    use sea_orm_migration::MigratorTrait;
    let (url, _dir) = fresh_database().await;
    let repo = Repo::connect(&url).await.unwrap();
    Migrator::up(repo.connection(), Some(11)).await.unwrap();
    let db = repo.connection();
    let at = |day: u32| format!("'2026-12-0{day}T10:00:00+00:00'");
    for sql in [
        format!("INSERT INTO users (username, date_joined) VALUES ('a', {d}), ('b', {d}), ('c', {d}), ('d', {d}), ('e', {d})", d = at(1)),
        "INSERT INTO relations (user_low, user_high, kind, version) VALUES (1, 2, 'connection', 3), (1, 3, 'request', 1), \
         (1, 4, 'request', 2), (2, 3, 'request', 1), (4, 5, 'request', 1)"
            .to_owned(),
        format!("INSERT INTO connections (user_low, user_high, created) VALUES (1, 2, {})", at(2)),
        // Ids 1, 2 and 3; the third is withdrawn below, and its id never given again.
        format!("INSERT INTO connection_requests (from_user_id, to_user_id, user_low, user_high, created, viewed) VALUES (3, 1, 1, 3, {}, {})", at(3), at(4)),
        format!("INSERT INTO connection_requests (from_user_id, to_user_id, user_low, user_high, created, rejected) VALUES (1, 4, 1, 4, {}, {})", at(3), at(5)),
        format!("INSERT INTO connection_requests (from_user_id, to_user_id, user_low, user_high, created) VALUES (2, 3, 2, 3, {})", at(3)),
        "DELETE FROM connection_requests WHERE user_low = 2 AND user_high = 3".to_owned(),
        "UPDATE relations SET kind = 'none', version = 2 WHERE user_low = 2 AND user_high = 3".to_owned(),
        migration::recount(),
    ] {
        db.execute_unprepared(&sql).await.unwrap();
    }
    repo.migrate().await.unwrap();

    let day = |d: u32| chrono::DateTime::parse_from_rfc3339(&format!("2026-12-0{d}T10:00:00+00:00")).unwrap().to_utc();
    for (caller, other, relation) in [
        (1, 2, Relation::Connected),
        (3, 1, Relation::SentPending),
        (1, 3, Relation::ReceivedPending),
        (1, 4, Relation::SentRejected),
        (4, 1, Relation::ReceivedRejected),
        (2, 3, Relation::None),
        (4, 5, Relation::None),
    ] {
        assert_eq!(repo.relation(caller, other).await.unwrap(), relation, "{caller} and {other}");
    }
    let received = repo.received_requests_page(1, 20, 0).await.unwrap();
    assert_eq!(received.items.len(), 1);
    let request = &received.items[0].request;
    assert_eq!((request.id, request.from_user_id, request.created, request.viewed, request.rejected), (1, 3, day(3), Some(day(4)), None));
    let sent = repo.sent_requests_page(1, 20, 0).await.unwrap();
    let request = &sent.items[0].request;
    assert_eq!((request.id, request.to_user_id, request.rejected), (2, 4, Some(day(5))));
    let connections = repo.connections_page(1, 1, false, 20, 0).await.unwrap();
    assert_eq!(connections.items.iter().map(|(u, _)| u.id).collect::<Vec<_>>(), vec![2]);
    assert_eq!(repo.miscounted_users().await.unwrap(), vec![]);

    // The pairs go on changing: a new request takes the next id, past the withdrawn one's.
    repo.apply(2, 3, Action::Request).await.unwrap().expect("a request from no relation");
    repo.apply(5, 4, Action::Request).await.unwrap().expect("a request from no relation");
    let ids = |page: connections_api::domain::paging::Page<_>| page.items.iter().map(|r: &connections_api::features::connections::lists::RequestWithUsers| r.request.id).collect::<Vec<_>>();
    assert_eq!(ids(repo.sent_requests_page(2, 20, 0).await.unwrap()), vec![4]);
    assert_eq!(ids(repo.sent_requests_page(5, 20, 0).await.unwrap()), vec![5]);
    repo.apply(1, 3, Action::Accept).await.unwrap().expect("the viewed request accepted");
    assert_eq!(repo.relation(1, 3).await.unwrap(), Relation::Connected);
    assert_eq!(repo.miscounted_users().await.unwrap(), vec![]);
}
