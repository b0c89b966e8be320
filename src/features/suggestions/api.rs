//! `GET /api/v2/suggestion/user/`: "people you may know", in the community's mode.

use std::sync::Arc;

use poem::Request;
use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::Query;

use super::rules::Suggestions;
use crate::http::error::ErrorResponses;
use crate::http::error_sets::RequestListErrors;
use crate::http::kit::{BearerAuth, Kit};
use crate::http::pagination::{links, page_request};
use crate::http::tags::ApiTags;
use crate::http::types::{UserBody, UserPage, UserPageResponse};

pub struct SuggestionsApi;

/// What the suggestions' operation needs (poem data on every route).
#[derive(Debug)]
pub struct State {
    pub kit: Arc<Kit>,
    pub suggestions: Suggestions,
}

#[OpenApi(tag = "ApiTags::Connections")]
impl SuggestionsApi {
    /// Get User Suggestion
    ///
    /// This endpoint retrieves users the caller may know, neither hidden by nor hiding the
    /// caller, not deleted, not the caller. Each user's `connection_status` is `null`.
    ///
    /// In friendship mode: users connected with at least one of the caller's connections, with
    /// no relation with the caller in any state (no request either way, even a rejected one,
    /// and no connection), ranked by the number of the caller's connections they are connected
    /// with (most first), then by user id (lowest first). What is ranked, so that the cost
    /// stays bounded whatever the graph's size: the caller's 50 most recent connections and, of
    /// each of them, their 20 most recent connections.
    ///
    /// In follow mode: users followed by the people the caller follows, whom the caller does
    /// not follow, ranked by how many of the caller's followings follow them (most first), then
    /// by user id; what is ranked: the caller's 50 most recent followings and, of each, their
    /// 20 most recent followings.
    ///
    /// In neither mode `403 friendship_mode_disabled`. Requires authentication.
    #[oai(path = "/api/v2/suggestion/user", method = "get", operation_id = "getUserSuggestion")]
    async fn user_suggestion(
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
    ) -> Result<UserPageResponse, ErrorResponses<RequestListErrors>> {
        let page = page_request(limit.0, offset.0);
        let found = state.suggestions.suggestions(auth.0, page).await?;
        let users = found.items.into_iter().map(|user| UserBody::new(user, None)).collect();
        Ok(UserPage::new(found.count, links(req, state.kit.trust_forwarded_headers, page, found.count), users).into())
    }
}
