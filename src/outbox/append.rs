//! Appending a change's event to the outbox, with its notification and (on SQLite) its
//! webhook deliveries, as statements that run in the caller's own transaction: the event is
//! written if and only if the change is.
//!
//! The caller (a feature's write) says who the event is from and to, how it moved their
//! counters, and where the counters can be read: the statements here know the outbox's tables,
//! not the feature's.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, InsertStatement, Query};

use super::deliveries::PENDING;
use crate::db::entities::{events, notifications as n, users};
use crate::db::entities::{webhook_deliveries as deliveries, webhook_endpoint_events as subscriptions, webhook_endpoints as endpoints};
use crate::db::shapes::scalar;
use crate::domain::{Counts, Event};

/// Where the event's counters come from: the users' rows after the counters' updates
/// (SQLite: statements see the ones before), or the rows the statement locked plus the change
/// (PostgreSQL: the parts of one statement all see its snapshot, except for `RETURNING` and
/// the rows a lock waited for, which are the newest).
#[derive(Clone, Copy)]
pub enum CounterSource {
    Users,
    Locked,
}

/// The CTE, in the caller's statement, that holds both users' locked rows
/// ([`CounterSource::Locked`]).
pub const LOCKED: &str = "locked";

/// The CTE of the change's event, on PostgreSQL.
pub const EVENT_CTE: &str = "event";

/// A change's event: its type, its users, and how the change moved each one's counters.
#[derive(Clone, Copy)]
pub struct Appended {
    pub event: Event,
    pub from: i64,
    pub to: i64,
    pub from_change: Counts,
    pub to_change: Counts,
}

/// The change's event ([`events`]), in the outbox, under `guard`, with both users' counters as
/// they are after the change, read from both users' rows in one join (SQLite: `users`, after
/// the counters' updates; PostgreSQL: the rows the statement locked, plus the change).
///
/// On SQLite the event is numbered here: its writer is the only one, and commits its batches in
/// order, so the next number is the highest one plus one and numbers follow commit order; and
/// its deliveries are made in the same transaction ([`deliveries_insert`]). On PostgreSQL,
/// whose transactions can commit in another order than they numbered, the relay numbers
/// events after commit (`relay.rs`).
pub fn event_insert(e: Appended, now: DateTime<Utc>, guard: Option<Expr>, source: CounterSource) -> InsertStatement {
    use users::Column as U;
    let Appended { event, from, to, from_change, to_change } = e;
    let change_of = |id: i64| if id == from { from_change } else { to_change };
    let (f, g) = (Alias::new("f"), Alias::new("g"));
    let counters = |alias: &Alias, id: i64| {
        let change = change_of(id);
        let by = |n: i64| match source {
            CounterSource::Users => 0,
            CounterSource::Locked => n,
        };
        [
            Expr::col((alias.clone(), U::ConnectionsCounter)).add(by(change.connections)),
            Expr::col((alias.clone(), U::ConnectionRequestsReceivedCounter)).add(by(change.received)),
            Expr::col((alias.clone(), U::ConnectionRequestsSentCounter)).add(by(change.sent)),
            Expr::col((alias.clone(), U::FollowersCounter)).add(by(change.followers)),
            Expr::col((alias.clone(), U::FollowingsCounter)).add(by(change.followings)),
        ]
    };
    use events::Column as E;
    let mut columns = vec![E::Type, E::FromUserId, E::ToUserId, E::Created];
    let mut select = Query::select()
        .expr(Expr::val(event.name()))
        .expr(Expr::val(from))
        .expr(Expr::val(to))
        .expr(Expr::val(now))
        .exprs(counters(&f, from))
        .exprs(counters(&g, to))
        .to_owned();
    columns.extend([E::FromConnections, E::FromReceived, E::FromSent, E::FromFollowers, E::FromFollowings]);
    columns.extend([E::ToConnections, E::ToReceived, E::ToSent, E::ToFollowers, E::ToFollowings]);
    match source {
        CounterSource::Users => {
            select.from_as(users::Entity, f.clone()).from_as(users::Entity, g.clone());
            columns.push(E::EventId);
            select.expr(next_event_id());
        }
        CounterSource::Locked => {
            select.from_as(Alias::new(LOCKED), f.clone()).from_as(Alias::new(LOCKED), g.clone());
        }
    }
    let mut insert = Query::insert().into_table(events::Entity).columns(columns).to_owned();
    if let (CounterSource::Users, None) = (source, &guard) {
        // SQLite: one row of values, each counter a primary-key probe of `users`. An
        // `INSERT ... SELECT` could write several rows, so SQLite would journal every page it
        // changes in case it had to undo the statement; one row of `VALUES` it does not.
        let counter = |id: i64, column: U| scalar(Query::select().column(column).from(users::Entity).and_where(Expr::col(U::Id).eq(id)).to_owned());
        let columns_of = [U::ConnectionsCounter, U::ConnectionRequestsReceivedCounter, U::ConnectionRequestsSentCounter, U::FollowersCounter, U::FollowingsCounter];
        let values = [Expr::val(event.name()), Expr::val(from), Expr::val(to), Expr::val(now)]
            .into_iter()
            .chain(columns_of.map(|c| counter(from, c)))
            .chain(columns_of.map(|c| counter(to, c)))
            .chain([next_event_id()]);
        insert.values_panic(values);
        return insert;
    }
    select.and_where(Expr::col((f, U::Id)).eq(from)).and_where(Expr::col((g, U::Id)).eq(to));
    if let Some(g) = guard {
        select.and_where(g);
    }
    // A SELECT of as many values as columns: cannot fail.
    let _ = insert.select_from(select);
    insert
}

/// Which event row a notification points at.
#[derive(Clone, Copy)]
pub enum EventRow {
    /// SQLite: the row just written (the writer is the only one).
    Last,
    /// PostgreSQL: the row the event's CTE ([`EVENT_CTE`]) returned.
    Returned,
}

/// The notification the change's event gives, if any (SelfCommunity's feed has two connection
/// types and one of follow mode): a request received (`connection_request`, to the one asked,
/// naming who asked), a request accepted (`connection_accept`, to the one who asked, naming who
/// accepted), a new follower (`user_follow`, to the one followed, naming the follower).
pub fn notification_insert(e: Appended, now: DateTime<Utc>, row: EventRow) -> Option<InsertStatement> {
    let Appended { event, from, to, .. } = e;
    let (user, other, kind) = match event {
        Event::ConnectionRequestCreated => (to, from, n::CONNECTION_REQUEST),
        Event::ConnectionCreated => (from, to, n::CONNECTION_ACCEPT),
        Event::ConnectionFollow => (to, from, n::USER_FOLLOW),
        _ => return None,
    };
    let values = [Expr::val(user), Expr::val(other), Expr::val(kind), Expr::val(now), Expr::val(false)];
    use n::Column as C;
    let mut insert = Query::insert()
        .into_table(n::Entity)
        .columns([C::UserId, C::OtherUserId, C::Type, C::Created, C::IsRead, C::EventRow])
        .to_owned();
    match row {
        // One row of values: no statement journal (see `event_insert`).
        EventRow::Last => {
            let last = scalar(Query::select().expr(Expr::col(events::Column::Id).max()).from(events::Entity).to_owned());
            insert.values_panic(values.into_iter().chain([last]));
        }
        EventRow::Returned => {
            let select = Query::select()
                .exprs(values)
                .expr(Expr::col((Alias::new(EVENT_CTE), events::Column::Id)))
                .from(Alias::new(EVENT_CTE))
                .to_owned();
            // A SELECT of as many values as columns: cannot fail.
            let _ = insert.select_from(select);
        }
    }
    Some(insert)
}

/// SQLite: the number of the event being written (see [`event_insert`]).
fn next_event_id() -> Expr {
    scalar(Query::select().expr(Func::coalesce([Expr::col(events::Column::EventId).max(), Expr::val(0i64)]).add(1)).from(events::Entity).to_owned())
}

/// SQLite: the just-numbered event's delivery to each active endpoint subscribed to its type,
/// due at once, in the change's own transaction. (No endpoint: an index probe that finds
/// nothing.)
pub fn deliveries_insert(event: Event) -> InsertStatement {
    let last_event = scalar(Query::select().expr(Expr::col(events::Column::EventId).max()).from(events::Entity).to_owned());
    let select = Query::select()
        .column((subscriptions::Entity, subscriptions::Column::EndpointId))
        .expr(last_event)
        .expr(Expr::val(PENDING))
        .expr(Expr::val(0i64))
        .expr(Expr::val(0i64))
        .expr(Expr::val(0i64))
        .from(subscriptions::Entity)
        .inner_join(
            endpoints::Entity,
            Expr::col((endpoints::Entity, endpoints::Column::Id)).equals((subscriptions::Entity, subscriptions::Column::EndpointId)),
        )
        .and_where(Expr::col((subscriptions::Entity, subscriptions::Column::Type)).eq(event.name()))
        .and_where(Expr::col((endpoints::Entity, endpoints::Column::IsActive)).eq(true))
        .to_owned();
    use deliveries::Column as D;
    let mut insert = Query::insert()
        .into_table(deliveries::Entity)
        .columns([D::EndpointId, D::EventId, D::State, D::Attempts, D::NextAttemptMs, D::LeaseUntilMs])
        .to_owned();
    let _ = insert.select_from(select);
    insert
}
