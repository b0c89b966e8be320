//! The notification feed's rules: the caller's own feed only, and which serialization ids are
//! this server's (`connection_N`).

use super::queries::NotificationWithUser;
use crate::db::connection::Repo;
use crate::db::mode::CommunityMode;
use crate::domain::ConnectionStatus;
use crate::domain::error::ServiceError;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::users::{Caller, User};

#[derive(Clone, Debug)]
pub struct Notifications {
    repo: Repo,
    mode: CommunityMode,
}

impl Notifications {
    pub fn new(repo: Repo, mode: CommunityMode) -> Self {
        Notifications { repo, mode }
    }

    /// The caller's status with each of `ids` that exists (the feed's users), in the mode.
    pub async fn statuses(&self, caller: Caller, ids: &[i64]) -> Result<Vec<(i64, Option<ConnectionStatus>)>, ServiceError> {
        Ok(self.repo.shown_statuses(caller.0, ids, self.mode.current().await?).await?)
    }

    /// The caller's own user (`401` when they are gone).
    pub async fn me(&self, caller: Caller) -> Result<User, ServiceError> {
        self.repo.caller(caller).await
    }

    /// The caller's notifications, newest first.
    pub async fn notifications(&self, caller: Caller, page: PageRequest) -> Result<Page<NotificationWithUser>, ServiceError> {
        self.me(caller).await?;
        Ok(self.repo.notifications_page(caller.0, page.limit, page.offset).await?)
    }

    pub async fn unseen_notifications(&self, caller: Caller) -> Result<u64, ServiceError> {
        self.me(caller).await?;
        Ok(self.repo.unseen_notifications(caller.0).await?)
    }

    /// Marks the caller's notifications named by these serialization ids read (`connection_N`;
    /// others are not the caller's kind and are ignored).
    pub async fn mark_notifications_read(&self, caller: Caller, sids: &[String]) -> Result<(), ServiceError> {
        self.me(caller).await?;
        let rows: Vec<i64> = sids.iter().filter_map(|s| s.strip_prefix("connection_")?.parse().ok()).collect();
        Ok(self.repo.mark_notifications_read(caller.0, &rows).await?)
    }
}
