//! Friendship mode's "people you may know": users connected with the caller's connections, ranked by how many
//! of the caller's connections they share. Its cost is bounded whatever the graph's size: the
//! ranking reads the caller's [`FRIENDS`] most recent connections and, of each of them, their
//! [`PER_FRIEND`] most recent connections (each side of the pair read in its index's order, so
//! no read goes further than those; the friends' reads in one statement), then checks at most `FRIENDS × PER_FRIEND` candidates, a
//! page's worth at a time, and reads the users of the page asked for.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Order, Query, SelectStatement, UnionType};

use crate::db::paging::{Bound, Segments};
use crate::db::pairs::{connections_side, pair_with};
use crate::db::users::active_check;
use crate::db::connection::Repo;
use crate::db::entities::users::Model as User;
use crate::db::entities::{connections, relations, users};
use crate::db::error::RepoError;
use crate::db::paging::ready;
use crate::db::pairs::hidden_either_way;
use crate::db::shapes::{self, Arg, LazyShape};
use crate::domain::paging::Page;
use super::page::ranked_page;

/// How many of the caller's most recent connections the ranking reads.
pub const FRIENDS: u64 = 50;
/// How many of each of those connections' most recent connections it reads.
pub const PER_FRIEND: u64 = 20;

/// `of`'s most recent connections recorded on one side of the pair (see
/// [`connections_side`]): `limit` of them, newest first, as (other user, date).
fn newest_side_query(of: i64, of_is_low: bool, limit: u64) -> SelectStatement {
    let other_col = if of_is_low { connections::Column::UserHigh } else { connections::Column::UserLow };
    let c = Alias::new("c");
    let mut q = connections_side(of, of_is_low, false, |q| {
        q.expr(Expr::col((c.clone(), other_col)));
        q.expr(Expr::col((c.clone(), connections::Column::Created)));
    });
    q.order_by((c.clone(), connections::Column::Created), Order::Desc).order_by((c, other_col), Order::Desc).limit(limit);
    q
}

/// Of the users `ids` (unused places hold 0, no user's id), those who may be suggested to
/// `caller`: not deleted, no relation with the caller in any state (their pair's row, if any,
/// holds none), neither hidden by nor hiding the caller.
fn eligible_query(caller: i64, ids: &[i64]) -> SelectStatement {
    let u = Alias::new("u");
    let (low, high) = pair_with(caller);
    let related = Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(relations::Entity)
            .and_where(Expr::col(relations::Column::UserLow).eq(low))
            .and_where(Expr::col(relations::Column::UserHigh).eq(high))
            .and_where(Expr::col(relations::Column::Kind).ne(relations::NONE))
            .to_owned(),
    );
    let user = Expr::col((u.clone(), users::Column::Id));
    Query::select()
        .expr(user.clone())
        .from_as(users::Entity, u.clone())
        .and_where(user.clone().is_in(ids.iter().copied()))
        .and_where(Expr::col((u.clone(), users::Column::Deleted)).eq(false))
        .and_where(related.not())
        .and_where(hidden_either_way(caller, user).not())
        .to_owned()
}

/// Of each of `friends` (unused places hold 0, no user's id), the [`PER_FRIEND`] most recent
/// connections on each side of the pair, in one statement: rows of (friend, other user, date).
/// Each side is read in its index's order and stops at its limit.
fn friends_newest_query(friends: &[i64]) -> SelectStatement {
    let mut members = friends.iter().enumerate().flat_map(|(i, friend)| {
        [true, false].map(|of_is_low| {
            let mut side = newest_side_query(*friend, of_is_low, PER_FRIEND);
            side.expr(Expr::val(*friend));
            // A member with its own ORDER BY and LIMIT stands in FROM (SQLite allows neither
            // on a compound's members).
            Query::select().column(Asterisk).from_subquery(side, Alias::new(format!("s{i}_{}", u8::from(of_is_low)))).to_owned()
        })
    });
    let mut query = members.next().unwrap_or_else(|| Query::select().to_owned());
    for member in members {
        query.union(UnionType::All, member);
    }
    query
}

static NEWEST_SIDE: [LazyShape; 2] = [const { LazyShape::new() }; 2];
static FRIENDS_NEWEST: LazyShape = LazyShape::new();
static ELIGIBLE: LazyShape = LazyShape::new();

struct SuggestionsPlan {
    caller: i64,
    limit: u64,
    offset: u64,
}

impl SuggestionsPlan {
    /// `of`'s `limit` most recent connections, newest first: each side's newest, merged.
    async fn newest(&self, engine: &impl Segments, of: i64, limit: u64) -> Result<Vec<i64>, RepoError> {
        let mut both: Vec<(DateTime<Utc>, i64)> = Vec::new();
        for of_is_low in [true, false] {
            let shape = NEWEST_SIDE[usize::from(of_is_low)]
                .get(|| newest_side_query(shapes::int(0), of_is_low, shapes::int(1) as u64));
            let bound: Bound = (shape, vec![Arg::Int(of), Arg::Int(i64::try_from(limit).unwrap_or(i64::MAX))]);
            both.extend(engine.rows(bound, |row| Ok((row.time(1)?, row.int(0)?))).await?);
        }
        both.sort_unstable_by(|a, b| b.cmp(a));
        Ok(both.into_iter().take(usize::try_from(limit).unwrap_or(usize::MAX)).map(|(_, id)| id).collect())
    }

    async fn run(&self, engine: &impl Segments) -> Result<Page<User>, RepoError> {
        if !engine.one(active_check(self.caller), |r| r.boolean(0)).await?.unwrap_or(false) {
            return Err(RepoError::CallerNotFound);
        }
        // Every friend's newest connections, in one statement; then each friend's PER_FRIEND
        // newest of both sides, and how many of the caller's connections (those read) each
        // candidate is connected with.
        let friends = self.newest(engine, self.caller, FRIENDS).await?;
        let mut by_friend: HashMap<i64, Vec<(DateTime<Utc>, i64)>> = HashMap::new();
        if !friends.is_empty() {
            let shape = FRIENDS_NEWEST.get(|| {
                let sentinels: Vec<i64> = (0..FRIENDS as usize).map(shapes::int).collect();
                friends_newest_query(&sentinels)
            });
            let args = (0..FRIENDS as usize).map(|i| Arg::Int(friends.get(i).copied().unwrap_or(0))).collect();
            for (other, created, friend) in engine.rows((shape, args), |row| Ok((row.int(0)?, row.time(1)?, row.int(2)?))).await? {
                by_friend.entry(friend).or_default().push((created, other));
            }
        }
        let mut shared: HashMap<i64, u32> = HashMap::new();
        for mut theirs in by_friend.into_values() {
            theirs.sort_unstable_by(|a, b| b.cmp(a));
            for (_, candidate) in theirs.into_iter().take(PER_FRIEND as usize) {
                if candidate != self.caller {
                    *shared.entry(candidate).or_default() += 1;
                }
            }
        }
        ranked_page(engine, self.caller, shared, (&ELIGIBLE, eligible_query), self.limit, self.offset).await
    }
}

impl Repo {
    /// Friendship mode: the users `caller` may know, most shared connections first (then by
    /// id), a page of them and how many there are (see the module's comment for what is read).
    pub async fn friendship_suggestions(&self, caller: i64, limit: u64, offset: u64) -> Result<Page<User>, RepoError> {
        let plan = SuggestionsPlan { caller, limit, offset };
        match self.sqlite() {
            Some(engine) => engine.read(move |conn| ready(plan.run(conn))).await,
            None => plan.run(self.connection()).await,
        }
    }
}
