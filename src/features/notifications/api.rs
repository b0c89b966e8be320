//! SelfCommunity's notification feed, for the two connection notification types it documents
//! (`connection_request`, `connection_accept`) and follow mode's `user_follow`: the list, the
//! unseen count, marking read.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::types::Example;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::Value;

use crate::http::error::ErrorResponses;
use crate::http::pagination::{links, page_request};
use crate::http::types::{Body, BodyInput, FieldProblem, page_body};
use crate::http::tags::OtherTags;
use crate::http::types::UserBody;
use crate::domain::ConnectionStatus;
use crate::http::error_sets::{MeErrors, NotificationReadErrors, OwnListErrors};
use super::rules::Notifications;
use crate::http::kit::{BearerAuth, Kit};
use crate::db::entities::notifications as n;
use super::queries::NotificationWithUser;

pub struct NotificationsApi;

/// What the notifications' operations share (poem data on every route).
#[derive(Debug)]
pub struct State {
    pub kit: Arc<Kit>,
    pub notifications: Notifications,
}

fn example_time() -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default()
}

/// One notification: `connection_request` (with `request_user`, who asked),
/// `connection_accept` (with `accept_user`, who accepted) or, in follow mode, `user_follow`
/// (with `follower`, who follows the caller now). Either is a User as every list shows
/// one, with the caller's `connection_status` towards them as it is now.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(rename = "ConnectionNotification", example)]
pub struct NotificationBody {
    /// True until it is marked read.
    pub is_new: bool,
    /// Its serialization id, for `read/`.
    pub sid: String,
    /// `connection_request`, `connection_accept` or `user_follow`.
    #[oai(rename = "type")]
    pub r#type: String,
    pub active_at: DateTime<Utc>,
    #[oai(skip_serializing_if_is_none)]
    pub request_user: Option<UserBody>,
    #[oai(skip_serializing_if_is_none)]
    pub accept_user: Option<UserBody>,
    #[oai(skip_serializing_if_is_none)]
    pub follower: Option<UserBody>,
}

impl Example for NotificationBody {
    fn example() -> Self {
        NotificationBody {
            is_new: true,
            sid: "connection_42".into(),
            r#type: n::CONNECTION_REQUEST.into(),
            active_at: example_time(),
            request_user: Some({
                // The webhook payload's example user (alice, who asked), as the caller sees her.
                let alice = crate::http::event_schema::EventUserBody::example();
                UserBody {
                    id: alice.id,
                    username: alice.username,
                    real_name: alice.real_name,
                    avatar: alice.avatar,
                    ext_id: alice.ext_id,
                    date_joined: alice.date_joined,
                    connection_status: crate::http::types::ConnectionStatusValue(Some(ConnectionStatus::ReceivedConnectionRequest)),
                    connections_counter: alice.connections_counter,
                    connection_requests_received_counter: alice.connection_requests_received_counter,
                    connection_requests_sent_counter: alice.connection_requests_sent_counter,
                    followers_counter: alice.followers_counter,
                    followings_counter: alice.followings_counter,
                }
            }),
            accept_user: None,
            follower: None,
        }
    }
}

/// A group of notifications, as SelfCommunity's feed shows them (a connection's has one).
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(rename = "NotificationGroup", example)]
pub struct NotificationGroupBody {
    pub is_new: bool,
    pub sid: String,
    pub aggregated: Vec<NotificationBody>,
}

impl Example for NotificationGroupBody {
    fn example() -> Self {
        NotificationGroupBody { is_new: true, sid: "connection_42".into(), aggregated: vec![NotificationBody::example()] }
    }
}

impl NotificationGroupBody {
    /// The group of one notification; `status` is the caller's status towards its user now.
    fn new(item: NotificationWithUser, status: Option<ConnectionStatus>) -> Self {
        let row = item.notification;
        let other = UserBody::new(item.other.into(), status);
        let sid = format!("connection_{}", row.event_row);
        let kind = row.r#type.as_str();
        let notification = NotificationBody {
            is_new: !row.is_read,
            sid: sid.clone(),
            r#type: row.r#type.clone(),
            active_at: row.created,
            request_user: (kind == n::CONNECTION_REQUEST).then(|| other.clone()),
            accept_user: (kind == n::CONNECTION_ACCEPT).then(|| other.clone()),
            follower: (kind == n::USER_FOLLOW).then_some(other),
        };
        NotificationGroupBody { is_new: !row.is_read, sid, aggregated: vec![notification] }
    }
}

page_body!(
    NotificationPage,
    NotificationGroupBody,
    "A page of the caller's notifications, newest first: `count` in all, absolute `next`/`previous` page URLs (or `null`)."
);

/// The caller's unread notifications.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(rename = "UnseenCount", example)]
pub struct UnseenCountBody {
    pub count: i64,
}

impl Example for UnseenCountBody {
    fn example() -> Self {
        UnseenCountBody { count: 1 }
    }
}

/// `{"sids": ["connection_42", ...]}`: the notifications to mark read.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(rename = "NotificationRead", example)]
pub struct ReadSchema {
    /// Serialization ids (`sid`) of the caller's notifications; others are ignored.
    #[oai(validator(max_items = 1000))]
    pub sids: Vec<String>,
}

impl Example for ReadSchema {
    fn example() -> Self {
        ReadSchema { sids: vec!["connection_42".into()] }
    }
}

pub struct Sids(pub Vec<String>);

impl BodyInput for Sids {
    type Schema = ReadSchema;

    fn parse(value: Value) -> Result<Self, FieldProblem> {
        const SIDS: FieldProblem = FieldProblem { field: "sids", message: "Expected a list of notification sids (at most 1,000)." };
        match value.get("sids") {
            Some(Value::Array(items)) if items.len() <= 1000 => {
                items.iter().map(|i| i.as_str().map(str::to_owned).ok_or(SIDS)).collect::<Result<_, _>>().map(Sids)
            }
            _ => Err(SIDS),
        }
    }
}

#[derive(ApiResponse, Debug)]
pub enum NotificationPageResponse {
    /// A page of the caller's notifications.
    #[oai(status = 200, content_type = "application/json")]
    Ok(Json<NotificationPage>),
}

#[derive(ApiResponse, Debug)]
pub enum UnseenCountResponse {
    /// How many of the caller's notifications are not read.
    #[oai(status = 200, content_type = "application/json")]
    Ok(Json<UnseenCountBody>),
}

#[derive(ApiResponse, Debug)]
pub enum ReadResponse {
    /// Marked read.
    #[oai(status = 204)]
    NoContent,
}

#[OpenApi(tag = "OtherTags::Users")]
impl NotificationsApi {
    /// Get User Notifications
    ///
    /// This endpoint lists the caller's notifications, newest first, in SelfCommunity's shape
    /// (groups with their `aggregated` notifications), for the two connection types:
    /// `connection_request` (someone asked the caller, `request_user`) and `connection_accept`
    /// (someone accepted the caller's request, `accept_user`), and follow mode's `user_follow`
    /// (someone follows the caller now, `follower`). `is_new` until marked read.
    /// Requires authentication, not friendship mode.
    #[oai(path = "/api/v2/notification", method = "get", operation_id = "getUserNotifications")]
    async fn list(
        &self,
        req: &Request,
        state: Data<&Arc<State>>,
        auth: BearerAuth,
        /// Number of results to return per page (default 20; more than 100 counts as 100).
        #[oai(validator(minimum(value = "1")))]
        limit: Query<Option<i64>>,
        /// The initial index from which to return the results.
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
    ) -> Result<NotificationPageResponse, ErrorResponses<OwnListErrors>> {
        let page = page_request(limit.0, offset.0);
        let found = state.notifications.notifications(auth.0, page).await?;
        let ids: Vec<i64> = found.items.iter().map(|item| item.other.id).collect();
        let statuses: std::collections::HashMap<i64, Option<ConnectionStatus>> =
            state.notifications.statuses(auth.0, &ids).await?.into_iter().collect();
        let results = found
            .items
            .into_iter()
            .map(|item| {
                let status = statuses.get(&item.other.id).copied().flatten();
                NotificationGroupBody::new(item, status)
            })
            .collect();
        let links = links(req, state.kit.trust_forwarded_headers, page, found.count);
        Ok(NotificationPageResponse::Ok(Json(NotificationPage::new(found.count, links, results))))
    }

    /// Get Unseen Notifications Count
    ///
    /// This endpoint answers how many of the caller's notifications are not read yet. Requires
    /// authentication.
    #[oai(path = "/api/v2/notification/unseen/count", method = "get", operation_id = "getUnseenNotificationCount")]
    async fn unseen(&self, state: Data<&Arc<State>>, auth: BearerAuth) -> Result<UnseenCountResponse, ErrorResponses<MeErrors>> {
        let count = state.notifications.unseen_notifications(auth.0).await?;
        Ok(UnseenCountResponse::Ok(Json(UnseenCountBody { count: i64::try_from(count).unwrap_or(i64::MAX) })))
    }

    /// Mark Notifications Read
    ///
    /// This endpoint marks the caller's notifications named by `sids` read (their `is_new`
    /// becomes false); sids that are not the caller's notifications are ignored. Requires
    /// authentication; JSON body.
    #[oai(path = "/api/v2/notification/read", method = "post", operation_id = "markReadNotification")]
    async fn read(
        &self,
        state: Data<&Arc<State>>,
        auth: BearerAuth,
        body: Json<Body<Sids>>,
    ) -> Result<ReadResponse, ErrorResponses<NotificationReadErrors>> {
        state.notifications.mark_notifications_read(auth.0, &body.0.0.0).await?;
        Ok(ReadResponse::NoContent)
    }
}
