//! Follow mode's "people you may know": users followed by the people the caller follows,
//! ranked by how many of them follow each. Bounded like friendship mode's: the caller's
//! [`FOLLOWINGS`] most recent followings and, of each, their [`PER_FOLLOWING`] most recent
//! followings, each read in its index's order and no further (the followings' reads in one
//! statement); then at most `FOLLOWINGS × PER_FOLLOWING` candidates are checked, a page's worth
//! of ids at a time, and the page's users read.

use std::collections::{HashMap, HashSet};

use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Order, Query, SelectStatement, UnionType};

use crate::db::connection::Repo;
use crate::db::entities::users::Model as User;
use crate::db::entities::{follows, users};
use crate::db::error::RepoError;
use crate::db::follows::follows as follows_expr;
use crate::db::paging::{Segments, ready};
use crate::db::pairs::hidden_either_way;
use crate::db::shapes::{self, Arg, LazyShape};
use crate::db::users::active_check;
use crate::domain::paging::Page;
use super::page::ranked_page;

/// How many of the caller's most recent followings the ranking reads.
pub const FOLLOWINGS: u64 = 50;
/// How many of each of those users' most recent followings it reads.
pub const PER_FOLLOWING: u64 = 20;

/// `of`'s `limit` most recent followings, newest first (the index on (follower, created,
/// followed), read backwards): (followed user, `of`).
fn newest_followings_query(of: i64, limit: u64) -> SelectStatement {
    Query::select()
        .column(follows::Column::FollowedId)
        .expr(Expr::val(of))
        .from(follows::Entity)
        .and_where(Expr::col(follows::Column::FollowerId).eq(of))
        .order_by(follows::Column::Created, Order::Desc)
        .order_by(follows::Column::FollowedId, Order::Desc)
        .limit(limit)
        .to_owned()
}

/// Of each of `followed` (unused places hold 0, no user's id), the [`PER_FOLLOWING`] most recent
/// followings, in one statement: rows of (followed user, follower).
fn their_newest_query(followed: &[i64]) -> SelectStatement {
    let mut members = followed.iter().enumerate().map(|(i, of)| {
        // A member with its own ORDER BY and LIMIT stands in FROM (SQLite allows neither on a
        // compound's members).
        Query::select().column(Asterisk).from_subquery(newest_followings_query(*of, PER_FOLLOWING), Alias::new(format!("s{i}"))).to_owned()
    });
    let mut query = members.next().unwrap_or_else(|| Query::select().to_owned());
    for member in members {
        query.union(UnionType::All, member);
    }
    query
}

/// Of the users `ids` (unused places hold 0), those who may be suggested to `caller`: not
/// deleted, not followed by the caller, neither hidden by nor hiding the caller.
fn eligible_query(caller: i64, ids: &[i64]) -> SelectStatement {
    let u = Alias::new("u");
    let user = Expr::col((u.clone(), users::Column::Id));
    Query::select()
        .expr(user.clone())
        .from_as(users::Entity, u.clone())
        .and_where(user.clone().is_in(ids.iter().copied()))
        .and_where(Expr::col((u, users::Column::Deleted)).eq(false))
        .and_where(follows_expr(caller, user.clone()).not())
        .and_where(hidden_either_way(caller, user).not())
        .to_owned()
}

static NEWEST: LazyShape = LazyShape::new();
static THEIR_NEWEST: LazyShape = LazyShape::new();
static ELIGIBLE: LazyShape = LazyShape::new();

struct FollowSuggestionsPlan {
    caller: i64,
    limit: u64,
    offset: u64,
}

impl FollowSuggestionsPlan {
    async fn run(&self, engine: &impl Segments) -> Result<Page<User>, RepoError> {
        if !engine.one(active_check(self.caller), |r| r.boolean(0)).await?.unwrap_or(false) {
            return Err(RepoError::CallerNotFound);
        }
        let newest = NEWEST.get(|| newest_followings_query(shapes::int(0), shapes::int(1) as u64));
        let mine = engine.ids((newest, vec![Arg::Int(self.caller), Arg::Int(FOLLOWINGS as i64)])).await?;
        let mut shared: HashMap<i64, u32> = HashMap::new();
        if !mine.is_empty() {
            let shape = THEIR_NEWEST.get(|| {
                let sentinels: Vec<i64> = (0..FOLLOWINGS as usize).map(shapes::int).collect();
                their_newest_query(&sentinels)
            });
            let args = (0..FOLLOWINGS as usize).map(|i| Arg::Int(mine.get(i).copied().unwrap_or(0))).collect();
            let mut seen: HashSet<(i64, i64)> = HashSet::new();
            for (candidate, by) in engine.rows((shape, args), |row| Ok((row.int(0)?, row.int(1)?))).await? {
                // Unused places (0) read nothing; a user listed twice in `mine` counts once.
                if candidate != self.caller && seen.insert((candidate, by)) {
                    *shared.entry(candidate).or_default() += 1;
                }
            }
        }
        ranked_page(engine, self.caller, shared, (&ELIGIBLE, eligible_query), self.limit, self.offset).await
    }
}

impl Repo {
    /// Follow mode: the users `caller` may want to follow, most followed by the caller's
    /// followings first (then by id), a page of them and how many there are (see the module's
    /// comment for what is read).
    pub async fn follow_suggestions(&self, caller: i64, limit: u64, offset: u64) -> Result<Page<User>, RepoError> {
        let plan = FollowSuggestionsPlan { caller, limit, offset };
        match self.sqlite() {
            Some(engine) => engine.read(move |conn| ready(plan.run(conn))).await,
            None => plan.run(self.connection()).await,
        }
    }
}
