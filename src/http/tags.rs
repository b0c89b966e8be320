//! The tags operations are grouped by in the spec and Swagger UI.

use poem_openapi::Tags;

#[derive(Tags)]
pub enum ApiTags {
    /// Connections (friendship) between users: requests, answers and statuses. Most of these
    /// operations require the community to be in friendship mode.
    Connections,
    /// Follows between users (follow mode, SelfCommunity's default configuration): one-way,
    /// no request and no acceptance. These operations require the community to be in follow
    /// mode.
    Follows,
}

#[derive(Tags)]
pub enum OtherTags {
    /// Users, as the connection endpoints show them.
    Users,
    /// Community preferences and features (read-only here; the operator sets them from the
    /// command line).
    Preferences,
    /// Token verification.
    Authentication,
}
