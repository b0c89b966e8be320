//! Follows as several features read them: who follows whom between two users in one statement
//! (the follow toggle and its checks, a user's page, `connection_status/`), and which of many
//! users the caller follows (the statuses batch, every list's `connection_status` in follow
//! mode). Each is a primary-key probe of `follows`: as cheap as a status read.

use std::collections::HashSet;

use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};

use super::connection::Repo;
use super::entities::follows;
use super::error::RepoError;
use super::pairs::hidden_either_way;
use super::rows::{self, Row};
use super::shapes::{self, Arg, LazyShape, Shape};
use super::sqlite;
use super::users::{active_ids_query, is_active};

/// `follower` follows `followed` (ids, or columns).
pub fn follows(follower: impl Into<Expr>, followed: impl Into<Expr>) -> Expr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(follows::Entity)
            .and_where(Expr::col(follows::Column::FollowerId).eq(follower))
            .and_where(Expr::col(follows::Column::FollowedId).eq(followed))
            .to_owned(),
    )
}

/// Two users as one statement reads them: both users' state, the follows both ways, hiding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FollowState {
    pub caller_active: bool,
    pub other_active: bool,
    /// The caller follows the other user.
    pub follows: bool,
    /// The other user follows the caller.
    pub followed_by: bool,
    /// Either user hid the other.
    pub hidden: bool,
}

impl FollowState {
    fn read_row(row: &impl Row) -> Result<FollowState, RepoError> {
        Ok(FollowState {
            caller_active: row.boolean(0)?,
            other_active: row.boolean(1)?,
            follows: row.boolean(2)?,
            followed_by: row.boolean(3)?,
            hidden: row.boolean(4)?,
        })
    }

    /// The caller first (a token whose user is gone is `401`), then the other user (`404`).
    pub fn require_users(&self) -> Result<(), RepoError> {
        if !self.caller_active {
            Err(RepoError::CallerNotFound)
        } else if !self.other_active {
            Err(RepoError::UserNotFound)
        } else {
            Ok(())
        }
    }
}

fn follow_state_query(caller: i64, other: i64) -> SelectStatement {
    Query::select()
        .expr(is_active(caller))
        .expr(is_active(other))
        .expr(follows(caller, other))
        .expr(follows(other, caller))
        .expr(hidden_either_way(caller, other))
        .to_owned()
}

static FOLLOW_STATE: LazyShape = LazyShape::new();

fn follow_state_shape() -> &'static Shape {
    FOLLOW_STATE.get(|| follow_state_query(shapes::int(0), shapes::int(1)))
}

/// SQLite: the two users' state, on a reader's or the writer's connection.
pub fn read_follow_state_sqlite(conn: &rusqlite::Connection, caller: i64, other: i64) -> Result<FollowState, RepoError> {
    sqlite::query_shape_one(conn, follow_state_shape(), &[Arg::Int(caller), Arg::Int(other)], |r| FollowState::read_row(r))?
        .ok_or_else(|| RepoError::database("the follow state query returned no row"))
}

/// PostgreSQL: the two users' state, on a connection or a transaction.
pub async fn read_follow_state_postgres(db: &impl ConnectionTrait, caller: i64, other: i64) -> Result<FollowState, RepoError> {
    let row = db
        .query_one_raw(follow_state_shape().postgres(&[Arg::Int(caller), Arg::Int(other)]))
        .await?
        .ok_or_else(|| RepoError::database("the follow state query returned no row"))?;
    FollowState::read_row(&row)
}

/// Which of `others` `caller` follows.
fn followed_among_query(caller: i64, others: &[i64]) -> SelectStatement {
    Query::select()
        .column(follows::Column::FollowedId)
        .from(follows::Entity)
        .and_where(Expr::col(follows::Column::FollowerId).eq(caller))
        .and_where(Expr::col(follows::Column::FollowedId).is_in(others.iter().copied()))
        .to_owned()
}

impl Repo {
    /// Two users' follows and state, in one statement; nothing is checked.
    pub async fn follow_state(&self, caller: i64, other: i64) -> Result<FollowState, RepoError> {
        match self.sqlite() {
            Some(engine) => engine.read(move |conn| read_follow_state_sqlite(conn, caller, other)).await,
            None => read_follow_state_postgres(self.connection(), caller, other).await,
        }
    }

    /// Which of `ids` `caller` follows (no user is checked: the ids come from a page already
    /// read).
    pub async fn followed_among(&self, caller: i64, ids: &[i64]) -> Result<HashSet<i64>, RepoError> {
        if ids.is_empty() {
            return Ok(HashSet::new());
        }
        let query = followed_among_query(caller, ids);
        let found: Vec<i64> = match self.sqlite() {
            Some(engine) => engine.read(move |conn| sqlite::query(conn, &query, |r| r.int(0))).await?,
            None => {
                self.connection().query_all_raw(rows::postgres(&query)).await?.iter().map(|r| r.int(0)).collect::<Result<_, _>>()?
            }
        };
        Ok(found.into_iter().collect())
    }

    /// Each of `ids` that exists and is not deleted (oneself included), sorted, with whether
    /// `caller` follows them; `CallerNotFound` when the caller is gone. Two statements, on
    /// SQLite in one hand-off.
    pub async fn follow_statuses(&self, caller: i64, ids: &[i64]) -> Result<Vec<(i64, bool)>, RepoError> {
        let mut asked = ids.to_vec();
        asked.push(caller);
        let active = active_ids_query(&asked);
        let others: Vec<i64> = ids.iter().copied().filter(|id| *id != caller).collect();
        let (found, followed): (Vec<i64>, Vec<i64>) = match self.sqlite() {
            Some(engine) => {
                engine
                    .read(move |conn| {
                        let found = sqlite::query(conn, &active, |r| r.int(0))?;
                        let followed = match others.is_empty() {
                            true => Vec::new(),
                            false => sqlite::query(conn, &followed_among_query(caller, &others), |r| r.int(0))?,
                        };
                        Ok((found, followed))
                    })
                    .await?
            }
            None => {
                let db = self.connection();
                let found = db.query_all_raw(rows::postgres(&active)).await?.iter().map(|r| r.int(0)).collect::<Result<_, _>>()?;
                let followed = match others.is_empty() {
                    true => Vec::new(),
                    false => db
                        .query_all_raw(rows::postgres(&followed_among_query(caller, &others)))
                        .await?
                        .iter()
                        .map(|r| r.int(0))
                        .collect::<Result<_, _>>()?,
                };
                (found, followed)
            }
        };
        if !found.contains(&caller) {
            return Err(RepoError::CallerNotFound);
        }
        let mut known: Vec<i64> = found.into_iter().filter(|id| ids.contains(id)).collect();
        known.sort_unstable();
        known.dedup();
        Ok(known.into_iter().map(|id| (id, followed.contains(&id))).collect())
    }
}
