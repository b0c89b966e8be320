//! Request and response types of the API, as they appear in `openapi.yaml`.

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{Example, ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use poem_openapi::{Object, Union};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::users::User;

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

/// A `200` answer with a JSON body, declared as `application/json` (poem-openapi's default
/// would add `; charset=utf-8` to the media type in the spec).
macro_rules! json_response {
    ($name:ident, $body:ty, $doc:literal) => {
        #[derive(poem_openapi::ApiResponse, Debug)]
        pub enum $name {
            #[doc = $doc]
            #[oai(status = 200, content_type = "application/json")]
            Ok(poem_openapi::payload::Json<$body>),
        }

        impl From<$body> for $name {
            fn from(body: $body) -> Self {
                $name::Ok(poem_openapi::payload::Json(body))
            }
        }
    };
}

pub(crate) use json_response;

json_response!(UserResponse, UserBody, "The user, with the caller's status with them.");
json_response!(UserPageResponse, UserPage, "A page of users.");

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

/// A value that is always present and may be `null`: required and `nullable` in the schema
/// (poem-openapi's `Option` would make the property optional instead).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nullable<T>(pub Option<T>);

impl<T: Type> Type for Nullable<T> {
    const IS_REQUIRED: bool = true;
    type RawValueType = T::RawValueType;
    type RawElementValueType = T::RawElementValueType;

    fn name() -> Cow<'static, str> {
        format!("nullable_{}", T::name()).into()
    }

    fn schema_ref() -> MetaSchemaRef {
        match T::schema_ref() {
            MetaSchemaRef::Inline(schema) => MetaSchemaRef::Inline(Box::new(MetaSchema { nullable: true, ..*schema })),
            reference => {
                let mut schema = MetaSchema::ANY;
                schema.all_of = vec![reference];
                schema.nullable = true;
                MetaSchemaRef::Inline(Box::new(schema))
            }
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        self.0.as_ref().and_then(Type::as_raw_value)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        match &self.0 {
            Some(value) => value.raw_element_iter(),
            None => Box::new(std::iter::empty()),
        }
    }
}

impl<T: ToJSON> ToJSON for Nullable<T> {
    fn to_json(&self) -> Option<Value> {
        Some(self.0.as_ref().and_then(ToJSON::to_json).unwrap_or(Value::Null))
    }
}

impl<T: ParseFromJSON> ParseFromJSON for Nullable<T> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            None | Some(Value::Null) => Ok(Nullable(None)),
            value => T::parse_from_json(value).map(|v| Nullable(Some(v))).map_err(ParseError::propagate),
        }
    }
}

/// A user, as SelfCommunity serializes one for another user to see; `connection_status` is
/// the caller's status with this user.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(rename = "User", example)]
pub struct UserBody {
    pub id: i64,
    pub username: String,
    pub real_name: String,
    /// The avatar's URL, or `null`.
    pub avatar: Nullable<String>,
    /// The user's id in the community's own system, or `null`.
    pub ext_id: Nullable<i64>,
    pub date_joined: DateTime<Utc>,
    // No doc comment on fields of a referenced schema: poem-openapi would wrap the `$ref` in an
    // `allOf`, which some client generators cannot read for a non-object schema.
    pub connection_status: ConnectionStatusValue,
    /// How many connections the user has (the `count` of their connections list).
    pub connections_counter: i64,
    /// How many pending requests the user has received (the `count` of their received list).
    pub connection_requests_received_counter: i64,
    /// How many requests the user has sent (the `count` of their sent list).
    pub connection_requests_sent_counter: i64,
    /// How many users follow the user (the `count` of their followers list).
    pub followers_counter: i64,
    /// How many users the user follows (the `count` of their followings list).
    pub followings_counter: i64,
}

impl UserBody {
    pub fn new(user: User, status: Option<ConnectionStatus>) -> Self {
        UserBody {
            id: user.id,
            username: user.username,
            real_name: user.real_name,
            avatar: Nullable(user.avatar),
            ext_id: Nullable(user.ext_id),
            date_joined: user.date_joined,
            connection_status: ConnectionStatusValue(status),
            connections_counter: user.counters.connections,
            connection_requests_received_counter: user.counters.requests_received,
            connection_requests_sent_counter: user.counters.requests_sent,
            followers_counter: user.counters.followers,
            followings_counter: user.counters.followings,
        }
    }
}

pub fn example_time(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000 + seconds, 0).unwrap_or_default()
}

impl Example for UserBody {
    fn example() -> Self {
        UserBody {
            id: 2,
            username: "bob".into(),
            real_name: "Bob Marley".into(),
            avatar: Nullable(None),
            ext_id: Nullable(None),
            date_joined: example_time(0),
            connection_status: ConnectionStatusValue(Some(ConnectionStatus::Connected)),
            connections_counter: 1,
            connection_requests_received_counter: 0,
            connection_requests_sent_counter: 0,
            followers_counter: 0,
            followings_counter: 0,
        }
    }
}

impl UserBody {
    /// The example of `getMe`: the caller, whose status with themselves is `null`.
    pub fn me_example() -> Self {
        UserBody {
            id: 1,
            username: "alice".into(),
            real_name: "Alice Liddell".into(),
            connection_status: ConnectionStatusValue(None),
            ..UserBody::example()
        }
    }
}

/// A page of a list, in Django REST framework's envelope.
macro_rules! page_body {
    ($name:ident, $item:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(poem_openapi::Object, Clone, Debug, PartialEq, Eq)]
        #[oai(example)]
        pub struct $name {
            /// How many items the whole list has.
            pub count: i64,
            /// The URL of the next page, to GET as it is; `null` on the last page.
            pub next: $crate::http::types::Nullable<String>,
            /// The URL of the previous page; `null` on the first page.
            pub previous: $crate::http::types::Nullable<String>,
            pub results: Vec<$item>,
        }

        impl $name {
            pub fn new(count: u64, (next, previous): (Option<String>, Option<String>), results: Vec<$item>) -> Self {
                $name {
                    count: i64::try_from(count).unwrap_or(i64::MAX),
                    next: $crate::http::types::Nullable(next),
                    previous: $crate::http::types::Nullable(previous),
                    results,
                }
            }
        }

        impl poem_openapi::types::Example for $name {
            fn example() -> Self {
                $name::new(1, (None, None), vec![<$item as poem_openapi::types::Example>::example()])
            }
        }
    };
}

pub(crate) use page_body;

page_body!(UserPage, UserBody, "A page of users: `count` in all, absolute `next`/`previous` page URLs (or `null`).");

/// A problem with one field of a request body, shown as a field error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: &'static str,
    pub message: &'static str,
}

/// Marks a body parse error as being about one field; `api::error` shows it as a field error.
const FIELD_MARK: &str = "field-error ";

impl std::fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{FIELD_MARK}{}: {}", self.field, self.message)
    }
}

impl FieldProblem {
    /// The field and message of a body parse error that was a `FieldProblem`.
    pub fn recognize(reason: &str) -> Option<(&str, &str)> {
        // poem-openapi puts `failed to parse "Type": ` in front.
        let start = reason.find(FIELD_MARK)? + FIELD_MARK.len();
        reason[start..].split_once(": ")
    }
}

/// A request body whose errors name their field, documented with the schema `Self::Schema`.
pub trait BodyInput: Sized + Send + Sync {
    type Schema: Type;
    fn parse(value: Value) -> Result<Self, FieldProblem>;
}

/// The payload type of such a body: `Json<Body<T>>`.
pub struct Body<T>(pub T);

impl<T: BodyInput> Type for Body<T> {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        T::Schema::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        T::Schema::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::Schema::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl<T: BodyInput> ParseFromJSON for Body<T> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        T::parse(value.unwrap_or(Value::Null)).map(Body).map_err(ParseError::from)
    }
}

/// An id in a path: a positive integer. The one declaration of an `{id}` parameter's schema
/// (minimum 1, an example), and of its description (`spec.rs` moves it onto the parameter,
/// where Swagger UI shows it).
macro_rules! path_id {
    ($(#[$doc:meta])* $name:ident, $schema:literal, $description:literal, $example:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name(pub i64);

        impl $name {
            pub const DESCRIPTION: &'static str = $description;
            pub const EXAMPLE: i64 = $example;
        }

        impl poem_openapi::types::Type for $name {
            const IS_REQUIRED: bool = true;
            type RawValueType = i64;
            type RawElementValueType = i64;

            fn name() -> std::borrow::Cow<'static, str> {
                $schema.into()
            }

            fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
                poem_openapi::registry::MetaSchemaRef::Inline(Box::new(poem_openapi::registry::MetaSchema {
                    description: Some(Self::DESCRIPTION),
                    minimum: Some(1.0),
                    example: Some(Self::EXAMPLE.into()),
                    ..poem_openapi::registry::MetaSchema::new_with_format("integer", "int64")
                }))
            }

            fn as_raw_value(&self) -> Option<&i64> {
                Some(&self.0)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a i64> + 'a> {
                Box::new(self.as_raw_value().into_iter())
            }
        }

        impl poem_openapi::types::ParseFromParameter for $name {
            fn parse_from_parameter(value: &str) -> poem_openapi::types::ParseResult<Self> {
                match value.parse::<i64>() {
                    Ok(id) if id >= 1 => Ok($name(id)),
                    Ok(_) => Err(poem_openapi::types::ParseError::custom("verification failed. minimum(1, exclusive: false)")),
                    Err(err) => Err(poem_openapi::types::ParseError::custom(err)),
                }
            }
        }
    };
}

path_id!(
    /// A user's id in a path (bob, the second demo user, as the example).
    UserId, "UserId", "A unique integer value identifying this user.", 2
);
path_id!(
    /// A webhook endpoint's id in a path.
    EndpointId, "EndpointId", "A unique integer value identifying this endpoint.", 1
);
