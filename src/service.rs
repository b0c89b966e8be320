//! The connections service: the rules around the state machine (community mode, who may act
//! on whom), with no HTTP and no SQL. Handlers call it; it calls the repository.

use crate::domain::{Action, ConnectionStatus, Conflict, Relation};
use crate::repo::{Page, Repo, RepoError, RequestWithUsers, User};
use crate::repo::entities::preferences;

/// The most ids one status batch may ask about.
pub const MAX_STATUS_BATCH: usize = 100;
/// Page sizes: the default, and the most a client gets however many it asks for.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
pub const MAX_PAGE_SIZE: u64 = 100;

/// Which slice of a list to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u64,
    pub offset: u64,
}

impl PageRequest {
    /// `limit` defaults to 20 and is clamped to 100, as Django REST framework does.
    pub fn new(limit: Option<u64>, offset: Option<u64>) -> Self {
        PageRequest {
            limit: limit.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE),
            offset: offset.unwrap_or(0),
        }
    }
}

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

/// How long an instance trusts the community mode it read: the contract lets a preference
/// change take up to a second to reach every instance sharing the database.
pub const MODE_CACHE_TTL: std::time::Duration = std::time::Duration::from_millis(500);

#[derive(Clone, Debug)]
pub struct Connections {
    repo: Repo,
    /// The last friendship-mode reading and when it was made.
    mode: std::sync::Arc<std::sync::Mutex<Option<(std::time::Instant, bool)>>>,
}

impl Connections {
    pub fn new(repo: Repo) -> Self {
        Connections { repo, mode: Default::default() }
    }

    pub fn repo(&self) -> &Repo {
        &self.repo
    }

    /// The user a token names, if they exist and are not deleted.
    pub async fn active_user(&self, id: i64) -> Result<Option<User>, ServiceError> {
        Ok(self.repo.find_active_user(id).await?)
    }

    /// Friendship mode: follows disabled and connections enabled. Read at most every
    /// `MODE_CACHE_TTL`, so that a change is seen within a second everywhere.
    pub async fn friendship_mode(&self) -> Result<bool, ServiceError> {
        let cached = *self.mode.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((read_at, mode)) = cached {
            if read_at.elapsed() < MODE_CACHE_TTL {
                return Ok(mode);
            }
        }
        let read_at = std::time::Instant::now();
        let follow = self.bool_preference(FOLLOW_ENABLED, false).await?;
        let connection = self.bool_preference(CONNECTION_ENABLED, true).await?;
        let mode = !follow && connection;
        *self.mode.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some((read_at, mode));
        Ok(mode)
    }

    async fn bool_preference(&self, (section, name): (&str, &str), default: bool) -> Result<bool, ServiceError> {
        let value = self.repo.preference(section, name).await?;
        Ok(value.and_then(|v| serde_json::from_str::<bool>(&v).ok()).unwrap_or(default))
    }

    async fn require_friendship_mode(&self) -> Result<(), ServiceError> {
        if self.friendship_mode().await? { Ok(()) } else { Err(ServiceError::FriendshipModeDisabled) }
    }

    async fn require_active(&self, id: i64) -> Result<User, ServiceError> {
        self.repo.find_active_user(id).await?.ok_or(ServiceError::UserNotFound)
    }

    /// `caller`'s status with `target`; `null` with oneself.
    pub async fn status(&self, caller: &User, target: i64) -> Result<Option<ConnectionStatus>, ServiceError> {
        if target == caller.id {
            return Ok(None);
        }
        let relation = self.repo.relation_with_active(caller.id, target).await?;
        Ok(relation.ok_or(ServiceError::UserNotFound)?.status())
    }

    /// `caller`'s status with each of `ids` that exists: duplicates collapse, unknown and
    /// deleted users are left out, oneself is `null`.
    pub async fn statuses(&self, caller: &User, ids: &[i64]) -> Result<Vec<(i64, Option<ConnectionStatus>)>, ServiceError> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let known: Vec<i64> = self.repo.active_users(&ids).await?.into_iter().map(|u| u.id).collect();
        let others: Vec<i64> = known.iter().copied().filter(|id| *id != caller.id).collect();
        let relations = self.repo.relations(caller.id, &others).await?;
        Ok(known
            .into_iter()
            .map(|id| (id, relations.get(&id).copied().unwrap_or(Relation::None).status()))
            .collect())
    }

    /// A user, with `caller`'s status with them.
    pub async fn user(&self, caller: &User, id: i64) -> Result<(User, Option<ConnectionStatus>), ServiceError> {
        if id == caller.id {
            return Ok((caller.clone(), None));
        }
        let user = self.require_active(id).await?;
        let status = self.repo.relation(caller.id, id).await?.status();
        Ok((user, status))
    }

    /// `of`'s connections as `caller` sees them (mutual ones first), with `caller`'s status
    /// with each.
    pub async fn connections(
        &self,
        caller: &User,
        of: i64,
        mutual_only: bool,
        page: PageRequest,
    ) -> Result<Page<(User, Option<ConnectionStatus>)>, ServiceError> {
        self.require_friendship_mode().await?;
        self.require_active(of).await?;
        let found = self.repo.connections_page(of, caller.id, mutual_only, page.limit, page.offset).await?;
        let others: Vec<i64> = found
            .items
            .iter()
            .filter(|(user, mutual)| !mutual && user.id != caller.id)
            .map(|(user, _)| user.id)
            .collect();
        let relations = self.repo.relations(caller.id, &others).await?;
        let items = found
            .items
            .into_iter()
            .map(|(user, mutual)| {
                let relation = if mutual { Relation::Connected } else { relations.get(&user.id).copied().unwrap_or(Relation::None) };
                (user, relation.status())
            })
            .collect();
        Ok(Page { count: found.count, items })
    }

    /// Pending requests `caller` received, newest first.
    pub async fn received_requests(&self, caller: &User, page: PageRequest) -> Result<Page<RequestWithUsers>, ServiceError> {
        self.require_friendship_mode().await?;
        Ok(self.repo.received_requests_page(caller.id, page.limit, page.offset).await?)
    }

    /// Requests `caller` sent, newest first; a rejection is never shown.
    pub async fn sent_requests(&self, caller: &User, page: PageRequest) -> Result<Page<RequestWithUsers>, ServiceError> {
        self.require_friendship_mode().await?;
        let mut found = self.repo.sent_requests_page(caller.id, page.limit, page.offset).await?;
        for item in &mut found.items {
            item.request.rejected = None;
        }
        Ok(found)
    }

    pub async fn preferences(&self, page: PageRequest) -> Result<Page<preferences::Model>, ServiceError> {
        Ok(self.repo.preferences_page(page.limit, page.offset).await?)
    }

    /// Runs `action` of `caller` towards user `target` and returns the caller's status after it.
    pub async fn act(
        &self,
        caller: &User,
        target: i64,
        action: Action,
    ) -> Result<Option<ConnectionStatus>, ServiceError> {
        self.require_friendship_mode().await?;
        if target == caller.id {
            return Err(ServiceError::SelfConnection);
        }
        let transition = match self.repo.apply(caller.id, target, action).await {
            Err(RepoError::UserNotFound(_)) => return Err(ServiceError::UserNotFound),
            applied => applied??,
        };
        if let Some(event) = transition.event {
            tracing::info!(event = event.name(), from_user = caller.id, to_user = target, "relation changed");
        }
        Ok(transition.status())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_default_and_clamp() {
        assert_eq!(PageRequest::new(None, None), PageRequest { limit: 20, offset: 0 });
        assert_eq!(PageRequest::new(Some(500), Some(40)), PageRequest { limit: 100, offset: 40 });
        assert_eq!(PageRequest::new(Some(7), None).limit, 7);
    }
}
