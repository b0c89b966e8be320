//! The suggestions' rules: the ranking the community's mode asks for; in neither mode, `403`.

use crate::db::connection::Repo;
use crate::db::mode::{CommunityMode, Mode};
use crate::domain::error::ServiceError;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::users::{Caller, User};

#[derive(Clone, Debug)]
pub struct Suggestions {
    repo: Repo,
    mode: CommunityMode,
}

impl Suggestions {
    pub fn new(repo: Repo, mode: CommunityMode) -> Self {
        Suggestions { repo, mode }
    }

    /// Users `caller` may know, in the mode's ranking. None has a relation with the caller in
    /// the mode shown (no friendship relation; not followed), so every `connection_status` is
    /// `null`. In neither mode, `403 friendship_mode_disabled` (after the caller's check).
    pub async fn suggestions(&self, caller: Caller, page: PageRequest) -> Result<Page<User>, ServiceError> {
        let found = match self.mode.current().await? {
            Mode::Friendship => self.repo.friendship_suggestions(caller.0, page.limit, page.offset).await?,
            Mode::Follow => self.repo.follow_suggestions(caller.0, page.limit, page.offset).await?,
            Mode::Neither => {
                self.repo.caller(caller).await?;
                return Err(ServiceError::FriendshipModeDisabled);
            }
        };
        Ok(found.map(User::from))
    }
}
