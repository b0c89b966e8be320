//! Hidden users ("blocked" in SelfCommunity's React UI): who hid whom. A toggle, the two checks,
//! and the hider's list, on both engines. Hiding changes no relation and no counter; the actions
//! that create or restore a relation read [`hidden_either_way`] in the pair's own statement.

use chrono::Utc;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, JoinType, Order, Query, SelectStatement};
use sea_orm::{ConnectionTrait, TransactionTrait};

use crate::db::connection::Repo;
use crate::db::entities::users::Model as User;
use crate::db::entities::{hidden_users as hidden, users};
use crate::db::error::RepoError;
use crate::db::pairs::hid;
use crate::db::rows::{self, Row};
use crate::db::sqlite;
use crate::db::users::is_active;
use crate::domain::paging::Page;

/// Both users' state and both flags: caller active, other active, caller hid other, other hid
/// caller.
fn flags_query(caller: i64, other: i64) -> SelectStatement {
    Query::select().expr(is_active(caller)).expr(is_active(other)).expr(hid(caller, other)).expr(hid(other, caller)).to_owned()
}

/// The flags of [`flags_query`], with the users checked: the caller first (`401`), then the
/// other user (`404`).
fn checked_flags(row: &impl Row) -> Result<(bool, bool), RepoError> {
    if !row.boolean(0)? {
        return Err(RepoError::CallerNotFound);
    }
    if !row.boolean(1)? {
        return Err(RepoError::UserNotFound);
    }
    Ok((row.boolean(2)?, row.boolean(3)?))
}

fn unhide(caller: i64, other: i64) -> sea_orm::sea_query::DeleteStatement {
    Query::delete()
        .from_table(hidden::Entity)
        .and_where(Expr::col(hidden::Column::UserId).eq(caller))
        .and_where(Expr::col(hidden::Column::HiddenUserId).eq(other))
        .to_owned()
}

fn hide(caller: i64, other: i64) -> sea_orm::sea_query::InsertStatement {
    Query::insert()
        .into_table(hidden::Entity)
        .columns([hidden::Column::UserId, hidden::Column::HiddenUserId, hidden::Column::Created])
        .values_panic([caller.into(), other.into(), Utc::now().into()])
        .to_owned()
}

/// The users `caller` hid who are not deleted, joined as `u`, with `columns`.
fn hidden_users_of(caller: i64, columns: impl FnOnce(&mut SelectStatement)) -> SelectStatement {
    let u = Alias::new("u");
    let mut q = Query::select();
    columns(&mut q);
    q.from(hidden::Entity)
        .join_as(
            JoinType::InnerJoin,
            users::Entity,
            u.clone(),
            Expr::col((u.clone(), users::Column::Id)).equals((hidden::Entity, hidden::Column::HiddenUserId)),
        )
        .and_where(Expr::col((hidden::Entity, hidden::Column::UserId)).eq(caller))
        .and_where(Expr::col((u, users::Column::Deleted)).eq(false))
        .to_owned()
}

fn count_query(caller: i64) -> SelectStatement {
    hidden_users_of(caller, |q| {
        q.expr(Func::count(Expr::val(1)));
    })
}

/// Most recently hidden first; the hidden user's id breaks ties.
fn page_query(caller: i64, limit: u64, offset: u64) -> SelectStatement {
    let mut q = hidden_users_of(caller, |q| rows::select_user(q, "u"));
    q.order_by((hidden::Entity, hidden::Column::Created), Order::Desc)
        .order_by((hidden::Entity, hidden::Column::HiddenUserId), Order::Desc)
        .limit(limit)
        .offset(offset);
    q
}

fn ids_query(caller: i64) -> SelectStatement {
    let mut q = hidden_users_of(caller, |q| {
        q.expr(Expr::col((hidden::Entity, hidden::Column::HiddenUserId)));
    });
    q.order_by((hidden::Entity, hidden::Column::Created), Order::Desc)
        .order_by((hidden::Entity, hidden::Column::HiddenUserId), Order::Desc);
    q
}

fn caller_query(caller: i64) -> SelectStatement {
    Query::select().expr(is_active(caller)).to_owned()
}

impl Repo {
    /// Hides `other` from `caller`, or shows them again if hidden; answers whether `other` is
    /// hidden now. Toggles of one caller run one after the other (SQLite's single writer; on
    /// PostgreSQL, a lock on the caller's row), so two at once leave what two in a row would.
    pub async fn toggle_hidden(&self, caller: i64, other: i64) -> Result<bool, RepoError> {
        match self.sqlite() {
            Some(engine) => {
                engine
                    .write(move |conn| {
                        sqlite::query_one(conn, &flags_query(caller, other), |r| checked_flags(r))?
                            .ok_or_else(|| RepoError::database("the flags query returned no row"))?;
                        if sqlite::execute(conn, &unhide(caller, other))? == 1 {
                            return Ok(false);
                        }
                        sqlite::execute(conn, &hide(caller, other))?;
                        Ok(true)
                    })
                    .await
            }
            None => {
                let txn = self.connection().begin().await?;
                let lock = Query::select()
                    .column(users::Column::Id)
                    .from(users::Entity)
                    .and_where(Expr::col(users::Column::Id).eq(caller))
                    .lock(sea_orm::sea_query::LockType::NoKeyUpdate)
                    .to_owned();
                txn.execute_raw(rows::postgres(&lock)).await?;
                // After the lock: a new snapshot, which sees any toggle committed before it.
                let row = txn
                    .query_one_raw(rows::postgres(&flags_query(caller, other)))
                    .await?
                    .ok_or_else(|| RepoError::database("the flags query returned no row"))?;
                checked_flags(&row)?;
                let hidden_now = if txn.execute_raw(rows::postgres(&unhide(caller, other))).await?.rows_affected() == 1 {
                    false
                } else {
                    txn.execute_raw(rows::postgres(&hide(caller, other))).await?;
                    true
                };
                txn.commit().await?;
                Ok(hidden_now)
            }
        }
    }

    /// Whether `caller` hid `other`, and whether `other` hid `caller`.
    pub async fn hidden_flags(&self, caller: i64, other: i64) -> Result<(bool, bool), RepoError> {
        let query = flags_query(caller, other);
        let row = match self.sqlite() {
            Some(engine) => engine.read(move |conn| sqlite::query_one(conn, &query, |r| checked_flags(r))).await?,
            None => self.connection().query_one_raw(rows::postgres(&query)).await?.map(|r| checked_flags(&r)).transpose()?,
        };
        row.ok_or_else(|| RepoError::database("the flags query returned no row"))
    }

    /// A page of the users `caller` hid (not deleted), most recently hidden first, and how many
    /// there are.
    pub async fn hidden_users(&self, caller: i64, limit: u64, offset: u64) -> Result<Page<User>, RepoError> {
        let (active, count, page) = (caller_query(caller), count_query(caller), page_query(caller, limit, offset));
        let (active, count, items) = match self.sqlite() {
            Some(engine) => {
                engine
                    .read(move |conn| {
                        let active = sqlite::query_one(conn, &active, |r| r.boolean(0))?.unwrap_or(false);
                        let count = sqlite::query_one(conn, &count, |r| r.int(0))?.unwrap_or(0);
                        let items = sqlite::query(conn, &page, |r| rows::user_at(r, 0))?;
                        Ok((active, count, items))
                    })
                    .await?
            }
            None => {
                let db = self.connection();
                let active = db.query_one_raw(rows::postgres(&active)).await?.map(|r| r.boolean(0)).transpose()?.unwrap_or(false);
                let count = db.query_one_raw(rows::postgres(&count)).await?.map(|r| r.int(0)).transpose()?.unwrap_or(0);
                let items = db.query_all_raw(rows::postgres(&page)).await?.iter().map(|r| rows::user_at(r, 0)).collect::<Result<_, _>>()?;
                (active, count, items)
            }
        };
        if !active {
            return Err(RepoError::CallerNotFound);
        }
        Ok(Page { count: u64::try_from(count).unwrap_or(0), items })
    }

    /// The ids of the users `caller` hid (not deleted), most recently hidden first.
    pub async fn hidden_user_ids(&self, caller: i64) -> Result<Vec<i64>, RepoError> {
        let (active, ids) = (caller_query(caller), ids_query(caller));
        let (active, ids) = match self.sqlite() {
            Some(engine) => {
                engine
                    .read(move |conn| {
                        let active = sqlite::query_one(conn, &active, |r| r.boolean(0))?.unwrap_or(false);
                        Ok((active, sqlite::query(conn, &ids, |r| r.int(0))?))
                    })
                    .await?
            }
            None => {
                let db = self.connection();
                let active = db.query_one_raw(rows::postgres(&active)).await?.map(|r| r.boolean(0)).transpose()?.unwrap_or(false);
                let ids = db.query_all_raw(rows::postgres(&ids)).await?.iter().map(|r| r.int(0)).collect::<Result<_, _>>()?;
                (active, ids)
            }
        };
        if !active {
            return Err(RepoError::CallerNotFound);
        }
        Ok(ids)
    }
}
