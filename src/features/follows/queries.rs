//! Follows: the toggle on both engines side by side, and the two lists (a user's followers and
//! followings), each page bounded by the caller's own followings and the page, never by the
//! length of the list.
//!
//! - SQLite: the toggle runs in the writer's batch: read both users and the follow, then write
//!   the follow (or remove it), both counters, the event and its notification, under the
//!   database's only write lock.
//! - PostgreSQL: one transaction: both users' rows locked (lower id first, as every writer
//!   does), the follow read in a snapshot taken after the locks, then one statement of
//!   data-modifying CTEs writes the rest. Two toggles of one pair wait for each other, so n at
//!   once leave the pair followed exactly when n is odd.


use chrono::{DateTime, Utc};
use sea_orm::sea_query::{
    Alias, CommonTableExpression, Expr, ExprTrait, LockType, Order, Query, SelectStatement, SubQueryStatement,
    UpdateStatement, WithClause, WithQuery,
};
use sea_orm::{ConnectionTrait, TransactionTrait};

use crate::db::connection::Repo;
use crate::db::entities::users::Model as User;
use crate::db::entities::{events, follows, users};
use crate::db::error::RepoError;
use crate::db::follows::{FollowState, read_follow_state_postgres, read_follow_state_sqlite};
use crate::db::paging::{Bound, Segments, as_int, count, mutual_first_page, ready};
use crate::db::rows;
use crate::db::shapes::{self, Arg, LazyShape, LazyShapes, Shape, scalar};
use crate::db::sqlite;
use crate::db::users::{PAGE_IDS, users_by_ids};
use crate::domain::paging::Page;
use crate::domain::{Counts, Event};
use crate::outbox::append::{self, Appended, CounterSource, EVENT_CTE, EventRow, LOCKED};

/// What a toggle did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Toggled {
    Followed,
    Unfollowed,
}

/// The change a follow (or an unfollow) makes: its event, and how it moves both users'
/// counters.
fn appended(caller: i64, other: i64, follow: bool) -> Appended {
    let by = if follow { 1 } else { -1 };
    Appended {
        event: if follow { Event::ConnectionFollow } else { Event::ConnectionUnfollow },
        from: caller,
        to: other,
        from_change: Counts { followings: by, ..Counts::default() },
        to_change: Counts { followers: by, ..Counts::default() },
    }
}

fn follow_insert(caller: i64, other: i64, now: DateTime<Utc>) -> sea_orm::sea_query::InsertStatement {
    Query::insert()
        .into_table(follows::Entity)
        .columns([follows::Column::FollowerId, follows::Column::FollowedId, follows::Column::Created])
        .values_panic([caller.into(), other.into(), now.into()])
        .to_owned()
}

fn follow_delete(caller: i64, other: i64) -> sea_orm::sea_query::DeleteStatement {
    Query::delete()
        .from_table(follows::Entity)
        .and_where(Expr::col(follows::Column::FollowerId).eq(caller))
        .and_where(Expr::col(follows::Column::FollowedId).eq(other))
        .to_owned()
}

/// Adds `by` to one of user `id`'s follow counters.
fn counter_update(id: i64, column: users::Column, by: i64) -> UpdateStatement {
    Query::update().table(users::Entity).value(column, Expr::col(column).add(by)).and_where(Expr::col(users::Column::Id).eq(id)).to_owned()
}

/// The caller's and the other user's counters, in id order (every writer's lock order).
fn counter_updates(caller: i64, other: i64, follow: bool, caller_is_low: bool) -> [UpdateStatement; 2] {
    let by = if follow { 1 } else { -1 };
    let mine = counter_update(caller, users::Column::FollowingsCounter, by);
    let theirs = counter_update(other, users::Column::FollowersCounter, by);
    if caller_is_low { [mine, theirs] } else { [theirs, mine] }
}

// ----- SQLite: inside the writer's batch -----

/// SQLite's statements of a follow (`[1]`) or an unfollow (`[0]`), by `caller_is_low`: the
/// follow's row, both counters, the event (read back with the counters after the change), its
/// notification and deliveries. Arguments: caller, other, now.
static SQLITE_TOGGLES: [LazyShapes; 4] = [const { LazyShapes::new() }; 4];

fn sqlite_toggle(follow: bool, caller_is_low: bool) -> &'static [Shape] {
    SQLITE_TOGGLES[usize::from(follow) * 2 + usize::from(caller_is_low)].get(|| {
        let (caller, other, now) = (shapes::int(0), shapes::int(1), shapes::time(2));
        let change = appended(caller, other, follow);
        let mut shapes = vec![if follow { Shape::new(&follow_insert(caller, other, now)) } else { Shape::new(&follow_delete(caller, other)) }];
        shapes.extend(counter_updates(caller, other, follow, caller_is_low).iter().map(Shape::new));
        shapes.push(Shape::new(&append::event_insert(change, now, None, CounterSource::Users)));
        shapes.extend(append::notification_insert(change, now, EventRow::Last).map(|n| Shape::new(&n)));
        shapes.push(Shape::new(&append::deliveries_insert(change.event)));
        shapes
    })
}

fn toggle_sqlite(conn: &rusqlite::Connection, caller: i64, other: i64) -> Result<Toggled, RepoError> {
    let state = read_follow_state_sqlite(conn, caller, other)?;
    let follow = decide(&state)?;
    let args = [Arg::Int(caller), Arg::Int(other), Arg::Time(Utc::now())];
    for shape in sqlite_toggle(follow, caller < other) {
        sqlite::execute_shape(conn, shape, &args)?;
    }
    Ok(if follow { Toggled::Followed } else { Toggled::Unfollowed })
}

/// Follow (true) or unfollow (false), after the users' checks; a follow while either user hid
/// the other is refused, an unfollow never is.
fn decide(state: &FollowState) -> Result<bool, RepoError> {
    state.require_users()?;
    if state.follows {
        return Ok(false);
    }
    if state.hidden {
        return Err(RepoError::UserHidden);
    }
    Ok(true)
}

// ----- PostgreSQL: lock both users, read, one statement -----

/// Both users' rows, lower id first, locked for the transaction.
fn lock_users(caller: i64, other: i64) -> SelectStatement {
    Query::select()
        .column(users::Column::Id)
        .from(users::Entity)
        .and_where(Expr::col(users::Column::Id).is_in([caller, other]))
        .order_by(users::Column::Id, Order::Asc)
        .lock(LockType::NoKeyUpdate)
        .to_owned()
}

/// The toggle's writes as one statement, the rows already locked: `locked` reads both users'
/// counters before the change (the event adds the change, as the connection actions' do),
/// then the follow's row, both counters, the event, its notification.
fn postgres_toggle(caller: i64, other: i64, now: DateTime<Utc>, follow: bool, caller_is_low: bool) -> WithQuery {
    let change = appended(caller, other, follow);
    let locked = Query::select()
        .columns([
            users::Column::Id,
            users::Column::ConnectionsCounter,
            users::Column::ConnectionRequestsReceivedCounter,
            users::Column::ConnectionRequestsSentCounter,
            users::Column::FollowersCounter,
            users::Column::FollowingsCounter,
        ])
        .from(users::Entity)
        .and_where(Expr::col(users::Column::Id).is_in([caller, other]))
        .to_owned();
    let mut writes: Vec<SubQueryStatement> =
        vec![if follow { follow_insert(caller, other, now).into() } else { follow_delete(caller, other).into() }];
    writes.extend(counter_updates(caller, other, follow, caller_is_low).map(SubQueryStatement::from));
    let mut with = WithClause::new();
    with.cte(CommonTableExpression::new().query(locked).table_name(Alias::new(LOCKED)).to_owned());
    for (i, write) in writes.into_iter().enumerate() {
        with.cte(CommonTableExpression::new().query(write).table_name(Alias::new(format!("w{i}"))).to_owned());
    }
    let mut event = append::event_insert(change, now, None, CounterSource::Locked);
    event.returning_col(events::Column::Id);
    with.cte(CommonTableExpression::new().query(event).table_name(Alias::new(EVENT_CTE)).to_owned());
    if let Some(notification) = append::notification_insert(change, now, EventRow::Returned) {
        with.cte(CommonTableExpression::new().query(notification).table_name(Alias::new("n")).to_owned());
    }
    Query::select().expr(scalar(Query::select().expr(Expr::col(events::Column::Id)).from(Alias::new(EVENT_CTE)).to_owned())).to_owned().with(with)
}

static POSTGRES_LOCK: LazyShape = LazyShape::new();
static POSTGRES_TOGGLES: [LazyShape; 4] = [const { LazyShape::new() }; 4];

// ----- the lists -----

/// Which list: those who follow the list's user, or those the list's user follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Followers,
    Followings,
}

impl Side {
    /// The column that names the list's user, and the one that names each listed user.
    fn columns(self) -> (follows::Column, follows::Column) {
        match self {
            Side::Followers => (follows::Column::FollowedId, follows::Column::FollowerId),
            Side::Followings => (follows::Column::FollowerId, follows::Column::FollowedId),
        }
    }

    fn counter(self) -> users::Column {
        match self {
            Side::Followers => users::Column::FollowersCounter,
            Side::Followings => users::Column::FollowingsCounter,
        }
    }

    fn index(self) -> usize {
        usize::from(self == Side::Followings)
    }
}

/// The caller's followings counter and the list owner's counter of `side`, each `NULL` when
/// that user is missing or deleted.
fn counters_query(caller: i64, of: i64, side: Side) -> SelectStatement {
    let counter = |user: i64, column: users::Column| {
        scalar(
            Query::select()
                .column(column)
                .from(users::Entity)
                .and_where(Expr::col(users::Column::Id).eq(user))
                .and_where(Expr::col(users::Column::Deleted).eq(false))
                .to_owned(),
        )
    };
    Query::select().expr(counter(caller, users::Column::FollowingsCounter)).expr(counter(of, side.counter())).to_owned()
}

/// The first `limit` users of `of`'s list in the list's order: newest follow first, then user
/// id descending; read from its covering index in order, no further than `limit`, and nothing
/// else: a deleted user's follows leave the table with them (`user delete`), so no list needs
/// to look at `users` for the rows it passes over.
fn order_prefix_query(of: i64, side: Side, limit: u64) -> SelectStatement {
    let (owner, listed) = side.columns();
    Query::select()
        .column(listed)
        .from(follows::Entity)
        .and_where(Expr::col(owner).eq(of))
        .order_by(follows::Column::Created, Order::Desc)
        .order_by(listed, Order::Desc)
        .limit(limit)
        .to_owned()
}

/// The users of `of`'s list whom the caller follows, in the list's order (deleted users have
/// no follows left). Driven from the caller's side: for each user the caller follows (`x`, by
/// the caller's index), when they entered `of`'s list is one primary-key probe of it (`r`, a
/// correlated subquery, so that no planner may drive the join from `of`'s list instead): the
/// cost is the caller's own followings, never the length of `of`'s list.
fn mutual_query(caller: i64, of: i64, side: Side) -> SelectStatement {
    let (x, r, t) = (Alias::new("x"), Alias::new("r"), Alias::new("t"));
    let (uid, listed_at) = (Alias::new("uid"), Alias::new("listed_at"));
    let (owner, listed) = side.columns();
    let entered = Query::select()
        .column((r.clone(), follows::Column::Created))
        .from_as(follows::Entity, r.clone())
        .and_where(Expr::col((r.clone(), listed)).equals((x.clone(), follows::Column::FollowedId)))
        .and_where(Expr::col((r, owner)).eq(of))
        .to_owned();
    let candidates = Query::select()
        .expr_as(Expr::col((x.clone(), follows::Column::FollowedId)), uid.clone())
        .expr_as(scalar(entered), listed_at.clone())
        .from_as(follows::Entity, x.clone())
        .and_where(Expr::col((x, follows::Column::FollowerId)).eq(caller))
        .to_owned();
    Query::select()
        .column((t.clone(), uid.clone()))
        .from_subquery(candidates, t.clone())
        .and_where(Expr::col((t.clone(), listed_at.clone())).is_not_null())
        .order_by((t.clone(), listed_at), Order::Desc)
        .order_by((t, uid), Order::Desc)
        .to_owned()
}

static COUNTERS: [LazyShape; 2] = [const { LazyShape::new() }; 2];
static ORDER_PREFIX: [LazyShape; 2] = [const { LazyShape::new() }; 2];
static MUTUAL: [LazyShape; 2] = [const { LazyShape::new() }; 2];

/// A page of followers or followings, engine-independent. Those the caller follows come
/// first ([`mutual_query`], from the caller's side), then the others: `of`'s list in index
/// order, read only as far as the page needs (its offset, its size, and the mutual ones to
/// skip on the way). Only the page's users are read. The count is the owner's counter.
struct FollowsPlan {
    of: i64,
    caller: i64,
    side: Side,
    mutual_only: bool,
    limit: u64,
    offset: u64,
}

impl FollowsPlan {
    fn counters(&self) -> Bound {
        let shape = COUNTERS[self.side.index()].get(|| counters_query(shapes::int(0), shapes::int(1), self.side));
        (shape, vec![Arg::Int(self.caller), Arg::Int(self.of)])
    }

    fn mutual(&self) -> Bound {
        let shape = MUTUAL[self.side.index()].get(|| mutual_query(shapes::int(0), shapes::int(1), self.side));
        (shape, vec![Arg::Int(self.caller), Arg::Int(self.of)])
    }

    fn order_prefix(&self, limit: u64) -> Bound {
        let shape = ORDER_PREFIX[self.side.index()].get(|| order_prefix_query(shapes::int(0), self.side, shapes::int(1) as u64));
        (shape, vec![Arg::Int(self.of), Arg::Int(as_int(limit))])
    }

    /// The page's users, each with whether the caller follows them.
    async fn run(&self, engine: &impl Segments) -> Result<Page<(User, bool)>, RepoError> {
        let counters = engine.one(self.counters(), |r| Ok((r.opt_int(0)?, r.opt_int(1)?))).await?;
        let (caller, of) = counters.ok_or_else(|| RepoError::database("the counters query returned no row"))?;
        caller.ok_or(RepoError::CallerNotFound)?;
        let total = count(of.ok_or(RepoError::UserNotFound)?);
        let skip = usize::try_from(self.offset).unwrap_or(usize::MAX);
        let take = usize::try_from(self.limit).unwrap_or(PAGE_IDS).min(PAGE_IDS);
        let mutual = engine.ids(self.mutual()).await?;
        let page = mutual_first_page(&mutual, skip, take, self.mutual_only, |n| engine.ids(self.order_prefix(n))).await?;
        let count = if self.mutual_only { mutual.len() as u64 } else { total };
        if page.is_empty() {
            return Ok(Page { count, items: Vec::new() });
        }
        let mut found: std::collections::HashMap<i64, User> =
            engine.rows(users_by_ids(&page), |r| rows::user_at(r, 0)).await?.into_iter().map(|u| (u.id, u)).collect();
        let mutual_count = mutual.len();
        let items = page
            .iter()
            .enumerate()
            .filter_map(|(i, id)| found.remove(id).map(|user| (user, skip.saturating_add(i) < mutual_count)))
            .collect();
        Ok(Page { count, items })
    }
}

impl Repo {
    /// `caller` follows `other`, or no longer does if they did (a toggle), in one transaction
    /// with both users' counters, the event and (for a follow) the notification. Checks both
    /// users (`CallerNotFound`, `UserNotFound`) and hiding (`UserHidden`, a follow only).
    pub async fn toggle_follow(&self, caller: i64, other: i64) -> Result<Toggled, RepoError> {
        match self.sqlite() {
            Some(engine) => engine.write(move |conn| toggle_sqlite(conn, caller, other)).await,
            None => {
                let txn = self.connection().begin().await?;
                let lock = POSTGRES_LOCK.get(|| lock_users(shapes::int(0), shapes::int(1)));
                txn.execute_raw(lock.postgres(&[Arg::Int(caller), Arg::Int(other)])).await?;
                // After the locks: a new snapshot, which sees any toggle committed before them.
                let follow = decide(&read_follow_state_postgres(&txn, caller, other).await?)?;
                let caller_is_low = caller < other;
                let shape = POSTGRES_TOGGLES[usize::from(follow) * 2 + usize::from(caller_is_low)]
                    .get(|| postgres_toggle(shapes::int(0), shapes::int(1), shapes::time(2), follow, caller_is_low));
                txn.execute_raw(shape.postgres(&[Arg::Int(caller), Arg::Int(other), Arg::Time(Utc::now())])).await?;
                txn.commit().await?;
                Ok(if follow { Toggled::Followed } else { Toggled::Unfollowed })
            }
        }
    }

    /// A page of `of`'s followers or followings as `caller` sees them: those the caller follows
    /// first, then the others; newest follow first in each group; user id (descending) last.
    /// Each user comes with whether the caller follows them.
    pub async fn follows_page(
        &self,
        of: i64,
        caller: i64,
        side: Side,
        mutual_only: bool,
        limit: u64,
        offset: u64,
    ) -> Result<Page<(User, bool)>, RepoError> {
        let plan = FollowsPlan { of, caller, side, mutual_only, limit, offset };
        match self.sqlite() {
            Some(engine) => engine.read(move |conn| ready(plan.run(conn))).await,
            None => plan.run(self.connection()).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page never reads the owner's whole list: the mutual ones come from the caller's
    /// index with one primary-key probe each, the others from the owner's index in order
    /// (SQLite's plan, on the migrated schema).
    #[tokio::test]
    async fn pages_are_bounded_by_the_callers_side_and_the_page() {
        let plans = crate::db::plans::Plans::migrated().await;
        let plan = |statement| plans.plan(statement);
        for side in [Side::Followers, Side::Followings] {
            let mutual = plan(mutual_query(7, 5, side));
            // The caller's followings by the primary key's prefix, each one probe of the owner's
            // list by the whole primary key; nothing scanned.
            assert!(mutual.starts_with("SEARCH x USING COVERING INDEX sqlite_autoindex_follows_1 (follower_id=?)"), "{side:?}: {mutual}");
            assert!(mutual.contains("SEARCH r USING INDEX sqlite_autoindex_follows_1 (follower_id=? AND followed_id=?)"), "{side:?}: {mutual}");
            assert!(!mutual.contains("SCAN"), "{side:?}: {mutual}");
            let prefix = plan(order_prefix_query(5, side, 60));
            // The owner's list from its covering index, in its order: no sort, no other table.
            let (index, owner) = match side {
                Side::Followers => ("follows_followers", "followed_id"),
                Side::Followings => ("follows_followings", "follower_id"),
            };
            assert_eq!(prefix, format!("SEARCH follows USING COVERING INDEX {index} ({owner}=?)"), "{side:?}");
        }
    }
}
