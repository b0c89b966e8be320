//! Community preferences: read on the request path (the community mode, the public list),
//! written by the operator's command.

use sea_orm::sea_query::{Expr, Func, OnConflict, Order, Query, SelectStatement};
use sea_orm::{ActiveValue::Set, EntityTrait, QueryOrder};

use crate::db::connection::Repo;
use crate::db::entities::preferences;
use crate::db::error::RepoError;
use crate::db::rows::Row;
use crate::domain::paging::Page;

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
