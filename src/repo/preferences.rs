//! Community preferences: read on the request path (the community mode, the public list),
//! written by the operator's command.

use sea_orm::sea_query::{Expr, ExprTrait, Func, OnConflict, Order, Query, SelectStatement};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, QueryOrder};

use super::entities::preferences;
use super::lists::Page;
use super::rows::{self, Row};
use super::{Repo, RepoError, sqlite};

fn page_query(limit: u64, offset: u64) -> SelectStatement {
    use preferences::Column as C;
    Query::select()
        .columns([C::Id, C::Section, C::Name, C::Value])
        .from(preferences::Entity)
        .order_by(C::Id, Order::Asc)
        .limit(limit)
        .offset(offset)
        .to_owned()
}

fn count_query() -> SelectStatement {
    Query::select().expr(Func::count(Expr::val(1))).from(preferences::Entity).to_owned()
}

/// The values of the preferences named `(section, name)`, those that exist.
fn values_query(names: &[(&str, &str)]) -> SelectStatement {
    use preferences::Column as C;
    let mut any = sea_orm::Condition::any();
    for (section, name) in names {
        any = any.add(Expr::col(C::Section).eq(*section).and(Expr::col(C::Name).eq(*name)));
    }
    Query::select().columns([C::Section, C::Name, C::Value]).from(preferences::Entity).cond_where(any).to_owned()
}

fn preference(row: &dyn Row) -> Result<preferences::Model, RepoError> {
    Ok(preferences::Model { id: row.int(0)?, section: row.text(1)?, name: row.text(2)?, value: row.text(3)? })
}

impl Repo {
    /// Every preference, in id order (the operator's list).
    pub async fn preferences(&self) -> Result<Vec<preferences::Model>, RepoError> {
        Ok(preferences::Entity::find()
            .order_by_asc(preferences::Column::Id)
            .all(self.connection())
            .await?)
    }

    /// One page of the preferences, in id order, and their number.
    pub async fn preferences_page(&self, limit: u64, offset: u64) -> Result<Page<preferences::Model>, RepoError> {
        self.page_with_count(page_query(limit, offset), count_query(), preference).await
    }

    /// The stored JSON text of each of the preferences named, `None` where there is none.
    pub async fn preference_values(&self, names: &[(&'static str, &'static str)]) -> Result<Vec<Option<String>>, RepoError> {
        let query = values_query(names);
        let found: Vec<(String, String, String)> = match self.sqlite() {
            Some(engine) => {
                engine.read(move |conn| sqlite::query(conn, &query, |r| Ok((r.text(0)?, r.text(1)?, r.text(2)?)))).await?
            }
            None => self
                .connection()
                .query_all_raw(rows::postgres(&query))
                .await?
                .iter()
                .map(|r| Ok((r.text(0)?, r.text(1)?, r.text(2)?)))
                .collect::<Result<_, RepoError>>()?,
        };
        Ok(names
            .iter()
            .map(|(section, name)| {
                found.iter().find(|(s, n, _)| s == section && n == name).map(|(_, _, v)| v.clone())
            })
            .collect())
    }

    /// Creates or replaces a preference; `value` is JSON text.
    pub async fn set_preference(&self, section: &str, name: &str, value: &str) -> Result<(), RepoError> {
        let row = preferences::ActiveModel {
            section: Set(section.to_owned()),
            name: Set(name.to_owned()),
            value: Set(value.to_owned()),
            ..Default::default()
        };
        preferences::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([preferences::Column::Section, preferences::Column::Name])
                    .update_column(preferences::Column::Value)
                    .to_owned(),
            )
            .exec_without_returning(self.connection())
            .await?;
        Ok(())
    }
}
