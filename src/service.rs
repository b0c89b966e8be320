//! The connections service: the rules around the state machine (community mode, who may act
//! on whom), with no HTTP and no SQL. Handlers call it; it calls the repository.

use chrono::{DateTime, Utc};

use crate::domain::{Action, ConnectionStatus, Conflict};
use crate::repo::{self, Repo, RepoError};

/// A user, as the service hands one out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub real_name: String,
    pub avatar: Option<String>,
    pub ext_id: Option<i64>,
    pub date_joined: DateTime<Utc>,
    pub counters: Counters,
    pub role: Option<Role>,
}

/// A user's role: staff (`admin`) may do what others may not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        (text == "admin").then_some(Role::Admin)
    }
}

/// A user's notification settings, in SelfCommunity's `UserSettings` shape: integers from its
/// documented enumerations (`qa_frequency` -1, 0 or 1; the others 0 or 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserSettings {
    pub qa_frequency: i64,
    pub email_notification_not_qa: i64,
    pub mobile_notifications_scmty: i64,
    pub show_toast_notifications: i64,
    pub toast_notifications_emit_sound: i64,
}

impl UserSettings {
    /// A user who never changed a setting (our choice): no emails, no push notifications,
    /// toasts shown, with sound.
    pub const DEFAULT: UserSettings = UserSettings {
        qa_frequency: 0,
        email_notification_not_qa: 0,
        mobile_notifications_scmty: 0,
        show_toast_notifications: 1,
        toast_notifications_emit_sound: 1,
    };

    fn from_repo(values: repo::Settings) -> Self {
        let [qa_frequency, email_notification_not_qa, mobile_notifications_scmty, show_toast_notifications, toast_notifications_emit_sound] = values;
        UserSettings { qa_frequency, email_notification_not_qa, mobile_notifications_scmty, show_toast_notifications, toast_notifications_emit_sound }
    }

    fn to_repo(self) -> repo::Settings {
        [self.qa_frequency, self.email_notification_not_qa, self.mobile_notifications_scmty, self.show_toast_notifications, self.toast_notifications_emit_sound]
    }
}

/// The settings a change names (each already one of its enumeration's values).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SettingsChange {
    pub qa_frequency: Option<i64>,
    pub email_notification_not_qa: Option<i64>,
    pub mobile_notifications_scmty: Option<i64>,
    pub show_toast_notifications: Option<i64>,
    pub toast_notifications_emit_sound: Option<i64>,
}

/// A user's counters, each equal to the `count` of the matching list: their connections, the
/// pending requests they received, the requests they sent. Stored beside the user and updated in
/// the same transaction as every change.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub connections: i64,
    pub requests_received: i64,
    pub requests_sent: i64,
}

impl From<repo::User> for User {
    fn from(user: repo::User) -> Self {
        User {
            id: user.id,
            username: user.username,
            real_name: user.real_name,
            avatar: user.avatar,
            ext_id: user.ext_id,
            date_joined: user.date_joined,
            counters: Counters {
                connections: user.connections_counter,
                requests_received: user.connection_requests_received_counter,
                requests_sent: user.connection_requests_sent_counter,
            },
            role: user.role.as_deref().and_then(Role::parse),
        }
    }
}

/// One page of a list and the size of the whole list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub count: u64,
    pub items: Vec<T>,
}

impl<T> Page<T> {
    fn from_repo<R>(page: repo::Page<R>, item: impl FnMut(R) -> T) -> Self {
        Page { count: page.count, items: page.items.into_iter().map(item).collect() }
    }
}

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

impl From<repo::RequestWithUsers> for ConnectionRequest {
    fn from(item: repo::RequestWithUsers) -> Self {
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

/// A community preference; `value` is JSON text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preference {
    pub id: i64,
    pub section: String,
    pub name: String,
    pub value: String,
}

/// A feature of the community, on or off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Feature {
    pub id: i64,
    pub name: String,
    pub enabled: bool,
}

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
    /// The `limit` of a page that holds the rest of the list.
    pub const WHOLE: u64 = i64::MAX as u64;

    /// Without `limit`, every item from `offset` on (the lists SelfCommunity's React UI reads
    /// once and never pages: preferences and features); with it, a page as [`PageRequest::new`].
    pub fn whole_unless_limited(limit: Option<u64>, offset: Option<u64>) -> Self {
        match limit {
            None => PageRequest { limit: Self::WHOLE, offset: offset.unwrap_or(0) },
            Some(_) => Self::new(limit, offset),
        }
    }

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

/// The JSON text stored for a preference given as text (the operator's `preference set`): the
/// mode switches take `true` or `false` only; booleans and numbers stay what they are;
/// anything else is a string.
pub fn preference_json(section: &str, name: &str, value: &str) -> Result<String, String> {
    let is_switch = [FOLLOW_ENABLED, CONNECTION_ENABLED].contains(&(section, name));
    match serde_json::from_str::<serde_json::Value>(value) {
        Ok(serde_json::Value::Bool(b)) => Ok(b.to_string()),
        _ if is_switch => Err(format!("{section}.{name} takes true or false, not {value:?}")),
        Ok(v @ serde_json::Value::Number(_)) => Ok(v.to_string()),
        _ => Ok(serde_json::Value::from(value).to_string()),
    }
}

/// The user a request acts for: the id its token names. Whether they exist (and are not
/// deleted) is checked by the operation's first query, not before it: one statement less.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller(pub i64);

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("you cannot connect to yourself")]
    SelfConnection,
    #[error("you cannot hide yourself")]
    SelfHide,
    /// Authenticated, but not allowed: another user's settings, a staff-only operation.
    #[error("permission denied")]
    PermissionDenied,
    /// One of the pair hid the other, and the action would create or restore a relation.
    #[error("one of the users hid the other")]
    UserHidden,
    #[error("the community is not in friendship mode")]
    FriendshipModeDisabled,
    #[error("user not found")]
    UserNotFound,
    /// The token's user does not exist or is deleted (`401`).
    #[error("the token's user does not exist")]
    CallerNotFound,
    #[error(transparent)]
    Conflict(#[from] Conflict),
    /// The database is out of reach or too busy: a client may retry (`503`).
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// A bug or a broken database (`500`); the cause is kept for the log.
    #[error("internal error")]
    Internal(#[source] RepoError),
}

impl From<RepoError> for ServiceError {
    fn from(err: RepoError) -> Self {
        match err {
            RepoError::CallerNotFound => ServiceError::CallerNotFound,
            RepoError::UserNotFound => ServiceError::UserNotFound,
            RepoError::UserHidden => ServiceError::UserHidden,
            RepoError::Unavailable(reason) => ServiceError::Unavailable(reason),
            other => ServiceError::Internal(other),
        }
    }
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

    /// The database answers (readiness).
    pub async fn ping(&self) -> Result<(), ServiceError> {
        Ok(self.repo.ping().await?)
    }

    /// The database connections' current use (metrics).
    pub fn pool_use(&self) -> crate::metrics::PoolUse {
        self.repo.pool_use()
    }

    /// The user a token names, if they exist and are not deleted.
    pub async fn active_user(&self, id: i64) -> Result<Option<User>, ServiceError> {
        Ok(self.repo.find_active_user(id).await?.map(User::from))
    }

    /// The outbox's last event number (0 when empty).
    pub async fn last_event_id(&self) -> Result<i64, ServiceError> {
        Ok(self.repo.last_event_id().await?)
    }

    /// The events of `user` numbered after `after`, oldest first, at most `limit`: what a
    /// resuming stream missed.
    pub async fn missed_events(&self, user: i64, after: i64, limit: u64) -> Result<Vec<repo::webhooks::EventWithUsers>, ServiceError> {
        Ok(self.repo.events_of_user_after(user, after, limit).await?)
    }

    /// The caller's notifications, newest first.
    pub async fn notifications(&self, caller: Caller, page: PageRequest) -> Result<repo::Page<repo::notifications::NotificationWithUser>, ServiceError> {
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

    /// The caller's own user.
    pub async fn me(&self, caller: Caller) -> Result<User, ServiceError> {
        self.active_user(caller.0).await?.ok_or(ServiceError::CallerNotFound)
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
        let values = self.repo.preference_values(&[FOLLOW_ENABLED, CONNECTION_ENABLED]).await?;
        let flag = |i: usize, default: bool| {
            values.get(i).cloned().flatten().and_then(|v| serde_json::from_str::<bool>(&v).ok()).unwrap_or(default)
        };
        let mode = !flag(0, false) && flag(1, true);
        *self.mode.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some((read_at, mode));
        Ok(mode)
    }

    /// Outside friendship mode, `403`, unless the caller is gone (`401` comes first).
    async fn require_friendship_mode(&self, caller: Caller) -> Result<(), ServiceError> {
        if self.friendship_mode().await? {
            return Ok(());
        }
        self.me(caller).await?;
        Err(ServiceError::FriendshipModeDisabled)
    }

    /// `caller`'s status with `target`; `null` with oneself.
    pub async fn status(&self, caller: Caller, target: i64) -> Result<Option<ConnectionStatus>, ServiceError> {
        if target == caller.0 {
            self.me(caller).await?;
            return Ok(None);
        }
        Ok(self.repo.pair(caller.0, target).await?.status())
    }

    /// `caller`'s status with each of `ids` that exists: duplicates collapse, unknown and
    /// deleted users are left out, oneself is `null`.
    pub async fn statuses(&self, caller: Caller, ids: &[i64]) -> Result<Vec<(i64, Option<ConnectionStatus>)>, ServiceError> {
        let found = self.repo.statuses(caller.0, ids).await?;
        Ok(found.into_iter().map(|(id, relation)| (id, relation.status())).collect())
    }

    /// A user, with `caller`'s status with them.
    pub async fn user(&self, caller: Caller, id: i64) -> Result<(User, Option<ConnectionStatus>), ServiceError> {
        if id == caller.0 {
            return Ok((self.me(caller).await?, None));
        }
        let (user, relation) = self.repo.user_with_relation(caller.0, id).await?;
        Ok((user.into(), relation.status()))
    }

    /// `id`'s counters in friendship mode; `None` outside it (the answer then names none).
    /// `401` for a caller gone, `404` for an unknown or deleted user, in either mode.
    pub async fn counters(&self, caller: Caller, id: i64) -> Result<Option<Counters>, ServiceError> {
        let (user, _) = self.user(caller, id).await?;
        Ok(self.friendship_mode().await?.then_some(user.counters))
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
        let statuses: std::collections::HashMap<i64, Option<ConnectionStatus>> =
            if ids.is_empty() { Default::default() } else { self.statuses(caller, &ids).await?.into_iter().collect() };
        Ok(Page::from_repo(found, |user| {
            let status = statuses.get(&user.id).copied().flatten();
            (user.into(), status)
        }))
    }

    /// The ids of the users `caller` hid, most recently hidden first.
    pub async fn hidden_user_ids(&self, caller: Caller) -> Result<Vec<i64>, ServiceError> {
        Ok(self.repo.hidden_user_ids(caller.0).await?)
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
        Ok(Page::from_repo(found, |(user, relation)| {
            let status = if user.id == caller.0 { None } else { relation.status() };
            (user.into(), status)
        }))
    }

    /// Users `caller` may know (see [`Repo::suggestions`]); none has a relation with the
    /// caller, so every `connection_status` is `null`.
    pub async fn suggestions(&self, caller: Caller, page: PageRequest) -> Result<Page<User>, ServiceError> {
        self.require_friendship_mode(caller).await?;
        let found = self.repo.suggestions(caller.0, page.limit, page.offset).await?;
        Ok(Page::from_repo(found, User::from))
    }

    /// Pending requests `caller` received, newest first.
    pub async fn received_requests(&self, caller: Caller, page: PageRequest) -> Result<Page<ConnectionRequest>, ServiceError> {
        self.require_friendship_mode(caller).await?;
        let found = self.repo.received_requests_page(caller.0, page.limit, page.offset).await?;
        Ok(Page::from_repo(found, ConnectionRequest::from))
    }

    /// Requests `caller` sent, newest first; a rejection is never shown.
    pub async fn sent_requests(&self, caller: Caller, page: PageRequest) -> Result<Page<ConnectionRequest>, ServiceError> {
        self.require_friendship_mode(caller).await?;
        let found = self.repo.sent_requests_page(caller.0, page.limit, page.offset).await?;
        Ok(Page::from_repo(found, |item| ConnectionRequest { rejected: None, ..item.into() }))
    }

    pub async fn preferences(&self, page: PageRequest) -> Result<Page<Preference>, ServiceError> {
        let found = self.repo.preferences_page(page.limit, page.offset).await?;
        Ok(Page::from_repo(found, |p| Preference { id: p.id, section: p.section, name: p.name, value: p.value }))
    }

    /// The caller, if they are staff; else `PermissionDenied` (`403`). For staff-only
    /// operations.
    pub async fn require_staff(&self, caller: Caller) -> Result<User, ServiceError> {
        let user = self.me(caller).await?;
        match user.role {
            Some(Role::Admin) => Ok(user),
            None => Err(ServiceError::PermissionDenied),
        }
    }

    /// The caller's own user `id`, or `PermissionDenied` for anyone else's (`401` first).
    async fn require_self(&self, caller: Caller, id: i64) -> Result<(), ServiceError> {
        self.me(caller).await?;
        if id != caller.0 {
            return Err(ServiceError::PermissionDenied);
        }
        Ok(())
    }

    /// The settings of `id`, who must be the caller.
    pub async fn settings(&self, caller: Caller, id: i64) -> Result<UserSettings, ServiceError> {
        self.require_self(caller, id).await?;
        Ok(self.repo.user_settings(id).await?.map(UserSettings::from_repo).unwrap_or(UserSettings::DEFAULT))
    }

    /// Changes the settings `change` names for `id`, who must be the caller; answers them all.
    pub async fn change_settings(&self, caller: Caller, id: i64, change: SettingsChange) -> Result<UserSettings, ServiceError> {
        self.require_self(caller, id).await?;
        let SettingsChange { qa_frequency, email_notification_not_qa, mobile_notifications_scmty, show_toast_notifications, toast_notifications_emit_sound } = change;
        let named = [qa_frequency, email_notification_not_qa, mobile_notifications_scmty, show_toast_notifications, toast_notifications_emit_sound];
        let stored = self.repo.change_user_settings(id, UserSettings::DEFAULT.to_repo(), named).await?;
        Ok(UserSettings::from_repo(stored))
    }

    /// The features, in the order they were first set.
    pub async fn features(&self, page: PageRequest) -> Result<Page<Feature>, ServiceError> {
        let found = self.repo.features_page(page.limit, page.offset).await?;
        Ok(Page::from_repo(found, |f| Feature { id: f.id, name: f.name, enabled: f.enabled }))
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
