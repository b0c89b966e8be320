//! The users' request and answer schemas: the caller with their role, counters, preferences,
//! features, token verification.

use crate::domain::users::{Counters, Mode};
use poem_openapi::Object;
use poem_openapi::types::Example;
use serde_json::Value;

use crate::http::types::{BodyInput, FieldProblem, Nullable, UserBody, json_response, page_body};

/// The caller, as `GET /api/v2/user/me/` shows them: their user, and their `role`, which no
/// other answer shows.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(rename = "Me", example)]
pub struct MeBody {
    #[oai(flatten)]
    pub user: UserBody,
    /// `admin` for staff; `null` for everyone else.
    pub role: Nullable<String>,
}

impl Example for MeBody {
    fn example() -> Self {
        MeBody { user: UserBody::me_example(), role: Nullable(None) }
    }
}

/// A user's counters, each the `count` of the matching list: in friendship mode the three
/// connection counters, in follow mode `followers` and `followings`, in neither mode `{}`.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(rename = "UserCounters", example)]
pub struct CountersBody {
    /// Friendship mode: the user's connections.
    #[oai(skip_serializing_if_is_none)]
    pub connections: Option<i64>,
    /// Friendship mode: the requests the user has sent.
    #[oai(skip_serializing_if_is_none)]
    pub connection_requests_sent: Option<i64>,
    /// Friendship mode: the pending requests the user has received.
    #[oai(skip_serializing_if_is_none)]
    pub connection_requests_received: Option<i64>,
    /// Follow mode: the users who follow the user.
    #[oai(skip_serializing_if_is_none)]
    pub followers: Option<i64>,
    /// Follow mode: the users the user follows.
    #[oai(skip_serializing_if_is_none)]
    pub followings: Option<i64>,
}

impl CountersBody {
    /// The counters `mode` shows.
    pub fn new(counters: Counters, mode: Mode) -> Self {
        let friendship = (mode == Mode::Friendship).then_some(counters);
        let follow = (mode == Mode::Follow).then_some(counters);
        CountersBody {
            connections: friendship.map(|c| c.connections),
            connection_requests_sent: friendship.map(|c| c.requests_sent),
            connection_requests_received: friendship.map(|c| c.requests_received),
            followers: follow.map(|c| c.followers),
            followings: follow.map(|c| c.followings),
        }
    }
}

impl Example for CountersBody {
    fn example() -> Self {
        CountersBody { connections: None, connection_requests_sent: None, connection_requests_received: None, followers: Some(120), followings: Some(35) }
    }
}

/// A community preference, as `GET /api/v2/dynamic_preference/` lists them.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(rename = "Preference", example)]
pub struct PreferenceBody {
    pub id: i64,
    pub section: String,
    pub name: String,
    /// The value, as JSON: `true`/`false` for switches.
    pub value: Value,
}

impl Example for PreferenceBody {
    fn example() -> Self {
        PreferenceBody {
            id: 1,
            section: "configurations".into(),
            name: "follow_enabled".into(),
            value: Value::Bool(false),
        }
    }
}

/// A feature of the community, as `GET /api/v2/feature/` lists them; SelfCommunity's React UI
/// turns on what it draws for the enabled ones.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(rename = "Feature", example)]
pub struct FeatureBody {
    pub id: i64,
    pub name: String,
    pub enabled: bool,
}

impl Example for FeatureBody {
    fn example() -> Self {
        FeatureBody { id: 1, name: "groups".into(), enabled: true }
    }
}

/// The body of `POST /api/v2/jwt/verify_token/`.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(example)]
pub struct VerifyTokenRequest {
    /// The access token to check.
    pub token: String,
}

impl Example for VerifyTokenRequest {
    fn example() -> Self {
        VerifyTokenRequest { token: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.signature".into() }
    }
}

/// An empty JSON object: `{}`.
#[derive(Object, Clone, Debug, Default, PartialEq, Eq)]
#[oai(example)]
pub struct EmptyBody {}

impl Example for EmptyBody {
    fn example() -> Self {
        EmptyBody {}
    }
}

/// The token of `POST /api/v2/jwt/verify_token/`.
pub struct TokenInput(pub String);

impl BodyInput for TokenInput {
    type Schema = VerifyTokenRequest;

    fn parse(value: Value) -> Result<Self, FieldProblem> {
        match value.get("token") {
            Some(Value::String(token)) => Ok(TokenInput(token.clone())),
            _ => Err(FieldProblem { field: "token", message: "This field is required: the token to verify, as a string." }),
        }
    }
}

page_body!(FeaturePage, FeatureBody, "A page of features: `count` in all, absolute `next`/`previous` page URLs (or `null`).");
page_body!(PreferencePage, PreferenceBody, "A page of preferences: `count` in all, absolute `next`/`previous` page URLs (or `null`).");

json_response!(MeResponse, MeBody, "The caller, with their role.");
json_response!(PreferencePageResponse, PreferencePage, "A page of preferences.");
json_response!(FeaturePageResponse, FeaturePage, "A page of features.");
json_response!(EmptyResponse, EmptyBody, "The token would be accepted.");
json_response!(CountersResponse, CountersBody, "The user's counters (none outside friendship mode).");
