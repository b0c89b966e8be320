//! The connections' request and answer schemas (the lists' users are the shared `User`).

use chrono::{DateTime, Utc};
use poem_openapi::payload::Json;
use poem_openapi::types::Example;
use poem_openapi::{ApiResponse, Object};
use serde_json::Value;

use crate::domain::ConnectionStatus;
use crate::http::types::{BodyInput, ConnectionStatusValue, FieldProblem, Nullable, UserBody, example_time, json_response, page_body};

/// The answer of every connection action: the caller's status with that user afterwards.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(example)]
pub struct ConnectionStatusBody {
    pub connection_status: ConnectionStatusValue,
}

impl Example for ConnectionStatusBody {
    fn example() -> Self {
        ConnectionStatusBody {
            connection_status: ConnectionStatusValue(Some(ConnectionStatus::SentConnectionRequest)),
        }
    }
}

impl From<Option<ConnectionStatus>> for ConnectionStatusBody {
    fn from(status: Option<ConnectionStatus>) -> Self {
        ConnectionStatusBody { connection_status: ConnectionStatusValue(status) }
    }
}

/// The success answer of a connection action.
#[derive(ApiResponse, Debug)]
pub enum StatusResponse {
    /// The caller's `connection_status` with that user (after the action, for an action).
    #[oai(status = 200, content_type = "application/json")]
    Ok(Json<ConnectionStatusBody>),
}

impl From<Option<ConnectionStatus>> for StatusResponse {
    fn from(status: Option<ConnectionStatus>) -> Self {
        StatusResponse::Ok(Json(status.into()))
    }
}

/// `{"is_connection": true}` when the caller and the user are connected.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(example)]
pub struct IsConnectionBody {
    pub is_connection: bool,
}

impl Example for IsConnectionBody {
    fn example() -> Self {
        IsConnectionBody { is_connection: true }
    }
}

/// The caller's status with each user asked about, by user id (as a string key). Unknown and
/// deleted users are left out.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(example)]
pub struct ConnectionStatusesBody {
    pub connection_statuses: std::collections::BTreeMap<String, ConnectionStatusValue>,
}

impl Example for ConnectionStatusesBody {
    fn example() -> Self {
        let statuses = [("1", None), ("7", Some(ConnectionStatus::Connected))]
            .into_iter()
            .map(|(id, s)| (id.to_owned(), ConnectionStatusValue(s)))
            .collect();
        ConnectionStatusesBody { connection_statuses: statuses }
    }
}

/// The body of `POST /api/v2/user/connection/statuses/`.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(example)]
pub struct ConnectionStatusesRequest {
    /// Positive user ids, at most 100; duplicates count once.
    #[oai(validator(max_items = 100, minimum(value = "1")))]
    pub users: Vec<i64>,
}

impl Example for ConnectionStatusesRequest {
    fn example() -> Self {
        ConnectionStatusesRequest { users: vec![1, 7] }
    }
}

/// The ids of `POST /api/v2/user/connection/statuses/`.
pub struct UserIds(pub Vec<i64>);

impl BodyInput for UserIds {
    type Schema = ConnectionStatusesRequest;

    fn parse(value: Value) -> Result<Self, FieldProblem> {
        const LIST: FieldProblem = FieldProblem { field: "users", message: "Expected a list of user ids." };
        const TOO_MANY: FieldProblem = FieldProblem { field: "users", message: "Ask about 100 users at most." };
        let Some(Value::Array(items)) = value.get("users").cloned() else { return Err(LIST) };
        if items.len() > crate::domain::paging::MAX_STATUS_BATCH {
            return Err(TOO_MANY);
        }
        items
            .iter()
            .map(|item| item.as_i64().filter(|id| *id > 0).ok_or(LIST))
            .collect::<Result<Vec<i64>, _>>()
            .map(UserIds)
    }
}

/// A connection request between two users: `from_user` asked `to_user`.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(rename = "ConnectionRequest", example)]
pub struct ConnectionRequestBody {
    pub id: i64,
    pub from_user: UserBody,
    pub to_user: UserBody,
    pub created: DateTime<Utc>,
    /// When the asked user rejected it; always `null` in the requester's own list.
    pub rejected: Nullable<DateTime<Utc>>,
    /// When the asked user first saw it (`mark_seen`), or `null`.
    pub viewed: Nullable<DateTime<Utc>>,
}

impl Example for ConnectionRequestBody {
    fn example() -> Self {
        let alice = UserBody {
            connection_status: ConnectionStatusValue(Some(ConnectionStatus::ReceivedConnectionRequest)),
            ..UserBody::me_example()
        };
        let bob = UserBody { connection_status: ConnectionStatusValue(None), ..UserBody::example() };
        ConnectionRequestBody {
            id: 7,
            from_user: alice,
            to_user: bob,
            created: example_time(3600),
            rejected: Nullable(None),
            viewed: Nullable(None),
        }
    }
}

page_body!(
    ConnectionRequestPage,
    ConnectionRequestBody,
    "A page of connection requests: `count` in all, absolute `next`/`previous` page URLs (or `null`)."
);

json_response!(IsConnectionResponse, IsConnectionBody, "Whether the caller and the user are connected.");
json_response!(StatusesResponse, ConnectionStatusesBody, "The caller's status with each known user asked about.");
json_response!(ConnectionRequestPageResponse, ConnectionRequestPage, "A page of connection requests.");
