//! What every feature's operations share: the bearer security scheme (the JWT check and the
//! per-user cap on requests in flight), the links and limits settings, and the token's user
//! and expiry for the live connections.

use std::sync::Arc;

use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;

use super::error::{self, ApiError, USER_NOT_FOUND};
use super::rate_limit::{InFlight, RateLimiter, SlotHolder};
use super::tokens::Authenticator;
use crate::db::connection::Repo;
use crate::domain::error::ServiceError;
use crate::domain::users::{Caller, User};

/// The HTTP kit's settings and services, one per server: every feature's state holds it.
#[derive(Debug)]
pub struct Kit {
    pub auth: Authenticator,
    /// Build page URLs from `X-Forwarded-Proto`/`X-Forwarded-Host` (only behind a proxy that
    /// sets them: otherwise a client could make the server print any host).
    pub trust_forwarded_headers: bool,
    /// Per-user limit of the actions; `None`: unlimited.
    pub rate_limit: Option<RateLimiter>,
    /// Per-user cap on requests in flight; `None`: no cap.
    pub in_flight: Option<Arc<InFlight>>,
    /// The database, for the token's user.
    pub repo: Repo,
}

impl Kit {
    /// The caller's rate of actions (the relation-changing operations): `429 rate_limited`
    /// with `Retry-After` past it.
    pub fn check_action_rate(&self, caller: Caller) -> Result<(), ApiError> {
        if let Some(limiter) = &self.rate_limit {
            limiter.check(caller.0).map_err(|wait| {
                ApiError::new(error::RATE_LIMITED).with_header(poem::http::header::RETRY_AFTER, wait.as_secs().max(1).to_string())
            })?;
        }
        Ok(())
    }
}

/// `Authorization: Bearer <JWT>`: an HS256 access token as SelfCommunity issues them, with the
/// claims `user_id`, `token_type` (= `access`) and `exp`; or, where the server is configured
/// for one, an identity provider's token (RS256, ES256, EdDSA...) carrying `user_id`.
#[derive(SecurityScheme)]
#[oai(rename = "bearerAuth", ty = "bearer", bearer_format = "JWT", checker = "authenticate")]
pub struct BearerAuth(pub Caller);

/// Verifies the token only: whether its user exists (and is not deleted) is checked by each
/// operation's first query, in the same statement as its own work (`401` all the same).
pub async fn authenticate(req: &Request, bearer: Bearer) -> poem::Result<Caller> {
    let state = req
        .data::<Arc<Kit>>()
        .ok_or_else(|| ApiError::new(error::INTERNAL))?;
    let claims = state.auth.verify(&bearer.token).map_err(ApiError::from)?;
    let caller = Caller(claims.user_id);
    if let Some(cap) = &state.in_flight {
        let slot = cap.enter(caller.0).ok_or_else(|| {
            ApiError::new(error::TOO_MANY_REQUESTS).with_header(poem::http::header::RETRY_AFTER, "1")
        })?;
        if let Some(holder) = req.extensions().get::<SlotHolder>() {
            holder.hold(slot);
        }
    }
    Ok(caller)
}

impl Kit {
    /// The user an access token names: valid token, user exists and is not deleted.
    pub async fn user_of_token(&self, token: &str) -> Result<User, ApiError> {
        Ok(self.user_and_expiry_of_token(token).await?.0)
    }

    /// The same, with the token's `exp`: when a socket or stream it opened must end.
    pub async fn user_and_expiry_of_token(&self, token: &str) -> Result<(User, Expiry), ApiError> {
        let claims = self.auth.verify(token)?;
        match self.repo.find_active_user(claims.user_id).await.map_err(ServiceError::from)? {
            Some(user) => Ok((user.into(), Expiry(claims.exp))),
            None => Err(ApiError::invalid_token(USER_NOT_FOUND, USER_NOT_FOUND.message)),
        }
    }

    /// The caller's own user (`401` when they are gone).
    pub async fn me(&self, caller: Caller) -> Result<User, ServiceError> {
        self.repo.caller(caller).await
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

