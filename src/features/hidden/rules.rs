//! The hidden users' rules: no hiding oneself; the hider's list shows the caller's status with
//! each.

use std::collections::HashMap;

use crate::db::connection::Repo;
use crate::db::mode::CommunityMode;
use crate::domain::ConnectionStatus;
use crate::domain::error::ServiceError;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::users::{Caller, User};

#[derive(Clone, Debug)]
pub struct Hidden {
    repo: Repo,
    mode: CommunityMode,
}

impl Hidden {
    pub fn new(repo: Repo, mode: CommunityMode) -> Self {
        Hidden { repo, mode }
    }

    /// The caller's own user (`401` when they are gone).
    pub async fn me(&self, caller: Caller) -> Result<User, ServiceError> {
        self.repo.caller(caller).await
    }

    /// Hides `id` from `caller`, or shows them again if hidden (a toggle); answers whether `id`
    /// is hidden now. No friendship mode needed.
    pub async fn toggle_hidden(&self, caller: Caller, id: i64) -> Result<bool, ServiceError> {
        if id == caller.0 {
            self.me(caller).await?;
            return Err(ServiceError::SelfHide);
        }
        Ok(self.repo.toggle_hidden(caller.0, id).await?)
    }

    /// Whether `caller` hid `id`, and whether `id` hid `caller` (both false with oneself).
    pub async fn hidden_flags(&self, caller: Caller, id: i64) -> Result<(bool, bool), ServiceError> {
        if id == caller.0 {
            self.me(caller).await?;
            return Ok((false, false));
        }
        Ok(self.repo.hidden_flags(caller.0, id).await?)
    }

    /// The users `caller` hid, most recently hidden first, with `caller`'s status with each.
    pub async fn hidden_users(&self, caller: Caller, page: PageRequest) -> Result<Page<(User, Option<ConnectionStatus>)>, ServiceError> {
        let found = self.repo.hidden_users(caller.0, page.limit, page.offset).await?;
        let ids: Vec<i64> = found.items.iter().map(|u| u.id).collect();
        let statuses: HashMap<i64, Option<ConnectionStatus>> =
            if ids.is_empty() { Default::default() } else { self.repo.shown_statuses(caller.0, &ids, self.mode.current().await?).await?.into_iter().collect() };
        Ok(found.map(|user| {
            let status = statuses.get(&user.id).copied().flatten();
            (user.into(), status)
        }))
    }

    /// The ids of the users `caller` hid, most recently hidden first.
    pub async fn hidden_user_ids(&self, caller: Caller) -> Result<Vec<i64>, ServiceError> {
        Ok(self.repo.hidden_user_ids(caller.0).await?)
    }
}
