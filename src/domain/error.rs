//! What a feature's rules can answer besides their result: the contract's refusals, and the
//! database failing (`Unavailable`: a client may retry; `Internal`: a bug, its cause kept for
//! the log). The database layer converts its own error into this one.

use super::Conflict;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("you cannot connect to yourself")]
    SelfConnection,
    #[error("you cannot hide yourself")]
    SelfHide,
    #[error("you cannot follow yourself")]
    SelfFollow,
    #[error("the community is not in follow mode")]
    FollowModeDisabled,
    /// Authenticated, but not allowed: another user's settings, a staff-only operation.
    #[error("permission denied")]
    PermissionDenied,
    /// One of the pair hid the other, and the action would create or restore a relation.
    #[error("one of the users hid the other")]
    UserHidden,
    #[error("the community is not in friendship mode")]
    FriendshipModeDisabled,
    #[error("user not found")]
    UserNotFound,
    /// The token's user does not exist or is deleted (`401`).
    #[error("the token's user does not exist")]
    CallerNotFound,
    #[error(transparent)]
    Conflict(#[from] Conflict),
    /// The database is out of reach or too busy: a client may retry (`503`).
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// A bug or a broken database (`500`); the cause is kept for the log.
    #[error("internal error")]
    Internal(#[source] std::sync::Arc<dyn std::error::Error + Send + Sync>),
}
