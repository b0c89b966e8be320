//! SQLite on the request path, without an async driver in between: one thread owns the write
//! connection and commits everything queued in one transaction (group commit), and reads run
//! on synchronous reader connections, a request's queries in one blocking call. The writer
//! never waits for the disk: a syncer thread flushes the log and releases each batch's answers,
//! and a checkpointer thread folds the log back into the database.
//!
//! sqlx's SQLite driver runs each connection on a thread of its own and hands every statement
//! over and every answer back: two thread switches per statement, which cost more than the
//! statements. Here a request costs one hand-off, whatever its number of statements.

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
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
/// How often the checkpointer folds the write-ahead log back into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// At most this many checkpoint passes beside the writer before the one between its batches.
const CHECKPOINT_PASSES: usize = 4;
/// How often the checkpointer lets the log start over (the writer waits for that pass).
const RESTART_EVERY: Duration = Duration::from_millis(400);
/// Few enough pages written during a pass for the writer to wait while they are folded back.
const FEW_FRAMES: i64 = 256;
/// The log's size kept on disk when it starts over (bytes).
const WAL_SIZE_LIMIT: u64 = 64 << 20;
/// The writer's page cache: the pages a write changes (the pairs' and counters' B-trees) stay
/// in it from one batch to the next instead of being read again from the file.
const WRITER_CACHE_KIB: u32 = 8192;

/// How a commit reaches the disk. The writer itself always commits at `synchronous=NORMAL`
/// (its `COMMIT` writes the log and does not wait for the disk); durability is what happens
/// between that `COMMIT` and the answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// A syncer thread flushes the write-ahead log (`fdatasync`) after each batch commits and
    /// only then releases that batch's answers, so a power loss loses nothing acknowledged
    /// (what `synchronous=FULL` promises), while the writer goes on with the next batch.
    #[default]
    Full,
    /// Answers as soon as `COMMIT` returns: a killed process loses nothing acknowledged, a
    /// power loss may lose the last commits (the log is flushed at checkpoints only).
    Normal,
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

    fn open(&self) -> Result<Connection, RepoError> {
        let mut flags = OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        flags |= if self.read_only { OpenFlags::SQLITE_OPEN_READ_ONLY } else { OpenFlags::SQLITE_OPEN_READ_WRITE };
        let conn = Connection::open_with_flags(&self.path, flags).map_err(error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(error)?;
        // Plans that do not depend on the values bound: otherwise SQLite prepares a statement
        // again whenever a value it looked at (a LIMIT, an OFFSET) changes.
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true).map_err(error)?;
        conn.set_prepared_statement_cache_capacity(64);
        // journal_mode=WAL is a property of the file (set when sqlx created it); these are per
        // connection. NORMAL: no flush inside `COMMIT`; the syncer flushes (see `Durability`),
        // and a checkpoint flushes the log before it copies it into the database.
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;").map_err(error)?;
        Ok(conn)
    }
}

/// One request's unit of work for the writer, and where its answer goes once the batch it ran
/// in has committed (or failed). A unit can run twice: when another request of its batch fails
/// after writing, the batch is rolled back and replayed (see `run_batch`).
trait Unit: Send {
    /// Runs the work; `guarded`: in a savepoint of its own. Answers `false` when the work
    /// failed after changing rows outside a savepoint: the batch must be replayed.
    fn run(&mut self, conn: &Connection, guarded: bool) -> bool;
    fn finish(self: Box<Self>, commit: Result<(), RepoError>);
}

struct Pending<T, F> {
    work: F,
    outcome: Option<Result<T, RepoError>>,
    reply: oneshot::Sender<Result<T, RepoError>>,
}

impl<T, F> Unit for Pending<T, F>
where
    T: Send,
    F: Fn(&Connection) -> Result<T, RepoError> + Send,
{
    fn run(&mut self, conn: &Connection, guarded: bool) -> bool {
        if guarded {
            // A failure undoes this request's writes only.
            self.outcome = Some((|| {
                exec(conn, "SAVEPOINT unit")?;
                let outcome = (self.work)(conn);
                if outcome.is_err() {
                    exec(conn, "ROLLBACK TO unit")?;
                }
                exec(conn, "RELEASE unit")?;
                outcome
            })());
            return true;
        }
        // SQLite undoes a failed statement's own changes; a failure that changed no row
        // before it (a check that failed, a constraint of the first write) leaves nothing
        // to undo.
        let before = conn.total_changes();
        let outcome = (self.work)(conn);
        let clean = outcome.is_ok() || conn.total_changes() == before;
        self.outcome = Some(outcome);
        clean
    }

    /// Answers only after `COMMIT` returned (and, with `Durability::Full`, the log's flush):
    /// a `200` means committed.
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
    /// The highest event number known to be on disk (`Durability::Full`), `None` otherwise.
    durable_events: Option<Arc<AtomicI64>>,
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
    /// Opens the writer and the readers, each connection on a thread of its own, the
    /// checkpointer, and with `Durability::Full` the syncer. The file must exist and be in WAL
    /// mode already (`Repo::connect` sees to it). The threads end when the last clone of the
    /// engine is dropped, the writer after its batch.
    pub fn open(url: &str, durability: Durability) -> Result<Sqlite, RepoError> {
        let target = Target::parse(url)?;
        let flush = match durability {
            Durability::Full if !target.read_only => Some(wal_flush(&target.path)),
            _ => None,
        };
        Sqlite::open_with(target, flush)
    }

    fn open_with(target: Target, flush: Option<Flush>) -> Result<Sqlite, RepoError> {
        let writer_conn = target.open()?;
        // The checkpointer folds the log into the database (see `checkpoint_loop`), never the
        // writer's own commits. A replayed batch's savepoints journal the pages they change: in
        // memory, not a temp file. Under load the log grows to `RESTART_EVERY`'s writes; when
        // it starts over it is cut back to `WAL_SIZE_LIMIT`.
        writer_conn
            .execute_batch(&format!(
                "PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -{WRITER_CACHE_KIB}; \
                 PRAGMA journal_size_limit = {WAL_SIZE_LIMIT};"
            ))
            .map_err(error)?;
        let gate = Gate::default();
        // A bounded queue of one: "there is something to checkpoint", however many batches.
        let (written, to_checkpoint) = flume::bounded::<()>(1);
        let checkpointer_conn = target.open()?;
        let checkpointer_gate = gate.clone();
        spawn("sqlite-checkpointer", move || checkpoint_loop(checkpointer_conn, to_checkpoint, checkpointer_gate))?;
        let (syncer, durable_events) = match flush {
            Some(mut flush) => {
                let outbox = target.open()?;
                // What is in the file now (a previous process's last commits included) is on
                // disk before the first answer.
                let end = outbox_end(&outbox).unwrap_or(0);
                flush().map_err(flush_failed)?;
                let durable = Arc::new(AtomicI64::new(end));
                let (committed, to_sync) = flume::unbounded::<Committed>();
                let syncer = Syncer { flush, outbox, durable_events: durable.clone() };
                spawn("sqlite-syncer", move || sync_loop(syncer, to_sync))?;
                (Some(committed), Some(durable))
            }
            None => (None, None),
        };
        let (writer, jobs) = flume::unbounded::<Job>();
        let write_side = WriteSide { conn: writer_conn, gate, written, syncer };
        spawn("sqlite-writer", move || write_loop(write_side, jobs))?;
        let (readers, reads) = flume::unbounded::<Read>();
        for i in 0..READERS {
            let conn = target.open()?;
            conn.execute_batch(&format!("PRAGMA query_only = ON; PRAGMA cache_size = -{READER_CACHE_KIB};")).map_err(error)?;
            let reads = reads.clone();
            spawn(&format!("sqlite-reader-{i}"), move || {
                while let Ok(read) = reads.recv() {
                    read(&conn);
                }
            })?;
        }
        Ok(Sqlite { writer, readers, durable_events })
    }

    /// The highest event number whose commit is on disk, with `Durability::Full`: the outbox's
    /// readers (live updates, streams) serve no event past it, so that no one sees an event a
    /// power loss could take back and number again. `None`: every committed event may be served.
    pub fn durable_events(&self) -> Option<i64> {
        self.durable_events.as_ref().map(|d| d.load(Ordering::Acquire))
    }

    /// Runs `work` in the writer's next batch and answers once that batch has committed (and,
    /// with `Durability::Full`, once the log holding it is flushed).
    pub async fn write<T, F>(&self, work: F) -> Result<T, RepoError>
    where
        T: Send + 'static,
        F: Fn(&Connection) -> Result<T, RepoError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(Pending { work, outcome: None, reply });
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

/// What makes the log durable before a committed batch's answers go out.
type Flush = Box<dyn FnMut() -> std::io::Result<()> + Send>;

/// `fdatasync` of the write-ahead log, opened at its first use (it lasts as long as the
/// writer's connection, which holds it open).
fn wal_flush(database: &std::path::Path) -> Flush {
    let mut wal = database.as_os_str().to_owned();
    wal.push("-wal");
    let wal = PathBuf::from(wal);
    let mut file: Option<std::fs::File> = None;
    Box::new(move || {
        let file = match &mut file {
            Some(file) => file,
            None => match std::fs::File::open(&wal) {
                Ok(opened) => file.insert(opened),
                // No log yet: nothing has been committed to one (a closing connection folds
                // its log into the database, flushed, before it removes it).
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(e),
            },
        };
        file.sync_data()
    })
}

/// Held by the writer from `BEGIN` to `COMMIT`: the checkpointer takes it to finish a
/// checkpoint between two batches (see `checkpoint_loop`).
#[derive(Clone, Default)]
struct Gate(Arc<Mutex<()>>);

impl Gate {
    fn hold(&self) -> MutexGuard<'_, ()> {
        // The mutex guards no data: a holder that panicked leaves nothing half-done.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A failed flush: the batches it covered are committed but not known to be on disk (`503`).
fn flush_failed(e: std::io::Error) -> RepoError {
    RepoError::Unavailable(format!("cannot flush the write-ahead log: {e}"))
}

/// The writer's connection and what it hands on.
struct WriteSide {
    conn: Connection,
    gate: Gate,
    /// Tells the checkpointer there is something to fold back.
    written: flume::Sender<()>,
    /// Committed batches on their way to the flush (`Durability::Full`); `None`: answered at
    /// once.
    syncer: Option<flume::Sender<Committed>>,
}

/// A committed batch on its way to the syncer.
struct Committed {
    batch: Vec<Job>,
    /// Whether it changed any row (else it wrote nothing to the log).
    wrote: bool,
}

/// The writer: takes everything queued, runs it in one transaction (see `run_batch`), and
/// commits. It never waits for the disk: a committed batch goes to the syncer,
/// which answers it once the log is flushed, while the writer builds the next batch; a batch
/// that failed is answered at once (nothing of it is committed).
fn write_loop(side: WriteSide, jobs: flume::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = Vec::with_capacity(16);
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let changes_before = side.conn.total_changes();
        let committed = {
            let _batch = side.gate.hold();
            run_batch(&side.conn, &mut batch)
        };
        let wrote = side.conn.total_changes() != changes_before;
        if committed.is_ok() && wrote {
            let _ = side.written.try_send(());
        }
        match (committed, &side.syncer) {
            (Ok(()), Some(syncer)) => {
                // A batch that wrote nothing still waits for the flush of the batches before
                // it, whose rows it may have read.
                if let Err(flume::SendError(Committed { batch, .. })) = syncer.send(Committed { batch, wrote }) {
                    let stopped = Err(RepoError::Unavailable("the SQLite syncer has stopped".into()));
                    batch.into_iter().for_each(|job| job.finish(stopped.clone()));
                }
            }
            (committed, _) => batch.into_iter().for_each(|job| job.finish(committed.clone())),
        }
    }
}

/// The syncer's flush, and what it says is on disk.
struct Syncer {
    flush: Flush,
    /// A connection of its own, to read the outbox's end before each flush.
    outbox: Connection,
    durable_events: Arc<AtomicI64>,
}

/// How long the syncer waits for a batch before it looks for commits of other processes (an
/// operator's command) whose events are not yet marked durable.
const SYNCER_IDLE: Duration = Duration::from_millis(100);

/// The highest event number committed (0: none; an error: no outbox yet, or busy).
fn outbox_end(conn: &Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT coalesce(max(event_id), 0) FROM events")?.query_row([], |r| r.get(0))
}

/// The syncer: flushes the log once for every batch committed since its last flush, then
/// marks the events committed before the flush durable, then answers the batches. A failed
/// flush answers `503`: those changes are committed but not known to be on disk, so nothing is
/// acknowledged that a power loss could take back.
fn sync_loop(mut syncer: Syncer, committed: flume::Receiver<Committed>) {
    loop {
        let (mut batches, mut wrote) = match committed.recv_timeout(SYNCER_IDLE) {
            Ok(Committed { batch, wrote }) => (batch, wrote),
            Err(flume::RecvTimeoutError::Timeout) => (Vec::new(), false),
            Err(flume::RecvTimeoutError::Disconnected) => return,
        };
        while let Ok(more) = committed.try_recv() {
            batches.extend(more.batch);
            wrote |= more.wrote;
        }
        // Read before the flush: every event up to it is then on disk.
        let end = outbox_end(&syncer.outbox).ok();
        let known = syncer.durable_events.load(Ordering::Acquire);
        let flushed = if wrote || end.is_some_and(|end| end > known) {
            // Also what another process (an operator's command) committed meanwhile.
            (syncer.flush)().map_err(flush_failed)
        } else {
            // Nothing written since the last flush, which covered every batch before these.
            Ok(())
        };
        if let (Ok(()), Some(end)) = (&flushed, end) {
            syncer.durable_events.fetch_max(end, Ordering::AcqRel);
        }
        batches.into_iter().for_each(|job| job.finish(flushed.clone()));
    }
}

/// The checkpointer, at most every `CHECKPOINT_EVERY` while there are writes: folds the log
/// into the database beside the writer (the copy and both flushes), pass after pass while the
/// writer adds many pages during one. At most every `RESTART_EVERY` it takes one more pass
/// between two of the writer's batches, so that every page is back in the database and the
/// writer's next `BEGIN` starts the log over from its beginning instead of letting it grow: the
/// writer waits only for that pass, whose pages are the few written since the last one.
fn checkpoint_loop(conn: Connection, written: flume::Receiver<()>, gate: Gate) {
    // The log's length in frames when the pass began; `None` when it could not run (busy).
    let checkpoint = || {
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
            .ok()
            .and_then(|(busy, log)| (busy == 0).then_some(log))
    };
    let mut last_restart = std::time::Instant::now();
    while written.recv().is_ok() {
        let started = std::time::Instant::now();
        let mut log_before = None;
        for _ in 0..CHECKPOINT_PASSES {
            let Some(log) = checkpoint() else { break };
            // What the writer added during the last pass (a smaller log: it started over).
            if log_before.is_some_and(|before| log < before || log - before <= FEW_FRAMES) {
                break;
            }
            log_before = Some(log);
        }
        if last_restart.elapsed() >= RESTART_EVERY {
            let _between_batches = gate.hold();
            checkpoint();
            last_restart = std::time::Instant::now();
        }
        std::thread::sleep(CHECKPOINT_EVERY.saturating_sub(started.elapsed()));
    }
}

/// Runs the batch in one transaction, without a savepoint per request: most batches have no
/// failure, and a savepoint journals every page its request changes. When a request fails after
/// changing rows, the batch is rolled back and replayed, each request in a savepoint of its own.
fn run_batch(conn: &Connection, batch: &mut [Job]) -> Result<(), RepoError> {
    exec(conn, "BEGIN IMMEDIATE")?;
    let mut clean = true;
    for job in batch.iter_mut() {
        clean = job.run(conn, false);
        rolled_back_by_the_database(conn)?;
        if !clean {
            break;
        }
    }
    if !clean {
        exec(conn, "ROLLBACK")?;
        exec(conn, "BEGIN IMMEDIATE")?;
        for job in batch.iter_mut() {
            job.run(conn, true);
            rolled_back_by_the_database(conn)?;
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

/// An I/O error or a full disk can make SQLite roll the whole transaction back: the requests
/// before this one are then not committed either.
fn rolled_back_by_the_database(conn: &Connection) -> Result<(), RepoError> {
    if conn.is_autocommit() {
        return Err(RepoError::Unavailable("the batch's transaction was rolled back by the database".into()));
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

    fn database() -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite3");
        let setup = Connection::open(&path).unwrap();
        setup
            .execute_batch(
                "PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER NOT NULL CHECK (x > 0)); CREATE TABLE events (event_id INTEGER);",
            )
            .unwrap();
        (dir, format!("sqlite://{}", path.display()))
    }

    fn engine() -> (tempfile::TempDir, Sqlite) {
        let (dir, url) = database();
        (dir, Sqlite::open(&url, Durability::Full).unwrap())
    }

    /// An engine whose log flush waits for the test's word (after the one of its opening): each
    /// send lets one flush happen and answers it with what the test sent.
    fn engine_with_held_flush() -> (tempfile::TempDir, Sqlite, std::sync::mpsc::SyncSender<std::io::Result<()>>) {
        let (dir, url) = database();
        let (release, flushes) = std::sync::mpsc::sync_channel::<std::io::Result<()>>(0);
        let mut opening = true;
        let flush: Flush = Box::new(move || if std::mem::take(&mut opening) { Ok(()) } else { flushes.recv().unwrap_or(Ok(())) });
        let engine = Sqlite::open_with(Target::parse(&url).unwrap(), Some(flush)).unwrap();
        (dir, engine, release)
    }

    async fn count(engine: &Sqlite) -> Result<i64, RepoError> {
        rows_in(engine, "t").await
    }

    async fn rows_in(engine: &Sqlite, table: &'static str) -> Result<i64, RepoError> {
        engine.read(move |conn| conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get::<_, i64>(0)).map_err(error)).await
    }

    /// Starts `work` in the writer, and returns once its commit is visible in `table` (the
    /// writer does not wait for the flush): the answer is still to come.
    async fn committed<T: Send + 'static>(
        engine: &Sqlite,
        table: &'static str,
        work: impl Fn(&Connection) -> Result<T, RepoError> + Send + 'static,
    ) -> tokio::task::JoinHandle<Result<T, RepoError>> {
        let write = tokio::spawn({
            let engine = engine.clone();
            async move { engine.write(work).await }
        });
        while rows_in(engine, table).await.unwrap() == 0 {
            tokio::task::yield_now().await;
        }
        write
    }

    /// A committed batch is answered only after the log's flush: until then its rows are in
    /// the database (readers see them) and its request has no answer.
    #[tokio::test]
    async fn an_answer_waits_for_the_flush_of_its_commit() {
        let (_dir, engine, release) = engine_with_held_flush();
        let write = committed(&engine, "t", insert(1)).await;
        assert!(!write.is_finished(), "answered before the flush");
        tokio::task::spawn_blocking(move || release.send(Ok(())).unwrap()).await.unwrap();
        assert_eq!(write.await.unwrap().unwrap(), 1, "answered once flushed");
    }

    /// An event is served (live updates, streams) only once its commit is on disk: a power
    /// loss cannot take back, and number again, an event someone has seen.
    #[tokio::test]
    async fn events_are_durable_only_after_the_flush() {
        let (_dir, engine, release) = engine_with_held_flush();
        assert_eq!(engine.durable_events(), Some(0));
        let write = committed(&engine, "events", |conn| conn.execute("INSERT INTO events (event_id) VALUES (1)", []).map_err(error)).await;
        assert_eq!(engine.durable_events(), Some(0), "committed, not yet on disk");
        tokio::task::spawn_blocking(move || release.send(Ok(())).unwrap()).await.unwrap();
        write.await.unwrap().unwrap();
        assert_eq!(engine.durable_events(), Some(1), "on disk before the answer");
    }

    /// A batch that changed no row (a repeated request, a refused one) costs no flush when
    /// every batch before it is on disk.
    #[tokio::test]
    async fn a_batch_that_wrote_nothing_is_answered_without_a_flush() {
        let (_dir, engine, _held) = engine_with_held_flush();
        let unchanged = engine.write(|conn| conn.execute("UPDATE t SET x = 2 WHERE x = 1", []).map_err(error));
        let answer = tokio::time::timeout(Duration::from_secs(30), unchanged).await.expect("answered with the flush held");
        assert_eq!(answer.unwrap(), 0);
    }

    /// A flush that fails answers `503`: committed, but not known to be on disk, so not
    /// acknowledged.
    #[tokio::test]
    async fn a_failed_flush_answers_unavailable() {
        let (_dir, engine, release) = engine_with_held_flush();
        let write = tokio::spawn({
            let engine = engine.clone();
            async move { engine.write(insert(1)).await }
        });
        tokio::task::spawn_blocking(move || release.send(Err(std::io::Error::other("disk gone"))).unwrap()).await.unwrap();
        let answer = write.await.unwrap();
        assert!(matches!(&answer, Err(RepoError::Unavailable(m)) if m.contains("flush")), "{answer:?}");
    }

    /// The log starts over while writes go on (the checkpointer's pass between two batches):
    /// its header's checkpoint sequence number moves on.
    #[tokio::test]
    async fn the_log_starts_over_while_writes_go_on() {
        let (dir, engine) = engine();
        let wal = dir.path().join("t.sqlite3-wal");
        let sequence = || {
            let header = std::fs::read(&wal).unwrap_or_default();
            header.get(12..16).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        engine.write(insert(1)).await.unwrap();
        let first = sequence().expect("the log has a header after a commit");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while sequence() == Some(first) {
            assert!(std::time::Instant::now() < deadline, "the log never started over");
            engine.write(insert(1)).await.unwrap();
        }
    }

    /// A batch runs without savepoints. A request that fails without changing a row leaves
    /// its batch alone; one that fails after changing rows has the batch replayed, each
    /// request in a savepoint: the others' work runs again, and its own is undone.
    #[tokio::test]
    async fn a_batch_is_replayed_only_when_a_failure_changed_rows() {
        use std::sync::atomic::AtomicUsize;
        for (failure_writes_first, runs_expected) in [(false, 1), (true, 2)] {
            let (_dir, engine) = engine();
            let runs = Arc::new(AtomicUsize::new(0));
            let hold = hold_the_writer(&engine).await;
            let counted = {
                let runs = runs.clone();
                engine.write(move |conn| {
                    runs.fetch_add(1, Ordering::SeqCst);
                    insert(2)(conn)
                })
            };
            let failing = engine.write(move |conn| {
                if failure_writes_first {
                    insert(3)(conn)?;
                }
                insert(-1)(conn)
            });
            let (counted, failing) = tokio::join!(counted, failing);
            hold.await.unwrap().unwrap();
            assert_eq!(counted.unwrap(), 1);
            assert!(matches!(failing, Err(RepoError::Database { .. })), "{failing:?}");
            assert_eq!(runs.load(Ordering::SeqCst), runs_expected, "failure after a write: {failure_writes_first}");
            assert_eq!(count(&engine).await.unwrap(), 2, "1 and 2 committed once, 3 undone");
        }
    }

    /// Keeps the writer busy for a while (its request inserts 1), so that the requests made
    /// meanwhile queue into one batch.
    async fn hold_the_writer(engine: &Sqlite) -> tokio::task::JoinHandle<Result<usize, RepoError>> {
        let engine = engine.clone();
        let hold = tokio::spawn(async move {
            engine
                .write(|conn| {
                    std::thread::sleep(Duration::from_millis(300));
                    insert(1)(conn)
                })
                .await
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        hold
    }

    fn insert(x: i64) -> impl Fn(&Connection) -> Result<usize, RepoError> + Send + 'static {
        move |conn| conn.execute("INSERT INTO t (x) VALUES (?1)", [x]).map_err(error)
    }

    /// Requests queued together commit together, and one request's failure undoes its own
    /// writes only: the others of its batch are committed and answered so.
    #[tokio::test]
    async fn one_failure_in_a_batch_rolls_back_only_its_own_work() {
        let (_dir, engine) = engine();
        // Hold the writer so that the next three requests queue into one batch.
        let hold = hold_the_writer(&engine).await;
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
