//! Follow mode's operations, in the paths and shapes of SelfCommunity's `UserService`: the
//! toggle, the two checks, a user's followers and followings. Each handler only translates.

use std::sync::Arc;

use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::types::Example;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::queries::Side;
use super::rules::Follows;
use crate::db::statuses::follow_status;
use crate::http::error::ErrorResponses;
use crate::http::error_sets::{FollowErrors, FollowListErrors, FollowReadErrors};
use crate::http::kit::{BearerAuth, Kit};
use crate::http::pagination::{links, page_request};
use crate::http::tags::ApiTags;
use crate::http::types::{UserBody, UserId, UserPage, UserPageResponse, json_response};

pub struct FollowsApi;

/// What the follows' operations share (poem data on every route).
#[derive(Debug)]
pub struct State {
    pub kit: Arc<Kit>,
    pub follows: Follows,
}

/// `follow` answers with no body.
#[derive(ApiResponse, Debug)]
pub enum FollowResponse {
    /// Done: the caller follows the user now, or no longer does if they did.
    #[oai(status = 204)]
    NoContent,
}

/// `{"is_followed": true}` when the caller follows the user.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(example)]
pub struct IsFollowedBody {
    pub is_followed: bool,
}

impl Example for IsFollowedBody {
    fn example() -> Self {
        IsFollowedBody { is_followed: true }
    }
}

/// `{"is_follower": true}` when the user follows the caller.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(example)]
pub struct IsFollowerBody {
    pub is_follower: bool,
}

impl Example for IsFollowerBody {
    fn example() -> Self {
        IsFollowerBody { is_follower: false }
    }
}

json_response!(IsFollowedResponse, IsFollowedBody, "Whether the caller follows the user.");
json_response!(IsFollowerResponse, IsFollowerBody, "Whether the user follows the caller.");

impl FollowsApi {
    /// A page of `id`'s followers or followings, each with the caller's status (`followed`
    /// for those the caller follows, else `null`).
    #[allow(clippy::too_many_arguments)]
    async fn page(
        req: &Request,
        state: &State,
        auth: BearerAuth,
        id: i64,
        side: Side,
        limit: Option<i64>,
        offset: Option<i64>,
        mutual: Option<i64>,
    ) -> Result<UserPageResponse, ErrorResponses<FollowListErrors>> {
        let page = page_request(limit, offset);
        let found = state.follows.list(auth.0, id, side, mutual == Some(1), page).await?;
        let users = found.items.into_iter().map(|(user, followed)| UserBody::new(user, follow_status(followed))).collect();
        Ok(UserPage::new(found.count, links(req, state.kit.trust_forwarded_headers, page, found.count), users).into())
    }
}

#[OpenApi(tag = "ApiTags::Follows")]
impl FollowsApi {
    /// Follow User
    ///
    /// This endpoint follows the user identified by {id}, or unfollows them when the caller
    /// already follows them (a toggle, as SelfCommunity's). Answers `204` with no body; read
    /// the outcome with `is_followed/`. Following oneself is `400 self_follow`; following while
    /// either user has hidden the other is `403 user_hidden` (unfollowing always works). Toggles
    /// of one pair run one after the other: n sent at once leave the pair followed exactly when
    /// n is odd. Counts against the caller's rate of actions. No request body:
    /// `application/json`, `application/x-www-form-urlencoded` or no `Content-Type`, with an
    /// empty body or `{}`. Requires follow mode and authentication.
    #[oai(path = "/api/v2/user/:id/follow", method = "post", operation_id = "followUser")]
    async fn follow(
        &self,
        state: Data<&Arc<State>>,
        auth: BearerAuth,
        id: Path<UserId>,
    ) -> Result<FollowResponse, ErrorResponses<FollowErrors>> {
        state.kit.check_action_rate(auth.0)?;
        state.follows.toggle(auth.0, id.0.0).await?;
        Ok(FollowResponse::NoContent)
    }

    /// Check User Followed
    ///
    /// This endpoint returns `is_followed = true` when the caller follows the user identified
    /// by {id} (`false` with oneself). Requires follow mode and authentication.
    #[oai(path = "/api/v2/user/:id/is_followed", method = "get", operation_id = "checkUserFollowed")]
    async fn is_followed(
        &self,
        state: Data<&Arc<State>>,
        auth: BearerAuth,
        id: Path<UserId>,
    ) -> Result<IsFollowedResponse, ErrorResponses<FollowReadErrors>> {
        let (is_followed, _) = state.follows.flags(auth.0, id.0.0).await?;
        Ok(IsFollowedBody { is_followed }.into())
    }

    /// Check User Follower
    ///
    /// This endpoint returns `is_follower = true` when the user identified by {id} follows the
    /// caller (`false` with oneself). Requires follow mode and authentication.
    #[oai(path = "/api/v2/user/:id/is_follower", method = "get", operation_id = "checkUserFollower")]
    async fn is_follower(
        &self,
        state: Data<&Arc<State>>,
        auth: BearerAuth,
        id: Path<UserId>,
    ) -> Result<IsFollowerResponse, ErrorResponses<FollowReadErrors>> {
        let (_, is_follower) = state.follows.flags(auth.0, id.0.0).await?;
        Ok(IsFollowerBody { is_follower }.into())
    }

    /// Get User Followers
    ///
    /// This endpoint retrieves the users who follow the user identified by {id}: first those
    /// the caller follows, then the others; the newest follow first within each group, then by
    /// user id, descending. `mutual=1` lists only those the caller follows. Each user carries
    /// the caller's `connection_status` (`followed` or `null`). Deleted users are left out. A
    /// page costs the same however many followers the user has. Requires follow mode and
    /// authentication.
    #[oai(path = "/api/v2/user/:id/followers", method = "get", operation_id = "getUserFollowers")]
    #[allow(clippy::too_many_arguments)]
    async fn followers(
        &self,
        req: &Request,
        state: Data<&Arc<State>>,
        auth: BearerAuth,
        id: Path<UserId>,
        /// Number of results to return per page (default 20; more than 100 counts as 100).
        #[oai(validator(minimum(value = "1")))]
        limit: Query<Option<i64>>,
        /// The initial index from which to return the results.
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
        /// `1`: only the followers the caller follows too.
        #[oai(validator(minimum(value = "0"), maximum(value = "1")))]
        mutual: Query<Option<i64>>,
    ) -> Result<UserPageResponse, ErrorResponses<FollowListErrors>> {
        Self::page(req, &state, auth, id.0.0, Side::Followers, limit.0, offset.0, mutual.0).await
    }

    /// Get User Followings
    ///
    /// This endpoint retrieves the users the user identified by {id} follows: first those the
    /// caller follows too, then the others; the newest follow first within each group, then by
    /// user id, descending. `mutual=1` lists only those the caller follows too. Each user
    /// carries the caller's `connection_status` (`followed` or `null`). Deleted users are left
    /// out. Requires follow mode and authentication.
    #[oai(path = "/api/v2/user/:id/followings", method = "get", operation_id = "getUserFollowings")]
    #[allow(clippy::too_many_arguments)]
    async fn followings(
        &self,
        req: &Request,
        state: Data<&Arc<State>>,
        auth: BearerAuth,
        id: Path<UserId>,
        /// Number of results to return per page (default 20; more than 100 counts as 100).
        #[oai(validator(minimum(value = "1")))]
        limit: Query<Option<i64>>,
        /// The initial index from which to return the results.
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
        /// `1`: only the users the caller follows too.
        #[oai(validator(minimum(value = "0"), maximum(value = "1")))]
        mutual: Query<Option<i64>>,
    ) -> Result<UserPageResponse, ErrorResponses<FollowListErrors>> {
        Self::page(req, &state, auth, id.0.0, Side::Followings, limit.0, offset.0, mutual.0).await
    }
}
