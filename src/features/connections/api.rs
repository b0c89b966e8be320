//! The connection actions and status reads. Each handler only translates: HTTP in, service
//! call, HTTP out.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use crate::http::error::{ApiError, ErrorResponses};
use super::schemas::{ConnectionStatusesBody, IsConnectionBody, IsConnectionResponse, StatusResponse, StatusesResponse, UserIds};
use crate::http::types::{Body, ConnectionStatusValue, UserId};
use crate::http::error_sets::{AcceptErrors, CancelRejectErrors, CancelRequestErrors, MarkSeenErrors, RejectErrors, RemoveErrors, RequestErrors, StatusesErrors, UserReadErrors};
use crate::http::kit::BearerAuth;
use crate::http::kit::Kit;
use crate::http::tags::ApiTags;
use super::rules::Connections;
use crate::domain::{Action, ConnectionStatus};

pub struct ConnectionsApi;

/// What the connections' operations share (poem data on every route).
#[derive(Debug)]
pub struct State {
    pub kit: Arc<Kit>,
    pub connections: Connections,
}


/// `mark_seen` answers with no body.
#[derive(ApiResponse, Debug)]
pub enum MarkSeenResponse {
    /// The request is marked seen (it keeps the time it was first seen).
    #[oai(status = 204)]
    NoContent,
}

impl State {
    /// Every action goes through here: the caller's rate limit, then the service.
    async fn act(&self, auth: &BearerAuth, id: i64, action: Action) -> Result<Option<ConnectionStatus>, ApiError> {
        self.kit.check_action_rate(auth.0)?;
        Ok(self.connections.act(auth.0, id, action).await?)
    }
}

#[OpenApi(tag = "ApiTags::Connections")]
impl ConnectionsApi {
    /// Request Connection
    ///
    /// This endpoint requests a connection to the user identified by {id}.
    ///
    /// Requires friendship mode and authentication. No request body: `application/json`,
    /// `application/x-www-form-urlencoded` or no `Content-Type`, with an empty body or `{}`.
    ///
    /// Answers the caller's `connection_status` afterwards: `sent_connection_request` for a new
    /// (or repeated) request; `connected` when that user had already asked the caller (a mutual
    /// request connects, even one the caller had rejected) or both are connected already. A
    /// request the other user rejected still reads `sent_connection_request`: rejection is
    /// silent. Repeating the call changes nothing more.
    #[oai(path = "/api/v2/user/:id/connection/request", method = "post", operation_id = "userRequestConnection")]
    async fn request_connection(
        &self,
        state: Data<&Arc<State>>,
        auth: BearerAuth,
        id: Path<UserId>,
    ) -> Result<StatusResponse, ErrorResponses<RequestErrors>> {
        Ok(state.act(&auth, id.0.0, Action::Request).await?.into())
    }

    /// Accept Request Connection
    ///
    /// This endpoint accepts the connection request of the user identified by {id}.
    ///
    /// Requires friendship mode and authentication; no request body. Accepts a pending request
    /// and a request the caller had rejected alike; answers `connected`. Accepting again answers
    /// `connected`; with no request from that user it is `409 no_connection_request`.
    #[oai(
        path = "/api/v2/user/:id/connection/accept",
        method = "post",
        operation_id = "userAcceptRequestConnection"
    )]
    async fn accept_connection(
        &self,
        state: Data<&Arc<State>>,
        auth: BearerAuth,
        id: Path<UserId>,
    ) -> Result<StatusResponse, ErrorResponses<AcceptErrors>> {
        Ok(state.act(&auth, id.0.0, Action::Accept).await?.into())
    }

    /// Reject Connection Request
    ///
    /// This endpoint rejects the connection request sent by the user identified by {id}.
    ///
    /// Requires friendship mode and authentication; no request body. Answers `null`: the
    /// request no longer shows for the caller, while its sender still reads
    /// `sent_connection_request` (rejection is silent). Rejecting again answers `null`;
    /// `409 no_connection_request` without a request from that user, `409 already_connected`
    /// between connected users.
    #[oai(
        path = "/api/v2/user/:id/connection/reject",
        method = "post",
        operation_id = "userRejectConnectionRequest"
    )]
    async fn reject_connection(
        &self,
        state: Data<&Arc<State>>,
        auth: BearerAuth,
        id: Path<UserId>,
    ) -> Result<StatusResponse, ErrorResponses<RejectErrors>> {
        Ok(state.act(&auth, id.0.0, Action::Reject).await?.into())
    }

    /// Cancel Reject Connection Request
    ///
    /// This endpoint restores a connection request of the user identified by {id} that the
    /// caller had rejected.
    ///
    /// Requires friendship mode and authentication; no request body. Answers
    /// `received_connection_request`, also when the request was not rejected;
    /// `409 no_rejected_request` when that user has no request to the caller.
    #[oai(
        path = "/api/v2/user/:id/connection/cancel_reject",
        method = "post",
        operation_id = "userCancelRejectConnectionRequest"
    )]
    async fn cancel_reject_connection(
        &self,
        state: Data<&Arc<State>>,
        auth: BearerAuth,
        id: Path<UserId>,
    ) -> Result<StatusResponse, ErrorResponses<CancelRejectErrors>> {
        Ok(state.act(&auth, id.0.0, Action::CancelReject).await?.into())
    }

    /// Cancel Request Connection
    ///
    /// This endpoint withdraws the caller's connection request to the user identified by {id}.
    ///
    /// Requires friendship mode and authentication; no request body. Answers `null`, also when
    /// there was no request; `409 no_sent_request` when that user asked the caller instead,
    /// `409 already_connected` between connected users.
    #[oai(
        path = "/api/v2/user/:id/connection/cancel_request",
        method = "post",
        operation_id = "userCancelRequestConnection"
    )]
    async fn cancel_request_connection(
        &self,
        state: Data<&Arc<State>>,
        auth: BearerAuth,
        id: Path<UserId>,
    ) -> Result<StatusResponse, ErrorResponses<CancelRequestErrors>> {
        Ok(state.act(&auth, id.0.0, Action::CancelRequest).await?.into())
    }

    /// Remove Connection
    ///
    /// This endpoint removes the connection with the user identified by {id}.
    ///
    /// Requires friendship mode and authentication; no request body. Answers `null`, also when
    /// there was no relation; `409 not_connected` while a request is pending either way.
    #[oai(path = "/api/v2/user/:id/connection/remove", method = "post", operation_id = "userRemoveConnection")]
    async fn remove_connection(
        &self,
        state: Data<&Arc<State>>,
        auth: BearerAuth,
        id: Path<UserId>,
    ) -> Result<StatusResponse, ErrorResponses<RemoveErrors>> {
        Ok(state.act(&auth, id.0.0, Action::Remove).await?.into())
    }

    /// Mark Seen Connection Request
    ///
    /// This endpoint marks as seen the pending connection request of the user identified by
    /// {id} to the caller.
    ///
    /// Requires friendship mode and authentication; no request body. Answers `204`; the request
    /// keeps the time it was first seen (`viewed`). `409 no_connection_request` without a
    /// pending request from that user.
    #[oai(
        path = "/api/v2/user/:id/connection_requests/mark_seen",
        method = "post",
        operation_id = "userMarkSeenConnectionRequest"
    )]
    async fn mark_seen(
        &self,
        state: Data<&Arc<State>>,
        auth: BearerAuth,
        id: Path<UserId>,
    ) -> Result<MarkSeenResponse, ErrorResponses<MarkSeenErrors>> {
        state.act(&auth, id.0.0, Action::MarkSeen).await?;
        Ok(MarkSeenResponse::NoContent)
    }

    /// Get User Connection Status
    ///
    /// This endpoint returns the caller's `connection_status` with the user identified by {id}:
    /// `null` with no relation and with oneself. Requires authentication, not friendship mode.
    #[oai(path = "/api/v2/user/:id/connection_status", method = "get", operation_id = "getUserConnectionStatus")]
    async fn connection_status(
        &self,
        state: Data<&Arc<State>>,
        auth: BearerAuth,
        id: Path<UserId>,
    ) -> Result<StatusResponse, ErrorResponses<UserReadErrors>> {
        Ok(state.connections.status(auth.0, id.0.0).await?.into())
    }

    /// Check User Connections
    ///
    /// This endpoint returns `is_connection = true` when the caller is connected with the user
    /// identified by {id} (`false` with oneself). Requires authentication, not friendship mode.
    #[oai(path = "/api/v2/user/:id/is_connection", method = "get", operation_id = "checkUserConnections")]
    async fn is_connection(
        &self,
        state: Data<&Arc<State>>,
        auth: BearerAuth,
        id: Path<UserId>,
    ) -> Result<IsConnectionResponse, ErrorResponses<UserReadErrors>> {
        let status = state.connections.status(auth.0, id.0.0).await?;
        Ok(IsConnectionBody { is_connection: status == Some(ConnectionStatus::Connected) }.into())
    }

    /// Get User Connection Statuses
    ///
    /// This endpoint returns the caller's `connection_status` with each of the users listed in
    /// the body (`{"users": [1, 7]}`, at most 100 positive ids; duplicates count once), keyed by
    /// user id. Unknown and deleted users are left out; the caller's own id maps to `null`.
    /// A body that is not `{"users": [ids]}` is a `400` about the field `users`. Requires
    /// authentication, not friendship mode.
    #[oai(path = "/api/v2/user/connection/statuses", method = "post", operation_id = "getUserConnectionStatuses")]
    async fn connection_statuses(
        &self,
        state: Data<&Arc<State>>,
        auth: BearerAuth,
        body: Json<Body<UserIds>>,
    ) -> Result<StatusesResponse, ErrorResponses<StatusesErrors>> {
        let statuses = state.connections.statuses(auth.0, &body.0.0.0).await?;
        Ok(ConnectionStatusesBody {
            connection_statuses: statuses
                .into_iter()
                .map(|(id, status)| (id.to_string(), ConnectionStatusValue(status)))
                .collect(),
        }
        .into())
    }
}
