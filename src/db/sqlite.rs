//! SQLite on the request path, without an async driver in between: one thread owns the write
//! connection and commits everything queued in one transaction (group commit), and reads run
//! on synchronous reader connections, a request's queries in one blocking call.
//!
//! sqlx's SQLite driver runs each connection on a thread of its own and hands every statement
//! over and every answer back: two thread switches per statement, which cost more than the
//! statements. Here a request costs one hand-off, whatever its number of statements.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};
use sea_orm::sea_query::{self, SqliteQueryBuilder};
use tokio::sync::oneshot;

use super::error::RepoError;
use super::shapes::{Arg, Shape};

/// How long a connection waits for another process's lock before giving up with "busy" (503).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// The most requests one transaction of the writer commits together.
const MAX_BATCH: usize = 256;
/// Reader threads, each with its own connection: enough to keep both cores busy while one
/// waits for the disk, few enough that they do not take turns on the cores.
const READERS: usize = 4;
/// Each reader's page cache: the readers share the operating system's cache of the file, and
/// four of SQLite's default 2 MiB cost memory for little (measured at 10 M relations).
const READER_CACHE_KIB: u32 = 1024;
/// How often the writer folds the write-ahead log back into the database, between batches.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// How a commit reaches the disk (`SQLITE_SYNCHRONOUS`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// WAL with `synchronous=FULL`: every commit (every batch) is flushed to disk before its
    /// requests are answered, so a power loss loses nothing acknowledged.
    #[default]
    Full,
    /// WAL with `synchronous=NORMAL`: a killed process loses nothing acknowledged, a power
    /// loss may lose the last commits.
    Normal,
}

impl Durability {
    fn pragma(self) -> &'static str {
        match self {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        }
    }
}

/// Where the database is and how to open it, read from an `sqlite:` URL.
#[derive(Clone, Debug)]
struct Target {
    path: PathBuf,
    read_only: bool,
}

impl Target {
    fn parse(url: &str) -> Result<Target, RepoError> {
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| RepoError::Invalid(format!("not an SQLite URL: {url}")))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if path.is_empty() || path == ":memory:" {
            return Err(RepoError::Invalid("SQLite needs a file (an in-memory database is not shared)".into()));
        }
        let read_only = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .unwrap_or_default()
            .iter()
            .any(|(k, v)| k == "mode" && v == "ro");
        Ok(Target { path: PathBuf::from(path), read_only })
    }

    fn open(&self, durability: Durability) -> Result<Connection, RepoError> {
        let mut flags = OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        flags |= if self.read_only { OpenFlags::SQLITE_OPEN_READ_ONLY } else { OpenFlags::SQLITE_OPEN_READ_WRITE };
        let conn = Connection::open_with_flags(&self.path, flags).map_err(error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(error)?;
        // Plans that do not depend on the values bound: otherwise SQLite prepares a statement
        // again whenever a value it looked at (a LIMIT, an OFFSET) changes.
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true).map_err(error)?;
        conn.set_prepared_statement_cache_capacity(64);
        // journal_mode=WAL is a property of the file (set when sqlx created it); these are per
        // connection.
        conn.execute_batch(&format!("PRAGMA foreign_keys = ON; PRAGMA synchronous = {};", durability.pragma()))
            .map_err(error)?;
        Ok(conn)
    }
}

/// One request's unit of work for the writer, and where its answer goes once the batch it ran
/// in has committed (or failed).
trait Unit: Send {
    fn run(&mut self, conn: &Connection);
    fn finish(self: Box<Self>, commit: Result<(), RepoError>);
}

struct Pending<T, F> {
    work: Option<F>,
    outcome: Option<Result<T, RepoError>>,
    reply: oneshot::Sender<Result<T, RepoError>>,
}

impl<T, F> Unit for Pending<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T, RepoError> + Send,
{
    /// Runs the work in its own savepoint: a failure undoes this request's writes only.
    fn run(&mut self, conn: &Connection) {
        let Some(work) = self.work.take() else { return };
        let outcome = (|| {
            exec(conn, "SAVEPOINT unit")?;
            let outcome = work(conn);
            if outcome.is_err() {
                exec(conn, "ROLLBACK TO unit")?;
            }
            exec(conn, "RELEASE unit")?;
            outcome
        })();
        self.outcome = Some(outcome);
    }

    /// Answers only after `COMMIT` returned: a `200` means committed.
    fn finish(self: Box<Self>, commit: Result<(), RepoError>) {
        let answer = match (commit, self.outcome) {
            (Ok(()), Some(outcome)) => outcome,
            (Ok(()), None) => Err(RepoError::Unavailable("the batch ended before this request ran".into())),
            (Err(err), _) => Err(err),
        };
        let _ = self.reply.send(answer);
    }
}

type Job = Box<dyn Unit>;
type Read = Box<dyn FnOnce(&Connection) + Send>;

/// The SQLite engine: the writer's queue and the readers'.
#[derive(Clone)]
pub struct Sqlite {
    writer: flume::Sender<Job>,
    readers: flume::Sender<Read>,
}

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqlite").field("queued_writes", &self.writer.len()).field("queued_reads", &self.readers.len()).finish()
    }
}

/// The engine's queues, for `/metrics`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReaderUse {
    pub readers: u32,
    pub queued: u32,
}

impl Sqlite {
    /// Opens the writer and the readers, each connection on a thread of its own. The file
    /// must exist and be in WAL mode already (`Repo::connect` sees to it). The threads end
    /// when the last clone of the engine is dropped, the writer after its batch.
    pub fn open(url: &str, durability: Durability) -> Result<Sqlite, RepoError> {
        let target = Target::parse(url)?;
        let writer_conn = target.open(durability)?;
        // The writer checkpoints between batches (see `write_loop`), never inside a commit.
        // Each request's savepoint journals the pages it changes: in memory, not a temp file.
        writer_conn.execute_batch("PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = MEMORY;").map_err(error)?;
        let (writer, jobs) = flume::unbounded::<Job>();
        spawn("sqlite-writer", move || write_loop(writer_conn, jobs))?;
        let (readers, reads) = flume::unbounded::<Read>();
        for i in 0..READERS {
            let conn = target.open(durability)?;
            conn.execute_batch(&format!("PRAGMA query_only = ON; PRAGMA cache_size = -{READER_CACHE_KIB};")).map_err(error)?;
            let reads = reads.clone();
            spawn(&format!("sqlite-reader-{i}"), move || {
                while let Ok(read) = reads.recv() {
                    read(&conn);
                }
            })?;
        }
        Ok(Sqlite { writer, readers })
    }

    /// Runs `work` in the writer's next batch and answers once that batch has committed.
    pub async fn write<T, F>(&self, work: F) -> Result<T, RepoError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, RepoError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(Pending { work: Some(work), outcome: None, reply });
        self.writer
            .send(job)
            .map_err(|_| RepoError::Unavailable("the SQLite writer has stopped".into()))?;
        answer.await.map_err(|_| RepoError::Unavailable("the SQLite writer has stopped".into()))?
    }

    /// Runs `work` (all of a request's queries) on a reader's connection, in one hand-off.
    pub async fn read<T, F>(&self, work: F) -> Result<T, RepoError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, RepoError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let read: Read = Box::new(move |conn| {
            let _ = reply.send(work(conn));
        });
        self.readers
            .send(read)
            .map_err(|_| RepoError::Unavailable("the SQLite readers have stopped".into()))?;
        answer.await.map_err(|_| RepoError::Unavailable("an SQLite reader has stopped".into()))?
    }

    pub fn reader_use(&self) -> ReaderUse {
        ReaderUse { readers: READERS as u32, queued: self.readers.len() as u32 }
    }
}

fn spawn(name: &str, body: impl FnOnce() + Send + 'static) -> Result<(), RepoError> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(body)
        .map(|_| ())
        .map_err(|e| RepoError::database(format!("cannot start {name}: {e}")))
}

/// The writer: takes everything queued, runs it in one transaction, each request in its own
/// savepoint, commits, then answers every request of the batch. Between batches, at most
/// every `CHECKPOINT_EVERY`, it folds the write-ahead log into the database: after the
/// batch's answers, and right before the next `BEGIN`, so that the log starts over from its
/// beginning instead of growing while readers keep it in use.
fn write_loop(conn: Connection, jobs: flume::Receiver<Job>) {
    let mut last_checkpoint = std::time::Instant::now();
    let mut written = false;
    while let Ok(first) = jobs.recv() {
        let mut batch = Vec::with_capacity(16);
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let committed = run_batch(&conn, &mut batch);
        written |= committed.is_ok();
        for job in batch {
            job.finish(committed.clone());
        }
        if written && last_checkpoint.elapsed() >= CHECKPOINT_EVERY {
            let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            last_checkpoint = std::time::Instant::now();
            written = false;
        }
    }
}

fn run_batch(conn: &Connection, batch: &mut [Job]) -> Result<(), RepoError> {
    exec(conn, "BEGIN IMMEDIATE")?;
    for job in batch.iter_mut() {
        job.run(conn);
        // An I/O error or a full disk can make SQLite roll the whole transaction back: the
        // requests before this one are then not committed either.
        if conn.is_autocommit() {
            return Err(RepoError::Unavailable("the batch's transaction was rolled back by the database".into()));
        }
    }
    if let Err(err) = exec(conn, "COMMIT") {
        if !conn.is_autocommit() {
            let _ = exec(conn, "ROLLBACK");
        }
        return Err(err);
    }
    Ok(())
}

fn exec(conn: &Connection, sql: &str) -> Result<(), RepoError> {
    conn.prepare_cached(sql).and_then(|mut s| s.execute([])).map(|_| ()).map_err(error)
}

/// SQLite's primary result codes that mean "busy, locked, read-only, I/O error, full or cannot
/// open": the database is unavailable (`503`), not broken.
pub fn error(err: rusqlite::Error) -> RepoError {
    use rusqlite::ErrorCode::*;
    match &err {
        rusqlite::Error::SqliteFailure(e, _)
            if matches!(
                e.code,
                DatabaseBusy | DatabaseLocked | ReadOnly | SystemIoFailure | DiskFull | CannotOpen
            ) =>
        {
            RepoError::Unavailable(err.to_string())
        }
        _ => RepoError::from_source(err),
    }
}

// ----- statements built by sea-query, run on rusqlite -----

/// A sea-query value bound as an SQLite parameter, encoded as sqlx encodes it (timestamps as
/// RFC 3339 text), so rows written by either driver compare and sort alike.
struct Param<'a>(&'a sea_query::Value);

impl ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        use sea_query::Value as V;
        Ok(match self.0 {
            V::Bool(v) => v.map_or(ToSqlOutput::Owned(SqlValue::Null), |b| ToSqlOutput::Owned(SqlValue::Integer(b as i64))),
            V::TinyInt(v) => opt_int(v.map(i64::from)),
            V::SmallInt(v) => opt_int(v.map(i64::from)),
            V::Int(v) => opt_int(v.map(i64::from)),
            V::BigInt(v) => opt_int(*v),
            V::TinyUnsigned(v) => opt_int(v.map(i64::from)),
            V::SmallUnsigned(v) => opt_int(v.map(i64::from)),
            V::Unsigned(v) => opt_int(v.map(i64::from)),
            V::BigUnsigned(v) => opt_int(v.and_then(|n| i64::try_from(n).ok())),
            V::String(v) => v.as_deref().map_or(ToSqlOutput::Owned(SqlValue::Null), |s| ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))),
            V::ChronoDateTimeUtc(v) => v.as_ref().map_or(ToSqlOutput::Owned(SqlValue::Null), |t| {
                ToSqlOutput::Owned(SqlValue::Text(timestamp(t)))
            }),
            other => {
                return Err(rusqlite::Error::ToSqlConversionFailure(format!("unsupported parameter {other:?}").into()));
            }
        })
    }
}

fn opt_int(v: Option<i64>) -> ToSqlOutput<'static> {
    ToSqlOutput::Owned(v.map_or(SqlValue::Null, SqlValue::Integer))
}

/// How timestamps are stored on SQLite (sqlx's encoding of `DateTime<Utc>`).
pub fn timestamp(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// Reads a stored timestamp back.
pub fn parse_timestamp(text: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").map(|t| t.and_utc())
        })
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

/// Builds `statement` for SQLite.
pub fn build<S: sea_query::QueryStatementWriter>(statement: &S) -> (String, sea_query::Values) {
    statement.build(SqliteQueryBuilder)
}

/// Runs a query and maps each row.
pub fn query<S, T>(conn: &Connection, statement: &S, mut map: impl FnMut(&rusqlite::Row<'_>) -> Result<T, RepoError>) -> Result<Vec<T>, RepoError>
where
    S: sea_query::QueryStatementWriter,
{
    let (sql, values) = build(statement);
    let mut prepared = conn.prepare_cached(&sql).map_err(error)?;
    let mut rows = prepared.query(rusqlite::params_from_iter(values.iter().map(Param))).map_err(error)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(error)? {
        out.push(map(row)?);
    }
    Ok(out)
}

/// Runs a query expected to answer at most one row.
pub fn query_one<S, T>(conn: &Connection, statement: &S, map: impl FnMut(&rusqlite::Row<'_>) -> Result<T, RepoError>) -> Result<Option<T>, RepoError>
where
    S: sea_query::QueryStatementWriter,
{
    Ok(query(conn, statement, map)?.into_iter().next())
}

/// Runs a statement that changes rows; returns how many.
pub fn execute<S: sea_query::QueryStatementWriter>(conn: &Connection, statement: &S) -> Result<usize, RepoError> {
    let (sql, values) = build(statement);
    let mut prepared = conn.prepare_cached(&sql).map_err(error)?;
    prepared.execute(rusqlite::params_from_iter(values.iter().map(Param))).map_err(error)
}

/// Runs a statement built once (see `shapes.rs`) that changes rows; returns how many.
pub fn execute_shape(conn: &Connection, shape: &Shape, args: &[Arg]) -> Result<usize, RepoError> {
    let (sql, values) = shape.sqlite(args);
    let mut prepared = conn.prepare_cached(sql).map_err(error)?;
    prepared.execute(rusqlite::params_from_iter(values.iter().map(Param))).map_err(error)
}

/// Runs a query built once and maps each row.
pub fn query_shape<T>(
    conn: &Connection,
    shape: &Shape,
    args: &[Arg],
    mut map: impl FnMut(&rusqlite::Row<'_>) -> Result<T, RepoError>,
) -> Result<Vec<T>, RepoError> {
    let (sql, values) = shape.sqlite(args);
    let mut prepared = conn.prepare_cached(sql).map_err(error)?;
    let mut rows = prepared.query(rusqlite::params_from_iter(values.iter().map(Param))).map_err(error)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(error)? {
        out.push(map(row)?);
    }
    Ok(out)
}

/// Runs a query built once, expected to answer at most one row.
pub fn query_shape_one<T>(
    conn: &Connection,
    shape: &Shape,
    args: &[Arg],
    map: impl FnMut(&rusqlite::Row<'_>) -> Result<T, RepoError>,
) -> Result<Option<T>, RepoError> {
    Ok(query_shape(conn, shape, args, map)?.into_iter().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> (tempfile::TempDir, Sqlite) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite3");
        let setup = Connection::open(&path).unwrap();
        setup
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER NOT NULL CHECK (x > 0));")
            .unwrap();
        let engine = Sqlite::open(&format!("sqlite://{}", path.display()), Durability::Full).unwrap();
        (dir, engine)
    }

    fn insert(x: i64) -> impl FnOnce(&Connection) -> Result<usize, RepoError> + Send + 'static {
        move |conn| conn.execute("INSERT INTO t (x) VALUES (?1)", [x]).map_err(error)
    }

    /// Requests queued together commit together, and one request's failure undoes its own
    /// writes only: the others of its batch are committed and answered so.
    #[tokio::test]
    async fn one_failure_in_a_batch_rolls_back_only_its_own_work() {
        let (_dir, engine) = engine();
        // Hold the writer so that the next three requests queue into one batch.
        let hold = {
            let engine = engine.clone();
            tokio::spawn(async move {
                engine
                    .write(|conn| {
                        std::thread::sleep(Duration::from_millis(300));
                        insert(1)(conn)
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (a, bad, b) = tokio::join!(
            engine.write(insert(2)),
            engine.write(|conn| {
                insert(3)(conn)?;
                insert(-1)(conn) // breaks the CHECK after a write of its own
            }),
            engine.write(insert(4)),
        );
        assert_eq!(hold.await.unwrap().unwrap(), 1);
        assert_eq!((a.unwrap(), b.unwrap()), (1, 1));
        assert!(matches!(bad, Err(RepoError::Database { .. })), "{bad:?}");
        let rows = engine
            .read(|conn| {
                let mut s = conn.prepare("SELECT x FROM t ORDER BY x").map_err(error)?;
                let xs = s.query_map([], |r| r.get::<_, i64>(0)).map_err(error)?;
                xs.collect::<Result<Vec<_>, _>>().map_err(error)
            })
            .await
            .unwrap();
        assert_eq!(rows, vec![1, 2, 4], "3 was undone with its request; the others committed");
    }

    /// A database another connection holds locked answers `Unavailable` (503) once the busy
    /// timeout runs out, for every request of the batch; reads go on meanwhile.
    #[tokio::test]
    async fn a_locked_database_fails_the_batch_as_unavailable() {
        let (dir, engine) = engine();
        let other = Connection::open(dir.path().join("t.sqlite3")).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let started = std::time::Instant::now();
        let read = engine.read(|conn| conn.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0)).map_err(error));
        assert_eq!(read.await.unwrap(), 0, "reads go on");
        let write = engine.write(insert(1)).await;
        assert!(matches!(write, Err(RepoError::Unavailable(_))), "{write:?}");
        assert!(started.elapsed() >= BUSY_TIMEOUT, "waited for the busy timeout");
        other.execute_batch("ROLLBACK").unwrap();
        assert_eq!(engine.write(insert(1)).await.unwrap(), 1, "served again once unlocked");
    }
}
