//! The lists of relations, each page's cost bounded by the page (and its offset), not by the
//! list's length: counts come from the users' stored counters, pages are read in index order,
//! and users are joined only for the page's rows. Each order is total, so paging never skips
//! or repeats an item.

use std::collections::{HashMap, HashSet};

use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Order, Query, SelectStatement, UnionType};
use sea_orm::ConnectionTrait;

use crate::db::connection::Repo;
use crate::db::entities::users::Model as User;
use crate::db::entities::{connection_requests as requests, connections, users};
use crate::db::error::RepoError;
use crate::db::paging::{Bound, Segments, as_int, count, mutual_first_page, ready};
use crate::db::pairs::{connections_side, pair_with, request_relation};
use crate::db::rows::{self, Row, USER_COLUMNS};
use crate::db::shapes::{self, Arg, LazyShape, scalar};
use crate::db::sqlite;
use crate::domain::Relation;
use crate::domain::paging::{MAX_PAGE_SIZE, Page};

/// A connection request with both of its users.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestWithUsers {
    pub request: requests::Model,
    pub from_user: User,
    pub to_user: User,
}

/// The caller's request with the user `u`, if any, as two columns: who sent it, and whether
/// it was rejected.
fn caller_request_columns(q: &mut SelectStatement, caller: i64) {
    let request = |column: Expr| {
        let (low, high) = pair_with(caller);
        scalar(
            Query::select()
                .expr(column)
                .from(requests::Entity)
                .and_where(Expr::col(requests::Column::UserLow).eq(low))
                .and_where(Expr::col(requests::Column::UserHigh).eq(high))
                .to_owned(),
        )
    };
    q.expr(request(Expr::col(requests::Column::FromUserId)));
    q.expr(request(Expr::case(Expr::col(requests::Column::Rejected).is_null(), 0).finally(1).into()));
}

/// The two sides of `of`'s connections (`of` the pair's lower id, then its higher), each read
/// in the order of its index, merged: newest first, then by user id descending. After the
/// `columns`, each row has the other user's id (`uid`) and the connection's date (`created`).
/// `active_users`: only users not deleted, joined as `u` (see [`connections_side`]).
fn connections_in_order(of: i64, active_users: bool, columns: impl Fn(&mut SelectStatement)) -> SelectStatement {
    let side = |of_is_low: bool| {
        let other_col = if of_is_low { connections::Column::UserHigh } else { connections::Column::UserLow };
        connections_side(of, of_is_low, active_users, |q| {
            columns(q);
            q.expr_as(Expr::col((Alias::new("c"), other_col)), Alias::new("uid"));
            q.expr_as(Expr::col((Alias::new("c"), connections::Column::Created)), Alias::new("created"));
        })
    };
    let mut q = side(true);
    q.union(UnionType::All, side(false))
        .order_by(Alias::new("created"), Order::Desc)
        .order_by(Alias::new("uid"), Order::Desc);
    q
}

/// A page of one's own connections (all of them connected with oneself): the users, read in
/// index order for the page's rows only.
fn own_connections_page_query(of: i64, limit: u64, offset: u64) -> SelectStatement {
    let mut q = connections_in_order(of, true, |q| rows::select_user(q, "u"));
    q.limit(limit).offset(offset);
    q
}

/// Every one of `of`'s connections in the list's order, the other user's id first (what
/// [`Segments::ids`] reads). `active_users`: only those with users not deleted (the users'
/// table read for `deleted`); without, the covering indexes alone answer.
fn connection_order_query(of: i64, active_users: bool) -> SelectStatement {
    connections_in_order(of, active_users, |_| {})
}

/// Both users' connection counters, each `NULL` if that user is missing or deleted: the caller
/// first, then the list's owner.
fn counters_query(caller: i64, of: i64) -> SelectStatement {
    let counter = |user: i64| scalar(own_counter_query(user, users::Column::ConnectionsCounter));
    Query::select().expr(counter(caller)).expr(counter(of)).to_owned()
}

/// The first `limit` of `of`'s connections with active users, in the list's order (ids only):
/// the "others" segment reads no further than its page needs.
fn connection_order_prefix_query(of: i64, limit: u64) -> SelectStatement {
    let mut q = connections_in_order(of, true, |_| {});
    q.limit(limit);
    q
}

/// `of`'s connections that are also the caller's, in the list's order (newest connection with
/// `of` first, then user id descending), active users only. Driven from the caller's side: each
/// of the caller's connections is one probe of the pair's primary key with `of`, so the cost is
/// the caller's own number of connections, never `of`'s.
fn mutual_query(caller: i64, of: i64) -> SelectStatement {
    let (x, c, u) = (Alias::new("x"), Alias::new("c"), Alias::new("u"));
    let uid = || Expr::col((x.clone(), Alias::new("uid")));
    let low = Expr::case(uid().lt(of), uid()).finally(Expr::val(of));
    let high = Expr::case(uid().lt(of), Expr::val(of)).finally(uid());
    Query::select()
        .expr(uid())
        .expr_as(Expr::col((c.clone(), connections::Column::Created)), Alias::new("created"))
        .from_subquery(partner_ids_query(caller), x.clone())
        .join_as(
            JoinType::InnerJoin,
            connections::Entity,
            c.clone(),
            Expr::col((c.clone(), connections::Column::UserLow)).eq(low).and(Expr::col((c.clone(), connections::Column::UserHigh)).eq(high)),
        )
        .join_as(JoinType::InnerJoin, users::Entity, u.clone(), Expr::col((u.clone(), users::Column::Id)).equals((x.clone(), Alias::new("uid"))))
        .and_where(Expr::col((u, users::Column::Deleted)).eq(false))
        .order_by((c, connections::Column::Created), Order::Desc)
        .order_by((x, Alias::new("uid")), Order::Desc)
        .to_owned()
}

/// The users connected with `user`, from either side of the pair (covering indexes), as `uid`.
fn partner_ids_query(user: i64) -> SelectStatement {
    let side = |user_is_low: bool| {
        let (mine, other) = if user_is_low {
            (connections::Column::UserLow, connections::Column::UserHigh)
        } else {
            (connections::Column::UserHigh, connections::Column::UserLow)
        };
        Query::select().expr_as(Expr::col(other), Alias::new("uid")).from(connections::Entity).and_where(Expr::col(mine).eq(user)).to_owned()
    };
    let mut q = side(true);
    q.union(UnionType::All, side(false));
    q
}

/// The first step of a connections page as one statement (see [`ConnectionsPlan::first_step`]),
/// for an engine that pays a round trip per statement: both users' counters (part 0), and, by
/// what they say, either the caller's connections (part 1) and `of`'s in the list's order,
/// users not deleted left to the count check (part 2), or the mutual ones read from the caller's
/// side (part 3). Each row: `(part, id or counter, counter, date)`; the parts not chosen read
/// nothing (PostgreSQL evaluates a branch's constant condition once, before its scan).
fn first_step_query(caller: i64, of: i64) -> sea_orm::sea_query::WithQuery {
    let (k, part) = (Alias::new("k"), |n: i64| Expr::val(n));
    let counter = |user: i64| scalar(own_counter_query(user, users::Column::ConnectionsCounter));
    let counts = Query::select().expr_as(counter(caller), Alias::new("mine")).expr_as(counter(of), Alias::new("total")).to_owned();
    let branch = |owner_side: bool| {
        let total = Expr::col(Alias::new("total"));
        let mine = Expr::col(Alias::new("mine")).mul(CALLER_SIDE_FACTOR as i64);
        let cond = if owner_side { total.lte(mine) } else { total.gt(mine) };
        Expr::exists(Query::select().expr(Expr::val(1)).from(k.clone()).and_where(cond).to_owned())
    };
    let rows = |n: i64, inner: SelectStatement, dated: bool, when: Expr| {
        let x = Alias::new(format!("p{n}"));
        let date = if dated { Expr::col((x.clone(), Alias::new("created"))) } else { no_date() };
        Query::select()
            .expr(part(n))
            .expr(Expr::col((x.clone(), Alias::new("uid"))))
            .expr(Expr::val(0i64))
            .expr(date)
            .from_subquery(inner, x)
            .and_where(when)
            .to_owned()
    };
    let mut q = Query::select()
        .expr(part(0))
        .expr(Expr::col(Alias::new("mine")))
        .expr(Expr::col(Alias::new("total")))
        .expr(no_date())
        .from(k.clone())
        .to_owned();
    q.union(UnionType::All, rows(1, partner_ids_query(caller), false, branch(true)))
        .union(UnionType::All, rows(2, connection_order_query(of, false), true, branch(true)))
        .union(UnionType::All, rows(3, mutual_query(caller, of), true, branch(false)));
    let mut with = sea_orm::sea_query::WithClause::new();
    with.cte(sea_orm::sea_query::CommonTableExpression::new().query(counts).table_name(k).to_owned());
    q.with(with)
}

/// A date column's `NULL`, typed: PostgreSQL reads the untyped `NULL`s of a `UNION`'s first
/// branches as text, which no later date matches.
fn no_date() -> Expr {
    Expr::cust("CAST(NULL AS TIMESTAMPTZ)")
}

/// What [`ConnectionsPlan::first_step`] found: the owner's count, and the sets the page is
/// chosen from.
struct FirstStep {
    total: u64,
    sets: Sets,
}

enum Sets {
    /// `of` has many more connections than the caller: the mutual ones, in the list's order,
    /// read from the caller's side.
    Mutual(Vec<i64>),
    /// The two are of a size: the caller's connections, and `of`'s in the list's order (users
    /// not deleted unchecked).
    Both(HashSet<i64>, Vec<i64>),
}

/// The rows of [`first_step_query`], by part: the ids of parts 2 and 3 put in the list's order
/// (newest first, then id descending) here, which a `UNION ALL` does not promise to keep.
fn fold_first_step(rows: Vec<(i64, Option<i64>, Option<i64>, Option<chrono::DateTime<chrono::Utc>>)>) -> Result<FirstStep, RepoError> {
    let (mut counts, mut partners, mut listed, mut mutual) = (None, Vec::new(), Vec::new(), Vec::new());
    for (part, id, total, created) in rows {
        match part {
            0 => counts = Some((id, total)),
            1 => partners.extend(id),
            2 => listed.extend(id.map(|id| (created, id))),
            _ => mutual.extend(id.map(|id| (created, id))),
        }
    }
    let (mine, total) = counts.ok_or_else(|| RepoError::database("the first step returned no counters"))?;
    let (mine, total) = (count(mine.ok_or(RepoError::CallerNotFound)?), count(total.ok_or(RepoError::UserNotFound)?));
    let in_order = |mut rows: Vec<(Option<chrono::DateTime<chrono::Utc>>, i64)>| {
        rows.sort_unstable_by(|a, b| b.cmp(a));
        rows.into_iter().map(|(_, id)| id).collect::<Vec<i64>>()
    };
    let sets = match from_callers_side(mine, total) {
        true => Sets::Mutual(in_order(mutual)),
        false => Sets::Both(partners.into_iter().collect(), in_order(listed)),
    };
    Ok(FirstStep { total, sets })
}

/// The most users one page shows (the service's largest page).
const PAGE_IDS: usize = MAX_PAGE_SIZE as usize;

/// The users `ids` (a page's; unused places hold 0, no user's id), each with the caller's
/// request with them.
fn page_users_query(caller: i64, ids: &[i64]) -> SelectStatement {
    let mut q = Query::select();
    rows::select_user(&mut q, "u");
    caller_request_columns(&mut q, caller);
    q.from_as(users::Entity, Alias::new("u"))
        .and_where(Expr::col((Alias::new("u"), users::Column::Id)).is_in(ids.iter().copied()))
        .to_owned()
}

/// A user of a connections page and the caller's request with them, if any: `(sender,
/// rejected)`.
type ConnectionRow = (User, Option<(i64, bool)>);

/// The columns of [`page_users_query`].
fn page_user_row(row: &dyn Row) -> Result<ConnectionRow, RepoError> {
    let sender = row.opt_int(USER_COLUMNS)?;
    let rejected = row.opt_int(USER_COLUMNS + 1)?.unwrap_or(0) != 0;
    Ok((rows::user_at(row, 0)?, sender.map(|s| (s, rejected))))
}

/// A page of the requests one user received (`received`) or sent, newest first: the users of
/// each row joined as the index delivers it.
fn requests_page_query(user: i64, received: bool, limit: u64, offset: u64) -> SelectStatement {
    let (r, f, t) = (Alias::new("r"), Alias::new("f"), Alias::new("t"));
    let mut q = Query::select();
    for column in [
        requests::Column::Id,
        requests::Column::FromUserId,
        requests::Column::ToUserId,
        requests::Column::UserLow,
        requests::Column::UserHigh,
        requests::Column::Created,
        requests::Column::Rejected,
        requests::Column::Viewed,
    ] {
        q.expr(Expr::col((r.clone(), column)));
    }
    rows::select_user(&mut q, "f");
    rows::select_user(&mut q, "t");
    q.from_as(requests::Entity, r.clone())
        .join_as(JoinType::InnerJoin, users::Entity, f.clone(), Expr::col((f.clone(), users::Column::Id)).equals((r.clone(), requests::Column::FromUserId)))
        .join_as(JoinType::InnerJoin, users::Entity, t.clone(), Expr::col((t.clone(), users::Column::Id)).equals((r.clone(), requests::Column::ToUserId)));
    if received {
        q.and_where(Expr::col((r.clone(), requests::Column::ToUserId)).eq(user))
            .and_where(Expr::col((r.clone(), requests::Column::Rejected)).is_null())
            .and_where(Expr::col((f, users::Column::Deleted)).eq(false));
    } else {
        q.and_where(Expr::col((r.clone(), requests::Column::FromUserId)).eq(user))
            .and_where(Expr::col((t, users::Column::Deleted)).eq(false));
    }
    q.order_by((r.clone(), requests::Column::Created), Order::Desc)
        .order_by((r, requests::Column::Id), Order::Desc)
        .limit(limit)
        .offset(offset)
        .to_owned()
}

/// The columns of [`requests_page_query`], from column `at`.
fn request_row(row: &(impl Row + ?Sized), at: usize) -> Result<RequestWithUsers, RepoError> {
    Ok(RequestWithUsers {
        request: requests::Model {
            id: row.int(at)?,
            from_user_id: row.int(at + 1)?,
            to_user_id: row.int(at + 2)?,
            user_low: row.int(at + 3)?,
            user_high: row.int(at + 4)?,
            created: row.time(at + 5)?,
            rejected: row.opt_time(at + 6)?,
            viewed: row.opt_time(at + 7)?,
        },
        from_user: rows::user_at(row, at + 8)?,
        to_user: rows::user_at(row, at + 8 + USER_COLUMNS)?,
    })
}

/// The user's counter and a page of their requests in one statement, for PostgreSQL (a round
/// trip per statement): one row per request, the counter first; one row of the counter alone
/// when the page is empty; no row when the user is gone or deleted.
fn counted_requests_page_query(user: i64, received: bool, counter: users::Column, limit: u64, offset: u64) -> SelectStatement {
    let (k, r) = (Alias::new("k"), Alias::new("r"));
    Query::select()
        .expr(Expr::col((k.clone(), counter)))
        .expr(Expr::col((r.clone(), sea_orm::sea_query::Asterisk)))
        .from_subquery(own_counter_query(user, counter), k)
        .join_subquery(JoinType::LeftJoin, requests_page_query(user, received, limit, offset), r, Expr::cust("TRUE"))
        .to_owned()
}

/// The rows of [`counted_requests_page_query`]: the count and the page, in the list's order
/// (newest first, then id descending), which a join does not promise to keep.
fn fold_counted_requests(rows: Vec<(i64, Option<RequestWithUsers>)>) -> Result<(i64, Vec<RequestWithUsers>), RepoError> {
    let total = rows.first().map(|(n, _)| *n).ok_or(RepoError::CallerNotFound)?;
    let mut items: Vec<RequestWithUsers> = rows.into_iter().filter_map(|(_, item)| item).collect();
    items.sort_unstable_by(|a, b| (b.request.created, b.request.id).cmp(&(a.request.created, a.request.id)));
    Ok((total, items))
}

/// A user's own counter (`None`: they do not exist or are deleted).
fn own_counter_query(caller: i64, counter: users::Column) -> SelectStatement {
    Query::select()
        .column(counter)
        .from(users::Entity)
        .and_where(Expr::col(users::Column::Id).eq(caller))
        .and_where(Expr::col(users::Column::Deleted).eq(false))
        .to_owned()
}

static OWN_CONNECTIONS_PAGE: LazyShape = LazyShape::new();
static CONNECTION_ORDER: [LazyShape; 2] = [const { LazyShape::new() }; 2];
static PARTNER_IDS: LazyShape = LazyShape::new();
static CONNECTION_ORDER_PREFIX: LazyShape = LazyShape::new();
static MUTUAL: LazyShape = LazyShape::new();
static COUNTERS: LazyShape = LazyShape::new();
static FIRST_STEP: LazyShape = LazyShape::new();

/// How many times the owner's connections must outnumber the caller's before the mutual ones
/// are found from the caller's side: a probe of the pair's primary key costs a few entries of
/// a covering index read in order.
const CALLER_SIDE_FACTOR: u64 = 4;

/// The mutual ones are found from the caller's side (see [`CALLER_SIDE_FACTOR`]).
fn from_callers_side(mine: u64, total: u64) -> bool {
    total > CALLER_SIDE_FACTOR.saturating_mul(mine)
}

static PAGE_USERS: LazyShape = LazyShape::new();
static REQUESTS_PAGE: [LazyShape; 2] = [const { LazyShape::new() }; 2];
static OWN_COUNTER: [LazyShape; 2] = [const { LazyShape::new() }; 2];
static COUNTED_REQUESTS_PAGE: [LazyShape; 2] = [const { LazyShape::new() }; 2];


/// The connections page, engine-independent: which statement to run next, given what the
/// previous ones answered. The caller's mutual connections with `of` come first, then the
/// others, each group in the list's order. Which are mutual is the intersection of two users'
/// sets, read from the smaller side (the counters say which):
///
/// - `of` has many more connections than the caller (a celebrity's list): from the caller's
///   side, one primary-key probe per connection of the caller's ([`mutual_query`]); the others
///   are `of`'s list read in index order only as far as the page needs (its offset, its size,
///   and the mutual ones to skip on the way). The page never reads `of`'s whole set.
/// - otherwise both sets are read whole from their covering indexes (ids only, in order) and
///   intersected here, which costs less than the probes when the two are of a size.
///
/// Either way a page costs at most a few times the caller's own connections plus the page;
/// only the page's users are read. One's own list (all of it connected with oneself) is read as
/// an index-ordered page.
struct ConnectionsPlan {
    of: i64,
    caller: i64,
    mutual_only: bool,
    limit: u64,
    offset: u64,
}

impl ConnectionsPlan {
    /// Both users' counts, and the sets the page is chosen from (see [`FirstStep`]): on an engine
    /// that pays a round trip per statement, one statement ([`first_step_query`]); else the
    /// counters, then the sets by what they say.
    async fn first_step<E: Segments>(&self, engine: &E) -> Result<FirstStep, RepoError> {
        if E::STATEMENTS_ARE_ROUND_TRIPS {
            let shape = FIRST_STEP.get(|| first_step_query(shapes::int(0), shapes::int(1)));
            let rows = engine
                .rows((shape, vec![Arg::Int(self.caller), Arg::Int(self.of)]), |r| {
                    Ok((r.int(0)?, r.opt_int(1)?, r.opt_int(2)?, r.opt_time(3)?))
                })
                .await?;
            return fold_first_step(rows);
        }
        let (mine, total) = self.counts(engine).await?;
        if from_callers_side(mine, total) {
            return Ok(FirstStep { total, sets: Sets::Mutual(engine.ids(self.mutual()).await?) });
        }
        let partners = engine.ids(self.partners()).await?.into_iter().collect();
        Ok(FirstStep { total, sets: Sets::Both(partners, engine.ids(self.order(false)).await?) })
    }

    /// The caller's check, then the owner's, in one statement: both users' connection counts.
    async fn counts(&self, engine: &impl Segments) -> Result<(u64, u64), RepoError> {
        let rows = engine.rows(self.counters(), |r| Ok((r.opt_int(0)?, r.opt_int(1)?))).await?;
        let (caller, of) = rows.first().copied().ok_or_else(|| RepoError::database("the counters query returned no row"))?;
        Ok((count(caller.ok_or(RepoError::CallerNotFound)?), count(of.ok_or(RepoError::UserNotFound)?)))
    }

    fn own_page(&self) -> Bound {
        let shape = OWN_CONNECTIONS_PAGE
            .get(|| own_connections_page_query(shapes::int(0), shapes::int(1) as u64, shapes::int(2) as u64));
        (shape, vec![Arg::Int(self.of), Arg::Int(as_int(self.limit)), Arg::Int(as_int(self.offset))])
    }

    fn counters(&self) -> Bound {
        (COUNTERS.get(|| counters_query(shapes::int(0), shapes::int(1))), vec![Arg::Int(self.caller), Arg::Int(self.of)])
    }

    fn partners(&self) -> Bound {
        (PARTNER_IDS.get(|| partner_ids_query(shapes::int(0))), vec![Arg::Int(self.caller)])
    }

    fn order(&self, active_users: bool) -> Bound {
        let shape = CONNECTION_ORDER[usize::from(active_users)].get(|| connection_order_query(shapes::int(0), active_users));
        (shape, vec![Arg::Int(self.of)])
    }

    fn mutual(&self) -> Bound {
        (MUTUAL.get(|| mutual_query(shapes::int(0), shapes::int(1))), vec![Arg::Int(self.caller), Arg::Int(self.of)])
    }

    fn order_prefix(&self, limit: u64) -> Bound {
        let shape = CONNECTION_ORDER_PREFIX.get(|| connection_order_prefix_query(shapes::int(0), shapes::int(1) as u64));
        (shape, vec![Arg::Int(self.of), Arg::Int(as_int(limit))])
    }

    fn page_users(&self, ids: &[i64]) -> Bound {
        let shape = PAGE_USERS.get(|| {
            let sentinels: Vec<i64> = (1..=PAGE_IDS).map(shapes::int).collect();
            page_users_query(shapes::int(0), &sentinels)
        });
        let mut args = vec![Arg::Int(self.caller)];
        args.extend((0..PAGE_IDS).map(|i| Arg::Int(ids.get(i).copied().unwrap_or(0))));
        (shape, args)
    }

    /// The steps, on either engine.
    async fn run(&self, engine: &impl Segments) -> Result<Page<(User, Relation)>, RepoError> {
        if self.of == self.caller {
            let (_, total) = self.counts(engine).await?;
            let users = engine.rows(self.own_page(), |row| rows::user_at(row, 0)).await?;
            return Ok(Page { count: total, items: users.into_iter().map(|u| (u, Relation::Connected)).collect() });
        }
        let skip = usize::try_from(self.offset).unwrap_or(usize::MAX);
        let take = usize::try_from(self.limit).unwrap_or(PAGE_IDS).min(PAGE_IDS);
        let first = self.first_step(engine).await?;
        let (mutual, mut page) = match first.sets {
            Sets::Mutual(mutual) => {
                let page = mutual_first_page(&mutual, skip, take, self.mutual_only, |n| engine.ids(self.order_prefix(n))).await?;
                (mutual, page)
            }
            Sets::Both(mine, mut listed) => {
                // The owner's counter counts their connections with active users only: when the
                // index holds as many, none of them is deleted, and the users' table need not be read.
                if listed.len() as u64 != first.total {
                    listed = engine.ids(self.order(true)).await?;
                }
                let (mutual, others): (Vec<i64>, Vec<i64>) = listed.into_iter().partition(|id| mine.contains(id));
                let listed: Vec<i64> = match self.mutual_only {
                    true => mutual.clone(),
                    false => mutual.iter().copied().chain(others).collect(),
                };
                (mutual, listed.into_iter().skip(skip).take(take).collect())
            }
        };
        let mutual_count = mutual.len();
        let count = if self.mutual_only { mutual_count as u64 } else { first.total };
        page.truncate(take);
        if page.is_empty() {
            return Ok(Page { count, items: Vec::new() });
        }
        let mut found: HashMap<i64, ConnectionRow> =
            engine.rows(self.page_users(&page), page_user_row).await?.into_iter().map(|row| (row.0.id, row)).collect();
        let items = page
            .iter()
            .enumerate()
            .filter_map(|(i, id)| {
                let (user, request) = found.remove(id)?;
                let relation = if skip.saturating_add(i) < mutual_count {
                    Relation::Connected
                } else {
                    match request {
                        Some((sender, rejected)) => request_relation(sender == self.caller, rejected),
                        None => Relation::None,
                    }
                };
                Some((user, relation))
            })
            .collect();
        Ok(Page { count, items })
    }
}

impl Repo {
    /// `of`'s connections as `caller` sees them: those also connected with the caller first,
    /// then the others; newest connection first in each group; user id (descending) last.
    /// Each user comes with their relation with the caller, read in the same statements.
    pub async fn connections_page(
        &self,
        of: i64,
        caller: i64,
        mutual_only: bool,
        limit: u64,
        offset: u64,
    ) -> Result<Page<(User, Relation)>, RepoError> {
        let plan = ConnectionsPlan { of, caller, mutual_only, limit, offset };
        match self.sqlite() {
            Some(engine) => engine.read(move |conn| ready(plan.run(conn))).await,
            None => plan.run(self.connection()).await,
        }
    }

    /// Pending requests `caller` received, newest first.
    pub async fn received_requests_page(&self, caller: i64, limit: u64, offset: u64) -> Result<Page<RequestWithUsers>, RepoError> {
        self.requests_page(caller, true, limit, offset).await
    }

    /// Requests `caller` sent (pending or rejected: the requester is not told), newest first.
    pub async fn sent_requests_page(&self, caller: i64, limit: u64, offset: u64) -> Result<Page<RequestWithUsers>, RepoError> {
        self.requests_page(caller, false, limit, offset).await
    }

    async fn requests_page(&self, caller: i64, received: bool, limit: u64, offset: u64) -> Result<Page<RequestWithUsers>, RepoError> {
        let counter = if received {
            users::Column::ConnectionRequestsReceivedCounter
        } else {
            users::Column::ConnectionRequestsSentCounter
        };
        let variant = usize::from(received);
        let page_args = [Arg::Int(caller), Arg::Int(as_int(limit)), Arg::Int(as_int(offset))];
        let (total, items) = match self.sqlite() {
            Some(engine) => {
                let own = OWN_COUNTER[variant].get(|| own_counter_query(shapes::int(0), counter));
                let own_args = [Arg::Int(caller)];
                let page = REQUESTS_PAGE[variant]
                    .get(|| requests_page_query(shapes::int(0), received, shapes::int(1) as u64, shapes::int(2) as u64));
                engine
                    .read(move |conn| {
                        let Some(total) = sqlite::query_shape_one(conn, own, &own_args, |r| r.int(0))? else {
                            return Err(RepoError::CallerNotFound);
                        };
                        Ok((total, sqlite::query_shape(conn, page, &page_args, |r| request_row(r, 0))?))
                    })
                    .await?
            }
            None => {
                let counted = COUNTED_REQUESTS_PAGE[variant].get(|| {
                    counted_requests_page_query(shapes::int(0), received, counter, shapes::int(1) as u64, shapes::int(2) as u64)
                });
                let rows = self
                    .connection()
                    .query_all_raw(counted.postgres(&page_args))
                    .await?
                    .iter()
                    .map(|row| {
                        let item = match row.opt_int(1)? {
                            Some(_) => Some(request_row(row, 1)?),
                            None => None,
                        };
                        Ok((row.int(0)?, item))
                    })
                    .collect::<Result<_, RepoError>>()?;
                fold_counted_requests(rows)?
            }
        };
        Ok(Page { count: count(total), items })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lists come in index order, whatever their length: no sort of the whole list
    /// (SQLite's plan, on the migrated schema).
    #[tokio::test]
    async fn pages_are_read_in_index_order() {
        let plans = crate::db::plans::Plans::migrated().await;
        let plan = |statement| plans.plan(statement);
        for connections in [
            plan(own_connections_page_query(5, 20, 40)),
            plan(connection_order_prefix_query(5, 60)),
            plan(connection_order_query(5, true)),
            plan(connection_order_query(5, false)),
        ] {
            assert!(connections.contains("MERGE (UNION ALL)"), "{connections}");
            assert!(!connections.contains("TEMP B-TREE"), "{connections}");
        }
        // The caller's set, and the page's users, are index lookups: no table is scanned.
        let partners = plan(partner_ids_query(7));
        assert_eq!(partners.matches("COVERING INDEX").count(), 2, "{partners}");
        // The mutual segment: the caller's side by its covering indexes, then one primary-key
        // probe of the pair with the list's owner per row; the owner's side is never scanned.
        let mutual = plan(mutual_query(7, 5));
        assert_eq!(mutual.matches("COVERING INDEX").count(), 2, "{mutual}");
        // (`connections` is a view of the pairs' rows: SQLite names the table it reads.)
        assert!(mutual.contains("SEARCH relations USING PRIMARY KEY"), "{mutual}");
        assert!(!mutual.contains("SCAN relations"), "{mutual}");
        let users = plan(page_users_query(7, &[1, 2, 3]));
        assert!(!users.contains("SCAN u"), "{users}");
        for received in [true, false] {
            let requests = plan(requests_page_query(5, received, 20, 40));
            assert!(!requests.contains("TEMP B-TREE"), "{requests}");
        }
    }
}
