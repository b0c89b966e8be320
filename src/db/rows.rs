//! Reading a result row by position, alike on both engines: rusqlite's rows (SQLite) and
//! sea-orm's (PostgreSQL). Each query's decoder is written once against this.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, SelectStatement};
use sea_orm::{DbBackend, QueryResult, Statement};

use super::entities::users::{self, Model as User};
use super::error::RepoError;
use super::sqlite;

pub trait Row {
    fn int(&self, i: usize) -> Result<i64, RepoError>;
    fn opt_int(&self, i: usize) -> Result<Option<i64>, RepoError>;
    fn text(&self, i: usize) -> Result<String, RepoError>;
    fn opt_text(&self, i: usize) -> Result<Option<String>, RepoError>;
    fn boolean(&self, i: usize) -> Result<bool, RepoError>;
    fn time(&self, i: usize) -> Result<DateTime<Utc>, RepoError>;
    fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>, RepoError>;
}

fn decode(i: usize, e: impl std::fmt::Display) -> RepoError {
    RepoError::database(format!("column {i}: {e}"))
}

impl Row for rusqlite::Row<'_> {
    fn int(&self, i: usize) -> Result<i64, RepoError> {
        self.get(i).map_err(|e| decode(i, e))
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>, RepoError> {
        self.get(i).map_err(|e| decode(i, e))
    }
    fn text(&self, i: usize) -> Result<String, RepoError> {
        self.get(i).map_err(|e| decode(i, e))
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, RepoError> {
        self.get(i).map_err(|e| decode(i, e))
    }
    fn boolean(&self, i: usize) -> Result<bool, RepoError> {
        self.get(i).map_err(|e| decode(i, e))
    }
    fn time(&self, i: usize) -> Result<DateTime<Utc>, RepoError> {
        let text: String = self.get(i).map_err(|e| decode(i, e))?;
        sqlite::parse_timestamp(&text).map_err(|e| decode(i, e))
    }
    fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>, RepoError> {
        let text: Option<String> = self.get(i).map_err(|e| decode(i, e))?;
        text.map(|t| sqlite::parse_timestamp(&t).map_err(|e| decode(i, e))).transpose()
    }
}

/// PostgreSQL types an integer literal `INT4` and a column `INT8`: both read as `i64`.
impl Row for QueryResult {
    fn int(&self, i: usize) -> Result<i64, RepoError> {
        self.opt_int(i)?.ok_or_else(|| decode(i, "unexpected NULL"))
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>, RepoError> {
        self.try_get_by_index::<Option<i64>>(i)
            .or_else(|_| self.try_get_by_index::<Option<i32>>(i).map(|v| v.map(i64::from)))
            .map_err(|e| decode(i, e))
    }
    fn text(&self, i: usize) -> Result<String, RepoError> {
        self.try_get_by_index(i).map_err(|e| decode(i, e))
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, RepoError> {
        self.try_get_by_index(i).map_err(|e| decode(i, e))
    }
    fn boolean(&self, i: usize) -> Result<bool, RepoError> {
        self.try_get_by_index(i).map_err(|e| decode(i, e))
    }
    fn time(&self, i: usize) -> Result<DateTime<Utc>, RepoError> {
        self.try_get_by_index(i).map_err(|e| decode(i, e))
    }
    fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>, RepoError> {
        self.try_get_by_index(i).map_err(|e| decode(i, e))
    }
}

/// The columns of a user, from the table (or alias) `table`, in the order [`user_at`] reads.
pub fn select_user(select: &mut SelectStatement, table: &str) {
    use users::Column as C;
    for column in [
        C::Id,
        C::Username,
        C::RealName,
        C::Avatar,
        C::ExtId,
        C::DateJoined,
        C::Deleted,
        C::ConnectionsCounter,
        C::ConnectionRequestsReceivedCounter,
        C::ConnectionRequestsSentCounter,
        C::Role,
        C::FollowersCounter,
        C::FollowingsCounter,
    ] {
        select.expr(Expr::col((Alias::new(table), column)));
    }
}

/// How many columns [`select_user`] adds.
pub const USER_COLUMNS: usize = 13;

/// A user from the columns [`select_user`] added, starting at `at`.
pub fn user_at(row: &(impl Row + ?Sized), at: usize) -> Result<User, RepoError> {
    Ok(User {
        id: row.int(at)?,
        username: row.text(at + 1)?,
        real_name: row.text(at + 2)?,
        avatar: row.opt_text(at + 3)?,
        ext_id: row.opt_int(at + 4)?,
        date_joined: row.time(at + 5)?,
        deleted: row.boolean(at + 6)?,
        connections_counter: row.int(at + 7)?,
        connection_requests_received_counter: row.int(at + 8)?,
        connection_requests_sent_counter: row.int(at + 9)?,
        role: row.opt_text(at + 10)?,
        followers_counter: row.int(at + 11)?,
        followings_counter: row.int(at + 12)?,
    })
}

/// A statement built by sea-query for PostgreSQL, as sea-orm runs it.
pub fn postgres<S: sea_orm::sea_query::QueryStatementWriter>(statement: &S) -> Statement {
    let (sql, values) = statement.build(sea_orm::sea_query::PostgresQueryBuilder);
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}
