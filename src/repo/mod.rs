//! The repository layer: sea-orm entities, the schema, and every query the service needs.
//! Each state change is one transaction that locks the pair it touches.

pub mod entities;
mod lists;
pub mod migration;
mod seed;

pub use seed::Seeded;

pub use lists::{Page, RequestWithUsers};

use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectOptions, ConnectionTrait, Database,
    DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

use crate::domain::{self, Action, Conflict, Relation, Transition};
use entities::{connection_requests, connections, preferences, relations, users};

pub use entities::users::Model as User;

/// Everything the repository can fail with. `Unavailable` is the database being out of reach
/// or too busy, which a client may retry; anything else is a bug or a broken database.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(String),
    #[error("{0}")]
    Invalid(String),
    #[error("no user {0} (or deleted)")]
    UserNotFound(i64),
}

impl From<DbErr> for RepoError {
    fn from(err: DbErr) -> Self {
        if is_unavailable(&err) { RepoError::Unavailable(err.to_string()) } else { RepoError::Database(err.to_string()) }
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

/// How long an SQLite writer waits for another one before giving up with "busy".
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone, Debug)]
pub struct Repo {
    db: DatabaseConnection,
    /// SQLite has one writer at a time. Writers of this process queue here, in order, instead
    /// of in SQLite's busy handler, which sleeps in growing steps and ruins tail latency.
    /// (Other processes on the same file still meet the busy timeout.)
    sqlite_writer: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// Pool sizes: SQLite runs each connection on a thread of its own, and more of them than a few
/// per core only adds switching; PostgreSQL connections are processes on the server's side.
const SQLITE_POOL: u32 = 6;
const POSTGRES_POOL: u32 = 16;

impl Repo {
    /// Connects (creating an SQLite file if missing) without touching the schema.
    pub async fn connect(url: &str) -> Result<Self, RepoError> {
        let mut options = ConnectOptions::new(url.to_owned());
        let sqlite = url.starts_with("sqlite:");
        let pool = if sqlite { SQLITE_POOL } else { POSTGRES_POOL };
        // sqlx pings a connection on every checkout by default: one more round trip per
        // statement (on SQLite, two more thread switches). An SQLite connection is a file in
        // this process and cannot go stale; a PostgreSQL one can (a restarted server, a proxy's
        // idle timeout), so it is pinged when it has sat idle for a second.
        if sqlite {
            options.test_before_acquire(false);
        } else {
            options.test_before_acquire_if_idle_for(Duration::from_secs(1));
        }
        options
            .max_connections(pool)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(5))
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|opts| {
                opts.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // In WAL mode NORMAL survives a killed process; a power loss may lose the
                    // last commits (FULL would not, at the cost of an fsync per commit).
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
                    .foreign_keys(true)
            })
            // A statement or a lock wait that takes this long fails (503) well before the
            // request's own deadline, and releases what it holds.
            .map_sqlx_postgres_opts(|opts| {
                opts.options([("statement_timeout", POSTGRES_STATEMENT_TIMEOUT), ("lock_timeout", POSTGRES_LOCK_TIMEOUT)])
            });
        let db = Database::connect(options).await?;
        Ok(Repo { db, sqlite_writer: Default::default() })
    }

    /// The connection pool's current use.
    pub fn pool_use(&self) -> crate::metrics::PoolUse {
        match self.backend() {
            DbBackend::Sqlite => {
                let pool = self.db.get_sqlite_connection_pool();
                crate::metrics::PoolUse { size: pool.size(), idle: pool.num_idle() as u32, max: SQLITE_POOL }
            }
            DbBackend::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                crate::metrics::PoolUse { size: pool.size(), idle: pool.num_idle() as u32, max: POSTGRES_POOL }
            }
            _ => crate::metrics::PoolUse::default(),
        }
    }

    /// One round trip to the database: is it there?
    pub async fn ping(&self) -> Result<(), RepoError> {
        Ok(self.db.ping().await?)
    }

    /// Creates or upgrades the schema.
    pub async fn migrate(&self) -> Result<(), RepoError> {
        migration::Migrator::up(&self.db, None).await?;
        Ok(())
    }

    /// The underlying connection, for operators' tools and tests that probe the schema.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// A write transaction. SQLite takes its write lock at BEGIN (IMMEDIATE), so two writers
    /// queue on the busy timeout instead of failing when one upgrades a read lock.
    async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        self.db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
    }

    // ----- users -----

    /// A user who exists and is not deleted.
    pub async fn find_active_user(&self, id: i64) -> Result<Option<User>, RepoError> {
        Ok(users::Entity::find_by_id(id)
            .filter(users::Column::Deleted.eq(false))
            .one(&self.db)
            .await?)
    }

    pub async fn create_user(&self, username: &str, real_name: &str) -> Result<User, RepoError> {
        let taken = users::Entity::find()
            .filter(users::Column::Username.eq(username))
            .count(&self.db)
            .await?;
        if taken > 0 {
            return Err(RepoError::Invalid(format!("the username {username:?} is taken")));
        }
        let user = users::ActiveModel {
            username: Set(username.to_owned()),
            real_name: Set(real_name.to_owned()),
            avatar: Set(None),
            ext_id: Set(None),
            date_joined: Set(Utc::now()),
            deleted: Set(false),
            ..Default::default()
        };
        Ok(user.insert(&self.db).await?)
    }

    /// Marks a user deleted. Returns false when there is no such (undeleted) user.
    pub async fn delete_user(&self, id: i64) -> Result<bool, RepoError> {
        let result = users::Entity::update_many()
            .col_expr(users::Column::Deleted, true.into())
            .filter(users::Column::Id.eq(id))
            .filter(users::Column::Deleted.eq(false))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    pub async fn find_user_by_username(&self, username: &str) -> Result<Option<User>, RepoError> {
        Ok(users::Entity::find()
            .filter(users::Column::Username.eq(username))
            .one(&self.db)
            .await?)
    }

    pub async fn count_users(&self) -> Result<u64, RepoError> {
        Ok(users::Entity::find().count(&self.db).await?)
    }

    // ----- preferences -----

    pub async fn preferences(&self) -> Result<Vec<preferences::Model>, RepoError> {
        Ok(preferences::Entity::find()
            .order_by_asc(preferences::Column::Id)
            .all(&self.db)
            .await?)
    }

    pub async fn preference(&self, section: &str, name: &str) -> Result<Option<String>, RepoError> {
        Ok(preferences::Entity::find()
            .filter(preferences::Column::Section.eq(section))
            .filter(preferences::Column::Name.eq(name))
            .one(&self.db)
            .await?
            .map(|p| p.value))
    }

    /// Creates or replaces a preference; `value` is JSON text.
    pub async fn set_preference(&self, section: &str, name: &str, value: &str) -> Result<(), RepoError> {
        let row = preferences::ActiveModel {
            section: Set(section.to_owned()),
            name: Set(name.to_owned()),
            value: Set(value.to_owned()),
            ..Default::default()
        };
        preferences::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([preferences::Column::Section, preferences::Column::Name])
                    .update_column(preferences::Column::Value)
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    // ----- relations -----

    /// The relation between `caller` and `other`, seen from `caller`'s side.
    pub async fn relation(&self, caller: i64, other: i64) -> Result<Relation, RepoError> {
        Ok(read_relation(&self.db, caller, other).await?)
    }

    /// The same, in the same statement as the check that `other` exists and is not deleted
    /// (`None` when not).
    pub async fn relation_with_active(&self, caller: i64, other: i64) -> Result<Option<Relation>, RepoError> {
        Ok(read_relation_with(&self.db, caller, other, true).await?)
    }

    /// Runs `action` of `caller` on the relation with `other` in one transaction: locks the
    /// pair, reads its state (and that `other` exists: else `UserNotFound`), asks the state
    /// machine, writes the new state, commits.
    pub async fn apply(
        &self,
        caller: i64,
        other: i64,
        action: Action,
    ) -> Result<Result<Transition, Conflict>, RepoError> {
        let (low, high) = ordered(caller, other);
        let _writer = match self.backend() {
            DbBackend::Sqlite => Some(self.sqlite_writer.lock().await),
            _ => None,
        };
        let txn = self.begin_write().await?;

        // Every action on this pair, from any instance, queues here. On SQLite the IMMEDIATE
        // transaction already holds the database's write lock. On PostgreSQL a transaction-scoped
        // advisory lock on the pair comes before any row is touched: row locks alone let two
        // first actions on a new pair deadlock in the unique indexes.
        if self.backend() == DbBackend::Postgres {
            txn.execute_raw(sea_orm::Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock($1)",
                [pair_lock_key(low, high).into()],
            ))
            .await?;
        }
        // The other user's existence is checked in the same statement, under the same lock.
        let Some(current) = read_relation_with(&txn, caller, other, true).await? else {
            txn.rollback().await?;
            return Err(RepoError::UserNotFound(other));
        };
        let transition = match domain::apply(current, action) {
            Ok(transition) => transition,
            Err(conflict) => {
                txn.rollback().await?;
                return Ok(Err(conflict));
            }
        };
        if transition.changed() {
            write_relation(&txn, caller, other, transition.from, transition.to).await?;
        }
        if transition.mark_viewed {
            connection_requests::Entity::update_many()
                .col_expr(connection_requests::Column::Viewed, Some(Utc::now()).into())
                .filter(connection_requests::Column::FromUserId.eq(other))
                .filter(connection_requests::Column::ToUserId.eq(caller))
                .filter(connection_requests::Column::Viewed.is_null())
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(Ok(transition))
    }

    /// Counts of the rows that make up relations, for tests and operators.
    pub async fn relation_counts(&self) -> Result<RelationCounts, RepoError> {
        Ok(RelationCounts {
            requests: connection_requests::Entity::find().count(&self.db).await?,
            connections: connections::Entity::find().count(&self.db).await?,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RelationCounts {
    pub requests: u64,
    pub connections: u64,
}

/// The advisory lock key of a pair. Two pairs may share a key: they then wait for each other,
/// which costs time, never correctness.
fn pair_lock_key(low: i64, high: i64) -> i64 {
    low.wrapping_mul(0x9E37_79B9_7F4A_7C15_u64 as i64) ^ high
}

fn ordered(a: i64, b: i64) -> (i64, i64) {
    if a < b { (a, b) } else { (b, a) }
}

async fn read_relation<C: ConnectionTrait>(db: &C, caller: i64, other: i64) -> Result<Relation, DbErr> {
    read_relation_with(db, caller, other, false)
        .await?
        .ok_or_else(|| DbErr::Custom("the relation query returned no row".to_owned()))
}

/// The relation in one statement (each statement is a round trip to the database, and on
/// SQLite two thread switches): the pair's request, if any, and whether the pair is connected.
/// With `only_if_other_is_active`, `None` when `other` does not exist or is deleted.
async fn read_relation_with<C: ConnectionTrait>(
    db: &C,
    caller: i64,
    other: i64,
    only_if_other_is_active: bool,
) -> Result<Option<Relation>, DbErr> {
    const SQL: &str = "SELECT \
        (SELECT from_user_id FROM connection_requests WHERE user_low = $1 AND user_high = $2) AS from_user_id, \
        (SELECT rejected IS NOT NULL FROM connection_requests WHERE user_low = $1 AND user_high = $2) AS rejected, \
        EXISTS (SELECT 1 FROM connections WHERE user_low = $1 AND user_high = $2) AS connected";
    const ACTIVE_OTHER: &str = " FROM users WHERE id = $3 AND deleted = false";
    let (low, high) = ordered(caller, other);
    let backend = db.get_database_backend();
    let mut sql = SQL.to_owned();
    let mut values: Vec<sea_orm::Value> = vec![low.into(), high.into()];
    if only_if_other_is_active {
        sql.push_str(ACTIVE_OTHER);
        values.push(other.into());
    }
    if backend == DbBackend::Sqlite {
        // SQLite's numbered parameters are written ?N.
        sql = sql.replace('$', "?");
    }
    let Some(row) = db.query_one_raw(sea_orm::Statement::from_sql_and_values(backend, sql, values)).await? else {
        return Ok(None);
    };
    let from_user_id: Option<i64> = row.try_get("", "from_user_id")?;
    let rejected: Option<bool> = row.try_get("", "rejected")?;
    let connected: bool = row.try_get("", "connected")?;
    Ok(Some(match from_user_id {
        Some(from) => request_relation(from == caller, rejected.unwrap_or(false)),
        None if connected => Relation::Connected,
        None => Relation::None,
    }))
}

/// The relation a request makes, from the side of the one who `sent` it or not.
fn request_relation(sent: bool, rejected: bool) -> Relation {
    match (sent, rejected) {
        (true, false) => Relation::SentPending,
        (true, true) => Relation::SentRejected,
        (false, false) => Relation::ReceivedPending,
        (false, true) => Relation::ReceivedRejected,
    }
}

/// Turns the rows of the pair from `from` into `to` (both seen from `caller`'s side).
async fn write_relation<C: ConnectionTrait>(
    db: &C,
    caller: i64,
    other: i64,
    from: Relation,
    to: Relation,
) -> Result<(), DbErr> {
    let (low, high) = ordered(caller, other);
    let now = Utc::now();
    let delete_request = || {
        connection_requests::Entity::delete_many()
            .filter(connection_requests::Column::UserLow.eq(low))
            .filter(connection_requests::Column::UserHigh.eq(high))
    };
    // The pair's row, which the request and connection rows must agree with: created by the
    // pair's first change, its kind set by every change after.
    let set_kind = |kind: &'static str| {
        relations::Entity::insert(relations::ActiveModel {
            user_low: Set(low),
            user_high: Set(high),
            kind: Set(kind.to_owned()),
        })
        .on_conflict(
            OnConflict::columns([relations::Column::UserLow, relations::Column::UserHigh])
                .update_column(relations::Column::Kind)
                .to_owned(),
        )
    };
    let has_request = |r: Relation| {
        matches!(
            r,
            Relation::SentPending | Relation::SentRejected | Relation::ReceivedPending | Relation::ReceivedRejected
        )
    };
    let sender = |r: Relation| match r {
        Relation::SentPending | Relation::SentRejected => Some(caller),
        Relation::ReceivedPending | Relation::ReceivedRejected => Some(other),
        _ => None,
    };
    let rejected = |r: Relation| matches!(r, Relation::SentRejected | Relation::ReceivedRejected);

    // Same request, only its rejection changes (reject / cancel_reject): keep its id and date.
    if has_request(from) && has_request(to) && sender(from) == sender(to) {
        connection_requests::Entity::update_many()
            .col_expr(connection_requests::Column::Rejected, rejected(to).then_some(now).into())
            .filter(connection_requests::Column::UserLow.eq(low))
            .filter(connection_requests::Column::UserHigh.eq(high))
            .exec(db)
            .await?;
        return Ok(());
    }

    // Otherwise clear what was there, then create what must be. The order matters: the
    // composite foreign keys only allow rows whose kind matches the pair's kind.
    if has_request(from) {
        delete_request().exec(db).await?;
    }
    if from == Relation::Connected {
        connections::Entity::delete_many()
            .filter(connections::Column::UserLow.eq(low))
            .filter(connections::Column::UserHigh.eq(high))
            .exec(db)
            .await?;
    }
    match to {
        Relation::None => {
            set_kind(relations::NONE).exec_without_returning(db).await?;
        }
        Relation::Connected => {
            set_kind(relations::CONNECTION).exec_without_returning(db).await?;
            connections::ActiveModel {
                user_low: Set(low),
                user_high: Set(high),
                created: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
        _ => {
            let Some(from_user) = sender(to) else {
                return Err(DbErr::Custom(format!("{to:?} is not a request state")));
            };
            let to_user = if from_user == caller { other } else { caller };
            set_kind(relations::REQUEST).exec_without_returning(db).await?;
            connection_requests::ActiveModel {
                from_user_id: Set(from_user),
                to_user_id: Set(to_user),
                user_low: Set(low),
                user_high: Set(high),
                created: Set(now),
                rejected: Set(rejected(to).then_some(now)),
                viewed: Set(None),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}
