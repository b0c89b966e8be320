//! The community's features: read by everyone (`GET /api/v2/feature/`), set by the operator.

use sea_orm::sea_query::{Expr, Func, OnConflict, Order, Query, SelectStatement};
use sea_orm::{ActiveValue::Set, EntityTrait, QueryOrder};

use crate::db::connection::Repo;
use crate::db::entities::features;
use crate::db::error::RepoError;
use crate::db::rows::Row;
use crate::domain::paging::Page;

fn page_query(limit: u64, offset: u64) -> SelectStatement {
    use features::Column as C;
    Query::select()
        .columns([C::Id, C::Name, C::Enabled])
        .from(features::Entity)
        .order_by(C::Id, Order::Asc)
        .limit(limit)
        .offset(offset)
        .to_owned()
}

fn count_query() -> SelectStatement {
    Query::select().expr(Func::count(Expr::val(1))).from(features::Entity).to_owned()
}

fn feature(row: &dyn Row) -> Result<features::Model, RepoError> {
    Ok(features::Model { id: row.int(0)?, name: row.text(1)?, enabled: row.boolean(2)? })
}

impl Repo {
    /// One page of the features, in id order, and their number.
    pub async fn features_page(&self, limit: u64, offset: u64) -> Result<Page<features::Model>, RepoError> {
        self.page_with_count(page_query(limit, offset), count_query(), feature).await
    }

    /// Every feature, in id order (the operator's list).
    pub async fn features(&self) -> Result<Vec<features::Model>, RepoError> {
        Ok(features::Entity::find().order_by_asc(features::Column::Id).all(self.connection()).await?)
    }

    /// Turns the feature `name` on or off, creating it if new. A name of no characters or of
    /// more than 100 is `Invalid` (the schema refuses it too: `feature_name_length`).
    pub async fn set_feature(&self, name: &str, enabled: bool) -> Result<(), RepoError> {
        if name.is_empty() || name.chars().count() > 100 {
            return Err(RepoError::Invalid(format!("{name:?}: a feature's name has 1 to 100 characters")));
        }
        let row = features::ActiveModel { name: Set(name.to_owned()), enabled: Set(enabled), ..Default::default() };
        features::Entity::insert(row)
            .on_conflict(OnConflict::column(features::Column::Name).update_column(features::Column::Enabled).to_owned())
            .exec_without_returning(self.connection())
            .await?;
        Ok(())
    }
}
