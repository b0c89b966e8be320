//! The database handle every query runs on: connecting (SQLite in WAL mode with its writer
//! and readers, PostgreSQL with its timeouts), migrating, and the pool's use.
//!
//! - SQLite (the embedded default): the request path runs on synchronous connections
//!   (`sqlite.rs`: one writer thread with group commit, readers in one blocking call per
//!   request); sqlx, through sea-orm, only migrates and serves the operator's commands.
//! - PostgreSQL: sea-orm on sqlx; each statement is a round trip, so each request has as few
//!   as it can.
//!
//! Each feature adds its own queries to [`Repo`] in its own folder (`impl Repo` blocks).

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait};
use sea_orm_migration::MigratorTrait;

use super::entities::{connection_requests, connections};
use super::error::RepoError;
use super::sqlite::{self, Durability};
use super::{migration, rows};

/// What the pool looks like now.
#[derive(Clone, Copy, Debug, Default)]
pub struct PoolUse {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

/// PostgreSQL's limits on one statement and on one lock wait.
const POSTGRES_STATEMENT_TIMEOUT: &str = "10s";
const POSTGRES_LOCK_TIMEOUT: &str = "5s";

/// Pool sizes. On SQLite the pool only migrates and serves operators' commands (requests use
/// the engine in `sqlite.rs`); PostgreSQL connections are processes on the server's side.
const SQLITE_POOL: u32 = 2;
const POSTGRES_POOL: u32 = 16;

#[derive(Clone, Debug)]
pub struct Repo {
    pub(crate) db: DatabaseConnection,
    /// SQLite's request path; `None` on PostgreSQL.
    sqlite: Option<sqlite::Sqlite>,
}

impl Repo {
    /// Connects (creating an SQLite file if missing) without touching the schema, with the
    /// default durability.
    pub async fn connect(url: &str) -> Result<Self, RepoError> {
        Self::connect_with(url, Durability::default()).await
    }

    /// The same, with SQLite's commits reaching the disk as `durability` says.
    pub async fn connect_with(url: &str, durability: Durability) -> Result<Self, RepoError> {
        let mut options = ConnectOptions::new(url.to_owned());
        let is_sqlite = url.starts_with("sqlite:");
        let pool = if is_sqlite { SQLITE_POOL } else { POSTGRES_POOL };
        // sqlx pings a connection on every checkout by default: one more round trip per
        // statement. An SQLite connection is a file in this process and cannot go stale; a
        // PostgreSQL one can (a restarted server, a proxy's idle timeout), so it is pinged
        // when it has sat idle for a second.
        if is_sqlite {
            options.test_before_acquire(false);
        } else {
            options.test_before_acquire_if_idle_for(Duration::from_secs(1));
        }
        let synchronous = match durability {
            Durability::Full => SqliteSynchronous::Full,
            Durability::Normal => SqliteSynchronous::Normal,
        };
        options
            .max_connections(pool)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(5))
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(move |opts| {
                opts.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(synchronous)
                    .busy_timeout(sqlite::BUSY_TIMEOUT)
                    .foreign_keys(true)
            })
            // A statement or a lock wait that takes this long fails (503) well before the
            // request's own deadline, and releases what it holds.
            .map_sqlx_postgres_opts(|opts| {
                opts.options([("statement_timeout", POSTGRES_STATEMENT_TIMEOUT), ("lock_timeout", POSTGRES_LOCK_TIMEOUT)])
            });
        let db = Database::connect(options).await?;
        // The pool's first connection has created the file and set WAL mode.
        let sqlite = if is_sqlite { Some(sqlite::Sqlite::open(url, durability)?) } else { None };
        Ok(Repo { db, sqlite })
    }

    /// The highest event number on disk when commits can be seen before they are (SQLite
    /// with `Durability::Full`, see `Sqlite::durable_events`); `None`: all committed events.
    pub fn durable_events(&self) -> Option<i64> {
        self.sqlite.as_ref().and_then(sqlite::Sqlite::durable_events)
    }

    /// SQLite's request path, or `None` on PostgreSQL.
    pub(crate) fn sqlite(&self) -> Option<&sqlite::Sqlite> {
        self.sqlite.as_ref()
    }

    /// The connections' current use: SQLite's readers, PostgreSQL's pool.
    pub fn pool_use(&self) -> PoolUse {
        match &self.sqlite {
            Some(engine) => {
                // Readers are threads with a connection each; "idle" is how many are not
                // needed by the queue.
                let readers = engine.reader_use();
                PoolUse {
                    size: readers.readers,
                    idle: readers.readers.saturating_sub(readers.queued),
                    max: readers.readers,
                }
            }
            None => {
                let pool = self.db.get_postgres_connection_pool();
                PoolUse { size: pool.size(), idle: pool.num_idle() as u32, max: POSTGRES_POOL }
            }
        }
    }

    /// One statement on the request path's connections: is the database there?
    pub async fn ping(&self) -> Result<(), RepoError> {
        match self.sqlite() {
            Some(engine) => {
                engine
                    .read(|conn| conn.query_row("SELECT 1", [], |_| Ok(())).map_err(sqlite::error))
                    .await
            }
            None => Ok(self.db.ping().await?),
        }
    }

    /// Creates or upgrades the schema.
    pub async fn migrate(&self) -> Result<(), RepoError> {
        migration::Migrator::up(&self.db, None).await?;
        Ok(())
    }

    /// The sea-orm connection, for operators' tools and tests that probe the schema.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// Counts of the rows that make up relations, for tests and operators.
    pub async fn relation_counts(&self) -> Result<RelationCounts, RepoError> {
        Ok(RelationCounts {
            requests: connection_requests::Entity::find().count(&self.db).await?,
            connections: connections::Entity::find().count(&self.db).await?,
        })
    }

    /// Users whose stored counters differ from what their rows count (should be none), with
    /// the stored and the counted values: `(id, stored, counted)`.
    pub async fn miscounted_users(&self) -> Result<Vec<(i64, [i64; 5], [i64; 5])>, RepoError> {
        let sql = format!(
            "SELECT id, connections_counter, connection_requests_received_counter, connection_requests_sent_counter, \
             followers_counter, followings_counter, c, r, s, fr, fg FROM (SELECT id, deleted, connections_counter, \
             connection_requests_received_counter, connection_requests_sent_counter, followers_counter, followings_counter, \
             {} FROM users) t WHERE deleted = FALSE AND (connections_counter <> c OR connection_requests_received_counter <> r \
             OR connection_requests_sent_counter <> s OR followers_counter <> fr OR followings_counter <> fg)",
            migration::counted_columns()
        );
        let rows = self.db.query_all_raw(sea_orm::Statement::from_string(self.backend(), sql)).await?;
        rows.iter()
            .map(|row| {
                use rows::Row;
                let five = |at: usize| -> Result<[i64; 5], RepoError> {
                    Ok([row.int(at)?, row.int(at + 1)?, row.int(at + 2)?, row.int(at + 3)?, row.int(at + 4)?])
                };
                Ok((row.int(0)?, five(1)?, five(6)?))
            })
            .collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RelationCounts {
    pub requests: u64,
    pub connections: u64,
}

