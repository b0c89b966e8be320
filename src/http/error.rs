//! Errors at the HTTP boundary: the catalogue of error codes, the one error type handlers
//! return, and the middleware that gives the framework's own errors the same JSON body.

use std::marker::PhantomData;

use poem::error::{MethodNotAllowedError, NotFoundError, ResponseError};
use poem::http::{StatusCode, header};
use poem::{IntoResponse, Response};
use poem_openapi::error::{ContentTypeError, ParseParamError, ParsePathError, ParseRequestPayloadError};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef, MetaHeader, MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::{ToJSON, Type};
use poem_openapi::ApiResponse;

use super::types::{ErrorBody, ErrorDetail, ErrorItem, FieldError, FieldProblem};
use crate::domain::Conflict;
use super::tokens::TokenError;
use crate::domain::error::ServiceError;

/// One entry of the error catalogue: what a client can switch on. The message is the usual
/// one (and the documented example); some errors say more at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorCode {
    pub status: u16,
    pub code: &'static str,
    pub message: &'static str,
    /// Set for field errors: the example names this field.
    pub field: Option<&'static str>,
}

const fn general(status: u16, code: &'static str, message: &'static str) -> ErrorCode {
    ErrorCode { status, code, message, field: None }
}

pub const INVALID_ID: ErrorCode = ErrorCode {
    status: 400,
    code: "invalid",
    message: "A positive integer is required.",
    field: Some("id"),
};
pub const SELF_CONNECTION: ErrorCode = general(400, "self_connection", "You cannot connect to yourself.");
pub const SELF_HIDE: ErrorCode = general(400, "self_hide", "You cannot hide yourself.");
pub const SELF_FOLLOW: ErrorCode = general(400, "self_follow", "You cannot follow yourself.");
pub const PERMISSION_DENIED: ErrorCode =
    general(403, "permission_denied", "You do not have permission to perform this action.");
pub const INVALID_SETTING: ErrorCode = ErrorCode {
    status: 400,
    code: "invalid",
    message: "Expected -1, 0 or 1.",
    field: Some("qa_frequency"),
};
pub const USER_HIDDEN: ErrorCode = general(403, "user_hidden", "One of you has hidden the other.");
pub const BAD_REQUEST: ErrorCode = general(400, "bad_request", "The request could not be understood.");
pub const NOT_AUTHENTICATED: ErrorCode =
    general(401, "not_authenticated", "Authentication credentials were not provided.");
pub const TOKEN_NOT_VALID: ErrorCode = general(401, "token_not_valid", "Token is expired.");
pub const USER_NOT_FOUND: ErrorCode = general(401, "user_not_found", "The token's user does not exist.");
pub const FRIENDSHIP_MODE_DISABLED: ErrorCode = general(
    403,
    "friendship_mode_disabled",
    "This operation requires the community to be set to friendship mode.",
);
pub const FOLLOW_MODE_DISABLED: ErrorCode =
    general(403, "follow_mode_disabled", "This operation requires the community to be set to follow mode.");
pub const NOT_FOUND: ErrorCode = general(404, "not_found", "User not found.");
pub const ROUTE_NOT_FOUND: ErrorCode = general(404, "not_found", "No endpoint matches this path.");
pub const METHOD_NOT_ALLOWED: ErrorCode = general(405, "method_not_allowed", "Method not allowed on this path.");
pub const REQUEST_TIMEOUT: ErrorCode =
    general(408, "request_timeout", "The request body did not arrive in time.");
pub const PAYLOAD_TOO_LARGE: ErrorCode = general(413, "payload_too_large", "The request body is too large.");
pub const UNSUPPORTED_MEDIA_TYPE: ErrorCode =
    general(415, "unsupported_media_type", "Unsupported media type in the request.");
pub const INVALID_USERS: ErrorCode = ErrorCode {
    status: 400,
    code: "invalid",
    message: "Expected a list of user ids.",
    field: Some("users"),
};
pub const INVALID_TOKEN_FIELD: ErrorCode = ErrorCode {
    status: 400,
    code: "invalid",
    message: "This field is required: the token to verify, as a string.",
    field: Some("token"),
};
pub const INVALID_LIMIT: ErrorCode = ErrorCode {
    status: 400,
    code: "invalid",
    message: "A positive integer is required.",
    field: Some("limit"),
};
pub const INVALID_ENDPOINT_ID: ErrorCode = ErrorCode {
    status: 400,
    code: "invalid",
    message: "A positive integer is required.",
    field: Some("id"),
};
pub const ENDPOINT_NOT_FOUND: ErrorCode = general(404, "not_found", "Webhook endpoint not found.");
pub const ENDPOINT_INACTIVE: ErrorCode =
    general(409, "endpoint_inactive", "The webhook endpoint is inactive: activate it (is_active) before resending.");
pub const INVALID_TARGET: ErrorCode = ErrorCode {
    status: 400,
    code: "invalid",
    message: "Enter a valid URL: the scheme must be http or https.",
    field: Some("target"),
};
pub const PRIVATE_TARGET: ErrorCode = ErrorCode {
    status: 400,
    code: "private_target",
    message: "This target is refused: 127.0.0.1 is not a public address (set WEBHOOK_ALLOW_PRIVATE_TARGETS=true to allow it).",
    field: Some("target"),
};
pub const INVALID_EVENT: ErrorCode = ErrorCode {
    status: 400,
    code: "invalid",
    message: "no such event: 42.",
    field: Some("event"),
};
pub const PARSE_ERROR: ErrorCode = general(400, "parse_error", "JSON parse error: expected value at line 1 column 1");
pub const NO_CONNECTION_REQUEST: ErrorCode =
    general(409, "no_connection_request", "There is no pending connection request from this user.");
pub const ALREADY_CONNECTED: ErrorCode = general(409, "already_connected", "You are already connected to this user.");
pub const NO_REJECTED_REQUEST: ErrorCode =
    general(409, "no_rejected_request", "There is no rejected connection request from this user.");
pub const NO_SENT_REQUEST: ErrorCode =
    general(409, "no_sent_request", "You have not sent a connection request to this user.");
pub const NOT_CONNECTED: ErrorCode = general(409, "not_connected", "You are not connected to this user.");
pub const RATE_LIMITED: ErrorCode = general(429, "rate_limited", "Too many actions: retry after the seconds in Retry-After.");
pub const TOO_MANY_REQUESTS: ErrorCode =
    general(429, "too_many_requests", "Too many requests of this user at once: retry after the seconds in Retry-After.");
pub const INVALID_SIDS: ErrorCode = ErrorCode {
    status: 400,
    code: "invalid",
    message: "Expected a list of notification sids (at most 1,000).",
    field: Some("sids"),
};
pub const INVALID_LAST_EVENT_ID: ErrorCode = ErrorCode {
    status: 400,
    code: "invalid",
    message: "A non-negative integer is required.",
    field: Some("Last-Event-ID"),
};
pub const TOO_MANY_LIVE: ErrorCode = general(
    429,
    "too_many_streams",
    "Too many sockets and streams open for this user (or on this server): retry after the seconds in Retry-After.",
);
pub const INTERNAL: ErrorCode = general(500, "internal_error", "The server failed to answer this request.");
pub const SERVICE_UNAVAILABLE: ErrorCode =
    general(503, "service_unavailable", "The database is unavailable; retry later.");
pub const SHUTTING_DOWN: ErrorCode = general(503, "shutting_down", "The server is shutting down: send to another instance.");

/// The error every handler, extractor and middleware of the API returns.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    headers: Vec<(header::HeaderName, String)>,
}

impl ApiError {
    pub fn new(code: ErrorCode) -> Self {
        ApiError {
            status: StatusCode::from_u16(code.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code: code.code,
            message: code.message.to_owned(),
            field: code.field.map(str::to_owned),
            headers: Vec::new(),
        }
    }

    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn with_header(mut self, name: header::HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// `401` when no usable bearer credentials came with the request.
    pub fn not_authenticated() -> Self {
        ApiError::new(NOT_AUTHENTICATED).with_header(header::WWW_AUTHENTICATE, "Bearer")
    }

    /// `401` for a token that was sent but cannot be accepted.
    pub fn invalid_token(code: ErrorCode, message: impl Into<String>) -> Self {
        let message = message.into();
        let challenge = format!("Bearer error=\"invalid_token\", error_description=\"{}\"", quote_safe(&message));
        ApiError::new(code).with_message(message).with_header(header::WWW_AUTHENTICATE, challenge)
    }

    pub fn body(&self) -> ErrorBody {
        let detail = ErrorDetail { code: self.code.to_owned(), message: self.message.clone() };
        let item = match &self.field {
            Some(field) => ErrorItem::Field(FieldError { field: field.clone(), messages: vec![detail] }),
            None => ErrorItem::General(detail),
        };
        ErrorBody { errors: vec![item] }
    }

    /// The documented example body for a catalogue entry.
    pub fn example(code: ErrorCode) -> serde_json::Value {
        ApiError::new(code).body().to_json().unwrap_or_default()
    }
}

/// Header values must be visible ASCII without quotes or backslashes.
fn quote_safe(text: &str) -> String {
    text.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').filter(|c| *c != '"' && *c != '\\').collect()
}

impl ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        self.status
    }

    fn as_response(&self) -> Response {
        let body = self.body().to_json().unwrap_or_default().to_string();
        let mut response = Response::builder()
            .status(self.status)
            .content_type("application/json")
            .body(body);
        for (name, value) in &self.headers {
            if let Ok(value) = value.parse() {
                response.headers_mut().insert(name.clone(), value);
            }
        }
        response
    }
}

impl From<TokenError> for ApiError {
    fn from(err: TokenError) -> Self {
        ApiError::invalid_token(TOKEN_NOT_VALID, err.to_string())
    }
}

/// The catalogue entry of each conflict of the state machine.
pub fn conflict_code(conflict: Conflict) -> ErrorCode {
    match conflict {
        Conflict::NoConnectionRequest => NO_CONNECTION_REQUEST,
        Conflict::AlreadyConnected => ALREADY_CONNECTED,
        Conflict::NoRejectedRequest => NO_REJECTED_REQUEST,
        Conflict::NoSentRequest => NO_SENT_REQUEST,
        Conflict::NotConnected => NOT_CONNECTED,
    }
}

impl From<Conflict> for ApiError {
    fn from(conflict: Conflict) -> Self {
        ApiError::new(conflict_code(conflict))
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::SelfConnection => ApiError::new(SELF_CONNECTION),
            ServiceError::SelfHide => ApiError::new(SELF_HIDE),
            ServiceError::SelfFollow => ApiError::new(SELF_FOLLOW),
            ServiceError::FollowModeDisabled => ApiError::new(FOLLOW_MODE_DISABLED),
            ServiceError::PermissionDenied => ApiError::new(PERMISSION_DENIED),
            ServiceError::UserHidden => ApiError::new(USER_HIDDEN),
            ServiceError::FriendshipModeDisabled => ApiError::new(FRIENDSHIP_MODE_DISABLED),
            ServiceError::UserNotFound => ApiError::new(NOT_FOUND),
            ServiceError::CallerNotFound => ApiError::invalid_token(USER_NOT_FOUND, USER_NOT_FOUND.message),
            ServiceError::Conflict(conflict) => conflict.into(),
            ServiceError::Unavailable(reason) => {
                tracing::warn!(%reason, "database unavailable");
                ApiError::new(SERVICE_UNAVAILABLE).with_header(header::RETRY_AFTER, "1")
            }
            ServiceError::Internal(err) => {
                tracing::error!(error = %err, "database error");
                ApiError::new(INTERNAL)
            }
        }
    }
}

/// The error codes an operation can answer with. Its statuses become the operation's
/// documented error responses, and its codes their examples (see `spec.rs`).
pub trait ErrorSet: Send + Sync + 'static {
    const CODES: &'static [ErrorCode];
}

/// A handler's error type: an [`ApiError`], documented as the responses of the set `S`.
#[derive(Debug)]
pub struct ErrorResponses<S: ErrorSet>(pub ApiError, PhantomData<S>);

impl<S: ErrorSet, E: Into<ApiError>> From<E> for ErrorResponses<S> {
    fn from(err: E) -> Self {
        ErrorResponses(err.into(), PhantomData)
    }
}

impl<S: ErrorSet> From<ErrorResponses<S>> for poem::Error {
    fn from(err: ErrorResponses<S>) -> Self {
        poem::Error::from(err.0)
    }
}

impl<S: ErrorSet> IntoResponse for ErrorResponses<S> {
    fn into_response(self) -> Response {
        self.0.as_response()
    }
}

/// What each error status means, as the response description says it.
pub fn status_description(status: u16) -> &'static str {
    match status {
        400 => "Bad request: a parameter or the body is invalid, or the action targets the caller.",
        401 => "Not authenticated: the bearer token is missing, invalid, expired, or its user no longer exists.",
        403 => "Forbidden: the operation is not allowed to the caller, or not in this community mode (see the codes).",
        404 => "Not found: what the path names does not exist (a user: or was deleted).",
        408 => "The request body did not arrive in time: send it again.",
        409 => "Conflict: the relation, or the webhook endpoint, is not in a state this operation applies to (see the codes).",
        413 => "The request body is too large.",
        415 => "The request body has an unsupported media type.",
        429 => "Too many actions, or too many requests at once, from this user: retry after the number of seconds in `Retry-After`.",
        503 => "The database is unavailable or too slow; retry after the number of seconds in `Retry-After`.",
        _ => "Error.",
    }
}

/// The examples of the codes of `codes` that answer with `status`, by name (see
/// [`example_name`]).
pub fn examples(codes: &[ErrorCode], status: u16) -> serde_json::Value {
    codes
        .iter()
        .filter(|c| c.status == status)
        .map(|c| (example_name(c), serde_json::json!({"summary": c.message, "value": ApiError::example(*c)})))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// An error example's name: its code, after its field for a field error (`id_invalid`).
pub fn example_name(code: &ErrorCode) -> String {
    match code.field {
        Some(field) => format!("{field}_{}", code.code),
        None => code.code.to_owned(),
    }
}

/// The distinct error statuses of a set, in ascending order.
pub fn statuses(codes: &[ErrorCode]) -> Vec<u16> {
    let mut statuses: Vec<u16> = codes.iter().map(|c| c.status).collect();
    statuses.sort_unstable();
    statuses.dedup();
    statuses
}

impl<S: ErrorSet> ApiResponse for ErrorResponses<S> {
    fn meta() -> MetaResponses {
        let responses = statuses(S::CODES)
            .into_iter()
            .map(|status| {
                let mut headers = Vec::new();
                if status == 401 {
                    headers.push(MetaHeader {
                        name: "WWW-Authenticate".to_owned(),
                        description: Some(
                            "`Bearer`, with `error=\"invalid_token\"` when a token was sent.".to_owned(),
                        ),
                        required: true,
                        deprecated: false,
                        schema: String::schema_ref(),
                    });
                }
                if status == 503 || status == 429 {
                    headers.push(MetaHeader {
                        name: "Retry-After".to_owned(),
                        description: Some("Seconds to wait before retrying.".to_owned()),
                        required: true,
                        deprecated: false,
                        schema: i64::schema_ref(),
                    });
                }
                MetaResponse {
                    description: status_description(status),
                    status: Some(status),
                    status_range: None,
                    // The set's examples of this status ride on an inline schema, the only
                    // place poem-openapi has for them; `spec.rs` moves them to the media
                    // type's `examples` and puts `ErrorBody` back as the schema. So the
                    // handler's return type is the one place that names its error set.
                    content: vec![MetaMediaType {
                        content_type: "application/json",
                        schema: MetaSchemaRef::Inline(Box::new(MetaSchema {
                            all_of: vec![ErrorBody::schema_ref()],
                            example: Some(examples(S::CODES, status)),
                            ..MetaSchema::ANY
                        })),
                    }],
                    headers,
                }
            })
            .collect();
        MetaResponses { responses }
    }

    fn register(registry: &mut Registry) {
        ErrorBody::register(registry);
    }
}

/// What [`framework_error`] needs to know of the routes the server serves.
pub trait Routes {
    /// The methods allowed on the path (the `Allow` header of a `405`), if it is served.
    fn allowed_methods(&self, path: &str) -> Option<String>;
    /// The spec's name of the router's `paramN` on this path.
    fn param_name(&self, path: &str, router_name: &str) -> Option<String>;
}

/// Turns an error the framework raised by itself into the contract's error body.
pub fn framework_error(err: poem::Error, method: &str, path: &str, routes: &impl Routes) -> ApiError {
    if let Some(api) = err.downcast_ref::<ApiError>() {
        return api.clone();
    }
    if err.is::<MethodNotAllowedError>() {
        let error = ApiError::new(METHOD_NOT_ALLOWED).with_message(format!("Method \"{method}\" not allowed."));
        return match routes.allowed_methods(path) {
            Some(methods) => error.with_header(header::ALLOW, methods),
            None => error,
        };
    }
    if err.is::<NotFoundError>() {
        return ApiError::new(ROUTE_NOT_FOUND);
    }
    if let Some(param) = err.downcast_ref::<ParseParamError>() {
        return invalid_parameter(param.name, &param.reason);
    }
    if let Some(param) = err.downcast_ref::<ParsePathError>() {
        let name = routes.param_name(path, param.name).unwrap_or_else(|| param.name.to_owned());
        return invalid_parameter(&name, &param.reason);
    }
    if let Some(payload) = err.downcast_ref::<ParseRequestPayloadError>() {
        return match FieldProblem::recognize(&payload.reason) {
            Some((field, message)) => ApiError::new(INVALID_USERS).with_field(field).with_message(message),
            None => ApiError::new(PARSE_ERROR).with_message(format!("JSON parse error: {}", payload.reason)),
        };
    }
    if let Some(content_type) = err.downcast_ref::<ContentTypeError>() {
        return ApiError::new(UNSUPPORTED_MEDIA_TYPE).with_message(match content_type {
            ContentTypeError::NotSupported { content_type } => {
                format!("Unsupported media type \"{}\": send application/json.", quote_safe(content_type))
            }
            _ => "The request has no Content-Type: send application/json.".to_owned(),
        });
    }
    let status = err.status();
    match status.as_u16() {
        401 => ApiError::not_authenticated(),
        404 => ApiError::new(ROUTE_NOT_FOUND),
        405 => ApiError::new(METHOD_NOT_ALLOWED),
        413 => ApiError::new(PAYLOAD_TOO_LARGE),
        415 => ApiError::new(UNSUPPORTED_MEDIA_TYPE).with_message(err.to_string()),
        400 => ApiError::new(BAD_REQUEST).with_message(err.to_string()),
        s if status.is_client_error() => ApiError::new(general(s, "client_error", "")).with_message(err.to_string()),
        _ => {
            tracing::error!(error = %err, %status, "unhandled server error");
            ApiError::new(INTERNAL)
        }
    }
}

fn invalid_parameter(name: &str, reason: &str) -> ApiError {
    let message = match name {
        "id" | "limit" => INVALID_ID.message.to_owned(),
        "offset" => "A non-negative integer is required.".to_owned(),
        "mutual" => "Expected 0 or 1.".to_owned(),
        _ => format!("Invalid value: {reason}"),
    };
    ApiError::new(INVALID_ID).with_field(name).with_message(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_conflict_has_its_catalogue_entry() {
        for action in crate::domain::Action::ALL {
            for relation in crate::domain::Relation::ALL {
                if let Err(conflict) = crate::domain::apply(relation, action) {
                    let entry = conflict_code(conflict);
                    assert_eq!((entry.status, entry.code), (409, conflict.code()));
                }
            }
        }
    }

    #[test]
    fn field_errors_render_in_the_field_form() {
        let body = ApiError::example(INVALID_ID);
        assert_eq!(body["errors"][0]["field"], "id");
        assert_eq!(body["errors"][0]["messages"][0]["code"], "invalid");
        let body = ApiError::example(SELF_CONNECTION);
        assert_eq!(body["errors"][0]["code"], "self_connection");
    }

    #[test]
    fn challenge_header_stays_a_valid_header_value() {
        let err = ApiError::invalid_token(TOKEN_NOT_VALID, "bad \"quote\" \\ é\nline");
        let challenge = &err.headers[0].1;
        assert!(challenge.parse::<poem::http::HeaderValue>().is_ok(), "{challenge}");
    }
}
