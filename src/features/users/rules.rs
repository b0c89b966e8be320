//! The users' rules: who may read or change what (one's own settings only; counters only in
//! friendship mode), and the shapes of preferences, features and settings.

use super::settings::Settings;
use crate::db::connection::Repo;
use crate::db::mode::{CONNECTION_ENABLED, CommunityMode, FOLLOW_ENABLED, Mode};
use crate::domain::ConnectionStatus;
use crate::domain::error::ServiceError;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::users::{Caller, Counters, User};

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

    fn from_repo(values: Settings) -> Self {
        let [qa_frequency, email_notification_not_qa, mobile_notifications_scmty, show_toast_notifications, toast_notifications_emit_sound] = values;
        UserSettings { qa_frequency, email_notification_not_qa, mobile_notifications_scmty, show_toast_notifications, toast_notifications_emit_sound }
    }

    fn to_repo(self) -> Settings {
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

#[derive(Clone, Debug)]
pub struct Users {
    repo: Repo,
    mode: CommunityMode,
}

impl Users {
    pub fn new(repo: Repo, mode: CommunityMode) -> Self {
        Users { repo, mode }
    }

    /// The caller's own user (`401` when they are gone).
    pub async fn me(&self, caller: Caller) -> Result<User, ServiceError> {
        self.repo.caller(caller).await
    }

    /// A user, with `caller`'s status with them.
    pub async fn user(&self, caller: Caller, id: i64) -> Result<(User, Option<ConnectionStatus>), ServiceError> {
        if id == caller.0 {
            return Ok((self.me(caller).await?, None));
        }
        let mode = self.mode.current().await?;
        let (user, status) = self.repo.user_with_status(caller.0, id, mode).await?;
        Ok((user.into(), status))
    }

    /// `id`'s counters and the mode, which decides the ones shown. `401` for a caller gone,
    /// `404` for an unknown or deleted user, in every mode.
    pub async fn counters(&self, caller: Caller, id: i64) -> Result<(Counters, Mode), ServiceError> {
        let (user, _) = self.user(caller, id).await?;
        Ok((user.counters, self.mode.current().await?))
    }

    pub async fn preferences(&self, page: PageRequest) -> Result<Page<Preference>, ServiceError> {
        let found = self.repo.preferences_page(page.limit, page.offset).await?;
        Ok(found.map(|p| Preference { id: p.id, section: p.section, name: p.name, value: p.value }))
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
        Ok(found.map(|f| Feature { id: f.id, name: f.name, enabled: f.enabled }))
    }
}
