//! The HTTP API: one declared place for every operation (poem-openapi), the security scheme,
//! the error sets each operation documents, and the spec generated from all of it.

pub mod connections;
pub mod error;
pub mod spec;
pub mod types;

use std::sync::Arc;

use poem::Request;
use poem_openapi::auth::Bearer;
use poem_openapi::{SecurityScheme, Tags};

use crate::auth::Authenticator;
use crate::repo::User;
use crate::service::Connections;
use error::{ApiError, ErrorCode, ErrorSet, USER_NOT_FOUND};

/// What every handler shares: the service and the token verifier.
#[derive(Debug)]
pub struct AppState {
    pub connections: Connections,
    pub auth: Authenticator,
}

#[derive(Tags)]
pub enum ApiTags {
    /// Connections (friendship) between users: requests, answers and statuses. Most of these
    /// operations require the community to be in friendship mode.
    Connections,
}

/// `Authorization: Bearer <JWT>`: an HS256 access token as SelfCommunity issues them, with the
/// claims `user_id`, `token_type` (= `access`) and `exp`.
#[derive(SecurityScheme)]
#[oai(rename = "bearerAuth", ty = "bearer", bearer_format = "JWT", checker = "authenticate")]
pub struct BearerAuth(pub User);

async fn authenticate(req: &Request, bearer: Bearer) -> poem::Result<User> {
    let state = req
        .data::<Arc<AppState>>()
        .ok_or_else(|| ApiError::new(error::INTERNAL))?;
    let claims = state.auth.verify(&bearer.token).map_err(ApiError::from)?;
    match state.connections.active_user(claims.user_id).await {
        Ok(Some(user)) => Ok(user),
        Ok(None) => Err(ApiError::invalid_token(USER_NOT_FOUND, USER_NOT_FOUND.message).into()),
        Err(err) => Err(ApiError::from(err).into()),
    }
}

/// Errors of an action on another user (`POST /api/v2/user/{id}/connection/...`) that has no
/// conflicting state: `request`.
pub struct RequestErrors;

impl ErrorSet for RequestErrors {
    const CODES: &'static [ErrorCode] = &[
        error::INVALID_ID,
        error::SELF_CONNECTION,
        error::NOT_AUTHENTICATED,
        error::TOKEN_NOT_VALID,
        error::USER_NOT_FOUND,
        error::FRIENDSHIP_MODE_DISABLED,
        error::NOT_FOUND,
        error::SERVICE_UNAVAILABLE,
    ];
}

/// The error codes of each operation, by operationId: the examples of its error responses.
/// A test checks that this table and the handlers' error types document the same statuses.
pub fn operation_errors(operation_id: &str) -> Option<&'static [ErrorCode]> {
    match operation_id {
        "userRequestConnection" => Some(RequestErrors::CODES),
        _ => None,
    }
}
