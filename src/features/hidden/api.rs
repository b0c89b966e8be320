//! Hidden users ("blocked" in SelfCommunity's React UI): hide or show a user again, the two
//! checks, and the caller's hidden users. None needs friendship mode.

use std::sync::Arc;

use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use poem_openapi::types::Example;

use crate::http::error::ErrorResponses;
use crate::http::pagination::{links, page_request};
use crate::http::types::{UserBody, UserId, UserPage, UserPageResponse};
use crate::http::tags::OtherTags;
use crate::http::error_sets::{HideErrors, MeErrors, OwnListErrors, UserReadErrors};
use super::rules::Hidden;
use crate::http::kit::{BearerAuth, Kit};

pub struct HiddenUsersApi;

/// What the hidden users' operations share (poem data on every route).
#[derive(Debug)]
pub struct State {
    pub kit: Arc<Kit>,
    pub hidden: Hidden,
}

/// `hide` answers with no body.
#[derive(ApiResponse, Debug)]
pub enum HideResponse {
    /// Done: the user is now hidden, or shown again if they were hidden.
    #[oai(status = 204)]
    NoContent,
}

/// `{"is_hidden": true}` when the caller hid the user.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(example)]
pub struct IsHiddenBody {
    pub is_hidden: bool,
}

impl Example for IsHiddenBody {
    fn example() -> Self {
        IsHiddenBody { is_hidden: true }
    }
}

/// `{"is_hidden_by": true}` when the user hid the caller.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(example)]
pub struct IsHiddenByBody {
    pub is_hidden_by: bool,
}

impl Example for IsHiddenByBody {
    fn example() -> Self {
        IsHiddenByBody { is_hidden_by: false }
    }
}

#[derive(ApiResponse, Debug)]
pub enum IsHiddenResponse {
    /// Whether the caller hid the user.
    #[oai(status = 200, content_type = "application/json")]
    Ok(Json<IsHiddenBody>),
}

#[derive(ApiResponse, Debug)]
pub enum IsHiddenByResponse {
    /// Whether the user hid the caller.
    #[oai(status = 200, content_type = "application/json")]
    Ok(Json<IsHiddenByBody>),
}

#[derive(ApiResponse, Debug)]
pub enum HiddenIdsResponse {
    /// The ids of the users the caller hid, most recently hidden first.
    #[oai(status = 200, content_type = "application/json")]
    Ok(Json<Vec<i64>>),
}

#[OpenApi(tag = "OtherTags::Users")]
impl HiddenUsersApi {
    /// Show/Hide User
    ///
    /// This endpoint hides the user identified by {id} from the caller, or shows them again if
    /// the caller had hidden them (a toggle). While either of two users has hidden the other,
    /// `request`, `accept` and `cancel_reject` between them answer `403 user_hidden`; hiding
    /// changes no relation and no counter. Hiding oneself is `400 self_hide`. No request body.
    /// Requires authentication, not friendship mode.
    #[oai(path = "/api/v2/user/:id/hide", method = "post", operation_id = "showHideUser")]
    async fn hide(
        &self,
        state: Data<&Arc<State>>,
        auth: BearerAuth,
        id: Path<UserId>,
    ) -> Result<HideResponse, ErrorResponses<HideErrors>> {
        state.hidden.toggle_hidden(auth.0, id.0.0).await?;
        Ok(HideResponse::NoContent)
    }

    /// Check User Hidden
    ///
    /// This endpoint returns `is_hidden = true` when the caller has hidden the user identified
    /// by {id} (`false` with oneself). Requires authentication, not friendship mode.
    #[oai(path = "/api/v2/user/:id/is_hidden", method = "get", operation_id = "checkUserHidden")]
    async fn is_hidden(
        &self,
        state: Data<&Arc<State>>,
        auth: BearerAuth,
        id: Path<UserId>,
    ) -> Result<IsHiddenResponse, ErrorResponses<UserReadErrors>> {
        let (is_hidden, _) = state.hidden.hidden_flags(auth.0, id.0.0).await?;
        Ok(IsHiddenResponse::Ok(Json(IsHiddenBody { is_hidden })))
    }

    /// Check User Hidden By
    ///
    /// This endpoint returns `is_hidden_by = true` when the user identified by {id} has hidden
    /// the caller (`false` with oneself). Requires authentication, not friendship mode.
    #[oai(path = "/api/v2/user/:id/is_hidden_by", method = "get", operation_id = "checkUserHiddenBy")]
    async fn is_hidden_by(
        &self,
        state: Data<&Arc<State>>,
        auth: BearerAuth,
        id: Path<UserId>,
    ) -> Result<IsHiddenByResponse, ErrorResponses<UserReadErrors>> {
        let (_, is_hidden_by) = state.hidden.hidden_flags(auth.0, id.0.0).await?;
        Ok(IsHiddenByResponse::Ok(Json(IsHiddenByBody { is_hidden_by })))
    }

    /// Get Hidden Users
    ///
    /// This endpoint retrieves the users the caller has hidden, most recently hidden first
    /// (then by user id, highest first). Each carries the caller's `connection_status` with
    /// them. Deleted users are left out. Requires authentication, not friendship mode.
    #[oai(path = "/api/v2/user/hidden_users", method = "get", operation_id = "getHiddenUsers")]
    async fn hidden_users(
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
    ) -> Result<UserPageResponse, ErrorResponses<OwnListErrors>> {
        let page = page_request(limit.0, offset.0);
        let found = state.hidden.hidden_users(auth.0, page).await?;
        let users = found.items.into_iter().map(|(user, status)| UserBody::new(user, status)).collect();
        Ok(UserPage::new(found.count, links(req, state.kit.trust_forwarded_headers, page, found.count), users).into())
    }

    /// Get Hidden Users Id
    ///
    /// This endpoint returns the ids of the users the caller has hidden, as a JSON array, most
    /// recently hidden first. Deleted users are left out. Requires authentication, not
    /// friendship mode.
    #[oai(path = "/api/v2/user/hidden_users_id", method = "get", operation_id = "getHiddenUsersId")]
    async fn hidden_users_id(
        &self,
        state: Data<&Arc<State>>,
        auth: BearerAuth,
    ) -> Result<HiddenIdsResponse, ErrorResponses<MeErrors>> {
        Ok(HiddenIdsResponse::Ok(Json(state.hidden.hidden_user_ids(auth.0).await?)))
    }
}
