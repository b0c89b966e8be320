//! PostgreSQL's relay: numbers committed events in commit order and makes their deliveries.
//! (On SQLite the writer numbers each event, and makes its deliveries, in the change's own
//! transaction: nothing is left to relay.)

use chrono::Utc;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, Statement, TransactionTrait};

use super::deliveries::{PENDING, millis};
use crate::db::connection::Repo;
use crate::db::entities::{events, webhook_deliveries as deliveries};
use crate::db::error::RepoError;

/// Most events one relay numbers in one transaction.
const RELAY_BATCH: i64 = 1000;
/// The lock that makes one relay at a time on PostgreSQL (any constant of this program's own).
const RELAY_LOCK: i64 = 0x636f_6e6e_6576;

/// PostgreSQL: numbers the oldest unnumbered events ($1: how many), after the highest number
/// given; answers the numbers. (sea-query builds no `UPDATE ... FROM` with a window function.)
const NUMBER_SQL: &str = "UPDATE events SET event_id = numbered.n + (SELECT COALESCE(MAX(event_id), 0) FROM events) \
    FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM events WHERE event_id IS NULL ORDER BY id LIMIT $1) \
    AS numbered WHERE events.id = numbered.id RETURNING events.event_id";

/// PostgreSQL: a delivery, due at $1, of each event numbered from $3 to $4 to each endpoint that
/// is active ($2: true) and subscribed to its type.
const FAN_OUT_SQL: &str = "INSERT INTO webhook_deliveries \
    (endpoint_id, event_id, state, attempts, next_attempt_ms, lease_until_ms) \
    SELECT s.endpoint_id, e.event_id, 'pending', 0, $1, 0 FROM events e \
    JOIN webhook_endpoint_events s ON s.type = e.type \
    JOIN webhook_endpoints w ON w.id = s.endpoint_id AND w.is_active = $2 \
    WHERE e.event_id BETWEEN $3 AND $4 ON CONFLICT (endpoint_id, event_id) DO NOTHING";

impl Repo {
    /// PostgreSQL's relay: numbers the committed events that have no `event_id` yet, in the
    /// order of their rows, after the highest number given, and makes a delivery of each to
    /// every active endpoint subscribed to its type, due at once. One relay at a time (a
    /// transaction-scoped advisory lock), so numbers never repeat and an event found committed
    /// later gets a higher number. Answers how many it numbered. (SQLite needs none.)
    pub async fn relay_events(&self) -> Result<usize, RepoError> {
        // SQLite numbers each event, and makes its deliveries, in the change's own transaction
        // (see [`super::append::event_insert`]): nothing is left to relay.
        if self.sqlite().is_some() {
            return Ok(0);
        }
        let now = millis(Utc::now());
        let backend = DbBackend::Postgres;
        let tx = self.connection().begin().await?;
        tx.execute_raw(Statement::from_sql_and_values(backend, "SELECT pg_advisory_xact_lock($1)", [RELAY_LOCK.into()])).await?;
        let numbered = tx.query_all_raw(Statement::from_sql_and_values(backend, NUMBER_SQL, [RELAY_BATCH.into()])).await?;
        let numbers: Vec<i64> = numbered.iter().map(|r| r.try_get_by_index::<i64>(0)).collect::<Result<_, _>>()?;
        if let (Some(first), Some(last)) = (numbers.iter().min(), numbers.iter().max()) {
            tx.execute_raw(Statement::from_sql_and_values(
                backend,
                FAN_OUT_SQL,
                [now.into(), true.into(), (*first).into(), (*last).into()],
            ))
            .await?;
        }
        tx.commit().await?;
        Ok(numbers.len())
    }

    /// Events not numbered yet, and deliveries still to make: the outbox's backlog.
    pub async fn outbox_backlog(&self) -> Result<(u64, u64), RepoError> {
        let db = self.connection();
        let unnumbered = events::Entity::find().filter(events::Column::EventId.is_null()).count(db).await?;
        let pending = deliveries::Entity::find().filter(deliveries::Column::State.eq(PENDING)).count(db).await?;
        Ok((unnumbered, pending))
    }
}
