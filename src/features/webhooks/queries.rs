//! The webhooks' queries: endpoints and their subscriptions, deliveries (claimed by one
//! dispatcher at a time), and the attempts' log. (The outbox's relay, which makes the
//! deliveries, is the outbox's.)
//!
//! These run through sea-orm on both engines (on SQLite, on its small pool beside the request
//! path's writer): they are the operator's and the dispatcher's work, a few statements a
//! second, not the request path's.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement, TransactionTrait,
};

use crate::db::connection::Repo;
use crate::db::entities::{events, webhook_attempts as attempts, webhook_deliveries as deliveries};
use crate::db::entities::{webhook_endpoint_events as subscriptions, webhook_endpoints as endpoints};
use crate::db::error::RepoError;
use crate::db::{rows, sqlite};
use crate::domain::paging::Page;
use crate::outbox::deliveries::{DELIVERED, FAILED, PENDING, millis};
use crate::outbox::events::EventWithUsers;

/// An endpoint with the event types it subscribes to (type, when added), in type order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub row: endpoints::Model,
    pub events: Vec<(String, DateTime<Utc>)>,
}

/// What a new endpoint or a change of one sets; `None` leaves a field as it is (a new
/// endpoint: its default).
#[derive(Clone, Debug, Default)]
pub struct EndpointFields {
    pub target: Option<String>,
    pub description: Option<String>,
    pub is_active: Option<bool>,
    pub ssl_cert_verification: Option<bool>,
    /// Event types; for a new endpoint, `None` or empty means every type.
    pub events: Option<Vec<String>>,
}

/// A delivery a dispatcher has leased: everything it needs to make the attempt.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub delivery_id: i64,
    pub attempts: i64,
    pub endpoint: endpoints::Model,
    pub event: EventWithUsers,
}

/// One attempt's outcome, as the dispatcher records it.
#[derive(Clone, Debug)]
pub struct AttemptRecord {
    pub sent_at: DateTime<Utc>,
    pub request_body: String,
    pub signature_header: String,
    pub response_code: Option<i64>,
    pub response_body: String,
    pub error: Option<String>,
    pub latency_ms: i64,
    /// `Some`: retry then; `None` with `delivered` false: the last retry failed.
    pub next_retry: Option<DateTime<Utc>>,
    pub delivered: bool,
}

/// Placeholders in each engine's way: `$1` or `?1`.
fn arg(backend: DbBackend, i: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${i}"),
        _ => format!("?{i}"),
    }
}

/// Leases (until argument 1) at most argument 3 deliveries due at argument 2 that no one holds.
fn claim_sql(b: DbBackend) -> String {
    let skip_locked = if b == DbBackend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
    format!(
        "UPDATE webhook_deliveries SET lease_until_ms = {} WHERE id IN (SELECT id FROM webhook_deliveries \
         WHERE state = '{PENDING}' AND next_attempt_ms <= {now} AND lease_until_ms <= {now} \
         AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE is_active) \
         ORDER BY next_attempt_ms LIMIT {}{skip_locked}) RETURNING id, endpoint_id, event_id, attempts",
        arg(b, 1),
        arg(b, 3),
        now = arg(b, 2)
    )
}

impl Repo {
    async fn subscriptions_of(&self, db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<subscriptions::Model>, RepoError> {
        Ok(subscriptions::Entity::find()
            .filter(subscriptions::Column::EndpointId.is_in(ids.iter().copied()))
            .order_by_asc(subscriptions::Column::Type)
            .all(db)
            .await?)
    }

    async fn with_events(&self, db: &impl ConnectionTrait, rows: Vec<endpoints::Model>) -> Result<Vec<Endpoint>, RepoError> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let subs = self.subscriptions_of(db, &ids).await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let events = subs.iter().filter(|s| s.endpoint_id == row.id).map(|s| (s.r#type.clone(), s.added_at)).collect();
                Endpoint { row, events }
            })
            .collect())
    }

    async fn set_subscriptions(&self, tx: &DatabaseTransaction, id: i64, types: &[String], now: DateTime<Utc>) -> Result<(), RepoError> {
        subscriptions::Entity::delete_many()
            .filter(subscriptions::Column::EndpointId.eq(id))
            .filter(subscriptions::Column::Type.is_not_in(types.iter().cloned()))
            .exec(tx)
            .await?;
        if !types.is_empty() {
            let rows = types.iter().map(|t| subscriptions::ActiveModel {
                endpoint_id: Set(id),
                r#type: Set(t.clone()),
                added_at: Set(now),
            });
            subscriptions::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::columns([subscriptions::Column::EndpointId, subscriptions::Column::Type]).do_nothing().to_owned(),
                )
                .exec_without_returning(tx)
                .await?;
        }
        Ok(())
    }

    /// Creates an endpoint signed with `secret`, subscribed to `fields.events` (every type of
    /// `all_types` when none are named).
    pub async fn create_endpoint(&self, fields: EndpointFields, secret: String, all_types: &[&str]) -> Result<Endpoint, RepoError> {
        let now = Utc::now();
        let tx = self.connection().begin().await?;
        let row = endpoints::ActiveModel {
            target: Set(fields.target.unwrap_or_default()),
            description: Set(fields.description.unwrap_or_default()),
            is_active: Set(fields.is_active.unwrap_or(true)),
            ssl_cert_verification: Set(fields.ssl_cert_verification.unwrap_or(true)),
            secret: Set(secret),
            previous_secret: Set(None),
            previous_secret_until_ms: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        let types = match fields.events {
            Some(types) if !types.is_empty() => types,
            _ => all_types.iter().map(|t| (*t).to_owned()).collect(),
        };
        self.set_subscriptions(&tx, row.id, &types, now).await?;
        let endpoint = self.with_events(&tx, vec![row]).await?.pop();
        tx.commit().await?;
        endpoint.ok_or_else(|| RepoError::database("the endpoint just created was not found"))
    }

    /// A page of the endpoints, in id order.
    pub async fn endpoints_page(&self, limit: u64, offset: u64) -> Result<Page<Endpoint>, RepoError> {
        let db = self.connection();
        let count = endpoints::Entity::find().count(db).await?;
        let rows = endpoints::Entity::find().order_by_asc(endpoints::Column::Id).limit(limit).offset(offset).all(db).await?;
        Ok(Page { count, items: self.with_events(db, rows).await? })
    }

    pub async fn endpoint(&self, id: i64) -> Result<Option<Endpoint>, RepoError> {
        let db = self.connection();
        match endpoints::Entity::find_by_id(id).one(db).await? {
            Some(row) => Ok(self.with_events(db, vec![row]).await?.pop()),
            None => Ok(None),
        }
    }

    /// Sets what `fields` names; `None` when there is no such endpoint.
    pub async fn update_endpoint(&self, id: i64, fields: EndpointFields) -> Result<Option<Endpoint>, RepoError> {
        let now = Utc::now();
        let tx = self.connection().begin().await?;
        let mut row = endpoints::ActiveModel { id: Set(id), updated_at: Set(now), ..Default::default() };
        if let Some(v) = fields.target {
            row.target = Set(v);
        }
        if let Some(v) = fields.description {
            row.description = Set(v);
        }
        if let Some(v) = fields.is_active {
            row.is_active = Set(v);
        }
        if let Some(v) = fields.ssl_cert_verification {
            row.ssl_cert_verification = Set(v);
        }
        let updated = endpoints::Entity::update_many()
            .set(row)
            .filter(endpoints::Column::Id.eq(id))
            .exec(&tx)
            .await?;
        if updated.rows_affected == 0 {
            return Ok(None);
        }
        if let Some(types) = fields.events {
            self.set_subscriptions(&tx, id, &types, now).await?;
        }
        let row = endpoints::Entity::find_by_id(id).one(&tx).await?;
        let endpoint = match row {
            Some(row) => self.with_events(&tx, vec![row]).await?.pop(),
            None => None,
        };
        tx.commit().await?;
        Ok(endpoint)
    }

    /// Removes the endpoint, its deliveries and its attempts' log. False: no such endpoint.
    pub async fn delete_endpoint(&self, id: i64) -> Result<bool, RepoError> {
        if self.sqlite().is_some() {
            return Ok(endpoints::Entity::delete_by_id(id).exec(self.connection()).await?.rows_affected == 1);
        }
        // PostgreSQL: the dispatcher records an attempt by locking its delivery, then sharing
        // the endpoint's row (the attempt's foreign key). Deleting the endpoint takes the other
        // order (its row, then the deliveries by cascade), and the two could wait for each
        // other in a circle (a deadlock, `503`): lock the deliveries first, in id order.
        let tx = self.connection().begin().await?;
        tx.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY id FOR UPDATE",
            [id.into()],
        ))
        .await?;
        let deleted = endpoints::Entity::delete_by_id(id).exec(&tx).await?.rows_affected == 1;
        tx.commit().await?;
        Ok(deleted)
    }

    /// The endpoint's signing secret (staff only; never logged).
    pub async fn endpoint_secret(&self, id: i64) -> Result<Option<String>, RepoError> {
        Ok(endpoints::Entity::find_by_id(id).one(self.connection()).await?.map(|r| r.secret))
    }

    /// A new secret; the current one keeps signing until `overlap_until`.
    pub async fn rotate_secret(&self, id: i64, secret: String, overlap_until: DateTime<Utc>) -> Result<Option<Endpoint>, RepoError> {
        let update = endpoints::Entity::update_many()
            .col_expr(endpoints::Column::PreviousSecret, Expr::col(endpoints::Column::Secret))
            .col_expr(endpoints::Column::PreviousSecretUntilMs, Expr::val(millis(overlap_until)))
            .col_expr(endpoints::Column::Secret, Expr::val(secret))
            .col_expr(endpoints::Column::UpdatedAt, Expr::val(Utc::now()))
            .filter(endpoints::Column::Id.eq(id));
        if update.exec(self.connection()).await?.rows_affected == 0 {
            return Ok(None);
        }
        self.endpoint(id).await
    }

    /// A page of the endpoint's attempts, newest first; `None`: no such endpoint.
    pub async fn attempts_page(&self, id: i64, limit: u64, offset: u64) -> Result<Option<Page<attempts::Model>>, RepoError> {
        let db = self.connection();
        if endpoints::Entity::find_by_id(id).one(db).await?.is_none() {
            return Ok(None);
        }
        let of_endpoint = || attempts::Entity::find().filter(attempts::Column::EndpointId.eq(id));
        let count = of_endpoint().count(db).await?;
        let items = of_endpoint()
            .order_by_desc(attempts::Column::CreatedAt)
            .order_by_desc(attempts::Column::Id)
            .limit(limit)
            .offset(offset)
            .all(db)
            .await?;
        Ok(Some(Page { count, items }))
    }

    /// Makes each of `event_ids` due again to the endpoint, now, with a full set of retries.
    /// `Ok(None)`: no such endpoint; `Err(Invalid)` names the events that do not exist (nothing
    /// is resent then). The checks are reads; the change is one statement (on SQLite a
    /// transaction that reads before it writes could not take the write lock once another
    /// writer committed in between), which writes nothing if the endpoint went meanwhile.
    pub async fn resend(&self, id: i64, event_ids: &[i64]) -> Result<Option<bool>, RepoError> {
        let db = self.connection();
        match endpoints::Entity::find_by_id(id).one(db).await? {
            None => return Ok(None),
            Some(endpoint) if !endpoint.is_active => return Ok(Some(false)),
            Some(_) => {}
        }
        let known: Vec<i64> = events::Entity::find()
            .select_only()
            .column(events::Column::EventId)
            .filter(events::Column::EventId.is_in(event_ids.iter().copied()))
            .into_tuple::<Option<i64>>()
            .all(db)
            .await?
            .into_iter()
            .flatten()
            .collect();
        let unknown: Vec<String> = event_ids.iter().filter(|e| !known.contains(e)).map(i64::to_string).collect();
        if !unknown.is_empty() {
            return Err(RepoError::Invalid(format!("no such event: {}", unknown.join(", "))));
        }
        use sea_orm::sea_query::Query;
        // Still there, and still active, when the statement runs.
        let endpoint_exists = Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(endpoints::Entity)
                .and_where(Expr::col(endpoints::Column::Id).eq(id))
                .and_where(Expr::col(endpoints::Column::IsActive).eq(true))
                .to_owned(),
        );
        let due = Query::select()
            .expr(Expr::val(id))
            .column(events::Column::EventId)
            .expr(Expr::val(PENDING))
            .expr(Expr::val(0i64))
            .expr(Expr::val(millis(Utc::now())))
            .expr(Expr::val(0i64))
            .from(events::Entity)
            .and_where(Expr::col(events::Column::EventId).is_in(known.iter().copied()))
            .and_where(endpoint_exists)
            .to_owned();
        use deliveries::Column as D;
        let mut insert = Query::insert()
            .into_table(deliveries::Entity)
            .columns([D::EndpointId, D::EventId, D::State, D::Attempts, D::NextAttemptMs, D::LeaseUntilMs])
            .to_owned();
        // A SELECT of as many values as columns: cannot fail.
        let _ = insert.select_from(due);
        insert.on_conflict(OnConflict::columns([D::EndpointId, D::EventId]).update_columns([D::State, D::Attempts, D::NextAttemptMs]).to_owned());
        db.execute(&insert).await?;
        Ok(Some(true))
    }

    /// Leases up to `limit` due deliveries until `now + lease` (PostgreSQL: rows another
    /// dispatcher is leasing are skipped, `FOR UPDATE SKIP LOCKED`; SQLite: the writer's thread;
    /// a lease that ran out, a crashed dispatcher's, is taken again) and reads what their
    /// attempts need.
    pub async fn claim_deliveries(&self, now: DateTime<Utc>, lease: std::time::Duration, limit: u64) -> Result<Vec<Claimed>, RepoError> {
        let now_ms = millis(now);
        let until = now_ms + lease.as_millis() as i64;
        let limit = limit as i64;
        let leased: Vec<(i64, i64, i64, i64)> = match self.sqlite() {
            Some(engine) => {
                engine
                    .write(move |conn| {
                        let mut statement = conn.prepare_cached(&claim_sql(DbBackend::Sqlite)).map_err(sqlite::error)?;
                        let rows = statement
                            .query_map(rusqlite::params![until, now_ms, limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                            .map_err(sqlite::error)?;
                        rows.collect::<Result<_, _>>().map_err(sqlite::error)
                    })
                    .await?
            }
            None => {
                let rows = self
                    .connection()
                    .query_all_raw(Statement::from_sql_and_values(
                        DbBackend::Postgres,
                        claim_sql(DbBackend::Postgres),
                        [until.into(), now_ms.into(), limit.into()],
                    ))
                    .await?;
                rows.iter()
                    .map(|row| {
                        Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?, row.try_get_by_index(2)?, row.try_get_by_index(3)?))
                    })
                    .collect::<Result<_, sea_orm::DbErr>>()?
            }
        };
        if leased.is_empty() {
            return Ok(Vec::new());
        }
        let endpoint_rows = endpoints::Entity::find()
            .filter(endpoints::Column::Id.is_in(leased.iter().map(|l| l.1)))
            .all(self.connection())
            .await?;
        let events = self.events_with_users(&leased.iter().map(|l| l.2).collect::<Vec<_>>()).await?;
        Ok(leased
            .into_iter()
            .filter_map(|(delivery_id, endpoint_id, event_id, attempts)| {
                let endpoint = endpoint_rows.iter().find(|e| e.id == endpoint_id)?.clone();
                let event = events.iter().find(|e| e.event.event_id == Some(event_id))?.clone();
                Some(Claimed { delivery_id, attempts, endpoint, event })
            })
            .collect())
    }

    /// Records an attempt and moves its delivery on: delivered, due again at `next_retry`, or
    /// failed, in one transaction (SQLite: the writer's). Nothing when the endpoint was removed
    /// meanwhile.
    pub async fn record_attempt(&self, claimed: &Claimed, record: &AttemptRecord) -> Result<(), RepoError> {
        let (state, next) = match (record.delivered, record.next_retry) {
            (true, _) => (DELIVERED, 0),
            (false, Some(at)) => (PENDING, millis(at)),
            (false, None) => (FAILED, 0),
        };
        use sea_orm::sea_query::Query;
        let moved = Query::update()
            .table(deliveries::Entity)
            .value(deliveries::Column::State, state)
            .value(deliveries::Column::Attempts, Expr::col(deliveries::Column::Attempts).add(1))
            .value(deliveries::Column::NextAttemptMs, next)
            .value(deliveries::Column::LeaseUntilMs, 0i64)
            .and_where(Expr::col(deliveries::Column::Id).eq(claimed.delivery_id))
            .to_owned();
        use attempts::Column as A;
        let logged = Query::insert()
            .into_table(attempts::Entity)
            .columns([
                A::EndpointId, A::EventId, A::EventType, A::CreatedAt, A::SentAt, A::HttpRequestBody,
                A::HttpRequestSignatureHeader, A::HttpResponseCode, A::HttpResponseBody, A::Error, A::LatencyMs, A::NextRetry,
            ])
            .values_panic([
                claimed.endpoint.id.into(),
                claimed.event.event.event_id.unwrap_or_default().into(),
                claimed.event.event.r#type.clone().into(),
                Utc::now().into(),
                record.sent_at.into(),
                record.request_body.clone().into(),
                record.signature_header.clone().into(),
                record.response_code.into(),
                record.response_body.clone().into(),
                record.error.clone().into(),
                record.latency_ms.into(),
                record.next_retry.into(),
            ])
            .to_owned();
        match self.sqlite() {
            Some(engine) => {
                engine
                    .write(move |conn| {
                        if sqlite::execute(conn, &moved)? == 1 {
                            sqlite::execute(conn, &logged)?;
                        }
                        Ok(())
                    })
                    .await
            }
            None => {
                let tx = self.connection().begin().await?;
                if tx.execute_raw(rows::postgres(&moved)).await?.rows_affected() == 1 {
                    tx.execute_raw(rows::postgres(&logged)).await?;
                }
                tx.commit().await?;
                Ok(())
            }
        }
    }

    /// Every delivery of the endpoint: `(event_id, state, attempts)` (tests and operators).
    pub async fn deliveries_of(&self, endpoint: i64) -> Result<Vec<(i64, String, i64)>, RepoError> {
        Ok(deliveries::Entity::find()
            .select_only()
            .columns([deliveries::Column::EventId, deliveries::Column::State, deliveries::Column::Attempts])
            .filter(deliveries::Column::EndpointId.eq(endpoint))
            .order_by_asc(deliveries::Column::EventId)
            .into_tuple()
            .all(self.connection())
            .await?)
    }
}
