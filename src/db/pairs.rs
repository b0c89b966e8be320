//! A pair of users as several features read it: its relation and both users' state in one
//! statement (the actions, a user's page, the status reads), many relations at once (the
//! statuses batch, the pages of the lists), and whether either user hid the other.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DatabaseConnection};
use sea_orm::sea_query::{Alias, ConditionalStatement, Expr, ExprTrait, JoinType, Query, SelectStatement};

use super::connection::Repo;
use super::entities::{connection_requests as requests, connections, hidden_users as hidden, relations, users};
use super::error::RepoError;
use super::rows::{self, Row};
use super::shapes::{self, Arg, LazyShape, Shape};
use super::sqlite;
use super::users::{active_ids_query, is_active};
use crate::domain::{Action, Relation};

pub fn ordered(a: i64, b: i64) -> (i64, i64) {
    if a < b { (a, b) } else { (b, a) }
}

/// The relation a request makes, from the side of the one who `sent` it or not.
pub fn request_relation(sent: bool, rejected: bool) -> Relation {
    match (sent, rejected) {
        (true, false) => Relation::SentPending,
        (true, true) => Relation::SentRejected,
        (false, false) => Relation::ReceivedPending,
        (false, true) => Relation::ReceivedRejected,
    }
}

/// The columns of a pair's state, first in every statement that reads it.
pub const PAIR_STATE_COLUMNS: usize = 7;

/// A pair as one statement reads it.
#[derive(Clone, Copy, Debug)]
pub struct PairState {
    pub caller_active: bool,
    pub other_active: bool,
    /// `None`: the pair was never acted on.
    pub version: Option<i64>,
    sender: Option<i64>,
    rejected: Option<bool>,
    connected: bool,
    /// Either user hid the other.
    pub hidden: bool,
}

impl PairState {
    pub fn relation(&self, caller: i64) -> Relation {
        match self.sender {
            Some(from) => request_relation(from == caller, self.rejected.unwrap_or(false)),
            None if self.connected => Relation::Connected,
            None => Relation::None,
        }
    }

    /// Reads the [`PAIR_STATE_COLUMNS`] first columns of `row`.
    pub fn read_row(row: &impl Row) -> Result<PairState, RepoError> {
        Ok(PairState {
            caller_active: row.boolean(0)?,
            other_active: row.boolean(1)?,
            version: row.opt_int(2)?,
            sender: row.opt_int(3)?,
            rejected: row.opt_int(4)?.map(|r| r != 0),
            connected: row.boolean(5)?,
            hidden: row.boolean(6)?,
        })
    }

    /// The users first (see [`PairState::require_users`]), then hiding: while either user hid
    /// the other, the actions that create or restore a relation are refused (`UserHidden`),
    /// whatever the pair's state.
    pub fn require_action_allowed(&self, action: Action) -> Result<(), RepoError> {
        self.require_users()?;
        if self.hidden && action.needs_both_visible() {
            return Err(RepoError::UserHidden);
        }
        Ok(())
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

/// The statement's rows are the pair `(low, high)`'s (a select's, an update's).
pub fn of_pair<S: ConditionalStatement, C: sea_orm::sea_query::IntoIden + Copy>(statement: &mut S, low_col: C, high_col: C, low: i64, high: i64) {
    statement.and_where(Expr::col(low_col).eq(low)).and_where(Expr::col(high_col).eq(high));
}

/// The pair's state and both users' in one statement (see [`PairState`]).
fn pair_state_query(caller: i64, other: i64, low: i64, high: i64) -> SelectStatement {
    let mut query = Query::select();
    query.exprs(pair_state_columns(caller, other));
    pair_state_from(&mut query, low, high);
    query
}

/// The alias of the pair's row in a statement that reads its state.
const PAIR: &str = "pr";

/// What [`pair_state_columns`] read from: one row, with the pair's row joined if it has one (one
/// probe of its primary key).
pub fn pair_state_from(query: &mut SelectStatement, low: i64, high: i64) {
    let pr = Alias::new(PAIR);
    query.from_subquery(Query::select().expr(Expr::val(1)).to_owned(), Alias::new("one")).join_as(
        JoinType::LeftJoin,
        relations::Entity,
        pr.clone(),
        Expr::col((pr.clone(), relations::Column::UserLow)).eq(low).and(Expr::col((pr, relations::Column::UserHigh)).eq(high)),
    );
}

/// The columns of [`pair_state_query`], read from [`pair_state_from`]: the users' by a probe
/// each, the pair's from its row (its sender is set only on a request, by the schema's `CHECK`).
pub fn pair_state_columns(caller: i64, other: i64) -> [Expr; PAIR_STATE_COLUMNS] {
    let col = |c: relations::Column| Expr::col((Alias::new(PAIR), c));
    [
        is_active(caller),
        is_active(other),
        col(relations::Column::Version),
        col(relations::Column::FromUserId),
        Expr::case(col(relations::Column::Rejected).is_null(), 0).finally(1).into(),
        Expr::case(col(relations::Column::Kind).eq(relations::CONNECTION), true).finally(false).into(),
        hidden_either_way(caller, other),
    ]
}

static PAIR_STATE: LazyShape = LazyShape::new();

/// The statement and arguments that read the pair of `caller` and `other`.
pub fn pair_state(caller: i64, other: i64) -> (&'static Shape, [Arg; 4]) {
    let shape = PAIR_STATE.get(|| pair_state_query(shapes::int(0), shapes::int(1), shapes::int(2), shapes::int(3)));
    let (low, high) = ordered(caller, other);
    (shape, [Arg::Int(caller), Arg::Int(other), Arg::Int(low), Arg::Int(high)])
}

/// `user` hid `other` (ids, or columns).
pub fn hid(user: impl Into<Expr>, other: impl Into<Expr>) -> Expr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(hidden::Entity)
            .and_where(Expr::col(hidden::Column::UserId).eq(user))
            .and_where(Expr::col(hidden::Column::HiddenUserId).eq(other))
            .to_owned(),
    )
}

/// Either of `a` and `b` hid the other (ids, or columns).
pub fn hidden_either_way(a: impl Into<Expr> + Clone, b: impl Into<Expr> + Clone) -> Expr {
    hid(a.clone(), b.clone()).or(hid(b, a))
}

/// The pair of the list's user `u` and `caller`, lower id first, as the pair tables key it.
pub fn pair_with(caller: i64) -> (Expr, Expr) {
    let u = || Expr::col((Alias::new("u"), users::Column::Id));
    (Expr::case(u().lt(caller), u()).finally(caller).into(), Expr::case(u().lt(caller), caller).finally(u()).into())
}

/// `of`'s connections recorded on one side of the pair (`of` is the pair's lower id, or its
/// higher), read in the order of the index on (`of`'s side, created, other side). With
/// `active_users`, the other user is joined as `u` and must not be deleted; without, the
/// index alone answers (it covers the pair and the date).
pub fn connections_side(of: i64, of_is_low: bool, active_users: bool, columns: impl FnOnce(&mut SelectStatement)) -> SelectStatement {
    let (of_col, other_col) = if of_is_low {
        (connections::Column::UserLow, connections::Column::UserHigh)
    } else {
        (connections::Column::UserHigh, connections::Column::UserLow)
    };
    let mut q = Query::select();
    columns(&mut q);
    q.from_as(connections::Entity, Alias::new("c")).and_where(Expr::col((Alias::new("c"), of_col)).eq(of));
    if active_users {
        q.join_as(
            JoinType::InnerJoin,
            users::Entity,
            Alias::new("u"),
            Expr::col((Alias::new("u"), users::Column::Id)).equals((Alias::new("c"), other_col)),
        )
        .and_where(Expr::col((Alias::new("u"), users::Column::Deleted)).eq(false));
    }
    q.to_owned()
}

// ----- the pair's state, read on either engine -----

pub fn read_pair_sqlite(conn: &rusqlite::Connection, caller: i64, other: i64) -> Result<PairState, RepoError> {
    let (shape, args) = pair_state(caller, other);
    sqlite::query_shape_one(conn, shape, &args, |r| PairState::read_row(r))?
        .ok_or_else(|| RepoError::database("the pair query returned no row"))
}

pub async fn read_pair_postgres(db: &DatabaseConnection, caller: i64, other: i64) -> Result<PairState, RepoError> {
    let (shape, args) = pair_state(caller, other);
    let row = db
        .query_one_raw(shape.postgres(&args))
        .await?
        .ok_or_else(|| RepoError::database("the pair query returned no row"))?;
    PairState::read_row(&row)
}

impl Repo {
    /// The relation between `caller` and `other`, seen from `caller`'s side, in one statement
    /// that also checks both users (`CallerNotFound`, `UserNotFound`).
    pub async fn pair(&self, caller: i64, other: i64) -> Result<Relation, RepoError> {
        let state = self.read_pair(caller, other).await?;
        state.require_users()?;
        Ok(state.relation(caller))
    }

    /// The relation between two users, whoever they are (tests and operators).
    pub async fn relation(&self, caller: i64, other: i64) -> Result<Relation, RepoError> {
        Ok(self.read_pair(caller, other).await?.relation(caller))
    }

    async fn read_pair(&self, caller: i64, other: i64) -> Result<PairState, RepoError> {
        match self.sqlite() {
            Some(engine) => engine.read(move |conn| read_pair_sqlite(conn, caller, other)).await,
            None => read_pair_postgres(self.connection(), caller, other).await,
        }
    }
}

// ----- many relations at once (the statuses batch, list pages) -----

/// `caller`'s requests and connections with any of `others`, in one statement: `(other,
/// sender, rejected, connected)`.
pub fn relations_query(caller: i64, others: &[i64]) -> SelectStatement {
    // Rows with `caller` in one of two columns and one of `others` in the other; `other` is
    // whichever of the two is not the caller.
    fn either_side<C: sea_orm::sea_query::IntoIden + Copy + 'static>(
        one: C,
        two: C,
        caller: i64,
        others: &[i64],
    ) -> (sea_orm::Condition, Expr) {
        let side = |a: C, b: C| Expr::col(a).eq(caller).and(Expr::col(b).is_in(others.iter().copied()));
        let other = Expr::case(Expr::col(one).eq(caller), Expr::col(two)).finally(Expr::col(one)).into();
        (sea_orm::Condition::any().add(side(one, two)).add(side(two, one)), other)
    }
    let (cond, other) = either_side(requests::Column::FromUserId, requests::Column::ToUserId, caller, others);
    let mut requests_q = Query::select()
        .expr(other)
        .column(requests::Column::FromUserId)
        .expr(Expr::case(Expr::col(requests::Column::Rejected).is_null(), 0).finally(1))
        .expr(Expr::val(0))
        .from(requests::Entity)
        .cond_where(cond)
        .to_owned();
    let (cond, other) = either_side(connections::Column::UserLow, connections::Column::UserHigh, caller, others);
    let connections_q = Query::select()
        .expr(other)
        .expr(Expr::null())
        .expr(Expr::val(0))
        .expr(Expr::val(1))
        .from(connections::Entity)
        .cond_where(cond)
        .to_owned();
    requests_q.union(sea_orm::sea_query::UnionType::All, connections_q);
    requests_q
}

/// Folds the rows of [`relations_query`] into each other user's relation with `caller`.
pub fn fold_relations(caller: i64, others: &[i64], rows: Vec<(i64, Option<i64>, bool, bool)>) -> HashMap<i64, Relation> {
    let mut map: HashMap<i64, Relation> = others.iter().map(|id| (*id, Relation::None)).collect();
    for (other, sender, rejected, connected) in rows {
        let relation = match sender {
            _ if connected => Relation::Connected,
            Some(from) => request_relation(from == caller, rejected),
            None => Relation::None,
        };
        map.insert(other, relation);
    }
    map
}

pub fn relation_row(row: &impl Row) -> Result<(i64, Option<i64>, bool, bool), RepoError> {
    Ok((row.int(0)?, row.opt_int(1)?, row.int(2)? != 0, row.int(3)? != 0))
}

/// The users asked about who exist, other than the caller.
fn others_among(caller: i64, asked: &[i64], active: &[i64]) -> Vec<i64> {
    active.iter().copied().filter(|id| *id != caller && asked.contains(id)).collect()
}

impl Repo {
    /// `caller`'s relation with each of `ids` that exists and is not deleted (oneself
    /// included, as no relation), sorted by id. Two statements, whatever the number of ids,
    /// on SQLite in one hand-off: which users are active (the caller among them: else
    /// `CallerNotFound`), then the caller's requests and connections with them.
    pub async fn statuses(&self, caller: i64, ids: &[i64]) -> Result<Vec<(i64, Relation)>, RepoError> {
        let mut asked = ids.to_vec();
        asked.push(caller);
        let active = active_ids_query(&asked);
        let (found, relations) = match self.sqlite() {
            Some(engine) => {
                let ids = ids.to_vec();
                engine
                    .read(move |conn| {
                        let found = sqlite::query(conn, &active, |r| r.int(0))?;
                        let others = others_among(caller, &ids, &found);
                        let rows = match others.is_empty() {
                            true => Vec::new(),
                            false => sqlite::query(conn, &relations_query(caller, &others), |r| relation_row(r))?,
                        };
                        Ok((found, fold_relations(caller, &others, rows)))
                    })
                    .await?
            }
            None => {
                let db = self.connection();
                let found: Vec<i64> =
                    db.query_all_raw(rows::postgres(&active)).await?.iter().map(|r| r.int(0)).collect::<Result<_, _>>()?;
                let others = others_among(caller, ids, &found);
                let rows = match others.is_empty() {
                    true => Vec::new(),
                    false => db
                        .query_all_raw(rows::postgres(&relations_query(caller, &others)))
                        .await?
                        .iter()
                        .map(relation_row)
                        .collect::<Result<_, _>>()?,
                };
                let relations = fold_relations(caller, &others, rows);
                (found, relations)
            }
        };
        if !found.contains(&caller) {
            return Err(RepoError::CallerNotFound);
        }
        let mut known: Vec<i64> = found.into_iter().filter(|id| ids.contains(id)).collect();
        known.sort_unstable();
        known.dedup();
        Ok(known.into_iter().map(|id| (id, relations.get(&id).copied().unwrap_or(Relation::None))).collect())
    }
}
