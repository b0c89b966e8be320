//! The connections service: the rules around the state machine (community mode, who may act
//! on whom), with no HTTP and no SQL. Handlers call it; it calls the repository.

use crate::domain::{Action, ConnectionStatus, Conflict};
use crate::repo::{Repo, RepoError, User};

/// The preferences that decide the community mode.
pub const FOLLOW_ENABLED: (&str, &str) = ("configurations", "follow_enabled");
pub const CONNECTION_ENABLED: (&str, &str) = ("configurations", "connection_enabled");

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("you cannot connect to yourself")]
    SelfConnection,
    #[error("the community is not in friendship mode")]
    FriendshipModeDisabled,
    #[error("user not found")]
    UserNotFound,
    #[error(transparent)]
    Conflict(#[from] Conflict),
    #[error(transparent)]
    Repo(#[from] RepoError),
}

#[derive(Clone, Debug)]
pub struct Connections {
    repo: Repo,
}

impl Connections {
    pub fn new(repo: Repo) -> Self {
        Connections { repo }
    }

    pub fn repo(&self) -> &Repo {
        &self.repo
    }

    /// The user a token names, if they exist and are not deleted.
    pub async fn active_user(&self, id: i64) -> Result<Option<User>, ServiceError> {
        Ok(self.repo.find_active_user(id).await?)
    }

    /// Friendship mode: follows disabled and connections enabled (the default).
    pub async fn friendship_mode(&self) -> Result<bool, ServiceError> {
        let follow = self.bool_preference(FOLLOW_ENABLED, false).await?;
        let connection = self.bool_preference(CONNECTION_ENABLED, true).await?;
        Ok(!follow && connection)
    }

    async fn bool_preference(&self, (section, name): (&str, &str), default: bool) -> Result<bool, ServiceError> {
        let value = self.repo.preference(section, name).await?;
        Ok(value.and_then(|v| serde_json::from_str::<bool>(&v).ok()).unwrap_or(default))
    }

    /// Runs `action` of `caller` towards user `target` and returns the caller's status after it.
    pub async fn act(
        &self,
        caller: &User,
        target: i64,
        action: Action,
    ) -> Result<Option<ConnectionStatus>, ServiceError> {
        if !self.friendship_mode().await? {
            return Err(ServiceError::FriendshipModeDisabled);
        }
        if target == caller.id {
            return Err(ServiceError::SelfConnection);
        }
        if self.repo.find_active_user(target).await?.is_none() {
            return Err(ServiceError::UserNotFound);
        }
        let transition = self.repo.apply(caller.id, target, action).await??;
        if let Some(event) = transition.event {
            tracing::info!(event = event.name(), from_user = caller.id, to_user = target, "relation changed");
        }
        Ok(transition.status())
    }
}
