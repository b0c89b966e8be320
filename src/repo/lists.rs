//! The list queries: one query for the page and one for its count, whatever the page size
//! (plus one for the users a page of requests names). Each order is total, so paging never
//! skips or repeats an item.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, DbBackend, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement, Value,
};

use super::entities::{connection_requests, connections, preferences, users};
use super::{Repo, RepoError, User};
use crate::domain::Relation;

/// One page of a list and the size of the whole list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub count: u64,
    pub items: Vec<T>,
}

/// A connection request with both of its users.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestWithUsers {
    pub request: connection_requests::Model,
    pub from_user: User,
    pub to_user: User,
}

/// A row of the connections list: the user, and whether they are connected with the caller too.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
struct ConnectionRow {
    id: i64,
    username: String,
    real_name: String,
    avatar: Option<String>,
    ext_id: Option<i64>,
    date_joined: DateTime<Utc>,
    deleted: bool,
    mutual: i32,
}

#[derive(Debug, FromQueryResult)]
struct CountRow {
    count: i64,
}

/// SQL written once with PostgreSQL's `$1` placeholders; SQLite reads them as `?1`.
fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DbBackend::Postgres => sql.to_owned(),
        _ => sql.replace('$', "?"),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// `other` of each of `of`'s connections, not deleted; `mutual` = also connected with `caller`.
const CONNECTIONS_FROM: &str = "
    FROM connections c
    JOIN users u ON u.id = CASE WHEN c.user_low = $1 THEN c.user_high ELSE c.user_low END
    LEFT JOIN connections m
        ON m.user_low = CASE WHEN u.id < $2 THEN u.id ELSE $2 END
       AND m.user_high = CASE WHEN u.id < $2 THEN $2 ELSE u.id END
    WHERE (c.user_low = $1 OR c.user_high = $1) AND u.deleted = FALSE";

impl Repo {
    /// `of`'s connections as `caller` sees them: those also connected with the caller first,
    /// then the others; newest connection first in each group; user id (descending) last.
    pub async fn connections_page(
        &self,
        of: i64,
        caller: i64,
        mutual_only: bool,
        limit: u64,
        offset: u64,
    ) -> Result<Page<(User, bool)>, RepoError> {
        let backend = self.backend();
        let mutual_filter = if mutual_only { " AND m.id IS NOT NULL" } else { "" };
        let count = CountRow::find_by_statement(statement(
            backend,
            &format!("SELECT COUNT(*) AS count {CONNECTIONS_FROM}{mutual_filter}"),
            vec![of.into(), caller.into()],
        ))
        .one(self.connection())
        .await?
        .map_or(0, |row| u64::try_from(row.count).unwrap_or(0));
        let rows = ConnectionRow::find_by_statement(statement(
            backend,
            &format!(
                "SELECT u.id, u.username, u.real_name, u.avatar, u.ext_id, u.date_joined, u.deleted,
                        CASE WHEN m.id IS NULL THEN 0 ELSE 1 END AS mutual
                 {CONNECTIONS_FROM}{mutual_filter}
                 ORDER BY mutual DESC, c.created DESC, u.id DESC
                 LIMIT $3 OFFSET $4"
            ),
            vec![of.into(), caller.into(), limit_value(limit), limit_value(offset)],
        ))
        .all(self.connection())
        .await?;
        let items = rows
            .into_iter()
            .map(|r| {
                let user = User {
                    id: r.id,
                    username: r.username,
                    real_name: r.real_name,
                    avatar: r.avatar,
                    ext_id: r.ext_id,
                    date_joined: r.date_joined,
                    deleted: r.deleted,
                };
                (user, r.mutual == 1)
            })
            .collect();
        Ok(Page { count, items })
    }

    /// Pending requests `caller` received, newest first.
    pub async fn received_requests_page(&self, caller: i64, limit: u64, offset: u64) -> Result<Page<RequestWithUsers>, RepoError> {
        let query = connection_requests::Entity::find()
            .filter(connection_requests::Column::ToUserId.eq(caller))
            .filter(connection_requests::Column::Rejected.is_null())
            .filter(active(connection_requests::Column::FromUserId));
        self.requests_page(query, limit, offset).await
    }

    /// Requests `caller` sent (pending or rejected: the requester is not told), newest first.
    pub async fn sent_requests_page(&self, caller: i64, limit: u64, offset: u64) -> Result<Page<RequestWithUsers>, RepoError> {
        let query = connection_requests::Entity::find()
            .filter(connection_requests::Column::FromUserId.eq(caller))
            .filter(active(connection_requests::Column::ToUserId));
        self.requests_page(query, limit, offset).await
    }

    async fn requests_page(
        &self,
        query: sea_orm::Select<connection_requests::Entity>,
        limit: u64,
        offset: u64,
    ) -> Result<Page<RequestWithUsers>, RepoError> {
        let count = query.clone().count(self.connection()).await?;
        let requests = query
            .order_by_desc(connection_requests::Column::Created)
            .order_by_desc(connection_requests::Column::Id)
            .limit(limit)
            .offset(offset)
            .all(self.connection())
            .await?;
        let mut ids: Vec<i64> = requests.iter().flat_map(|r| [r.from_user_id, r.to_user_id]).collect();
        ids.sort_unstable();
        ids.dedup();
        let users: HashMap<i64, User> = users::Entity::find()
            .filter(users::Column::Id.is_in(ids))
            .all(self.connection())
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let items = requests
            .into_iter()
            .filter_map(|request| {
                let from_user = users.get(&request.from_user_id)?.clone();
                let to_user = users.get(&request.to_user_id)?.clone();
                Some(RequestWithUsers { request, from_user, to_user })
            })
            .collect();
        Ok(Page { count, items })
    }

    pub async fn preferences_page(&self, limit: u64, offset: u64) -> Result<Page<preferences::Model>, RepoError> {
        let query = preferences::Entity::find();
        let count = query.clone().count(self.connection()).await?;
        let items = query
            .order_by_asc(preferences::Column::Id)
            .limit(limit)
            .offset(offset)
            .all(self.connection())
            .await?;
        Ok(Page { count, items })
    }

    /// The users among `ids` that exist and are not deleted.
    pub async fn active_users(&self, ids: &[i64]) -> Result<Vec<User>, RepoError> {
        Ok(users::Entity::find()
            .filter(users::Column::Id.is_in(ids.iter().copied()))
            .filter(users::Column::Deleted.eq(false))
            .all(self.connection())
            .await?)
    }

    /// `caller`'s relation with each of `others` (two queries, whatever their number).
    pub async fn relations(&self, caller: i64, others: &[i64]) -> Result<HashMap<i64, Relation>, RepoError> {
        let mut map: HashMap<i64, Relation> = others.iter().map(|id| (*id, Relation::None)).collect();
        if others.is_empty() {
            return Ok(map);
        }
        use connection_requests::Column::{FromUserId, ToUserId};
        use connections::Column::{UserHigh, UserLow};
        let requests = connection_requests::Entity::find()
            .filter(either_side(FromUserId, ToUserId, caller, others))
            .all(self.connection())
            .await?;
        for r in requests {
            let sent = r.from_user_id == caller;
            let other = if sent { r.to_user_id } else { r.from_user_id };
            map.insert(other, super::request_relation(sent, r.rejected.is_some()));
        }
        let pairs = connections::Entity::find()
            .filter(either_side(UserLow, UserHigh, caller, others))
            .all(self.connection())
            .await?;
        for c in pairs {
            let other = if c.user_low == caller { c.user_high } else { c.user_low };
            map.insert(other, Relation::Connected);
        }
        Ok(map)
    }
}

/// Rows with `caller` in one of the two columns and one of `others` in the other.
fn either_side<C: ColumnTrait>(one: C, other: C, caller: i64, others: &[i64]) -> sea_orm::Condition {
    let side = |mine: C, theirs: C| {
        sea_orm::Condition::all().add(mine.eq(caller)).add(theirs.is_in(others.iter().copied()))
    };
    sea_orm::Condition::any().add(side(one, other)).add(side(other, one))
}

/// `column` names a user who exists and is not deleted.
fn active<C: ColumnTrait>(column: C) -> sea_orm::sea_query::SimpleExpr {
    column.in_subquery(
        Query::select()
            .column(users::Column::Id)
            .from(users::Entity)
            .and_where(users::Column::Deleted.eq(false))
            .to_owned(),
    )
}

fn limit_value(n: u64) -> Value {
    i64::try_from(n).unwrap_or(i64::MAX).into()
}

