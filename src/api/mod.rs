//! The HTTP API: one declared place for every operation (poem-openapi), the security scheme,
//! the error sets each operation documents, and the spec generated from all of it.

pub mod connections;
pub mod error;
pub mod hidden;
pub mod lists;
pub mod notifications;
pub mod pagination;
pub mod rate_limit;
pub mod settings;
pub mod spec;
pub mod stream;
pub mod types;
pub mod users;
pub mod webhooks;

use std::sync::Arc;

use poem::Request;
use poem_openapi::auth::Bearer;
use poem_openapi::{SecurityScheme, Tags};

use crate::auth::Authenticator;
use crate::service::User;
use crate::service::{Caller, Connections};
use error::{ApiError, ErrorCode, ErrorSet, USER_NOT_FOUND};

/// What every handler shares: the service and the token verifier.
#[derive(Debug)]
pub struct AppState {
    pub connections: Connections,
    pub auth: Authenticator,
    /// Build page URLs from `X-Forwarded-Proto`/`X-Forwarded-Host` (only behind a proxy that
    /// sets them: otherwise a client could make the server print any host).
    pub trust_forwarded_headers: bool,
    /// Browser origins answered with CORS headers (see `server::with_cors`).
    pub cors_allowed_origins: Vec<String>,
    /// Serve `GET /bench/ceiling` (see `server/mod.rs`): only for benchmarks.
    pub bench_ceiling: bool,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Webhook endpoints (staff only).
    pub webhooks: crate::webhooks::endpoints::WebhookService,
    /// Live updates: the sockets and streams, and the events they get.
    pub live: Arc<crate::live::LiveHub>,
    /// Per-user limit of the actions; `None`: unlimited.
    pub rate_limit: Option<rate_limit::RateLimiter>,
    /// Per-user cap on requests in flight; `None`: no cap.
    pub in_flight: Option<Arc<rate_limit::InFlight>>,
}

#[derive(Tags)]
pub enum ApiTags {
    /// Connections (friendship) between users: requests, answers and statuses. Most of these
    /// operations require the community to be in friendship mode.
    Connections,
}

/// `Authorization: Bearer <JWT>`: an HS256 access token as SelfCommunity issues them, with the
/// claims `user_id`, `token_type` (= `access`) and `exp`; or, where the server is configured
/// for one, an identity provider's token (RS256, ES256, EdDSA...) carrying `user_id`.
#[derive(SecurityScheme)]
#[oai(rename = "bearerAuth", ty = "bearer", bearer_format = "JWT", checker = "authenticate")]
pub struct BearerAuth(pub Caller);

/// Verifies the token only: whether its user exists (and is not deleted) is checked by each
/// operation's first query, in the same statement as its own work (`401` all the same).
async fn authenticate(req: &Request, bearer: Bearer) -> poem::Result<Caller> {
    let state = req
        .data::<Arc<AppState>>()
        .ok_or_else(|| ApiError::new(error::INTERNAL))?;
    let claims = state.auth.verify(&bearer.token).map_err(ApiError::from)?;
    let caller = Caller(claims.user_id);
    if let Some(cap) = &state.in_flight {
        let slot = cap.enter(caller.0).ok_or_else(|| {
            ApiError::new(error::TOO_MANY_REQUESTS).with_header(poem::http::header::RETRY_AFTER, "1")
        })?;
        if let Some(holder) = req.extensions().get::<rate_limit::SlotHolder>() {
            holder.hold(slot);
        }
    }
    Ok(caller)
}

impl AppState {
    /// The user an access token names: valid token, user exists and is not deleted.
    pub async fn user_of_token(&self, token: &str) -> Result<User, ApiError> {
        Ok(self.user_and_expiry_of_token(token).await?.0)
    }

    /// The same, with the token's `exp`: when a socket or stream it opened must end.
    pub async fn user_and_expiry_of_token(&self, token: &str) -> Result<(User, Expiry), ApiError> {
        let claims = self.auth.verify(token)?;
        match self.connections.active_user(claims.user_id).await? {
            Some(user) => Ok((user, Expiry(claims.exp))),
            None => Err(ApiError::invalid_token(USER_NOT_FOUND, USER_NOT_FOUND.message)),
        }
    }

    /// The `exp` of the request's bearer token (already verified by the security checker).
    pub fn bearer_expiry(&self, req: &Request) -> Option<Expiry> {
        let token = req.header("authorization")?.strip_prefix("Bearer ")?;
        self.auth.verify(token).ok().map(|claims| Expiry(claims.exp))
    }
}

/// A token's `exp` (seconds since the epoch): a live connection it opened ends then.
#[derive(Clone, Copy, Debug)]
pub struct Expiry(pub i64);

impl Expiry {
    /// Resolves at the expiry (at once if it has passed).
    pub async fn reached(self) {
        let now = chrono::Utc::now().timestamp();
        // At most ten years: a token without a real expiry must not overflow the timer.
        let left = u64::try_from(self.0.saturating_sub(now)).unwrap_or(0).min(10 * 365 * 24 * 3600);
        tokio::time::sleep(std::time::Duration::from_secs(left)).await;
    }
}

/// Declares an operation's error set: its codes become its documented error responses.
macro_rules! error_set {
    ($(#[$doc:meta])* $name:ident = [$($code:ident),* $(,)?]) => {
        $(#[$doc])*
        pub struct $name;

        impl ErrorSet for $name {
            const CODES: &'static [ErrorCode] = &[$(error::$code),*];
        }
    };
}

error_set!(
    /// `request`: every state allows it.
    RequestErrors = [INVALID_ID, SELF_CONNECTION, NOT_AUTHENTICATED, TOKEN_NOT_VALID, USER_NOT_FOUND,
        FRIENDSHIP_MODE_DISABLED, USER_HIDDEN, NOT_FOUND, REQUEST_TIMEOUT, PAYLOAD_TOO_LARGE, RATE_LIMITED, TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE]
);
error_set!(
    AcceptErrors = [INVALID_ID, SELF_CONNECTION, NOT_AUTHENTICATED, TOKEN_NOT_VALID, USER_NOT_FOUND,
        FRIENDSHIP_MODE_DISABLED, USER_HIDDEN, NOT_FOUND, NO_CONNECTION_REQUEST, REQUEST_TIMEOUT, PAYLOAD_TOO_LARGE, RATE_LIMITED, TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE]
);
error_set!(
    RejectErrors = [INVALID_ID, SELF_CONNECTION, NOT_AUTHENTICATED, TOKEN_NOT_VALID, USER_NOT_FOUND,
        FRIENDSHIP_MODE_DISABLED, NOT_FOUND, NO_CONNECTION_REQUEST, ALREADY_CONNECTED, REQUEST_TIMEOUT, PAYLOAD_TOO_LARGE, RATE_LIMITED, TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE]
);
error_set!(
    CancelRejectErrors = [INVALID_ID, SELF_CONNECTION, NOT_AUTHENTICATED, TOKEN_NOT_VALID, USER_NOT_FOUND,
        FRIENDSHIP_MODE_DISABLED, USER_HIDDEN, NOT_FOUND, NO_REJECTED_REQUEST, REQUEST_TIMEOUT, PAYLOAD_TOO_LARGE, RATE_LIMITED, TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE]
);
error_set!(
    CancelRequestErrors = [INVALID_ID, SELF_CONNECTION, NOT_AUTHENTICATED, TOKEN_NOT_VALID, USER_NOT_FOUND,
        FRIENDSHIP_MODE_DISABLED, USER_HIDDEN, NOT_FOUND, NO_SENT_REQUEST, ALREADY_CONNECTED, REQUEST_TIMEOUT, PAYLOAD_TOO_LARGE, RATE_LIMITED, TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE]
);
error_set!(
    RemoveErrors = [INVALID_ID, SELF_CONNECTION, NOT_AUTHENTICATED, TOKEN_NOT_VALID, USER_NOT_FOUND,
        FRIENDSHIP_MODE_DISABLED, NOT_FOUND, NOT_CONNECTED, REQUEST_TIMEOUT, PAYLOAD_TOO_LARGE, RATE_LIMITED, TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE]
);
error_set!(
    MarkSeenErrors = [INVALID_ID, SELF_CONNECTION, NOT_AUTHENTICATED, TOKEN_NOT_VALID, USER_NOT_FOUND,
        FRIENDSHIP_MODE_DISABLED, NOT_FOUND, NO_CONNECTION_REQUEST, REQUEST_TIMEOUT, PAYLOAD_TOO_LARGE, RATE_LIMITED, TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE]
);
error_set!(
    /// Reads about one other user: no friendship mode needed.
    UserReadErrors = [INVALID_ID, NOT_AUTHENTICATED, TOKEN_NOT_VALID, USER_NOT_FOUND, NOT_FOUND, TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE]
);
error_set!(
    StatusesErrors = [INVALID_USERS, PARSE_ERROR, NOT_AUTHENTICATED, TOKEN_NOT_VALID, USER_NOT_FOUND,
        UNSUPPORTED_MEDIA_TYPE, REQUEST_TIMEOUT, PAYLOAD_TOO_LARGE, TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE]
);
error_set!(
    UserConnectionsErrors = [INVALID_ID, INVALID_LIMIT, NOT_AUTHENTICATED, TOKEN_NOT_VALID, USER_NOT_FOUND,
        FRIENDSHIP_MODE_DISABLED, NOT_FOUND, TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE]
);
error_set!(
    RequestListErrors = [INVALID_LIMIT, NOT_AUTHENTICATED, TOKEN_NOT_VALID, USER_NOT_FOUND,
        FRIENDSHIP_MODE_DISABLED, TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE]
);
error_set!(MeErrors = [NOT_AUTHENTICATED, TOKEN_NOT_VALID, USER_NOT_FOUND, TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE]);
error_set!(PreferenceErrors = [INVALID_LIMIT, SERVICE_UNAVAILABLE]);
error_set!(
    VerifyTokenErrors = [INVALID_TOKEN_FIELD, PARSE_ERROR, TOKEN_NOT_VALID, USER_NOT_FOUND,
        UNSUPPORTED_MEDIA_TYPE, REQUEST_TIMEOUT, PAYLOAD_TOO_LARGE, SERVICE_UNAVAILABLE]
);
error_set!(
    HideErrors = [INVALID_ID, SELF_HIDE, NOT_AUTHENTICATED, TOKEN_NOT_VALID, USER_NOT_FOUND, NOT_FOUND, REQUEST_TIMEOUT,
        PAYLOAD_TOO_LARGE, TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE]
);
error_set!(
    /// A list of the caller's own that needs no friendship mode.
    OwnListErrors = [INVALID_LIMIT, NOT_AUTHENTICATED, TOKEN_NOT_VALID, USER_NOT_FOUND, TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE]
);
error_set!(
    SettingsErrors = [INVALID_ID, NOT_AUTHENTICATED, TOKEN_NOT_VALID, USER_NOT_FOUND, PERMISSION_DENIED, TOO_MANY_REQUESTS,
        SERVICE_UNAVAILABLE]
);
error_set!(
    SettingsPatchErrors = [INVALID_ID, INVALID_SETTING, PARSE_ERROR, NOT_AUTHENTICATED, TOKEN_NOT_VALID, USER_NOT_FOUND,
        PERMISSION_DENIED, UNSUPPORTED_MEDIA_TYPE, REQUEST_TIMEOUT, PAYLOAD_TOO_LARGE, TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE]
);
error_set!(
    /// Staff-only webhook operations that take nothing but the caller.
    WebhookErrors = [NOT_AUTHENTICATED, TOKEN_NOT_VALID, USER_NOT_FOUND, PERMISSION_DENIED, TOO_MANY_REQUESTS,
        SERVICE_UNAVAILABLE]
);
error_set!(
    WebhookListErrors = [INVALID_LIMIT, NOT_AUTHENTICATED, TOKEN_NOT_VALID, USER_NOT_FOUND, PERMISSION_DENIED,
        TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE]
);
error_set!(
    WebhookCreateErrors = [INVALID_TARGET, PRIVATE_TARGET, PARSE_ERROR, NOT_AUTHENTICATED, TOKEN_NOT_VALID, USER_NOT_FOUND,
        PERMISSION_DENIED, UNSUPPORTED_MEDIA_TYPE, REQUEST_TIMEOUT, PAYLOAD_TOO_LARGE, TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE]
);
error_set!(
    WebhookEndpointErrors = [INVALID_ENDPOINT_ID, NOT_AUTHENTICATED, TOKEN_NOT_VALID, USER_NOT_FOUND, PERMISSION_DENIED,
        ENDPOINT_NOT_FOUND, TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE]
);
error_set!(
    WebhookEndpointActionErrors = [INVALID_ENDPOINT_ID, NOT_AUTHENTICATED, TOKEN_NOT_VALID, USER_NOT_FOUND,
        PERMISSION_DENIED, ENDPOINT_NOT_FOUND, REQUEST_TIMEOUT, PAYLOAD_TOO_LARGE, TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE]
);
error_set!(
    WebhookAttemptErrors = [INVALID_ENDPOINT_ID, INVALID_LIMIT, NOT_AUTHENTICATED, TOKEN_NOT_VALID, USER_NOT_FOUND,
        PERMISSION_DENIED, ENDPOINT_NOT_FOUND, TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE]
);
error_set!(
    WebhookUpdateErrors = [INVALID_ENDPOINT_ID, INVALID_TARGET, PRIVATE_TARGET, PARSE_ERROR, NOT_AUTHENTICATED,
        TOKEN_NOT_VALID, USER_NOT_FOUND, PERMISSION_DENIED, ENDPOINT_NOT_FOUND, UNSUPPORTED_MEDIA_TYPE, REQUEST_TIMEOUT,
        PAYLOAD_TOO_LARGE, TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE]
);
error_set!(
    WebhookResendErrors = [INVALID_ENDPOINT_ID, INVALID_EVENT, PARSE_ERROR, NOT_AUTHENTICATED, TOKEN_NOT_VALID,
        USER_NOT_FOUND, PERMISSION_DENIED, ENDPOINT_NOT_FOUND, ENDPOINT_INACTIVE, UNSUPPORTED_MEDIA_TYPE, REQUEST_TIMEOUT,
        PAYLOAD_TOO_LARGE, TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE]
);
error_set!(
    StreamErrors = [INVALID_LAST_EVENT_ID, NOT_AUTHENTICATED, TOKEN_NOT_VALID, USER_NOT_FOUND, TOO_MANY_LIVE, TOO_MANY_REQUESTS,
        SERVICE_UNAVAILABLE]
);
error_set!(
    NotificationReadErrors = [INVALID_SIDS, PARSE_ERROR, NOT_AUTHENTICATED, TOKEN_NOT_VALID, USER_NOT_FOUND,
        UNSUPPORTED_MEDIA_TYPE, REQUEST_TIMEOUT, PAYLOAD_TOO_LARGE, TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE]
);
