//! The follows' rules: follow mode only, the order of the checks (token, mode, self, the
//! target, hiding), no following oneself; the checks about oneself answer `false`.

use super::queries::{Side, Toggled};
use crate::db::connection::Repo;
use crate::db::mode::{CommunityMode, Mode};
use crate::domain::error::ServiceError;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::users::{Caller, User};

#[derive(Clone, Debug)]
pub struct Follows {
    repo: Repo,
    mode: CommunityMode,
}

impl Follows {
    pub fn new(repo: Repo, mode: CommunityMode) -> Self {
        Follows { repo, mode }
    }

    /// Outside follow mode, `403 follow_mode_disabled`, unless the caller is gone (`401` comes
    /// first).
    async fn require_follow_mode(&self, caller: Caller) -> Result<(), ServiceError> {
        if self.mode.current().await? == Mode::Follow {
            return Ok(());
        }
        self.repo.caller(caller).await?;
        Err(ServiceError::FollowModeDisabled)
    }

    /// `caller` follows `target`, or unfollows when they already follow them. Checks, in
    /// order: the caller (`401`), the mode (`403`), oneself (`400`), the target (`404`), hiding
    /// (`403 user_hidden`, a follow only).
    pub async fn toggle(&self, caller: Caller, target: i64) -> Result<Toggled, ServiceError> {
        self.require_follow_mode(caller).await?;
        if target == caller.0 {
            self.repo.caller(caller).await?;
            return Err(ServiceError::SelfFollow);
        }
        let toggled = self.repo.toggle_follow(caller.0, target).await?;
        tracing::info!(followed = toggled == super::queries::Toggled::Followed, from_user = caller.0, to_user = target, "follow toggled");
        Ok(toggled)
    }

    /// Whether `caller` follows `target` and whether `target` follows `caller` (both false
    /// with oneself).
    pub async fn flags(&self, caller: Caller, target: i64) -> Result<(bool, bool), ServiceError> {
        self.require_follow_mode(caller).await?;
        if target == caller.0 {
            self.repo.caller(caller).await?;
            return Ok((false, false));
        }
        let state = self.repo.follow_state(caller.0, target).await?;
        state.require_users()?;
        Ok((state.follows, state.followed_by))
    }

    /// `of`'s followers or followings as `caller` sees them (those the caller follows first),
    /// each with whether the caller follows them.
    pub async fn list(&self, caller: Caller, of: i64, side: Side, mutual_only: bool, page: PageRequest) -> Result<Page<(User, bool)>, ServiceError> {
        self.require_follow_mode(caller).await?;
        let found = self.repo.follows_page(of, caller.0, side, mutual_only, page.limit, page.offset).await?;
        Ok(found.map(|(user, followed)| (user.into(), followed)))
    }
}
