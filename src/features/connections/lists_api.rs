//! The lists: a user's connections, the requests the caller received and sent.

use std::sync::Arc;

use poem::Request;
use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::{Path, Query};

use crate::http::error::ErrorResponses;
use crate::http::pagination::{links, page_request};
use super::schemas::{ConnectionRequestBody, ConnectionRequestPage, ConnectionRequestPageResponse};
use crate::http::types::{Nullable, UserBody, UserId, UserPage, UserPageResponse};
use crate::http::error_sets::{RequestListErrors, UserConnectionsErrors};
use crate::http::kit::BearerAuth;
use crate::http::tags::ApiTags;
use crate::domain::ConnectionStatus;
use super::api::State;
use super::rules::ConnectionRequest;
use crate::domain::paging::{Page, PageRequest};

pub struct ListsApi;


/// A page of requests as the caller sees them: the other user's status is known from the list
/// itself (received: they asked; sent: the caller asked), with no query per item.
fn request_page(
    req: &Request,
    state: &State,
    requested: PageRequest,
    page: Page<ConnectionRequest>,
    received: bool,
) -> ConnectionRequestPageResponse {
    let (asker, asked) = if received {
        (Some(ConnectionStatus::ReceivedConnectionRequest), None)
    } else {
        (None, Some(ConnectionStatus::SentConnectionRequest))
    };
    let bodies = page
        .items
        .into_iter()
        .map(|item| ConnectionRequestBody {
            id: item.id,
            from_user: UserBody::new(item.from_user, asker),
            to_user: UserBody::new(item.to_user, asked),
            created: item.created,
            rejected: Nullable(item.rejected),
            viewed: Nullable(item.viewed),
        })
        .collect();
    ConnectionRequestPage::new(page.count, links(req, state.kit.trust_forwarded_headers, requested, page.count), bodies).into()
}

#[OpenApi(tag = "ApiTags::Connections")]
impl ListsApi {
    /// Get User Connections
    ///
    /// This endpoint retrieves the list of connections of the user identified by {id}: first
    /// those also connected with the caller (mutual connections), then the others; the newest
    /// connection first within each group, then by user id, descending. `mutual=1` lists only
    /// the mutual ones. Each user carries the caller's `connection_status` with them. Deleted
    /// users are left out. Requires friendship mode and authentication.
    #[oai(path = "/api/v2/user/:id/connections", method = "get", operation_id = "getUserConnections")]
    #[allow(clippy::too_many_arguments)]
    async fn user_connections(
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
        /// `1`: only the connections the caller shares (mutual connections).
        #[oai(validator(minimum(value = "0"), maximum(value = "1")))]
        mutual: Query<Option<i64>>,
    ) -> Result<UserPageResponse, ErrorResponses<UserConnectionsErrors>> {
        let page = page_request(limit.0, offset.0);
        let found = state.connections.connections(auth.0, id.0.0, mutual.0 == Some(1), page).await?;
        let users = found.items.into_iter().map(|(user, status)| UserBody::new(user, status)).collect();
        Ok(UserPage::new(found.count, links(req, state.kit.trust_forwarded_headers, page, found.count), users).into())
    }

    /// Get User Connection Requests
    ///
    /// This endpoint retrieves the pending connection requests the caller received, newest
    /// first (rejected ones are not listed). Requires friendship mode and authentication.
    #[oai(path = "/api/v2/user/connection/requests", method = "get", operation_id = "getUserConnectionRequests")]
    async fn connection_requests(
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
    ) -> Result<ConnectionRequestPageResponse, ErrorResponses<RequestListErrors>> {
        let page = page_request(limit.0, offset.0);
        let found = state.connections.received_requests(auth.0, page).await?;
        Ok(request_page(req, &state, page, found, true))
    }

    /// Get User Request Connections Sent
    ///
    /// This endpoint retrieves the connection requests the caller sent and that are not
    /// answered yet, newest first. `rejected` is always `null` here: a rejection is silent.
    /// Requires friendship mode and authentication.
    #[oai(path = "/api/v2/user/connection/requests_sent", method = "get", operation_id = "getUserRequestConnectionsSent")]
    async fn connection_requests_sent(
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
    ) -> Result<ConnectionRequestPageResponse, ErrorResponses<RequestListErrors>> {
        let page = page_request(limit.0, offset.0);
        let found = state.connections.sent_requests(auth.0, page).await?;
        Ok(request_page(req, &state, page, found, false))
    }
}
