//! SelfCommunity's notification feed for connections (rows written with each change's event,
//! in `relations.rs`): a user's page, newest first, their unseen count, and marking read.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::db::connection::Repo;
use crate::db::entities::{notifications as n, users};
use crate::db::error::RepoError;
use crate::domain::paging::Page;

/// A notification with the other user (who asked, or who accepted).
#[derive(Clone, Debug)]
pub struct NotificationWithUser {
    pub notification: n::Model,
    pub other: users::Model,
}

impl Repo {
    /// `user`'s notifications, newest first.
    pub async fn notifications_page(&self, user: i64, limit: u64, offset: u64) -> Result<Page<NotificationWithUser>, RepoError> {
        let db = self.connection();
        let mine = || n::Entity::find().filter(n::Column::UserId.eq(user));
        let count = mine().count(db).await?;
        let rows = mine().order_by_desc(n::Column::EventRow).limit(limit).offset(offset).all(db).await?;
        let others = users::Entity::find().filter(users::Column::Id.is_in(rows.iter().map(|r| r.other_user_id))).all(db).await?;
        let items = rows
            .into_iter()
            .filter_map(|notification| {
                let other = others.iter().find(|u| u.id == notification.other_user_id)?.clone();
                Some(NotificationWithUser { notification, other })
            })
            .collect();
        Ok(Page { count, items })
    }

    /// How many of `user`'s notifications are not read.
    pub async fn unseen_notifications(&self, user: i64) -> Result<u64, RepoError> {
        Ok(n::Entity::find()
            .filter(n::Column::UserId.eq(user))
            .filter(n::Column::IsRead.eq(false))
            .count(self.connection())
            .await?)
    }

    /// Marks these of `user`'s notifications (by event row) read; others' are not touched.
    pub async fn mark_notifications_read(&self, user: i64, event_rows: &[i64]) -> Result<(), RepoError> {
        if event_rows.is_empty() {
            return Ok(());
        }
        n::Entity::update_many()
            .col_expr(n::Column::IsRead, Expr::val(true))
            .filter(n::Column::UserId.eq(user))
            .filter(n::Column::EventRow.is_in(event_rows.iter().copied()))
            .exec(self.connection())
            .await?;
        Ok(())
    }
}
