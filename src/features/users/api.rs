//! Users, community preferences and token verification.

use std::sync::Arc;

use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::OpenApi;

use crate::http::error::ErrorResponses;
use crate::http::pagination::{links, whole_page_request};
use super::schemas::{
    CountersBody, CountersResponse, EmptyBody, EmptyResponse, FeatureBody, FeaturePage, FeaturePageResponse, MeBody, MeResponse,
    PreferenceBody, PreferencePage, PreferencePageResponse, TokenInput,
};
use crate::http::types::{Body, Nullable, UserBody, UserId, UserResponse};
use crate::http::tags::OtherTags;
use crate::http::error_sets::{MeErrors, PreferenceErrors, UserReadErrors, VerifyTokenErrors};
use super::rules::Users;
use crate::http::kit::{BearerAuth, Kit};

pub struct UsersApi;

/// What the users' operations share (poem data on every route).
#[derive(Debug)]
pub struct State {
    pub kit: Arc<Kit>,
    pub users: Users,
}


#[OpenApi]
impl UsersApi {
    /// Get Me
    ///
    /// This endpoint returns the user the token belongs to (`connection_status` `null`), with
    /// their `role`: `admin` for staff, `null` for everyone else (no other answer shows a
    /// role). Requires authentication.
    #[oai(path = "/api/v2/user/me", method = "get", operation_id = "getMe", tag = "OtherTags::Users")]
    async fn me(&self, state: Data<&Arc<State>>, auth: BearerAuth) -> Result<MeResponse, ErrorResponses<MeErrors>> {
        let user = state.users.me(auth.0).await?;
        let role = Nullable(user.role.map(|r| r.as_str().to_owned()));
        Ok(MeBody { user: UserBody::new(user, None), role }.into())
    }

    /// Get Specific User
    ///
    /// This endpoint returns the user identified by {id}, with the caller's
    /// `connection_status` with them. Deleted users are not found. Requires authentication.
    #[oai(path = "/api/v2/user/:id", method = "get", operation_id = "getSpecificUser", tag = "OtherTags::Users")]
    async fn user(
        &self,
        state: Data<&Arc<State>>,
        auth: BearerAuth,
        id: Path<UserId>,
    ) -> Result<UserResponse, ErrorResponses<UserReadErrors>> {
        let (user, status) = state.users.user(auth.0, id.0.0).await?;
        Ok(UserBody::new(user, status).into())
    }

    /// Get User Counters
    ///
    /// This endpoint returns the counters of the user identified by {id}, each equal to the
    /// `count` of the matching list. In friendship mode: `connections`,
    /// `connection_requests_sent` and `connection_requests_received` (SelfCommunity gives them
    /// "only if `follow_enabled` is false"); in follow mode: `followers` and `followings`; in
    /// neither mode the answer is `{}`. Deleted users are not found. Requires authentication.
    #[oai(path = "/api/v2/user/:id/counters", method = "get", operation_id = "getUserCounters", tag = "OtherTags::Users")]
    async fn counters(
        &self,
        state: Data<&Arc<State>>,
        auth: BearerAuth,
        id: Path<UserId>,
    ) -> Result<CountersResponse, ErrorResponses<UserReadErrors>> {
        let (counters, mode) = state.users.counters(auth.0, id.0.0).await?;
        Ok(CountersBody::new(counters, mode).into())
    }

    /// Get All Dynamic Preferences
    ///
    /// This endpoint lists the community's preferences, as SelfCommunity's clients read them:
    /// `configurations.follow_enabled` and `configurations.connection_enabled` decide the
    /// community mode (friendship mode: follows disabled, connections enabled). A fresh
    /// database holds every preference SelfCommunity's React UI reads, with working defaults.
    /// Without `limit` the answer holds every preference (`next` is `null`), as the React UI
    /// reads it once and never pages; with `limit`, pages as every list. No authentication.
    #[oai(
        path = "/api/v2/dynamic_preference",
        method = "get",
        operation_id = "getAllDynamicPreferences",
        tag = "OtherTags::Preferences"
    )]
    async fn preferences(
        &self,
        req: &Request,
        state: Data<&Arc<State>>,
        /// Number of results to return per page (more than 100 counts as 100); without it,
        /// every preference from `offset` on.
        #[oai(validator(minimum(value = "1")))]
        limit: Query<Option<i64>>,
        /// The initial index from which to return the results.
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
    ) -> Result<PreferencePageResponse, ErrorResponses<PreferenceErrors>> {
        let page = whole_page_request(limit.0, offset.0);
        let found = state.users.preferences(page).await?;
        let bodies = found
            .items
            .into_iter()
            .map(|p| PreferenceBody {
                id: p.id,
                section: p.section,
                name: p.name,
                // Stored as JSON text by the CLI; anything else reads as the string it is.
                value: serde_json::from_str(&p.value).unwrap_or(serde_json::Value::String(p.value)),
            })
            .collect();
        Ok(PreferencePage::new(found.count, links(req, state.kit.trust_forwarded_headers, page, found.count), bodies).into())
    }

    /// Get All Features
    ///
    /// This endpoint lists the community's features, each `enabled` or not, in the order they
    /// were first set; the operator sets them (`connections-api feature set NAME true|false`).
    /// A fresh database has none. SelfCommunity's React UI loads them together with the
    /// preferences before it draws anything. Without `limit` the answer holds every feature
    /// (`next` is `null`); with `limit`, pages as every list. No authentication.
    #[oai(path = "/api/v2/feature", method = "get", operation_id = "getAllFeatures", tag = "OtherTags::Preferences")]
    async fn features(
        &self,
        req: &Request,
        state: Data<&Arc<State>>,
        /// Number of results to return per page (more than 100 counts as 100); without it,
        /// every feature from `offset` on.
        #[oai(validator(minimum(value = "1")))]
        limit: Query<Option<i64>>,
        /// The initial index from which to return the results.
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
    ) -> Result<FeaturePageResponse, ErrorResponses<PreferenceErrors>> {
        let page = whole_page_request(limit.0, offset.0);
        let found = state.users.features(page).await?;
        let bodies = found.items.into_iter().map(|f| FeatureBody { id: f.id, name: f.name, enabled: f.enabled }).collect();
        Ok(FeaturePage::new(found.count, links(req, state.kit.trust_forwarded_headers, page, found.count), bodies).into())
    }

    /// Verify Token
    ///
    /// This endpoint checks an access token (`{"token": "..."}`): `200` with `{}` when this
    /// server would accept it, `401` otherwise (with the reason). No authentication.
    #[oai(
        path = "/api/v2/jwt/verify_token",
        method = "post",
        operation_id = "verifyToken",
        tag = "OtherTags::Authentication"
    )]
    async fn verify_token(
        &self,
        state: Data<&Arc<State>>,
        body: Json<Body<TokenInput>>,
    ) -> Result<EmptyResponse, ErrorResponses<VerifyTokenErrors>> {
        state.kit.user_of_token(&body.0.0.0).await?;
        Ok(EmptyBody {}.into())
    }
}
