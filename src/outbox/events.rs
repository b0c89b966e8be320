//! Numbered reads of the outbox: events with both users, by number, after a number (the live
//! feed), of one user after a number (a stream's resume), and the last number given.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::db::connection::Repo;
use crate::db::entities::{events, users};
use crate::db::error::RepoError;

/// An event as its payload shows it: the row, and both users as they are now (their counters
/// are the event's own: as they were right after the change).
#[derive(Clone, Debug)]
pub struct EventWithUsers {
    pub event: events::Model,
    pub from_user: users::Model,
    pub to_user: users::Model,
}

impl Repo {
    /// Numbered events, with both users.
    pub async fn events_with_users(&self, event_ids: &[i64]) -> Result<Vec<EventWithUsers>, RepoError> {
        let rows = events::Entity::find().filter(events::Column::EventId.is_in(event_ids.iter().copied())).all(self.connection()).await?;
        self.with_users(rows).await
    }

    /// Event rows with both users, read in one statement.
    pub async fn with_users(&self, rows: Vec<events::Model>) -> Result<Vec<EventWithUsers>, RepoError> {
        let user_ids: Vec<i64> = rows.iter().flat_map(|e| [e.from_user_id, e.to_user_id]).collect();
        let people: std::collections::HashMap<i64, users::Model> =
            users::Entity::find().filter(users::Column::Id.is_in(user_ids)).all(self.connection()).await?.into_iter().map(|u| (u.id, u)).collect();
        Ok(rows
            .into_iter()
            .filter_map(|event| {
                let (from_user, to_user) = (people.get(&event.from_user_id)?.clone(), people.get(&event.to_user_id)?.clone());
                Some(EventWithUsers { event, from_user, to_user })
            })
            .collect())
    }

    /// The highest event number given and served (0: none yet).
    pub async fn last_event_id(&self) -> Result<i64, RepoError> {
        let max: Option<Option<i64>> = events::Entity::find()
            .select_only()
            .expr(Expr::col(events::Column::EventId).max())
            .into_tuple()
            .one(self.connection())
            .await?;
        let last = max.flatten().unwrap_or(0);
        Ok(self.durable_events().map_or(last, |durable| std::cmp::min(last, durable)))
    }

    /// The events the outbox's readers may serve: on SQLite with its default durability, only
    /// those whose commit is on disk (see `Sqlite::durable_events`).
    fn served(&self) -> Expr {
        match self.durable_events() {
            Some(durable) => Expr::col(events::Column::EventId).lte(durable),
            None => Expr::val(true),
        }
    }

    /// `user`'s events numbered after `after`, oldest first, at most `limit`, with both users
    /// (a stream's resume: what it missed).
    pub async fn events_of_user_after(&self, user: i64, after: i64, limit: u64) -> Result<Vec<EventWithUsers>, RepoError> {
        // Two range reads of their indexes (`events_from_user`, `events_to_user`), each at
        // most `limit` long, merged: the cost of a page, whatever the outbox's size.
        let side = |column: events::Column| {
            events::Entity::find()
                .filter(column.eq(user))
                .filter(events::Column::EventId.gt(after))
                .filter(self.served())
                .order_by_asc(events::Column::EventId)
                .limit(limit)
                .all(self.connection())
        };
        let (from, to) = tokio::try_join!(side(events::Column::FromUserId), side(events::Column::ToUserId))?;
        let mut rows: Vec<events::Model> = from.into_iter().chain(to).collect();
        rows.sort_by_key(|r| r.event_id);
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        self.with_users(rows).await
    }

    /// The events numbered after `after`, oldest first, at most `limit`, with both users.
    pub async fn numbered_events_after(&self, after: i64, limit: u64) -> Result<Vec<EventWithUsers>, RepoError> {
        let rows = events::Entity::find()
            .filter(events::Column::EventId.gt(after))
            .filter(self.served())
            .order_by_asc(events::Column::EventId)
            .limit(limit)
            .all(self.connection())
            .await?;
        self.with_users(rows).await
    }
}
