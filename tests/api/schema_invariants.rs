//! The invariants live in the schema: writes that break them fail in the database itself,
//! whatever code sends them.

use sea_orm::{ConnectionTrait, DbErr};

use crate::harness::TestApp;

async fn exec(app: &TestApp, sql: &str) -> Result<(), DbErr> {
    app.repo.connection().execute_unprepared(sql).await.map(|_| ())
}

#[tokio::test]
async fn the_schema_refuses_what_the_contract_forbids() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.user("alice").await.id, app.user("bob").await.id);
    let (low, high) = (a.min(b), a.max(b));
    let now = "CURRENT_TIMESTAMP";

    // No self relation, and pairs are stored ordered.
    assert!(exec(&app, &format!("INSERT INTO relations (user_low, user_high, kind) VALUES ({a}, {a}, 'none')")).await.is_err());
    assert!(exec(&app, &format!("INSERT INTO relations (user_low, user_high, kind) VALUES ({high}, {low}, 'none')")).await.is_err());
    // A request needs its pair row, of kind 'request'.
    let request = |from: i64, to: i64| {
        format!(
            "INSERT INTO connection_requests (from_user_id, to_user_id, user_low, user_high, created) \
             VALUES ({from}, {to}, {low}, {high}, {now})"
        )
    };
    assert!(exec(&app, &request(a, b)).await.is_err(), "no pair row yet");
    exec(&app, &format!("INSERT INTO relations (user_low, user_high, kind) VALUES ({low}, {high}, 'request')")).await.unwrap();
    exec(&app, &request(a, b)).await.expect("a request for a pair of kind 'request'");

    // At most one request per pair, in either direction.
    assert!(exec(&app, &request(a, b)).await.is_err(), "a second request from A");
    assert!(exec(&app, &request(b, a)).await.is_err(), "a crossing request from B");
    // A request's users must be its pair.
    assert!(
        exec(&app, &format!(
            "INSERT INTO connection_requests (from_user_id, to_user_id, user_low, user_high, created) VALUES ({a}, {a}, {low}, {high}, {now})"
        ))
        .await
        .is_err(),
        "a self request"
    );

    // Never a request and a connection for the same pair at once.
    let connection = format!("INSERT INTO connections (user_low, user_high, created) VALUES ({low}, {high}, {now})");
    assert!(exec(&app, &connection).await.is_err(), "a connection beside the request");
    assert!(
        exec(&app, &format!("UPDATE relations SET kind = 'connection' WHERE user_low = {low} AND user_high = {high}")).await.is_err(),
        "the pair cannot change kind while the request exists"
    );

    // After the request goes, the pair may hold one connection, and only one.
    exec(&app, &format!("DELETE FROM connection_requests WHERE user_low = {low} AND user_high = {high}")).await.unwrap();
    exec(&app, &format!("UPDATE relations SET kind = 'connection' WHERE user_low = {low} AND user_high = {high}")).await.unwrap();
    exec(&app, &connection).await.expect("one connection");
    assert!(exec(&app, &connection).await.is_err(), "a second connection");
    assert!(exec(&app, &request(a, b)).await.is_err(), "a request beside the connection");
    assert!(exec(&app, "UPDATE relations SET kind = 'friends'").await.is_err(), "unknown kinds");
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

/// A database made before the counters existed, with relations in it, is upgraded with every
/// counter set from its rows.
#[tokio::test]
async fn upgrading_a_database_counts_its_existing_relations() {
    use sea_orm_migration::MigratorTrait;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("old.sqlite3").display());
    let repo = connections_api::repo::Repo::connect(&url).await.unwrap();
    connections_api::repo::migration::Migrator::up(repo.connection(), Some(1)).await.unwrap();
    let db = repo.connection();
    let now = "'2026-11-27T10:00:00+00:00'";
    for sql in [
        format!("INSERT INTO users (username, date_joined) VALUES ('a', {now}), ('b', {now}), ('c', {now})"),
        "INSERT INTO relations (user_low, user_high, kind) VALUES (1, 2, 'connection'), (1, 3, 'request')".to_owned(),
        format!("INSERT INTO connections (user_low, user_high, created) VALUES (1, 2, {now})"),
        format!("INSERT INTO connection_requests (from_user_id, to_user_id, user_low, user_high, created) VALUES (3, 1, 1, 3, {now})"),
    ] {
        db.execute_unprepared(&sql).await.unwrap();
    }
    repo.migrate().await.unwrap();
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
            Err(connections_api::repo::RepoError::Invalid(message)) => assert!(message.contains("taken"), "{message}"),
            Err(other) => panic!("the loser of the race: {other:?}"),
        }
    }
}
