//! A user's notification settings (SelfCommunity's `UserSettings`): their React UI reads them
//! at login, and `show_toast_notifications` / `toast_notifications_emit_sound` decide its live
//! toasts. Each user reads and changes only their own.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::types::Example;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::Value;

use crate::http::error::ErrorResponses;
use crate::http::types::{Body, BodyInput, FieldProblem, UserId};
use crate::http::tags::OtherTags;
use crate::http::error_sets::{SettingsErrors, SettingsPatchErrors};
use crate::http::kit::BearerAuth;
use super::api::State;
use super::rules::{SettingsChange, UserSettings};

pub struct SettingsApi;

/// A user's notification settings, integers from SelfCommunity's documented enumerations.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(rename = "UserSettings", example)]
pub struct UserSettingsBody {
    /// Emails about all interactions (except private messages): -1 at once, 1 daily, 0 never.
    #[oai(validator(minimum(value = "-1"), maximum(value = "1")))]
    pub qa_frequency: i64,
    /// Private messages' notifications also by email: 1 yes, 0 no.
    #[oai(validator(minimum(value = "0"), maximum(value = "1")))]
    pub email_notification_not_qa: i64,
    /// Push notifications to the community's mobile app: 1 yes, 0 never.
    #[oai(validator(minimum(value = "0"), maximum(value = "1")))]
    pub mobile_notifications_scmty: i64,
    /// A popup when a notification arrives (front end): 1 show, 0 hide.
    #[oai(validator(minimum(value = "0"), maximum(value = "1")))]
    pub show_toast_notifications: i64,
    /// A sound with that popup: 1 yes, 0 no.
    #[oai(validator(minimum(value = "0"), maximum(value = "1")))]
    pub toast_notifications_emit_sound: i64,
}

impl From<UserSettings> for UserSettingsBody {
    fn from(s: UserSettings) -> Self {
        UserSettingsBody {
            qa_frequency: s.qa_frequency,
            email_notification_not_qa: s.email_notification_not_qa,
            mobile_notifications_scmty: s.mobile_notifications_scmty,
            show_toast_notifications: s.show_toast_notifications,
            toast_notifications_emit_sound: s.toast_notifications_emit_sound,
        }
    }
}

impl Example for UserSettingsBody {
    fn example() -> Self {
        UserSettings::DEFAULT.into()
    }
}

/// The settings to change: any of the five, each from its enumeration; the others keep their
/// value. Other keys are ignored.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(rename = "UserSettingsPatch", example)]
pub struct UserSettingsPatchSchema {
    /// -1 at once, 1 daily, 0 never.
    #[oai(skip_serializing_if_is_none, validator(minimum(value = "-1"), maximum(value = "1")))]
    pub qa_frequency: Option<i64>,
    /// 1 yes, 0 no.
    #[oai(skip_serializing_if_is_none, validator(minimum(value = "0"), maximum(value = "1")))]
    pub email_notification_not_qa: Option<i64>,
    /// 1 yes, 0 never.
    #[oai(skip_serializing_if_is_none, validator(minimum(value = "0"), maximum(value = "1")))]
    pub mobile_notifications_scmty: Option<i64>,
    /// 1 show, 0 hide.
    #[oai(skip_serializing_if_is_none, validator(minimum(value = "0"), maximum(value = "1")))]
    pub show_toast_notifications: Option<i64>,
    /// 1 yes, 0 no.
    #[oai(skip_serializing_if_is_none, validator(minimum(value = "0"), maximum(value = "1")))]
    pub toast_notifications_emit_sound: Option<i64>,
}

impl Example for UserSettingsPatchSchema {
    fn example() -> Self {
        UserSettingsPatchSchema {
            qa_frequency: Some(1),
            email_notification_not_qa: None,
            mobile_notifications_scmty: None,
            show_toast_notifications: Some(0),
            toast_notifications_emit_sound: None,
        }
    }
}

impl BodyInput for SettingsChange {
    type Schema = UserSettingsPatchSchema;

    fn parse(value: Value) -> Result<Self, FieldProblem> {
        const OBJECT: FieldProblem = FieldProblem { field: "non_field_errors", message: "Expected an object of settings." };
        let Value::Object(fields) = value else { return Err(OBJECT) };
        let read = |field: &'static str, allowed: &[i64], message: &'static str| -> Result<Option<i64>, FieldProblem> {
            match fields.get(field) {
                None => Ok(None),
                Some(v) => v.as_i64().filter(|n| allowed.contains(n)).map(Some).ok_or(FieldProblem { field, message }),
            }
        };
        const SWITCH: &[i64] = &[0, 1];
        const SWITCH_MESSAGE: &str = "Expected 0 or 1.";
        Ok(SettingsChange {
            qa_frequency: read("qa_frequency", &[-1, 0, 1], "Expected -1, 0 or 1.")?,
            email_notification_not_qa: read("email_notification_not_qa", SWITCH, SWITCH_MESSAGE)?,
            mobile_notifications_scmty: read("mobile_notifications_scmty", SWITCH, SWITCH_MESSAGE)?,
            show_toast_notifications: read("show_toast_notifications", SWITCH, SWITCH_MESSAGE)?,
            toast_notifications_emit_sound: read("toast_notifications_emit_sound", SWITCH, SWITCH_MESSAGE)?,
        })
    }
}

#[derive(ApiResponse, Debug)]
pub enum SettingsResponse {
    /// The user's settings (after the change, for a change).
    #[oai(status = 200, content_type = "application/json")]
    Ok(Json<UserSettingsBody>),
}

#[OpenApi(tag = "OtherTags::Users")]
impl SettingsApi {
    /// Get User Settings
    ///
    /// This endpoint returns the settings of the user identified by {id}, who must be the
    /// caller (anyone else's are `403 permission_denied`). A user who never changed one has
    /// the defaults: `qa_frequency` 0, `email_notification_not_qa` 0,
    /// `mobile_notifications_scmty` 0, `show_toast_notifications` 1,
    /// `toast_notifications_emit_sound` 1. Requires authentication, not friendship mode.
    #[oai(path = "/api/v2/user/:id/settings", method = "get", operation_id = "getUserSettings")]
    async fn settings(
        &self,
        state: Data<&Arc<State>>,
        auth: BearerAuth,
        id: Path<UserId>,
    ) -> Result<SettingsResponse, ErrorResponses<SettingsErrors>> {
        let settings = state.users.settings(auth.0, id.0.0).await?;
        Ok(SettingsResponse::Ok(Json(settings.into())))
    }

    /// Change User Settings
    ///
    /// This endpoint changes the settings of the user identified by {id}, who must be the
    /// caller: any of the five, as JSON; the others keep their value. A value outside its
    /// enumeration is a `400` naming the field. Answers all five. Requires authentication, not
    /// friendship mode.
    #[oai(path = "/api/v2/user/:id/settings", method = "patch", operation_id = "patchUserSettings")]
    async fn change_settings(
        &self,
        state: Data<&Arc<State>>,
        auth: BearerAuth,
        id: Path<UserId>,
        body: Json<Body<SettingsChange>>,
    ) -> Result<SettingsResponse, ErrorResponses<SettingsPatchErrors>> {
        let settings = state.users.change_settings(auth.0, id.0.0, body.0.0).await?;
        Ok(SettingsResponse::Ok(Json(settings.into())))
    }
}
