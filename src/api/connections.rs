//! The connection operations. Each handler only translates: HTTP in, service call, HTTP out.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::OpenApi;

use super::error::ErrorResponses;
use super::types::StatusResponse;
use super::{ApiTags, AppState, BearerAuth, RequestErrors};
use crate::domain::Action;

pub struct ConnectionsApi;

/// The documented example of a user id: bob, the second demo user.
fn example_user_id() -> i64 {
    2
}

#[OpenApi(tag = "ApiTags::Connections")]
impl ConnectionsApi {
    /// Request Connection
    ///
    /// This endpoint requests a connection to the user identified by {id}.
    ///
    /// This operation requires the community to be set to friendship mode, and requires
    /// authentication. It takes no request body: it accepts `application/json`,
    /// `application/x-www-form-urlencoded` or no `Content-Type` at all, with an empty body or `{}`.
    ///
    /// The answer is the caller's `connection_status` with that user afterwards:
    /// `sent_connection_request` for a new (or repeated) request; `connected` when that user had
    /// already asked the caller (a mutual request connects, even if the caller had rejected it)
    /// or when both are connected already. A request the other user rejected still reads
    /// `sent_connection_request`: rejection is silent. Repeating the call changes nothing more.
    ///
    /// The path is also served without its trailing slash.
    #[oai(
        path = "/api/v2/user/:id/connection/request",
        method = "post",
        operation_id = "userRequestConnection"
    )]
    async fn request_connection(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// A unique integer value identifying this user.
        #[oai(validator(minimum(value = "1")), example = "example_user_id")]
        id: Path<i64>,
    ) -> Result<StatusResponse, ErrorResponses<RequestErrors>> {
        let status = state.connections.act(&auth.0, id.0, Action::Request).await?;
        Ok(status.into())
    }
}
