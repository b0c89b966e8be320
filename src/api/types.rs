//! Request and response types of the API, as they appear in `openapi.yaml`.

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{Example, ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, Union};
use serde_json::Value;

use crate::domain::ConnectionStatus;

/// `connection_status` on the wire: one of three strings, or JSON `null` for no relation.
///
/// Its own schema because `Option<Enum>` does not render as an OpenAPI 3.0 nullable enum:
/// a strict validator only accepts `null` when it is listed among the enum values too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionStatusValue(pub Option<ConnectionStatus>);

impl ConnectionStatusValue {
    const SCHEMA_NAME: &'static str = "ConnectionStatus";
}

impl Type for ConnectionStatusValue {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        Cow::Borrowed(Self::SCHEMA_NAME)
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Reference(Self::SCHEMA_NAME.to_owned())
    }

    fn register(registry: &mut Registry) {
        registry.create_schema::<Self, _>(Self::SCHEMA_NAME.to_owned(), |_| {
            let mut schema = MetaSchema::new("string");
            schema.description = Some(
                "The relation between the caller and a user, from the caller's side: \
                 `connected`, `sent_connection_request` (the caller asked; a rejection is never \
                 shown to the requester), `received_connection_request` (the user asked the \
                 caller), or `null` (no relation).",
            );
            schema.nullable = true;
            schema.enum_items = ConnectionStatus::ALL
                .iter()
                .map(|s| Value::from(s.as_str()))
                .chain([Value::Null])
                .collect();
            schema.example = Some(Value::from(ConnectionStatus::SentConnectionRequest.as_str()));
            schema
        });
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl ToJSON for ConnectionStatusValue {
    fn to_json(&self) -> Option<Value> {
        Some(self.0.map_or(Value::Null, |s| Value::from(s.as_str())))
    }
}

impl ParseFromJSON for ConnectionStatusValue {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            None | Some(Value::Null) => Ok(ConnectionStatusValue(None)),
            Some(Value::String(s)) => ConnectionStatus::parse(&s)
                .map(|s| ConnectionStatusValue(Some(s)))
                .ok_or_else(|| ParseError::custom(format!("unknown connection status {s:?}"))),
            Some(other) => Err(ParseError::expected_type(other)),
        }
    }
}

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
    /// The caller's `connection_status` with that user after the action.
    #[oai(status = 200, content_type = "application/json")]
    Ok(Json<ConnectionStatusBody>),
}

impl From<Option<ConnectionStatus>> for StatusResponse {
    fn from(status: Option<ConnectionStatus>) -> Self {
        StatusResponse::Ok(Json(status.into()))
    }
}

/// The body of every error answer: a list of errors, each general or about one field.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
pub struct ErrorBody {
    pub errors: Vec<ErrorItem>,
}

/// One error: either general (`code`, `message`) or about one input field.
#[derive(Union, Clone, Debug, PartialEq, Eq)]
#[oai(one_of)]
pub enum ErrorItem {
    General(ErrorDetail),
    Field(FieldError),
}

/// A machine-readable `code` (stable, snake_case) and a `message` for people.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
pub struct ErrorDetail {
    /// Stable, machine-readable, snake_case.
    pub code: String,
    /// For people; may change.
    pub message: String,
}

/// Errors about one input field (a path or query parameter, or a body field).
#[derive(Object, Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The name of the parameter or body field.
    pub field: String,
    pub messages: Vec<ErrorDetail>,
}
