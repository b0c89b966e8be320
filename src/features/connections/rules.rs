//! The connections' rules around the state machine: the community mode, who may act on whom,
//! the order of the checks. No HTTP and no SQL: the operations call these, these call the
//! queries ([`super::actions`], [`super::lists`]).

use chrono::{DateTime, Utc};

use super::lists::RequestWithUsers;
use crate::db::connection::Repo;
use crate::db::mode::CommunityMode;
use crate::domain::error::ServiceError;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::users::{Caller, User};
use crate::domain::{Action, ConnectionStatus};

/// A connection request: `from_user` asked `to_user`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionRequest {
    pub id: i64,
    pub from_user: User,
    pub to_user: User,
    pub created: DateTime<Utc>,
    /// When the asked user rejected it (never shown to the requester).
    pub rejected: Option<DateTime<Utc>>,
    pub viewed: Option<DateTime<Utc>>,
}

impl From<RequestWithUsers> for ConnectionRequest {
    fn from(item: RequestWithUsers) -> Self {
        ConnectionRequest {
            id: item.request.id,
            from_user: item.from_user.into(),
            to_user: item.to_user.into(),
            created: item.request.created,
            rejected: item.request.rejected,
            viewed: item.request.viewed,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Connections {
    repo: Repo,
    mode: CommunityMode,
}

impl Connections {
    pub fn new(repo: Repo, mode: CommunityMode) -> Self {
        Connections { repo, mode }
    }

    /// The caller's own user (`401` when they are gone).
    pub async fn me(&self, caller: Caller) -> Result<User, ServiceError> {
        self.repo.caller(caller).await
    }

    /// Outside friendship mode, `403`, unless the caller is gone (`401` comes first).
    async fn require_friendship_mode(&self, caller: Caller) -> Result<(), ServiceError> {
        if self.mode.friendship().await? {
            return Ok(());
        }
        self.me(caller).await?;
        Err(ServiceError::FriendshipModeDisabled)
    }

    /// `caller`'s status with `target` in the community's mode; `null` with oneself.
    pub async fn status(&self, caller: Caller, target: i64) -> Result<Option<ConnectionStatus>, ServiceError> {
        if target == caller.0 {
            self.me(caller).await?;
            return Ok(None);
        }
        Ok(self.repo.shown_status(caller.0, target, self.mode.current().await?).await?)
    }

    /// `caller`'s status with each of `ids` that exists: duplicates collapse, unknown and
    /// deleted users are left out, oneself is `null`.
    pub async fn statuses(&self, caller: Caller, ids: &[i64]) -> Result<Vec<(i64, Option<ConnectionStatus>)>, ServiceError> {
        Ok(self.repo.shown_statuses(caller.0, ids, self.mode.current().await?).await?)
    }

    /// `of`'s connections as `caller` sees them (mutual ones first), with `caller`'s status
    /// with each.
    pub async fn connections(
        &self,
        caller: Caller,
        of: i64,
        mutual_only: bool,
        page: PageRequest,
    ) -> Result<Page<(User, Option<ConnectionStatus>)>, ServiceError> {
        self.require_friendship_mode(caller).await?;
        let found = self.repo.connections_page(of, caller.0, mutual_only, page.limit, page.offset).await?;
        Ok(found.map(|(user, relation)| {
            let status = if user.id == caller.0 { None } else { relation.status() };
            (user.into(), status)
        }))
    }

    /// Pending requests `caller` received, newest first.
    pub async fn received_requests(&self, caller: Caller, page: PageRequest) -> Result<Page<ConnectionRequest>, ServiceError> {
        self.require_friendship_mode(caller).await?;
        let found = self.repo.received_requests_page(caller.0, page.limit, page.offset).await?;
        Ok(found.map(ConnectionRequest::from))
    }

    /// Requests `caller` sent, newest first; a rejection is never shown.
    pub async fn sent_requests(&self, caller: Caller, page: PageRequest) -> Result<Page<ConnectionRequest>, ServiceError> {
        self.require_friendship_mode(caller).await?;
        let found = self.repo.sent_requests_page(caller.0, page.limit, page.offset).await?;
        Ok(found.map(|item| ConnectionRequest { rejected: None, ..item.into() }))
    }

    /// Runs `action` of `caller` towards user `target` and returns the caller's status after it.
    /// Checks, in order: the caller exists (`401`), friendship mode (`403`), not oneself
    /// (`400`), the target exists (`404`), the state machine (`409`).
    pub async fn act(&self, caller: Caller, target: i64, action: Action) -> Result<Option<ConnectionStatus>, ServiceError> {
        self.require_friendship_mode(caller).await?;
        if target == caller.0 {
            self.me(caller).await?;
            return Err(ServiceError::SelfConnection);
        }
        let transition = self.repo.apply(caller.0, target, action).await??;
        if let Some(event) = transition.event {
            tracing::info!(event = event.name(), from_user = caller.0, to_user = target, "relation changed");
        }
        Ok(transition.status())
    }
}
