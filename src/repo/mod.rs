//! The repository layer: sea-orm entities, the schema, and every query the service needs, one
//! module per resource (users, preferences, relations and their lists), each with both
//! engines' paths side by side.
//!
//! - SQLite (the embedded default): the request path runs on synchronous connections
//!   (`sqlite.rs`: one writer thread with group commit, readers in one blocking call per
//!   request); sqlx, through sea-orm, only migrates and serves the operator's commands.
//! - PostgreSQL: sea-orm on sqlx; each statement is a round trip, so each request has as few
//!   as it can (see `relations.rs`).
//!
//! The statements are built by sea-query from the entities, for both engines alike.

pub mod entities;
mod features;
mod hidden;
mod lists;
pub mod notifications;
pub mod migration;
mod preference_defaults;
mod preferences;
pub mod relations;
mod rows;
mod seed;
mod settings;
mod shapes;
mod suggestions;
pub mod sqlite;
mod users;
pub mod webhooks;

pub use lists::{Page, RequestWithUsers};
pub use seed::Seeded;
pub use suggestions::{FRIENDS as SUGGESTION_FRIENDS, PER_FRIEND as SUGGESTION_PER_FRIEND};
pub use settings::Settings;
pub use sqlite::Durability;

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, EntityTrait, PaginatorTrait};
use sea_orm_migration::MigratorTrait;

use entities::{connection_requests, connections};

pub use entities::users::Model as User;

/// Everything the repository can fail with. `Unavailable` is the database being out of reach
/// or too busy, which a client may retry; `Database` is a bug or a broken database, with the
/// driver's error kept as its source when there is one.
#[derive(Clone, Debug, thiserror::Error)]
pub enum RepoError {
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {message}")]
    Database {
        message: String,
        #[source]
        source: Option<std::sync::Arc<dyn std::error::Error + Send + Sync>>,
    },
    #[error("{0}")]
    Invalid(String),
    /// The user a request acts for (its token's) does not exist or is deleted.
    #[error("the caller does not exist or is deleted")]
    CallerNotFound,
    /// The user a request names does not exist or is deleted.
    #[error("no such user (or deleted)")]
    UserNotFound,
    /// One of the pair hid the other: the action would create or restore a relation.
    #[error("one of the users hid the other")]
    UserHidden,
}

impl RepoError {
    /// A broken expectation about what the database answered (no source error).
    pub fn database(message: impl Into<String>) -> Self {
        RepoError::Database { message: message.into(), source: None }
    }

    /// A driver's error that is not the database being unavailable, kept as the source.
    pub fn from_source(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        RepoError::Database { message: source.to_string(), source: Some(std::sync::Arc::new(source)) }
    }
}

impl From<DbErr> for RepoError {
    fn from(err: DbErr) -> Self {
        if is_unavailable(&err) { RepoError::Unavailable(err.to_string()) } else { RepoError::from_source(err) }
    }
}

/// Is this the database being out of reach, busy or out of room (a client may retry: `503`),
/// rather than a bug or a broken database (`500`)?
fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as Sqlx;
    let sqlx = match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    match sqlx.as_ref() {
        Sqlx::Io(_) | Sqlx::Tls(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed => true,
        Sqlx::Database(db) => {
            let code = db.code().unwrap_or_default();
            if db.try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>().is_some() {
                // Primary result codes: BUSY, LOCKED, READONLY, IOERR, FULL, CANTOPEN.
                let primary = code.parse::<i32>().map(|c| c & 0xff).unwrap_or(0);
                matches!(primary, 5 | 6 | 8 | 10 | 13 | 14)
            } else {
                // SQLSTATE classes and codes: connection exception, insufficient resources,
                // shutting down / cannot connect now, statement or lock timeout, serialization
                // failure, deadlock, read-only transaction (a standby).
                code.starts_with("08")
                    || code.starts_with("53")
                    || ["57P01", "57P02", "57P03", "57014", "55P03", "40001", "40P01", "25006"].contains(&code.as_ref())
            }
        }
        _ => false,
    }
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
    db: DatabaseConnection,
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

    /// SQLite's request path, or `None` on PostgreSQL.
    fn sqlite(&self) -> Option<&sqlite::Sqlite> {
        self.sqlite.as_ref()
    }

    /// The connections' current use: SQLite's readers, PostgreSQL's pool.
    pub fn pool_use(&self) -> crate::metrics::PoolUse {
        match &self.sqlite {
            Some(engine) => {
                // Readers are threads with a connection each; "idle" is how many are not
                // needed by the queue.
                let readers = engine.reader_use();
                crate::metrics::PoolUse {
                    size: readers.readers,
                    idle: readers.readers.saturating_sub(readers.queued),
                    max: readers.readers,
                }
            }
            None => {
                let pool = self.db.get_postgres_connection_pool();
                crate::metrics::PoolUse { size: pool.size(), idle: pool.num_idle() as u32, max: POSTGRES_POOL }
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
    pub async fn miscounted_users(&self) -> Result<Vec<(i64, [i64; 3], [i64; 3])>, RepoError> {
        let sql = format!(
            "SELECT id, connections_counter, connection_requests_received_counter, connection_requests_sent_counter, \
             c, r, s FROM (SELECT id, deleted, connections_counter, connection_requests_received_counter, \
             connection_requests_sent_counter, {} FROM users) t WHERE deleted = FALSE AND \
             (connections_counter <> c OR connection_requests_received_counter <> r OR connection_requests_sent_counter <> s)",
            migration::counted_columns()
        );
        let rows = self.db.query_all_raw(sea_orm::Statement::from_string(self.backend(), sql)).await?;
        rows.iter()
            .map(|row| {
                use rows::Row;
                Ok((row.int(0)?, [row.int(1)?, row.int(2)?, row.int(3)?], [row.int(4)?, row.int(5)?, row.int(6)?]))
            })
            .collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RelationCounts {
    pub requests: u64,
    pub connections: u64,
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use super::*;

    #[test]
    fn a_driver_error_is_kept_as_the_source() {
        let err = RepoError::from(DbErr::Custom("disk image is malformed".into()));
        assert!(matches!(err, RepoError::Database { .. }), "{err:?}");
        let source = err.source().expect("the driver's error is the source");
        assert!(source.to_string().contains("disk image is malformed"), "{source}");
        assert!(RepoError::database("no row").source().is_none());
    }
}
