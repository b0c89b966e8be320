//! Webhook endpoints, staff only, with the paths and shapes of SelfCommunity's `WebhookService`
//! (their JS SDK's `packages/api-services/src/services/webhook/`).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::Example;
use poem_openapi::auth::Bearer;
use poem_openapi::{ApiResponse, Object, OpenApi, SecurityScheme, Tags};
use serde_json::Value;

use crate::http::error::ErrorResponses;
use crate::http::pagination::{links, page_request};
use crate::http::types::{Body, BodyInput, EndpointId, FieldProblem, Nullable, page_body};
use crate::http::error_sets::{WebhookAttemptErrors, WebhookCreateErrors, WebhookEndpointActionErrors, WebhookEndpointErrors, WebhookErrors, WebhookListErrors, WebhookResendErrors, WebhookUpdateErrors};
use super::endpoints::{WebhookService, event_types};
use super::queries::{Endpoint, EndpointFields};
use crate::domain::users::{Caller, User};
use crate::http::error::{self, ApiError};
use crate::http::kit::{Kit, authenticate};
use crate::db::entities::webhook_attempts;

#[derive(Tags)]
pub enum WebhookTags {
    /// Webhook endpoints (staff only): where the server POSTs each connection event, signed
    /// with `SelfCommunity-Signature`. See the docs site's "Webhooks" page for the payload,
    /// the signature and the retries.
    Webhooks,
}

pub struct WebhooksApi;

/// What the webhook operations share (poem data on every route).
#[derive(Debug)]
pub struct State {
    pub kit: Arc<Kit>,
    pub webhooks: WebhookService,
}

/// `Authorization: Bearer <JWT>`: an HS256 access token as SelfCommunity issues them, with the
/// claims `user_id`, `token_type` (= `access`) and `exp`; or, where the server is configured
/// for one, an identity provider's token (RS256, ES256, EdDSA...) carrying `user_id`.
//
// The same scheme as every operation's, `bearerAuth` (its doc above is the spec's, word for
// word), whose checker here also requires the token's user to be staff: `403
// permission_denied` for anyone else, declared once for the twelve staff-only operations.
#[derive(SecurityScheme)]
#[oai(rename = "bearerAuth", ty = "bearer", bearer_format = "JWT", checker = "authenticate_staff")]
pub struct StaffAuth(pub User);

/// The token (as every operation's), then its user's role.
async fn authenticate_staff(req: &Request, bearer: Bearer) -> poem::Result<User> {
    let Caller(id) = authenticate(req, bearer).await?;
    let state = req.data::<Arc<State>>().ok_or_else(|| ApiError::new(error::INTERNAL))?;
    Ok(state.webhooks.require_staff(Caller(id)).await.map_err(ApiError::from)?)
}

fn example_time() -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default()
}

/// An event type an endpoint subscribes to, and since when.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(rename = "WebhookEndpointEvent", example)]
pub struct EndpointEventBody {
    /// The event type, e.g. `connection.created`.
    #[oai(rename = "type")]
    pub r#type: String,
    pub added_at: DateTime<Utc>,
}

impl Example for EndpointEventBody {
    fn example() -> Self {
        EndpointEventBody { r#type: "connection.created".into(), added_at: example_time() }
    }
}

/// A webhook endpoint. Its signing secret is not shown here (see `secret/reveal/`).
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(rename = "WebhookEndpoint", example)]
pub struct EndpointBody {
    pub id: i64,
    /// Where events are POSTed: an absolute `http(s)` URL.
    pub target: String,
    pub description: String,
    /// Inactive endpoints get nothing (no delivery, retry or resend); waiting retries resume once active.
    pub is_active: bool,
    /// The event types delivered to it.
    pub events: Vec<EndpointEventBody>,
    /// Verify the target's TLS certificate (`https` targets).
    pub ssl_cert_verification: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Endpoint> for EndpointBody {
    fn from(e: Endpoint) -> Self {
        EndpointBody {
            id: e.row.id,
            target: e.row.target,
            description: e.row.description,
            is_active: e.row.is_active,
            events: e.events.into_iter().map(|(r#type, added_at)| EndpointEventBody { r#type, added_at }).collect(),
            ssl_cert_verification: e.row.ssl_cert_verification,
            created_at: e.row.created_at,
            updated_at: e.row.updated_at,
        }
    }
}

impl Example for EndpointBody {
    fn example() -> Self {
        EndpointBody {
            id: 1,
            target: "https://hooks.example.com/selfcommunity".into(),
            description: "CRM sync".into(),
            is_active: true,
            events: vec![EndpointEventBody::example()],
            ssl_cert_verification: true,
            created_at: example_time(),
            updated_at: example_time(),
        }
    }
}

/// A new endpoint, with its signing secret (shown here once; later by `secret/reveal/`).
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(rename = "WebhookEndpointCreated", example)]
pub struct CreatedBody {
    #[oai(flatten)]
    pub endpoint: EndpointBody,
    /// 32 random bytes in hex: the HMAC key of `SelfCommunity-Signature`.
    pub signing_secret: String,
}

impl Example for CreatedBody {
    fn example() -> Self {
        CreatedBody { endpoint: EndpointBody::example(), signing_secret: SecretBody::example().signing_secret }
    }
}

/// An endpoint's signing secret.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(rename = "WebhookEndpointSecret", example)]
pub struct SecretBody {
    pub signing_secret: String,
}

impl Example for SecretBody {
    fn example() -> Self {
        SecretBody { signing_secret: "5f0c2b7e9a1d4c3b8e6f0a2d4c6e8f0a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e".into() }
    }
}

/// An event type, as a subscription names it.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(rename = "WebhookEventType", example)]
pub struct EventTypeSchema {
    /// One of `GET /api/v2/webhook/endpoint/event/`.
    #[oai(rename = "type")]
    pub r#type: String,
}

impl Example for EventTypeSchema {
    fn example() -> Self {
        EventTypeSchema { r#type: "connection.created".into() }
    }
}

/// An endpoint's fields. For `POST` and `PUT` `target` is required; `PATCH` changes only what
/// it names. `events` empty or absent (on creation): every event type.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(rename = "WebhookEndpointInput", example)]
pub struct EndpointInputSchema {
    /// An absolute `http` or `https` URL whose address is public (unless the server allows
    /// private targets).
    #[oai(skip_serializing_if_is_none, validator(max_length = 2048))]
    pub target: Option<String>,
    #[oai(skip_serializing_if_is_none, validator(max_length = 1000))]
    pub description: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub is_active: Option<bool>,
    #[oai(skip_serializing_if_is_none)]
    pub events: Option<Vec<EventTypeSchema>>,
    #[oai(skip_serializing_if_is_none)]
    pub ssl_cert_verification: Option<bool>,
}

impl Example for EndpointInputSchema {
    fn example() -> Self {
        EndpointInputSchema {
            target: Some("https://hooks.example.com/selfcommunity".into()),
            description: Some("CRM sync".into()),
            is_active: Some(true),
            events: Some(vec![EventTypeSchema::example()]),
            ssl_cert_verification: Some(true),
        }
    }
}

pub struct EndpointInput(pub EndpointFields);

impl BodyInput for EndpointInput {
    type Schema = EndpointInputSchema;

    fn parse(value: Value) -> Result<Self, FieldProblem> {
        const OBJECT: FieldProblem = FieldProblem { field: "non_field_errors", message: "Expected an object." };
        let Value::Object(fields) = value else { return Err(OBJECT) };
        let text = |field: &'static str| -> Result<Option<String>, FieldProblem> {
            match fields.get(field) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(FieldProblem { field, message: "Expected a string." }),
            }
        };
        let flag = |field: &'static str| -> Result<Option<bool>, FieldProblem> {
            match fields.get(field) {
                None => Ok(None),
                Some(Value::Bool(b)) => Ok(Some(*b)),
                Some(_) => Err(FieldProblem { field, message: "Expected a boolean." }),
            }
        };
        const EVENTS: FieldProblem = FieldProblem { field: "events", message: "Expected a list of {\"type\": EVENT_TYPE}." };
        let events = match fields.get("events") {
            None => None,
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|item| match item {
                        // The SDK sends objects; a bare type name is taken too.
                        Value::Object(o) => o.get("type").and_then(Value::as_str).map(str::to_owned).ok_or(EVENTS),
                        Value::String(s) => Ok(s.clone()),
                        _ => Err(EVENTS),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Some(_) => return Err(EVENTS),
        };
        Ok(EndpointInput(EndpointFields {
            target: text("target")?,
            description: text("description")?,
            is_active: flag("is_active")?,
            ssl_cert_verification: flag("ssl_cert_verification")?,
            events,
        }))
    }
}

/// `{"event": EVENT_ID}` or, for `bulk/`, `{"event": [EVENT_ID, ...]}`.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(rename = "WebhookResend", example)]
pub struct ResendSchema {
    /// The `event_id` of the event to deliver again.
    #[oai(validator(minimum(value = "1")))]
    pub event: i64,
}

impl Example for ResendSchema {
    fn example() -> Self {
        ResendSchema { event: 42 }
    }
}

#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(rename = "WebhookResendBulk", example)]
pub struct ResendBulkSchema {
    /// The `event_id`s of the events to deliver again (at most 1,000).
    #[oai(validator(min_items = 1, max_items = 1000))]
    pub event: Vec<i64>,
}

impl Example for ResendBulkSchema {
    fn example() -> Self {
        ResendBulkSchema { event: vec![41, 42] }
    }
}

const EVENT_ID: FieldProblem = FieldProblem { field: "event", message: "Expected an event id (a positive integer)." };

fn event_id(value: &Value) -> Result<i64, FieldProblem> {
    value.as_i64().filter(|id| *id > 0).ok_or(EVENT_ID)
}

pub struct ResendOne(pub i64);

impl BodyInput for ResendOne {
    type Schema = ResendSchema;

    fn parse(value: Value) -> Result<Self, FieldProblem> {
        value.get("event").ok_or(EVENT_ID).and_then(event_id).map(ResendOne)
    }
}

pub struct ResendMany(pub Vec<i64>);

impl BodyInput for ResendMany {
    type Schema = ResendBulkSchema;

    fn parse(value: Value) -> Result<Self, FieldProblem> {
        const LIST: FieldProblem = FieldProblem { field: "event", message: "Expected a list of event ids." };
        match value.get("event") {
            Some(Value::Array(items)) if !items.is_empty() => items.iter().map(event_id).collect::<Result<_, _>>().map(ResendMany),
            _ => Err(LIST),
        }
    }
}

/// The event an attempt delivered.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(rename = "WebhookAttemptEvent", example)]
pub struct AttemptEventBody {
    #[oai(rename = "type")]
    pub r#type: String,
    /// When the attempt's event was first sent to this endpoint.
    pub added_at: DateTime<Utc>,
    pub event_id: i64,
}

impl Example for AttemptEventBody {
    fn example() -> Self {
        AttemptEventBody { r#type: "connection.created".into(), added_at: example_time(), event_id: 42 }
    }
}

/// One attempt to deliver an event: what was sent and what came back.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(rename = "WebhookAttempt", example)]
pub struct AttemptBody {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    /// The event (a list of one, as SelfCommunity's SDK types it).
    pub event: Vec<AttemptEventBody>,
    pub sent_at: DateTime<Utc>,
    /// The JSON payload sent.
    pub http_request_body: String,
    pub http_request_signature_header: String,
    /// The receiver's status, or `null` when no answer came (see `error`).
    pub http_response_code: Nullable<i64>,
    /// The first 2,000 bytes of the receiver's answer.
    pub http_response_body: String,
    /// When the next attempt is due; `null` after a delivery or the last retry.
    pub next_retry: Nullable<DateTime<Utc>>,
    /// Why no answer came (timeout, refused connection, refused address), or `null`.
    pub error: Nullable<String>,
    /// How long the attempt took.
    pub latency_ms: i64,
}

impl From<webhook_attempts::Model> for AttemptBody {
    fn from(a: webhook_attempts::Model) -> Self {
        AttemptBody {
            id: a.id,
            created_at: a.created_at,
            event: vec![AttemptEventBody { r#type: a.event_type, added_at: a.sent_at, event_id: a.event_id }],
            sent_at: a.sent_at,
            http_request_body: a.http_request_body,
            http_request_signature_header: a.http_request_signature_header,
            http_response_code: Nullable(a.http_response_code),
            http_response_body: a.http_response_body,
            next_retry: Nullable(a.next_retry),
            error: Nullable(a.error),
            latency_ms: a.latency_ms,
        }
    }
}

impl Example for AttemptBody {
    fn example() -> Self {
        AttemptBody {
            id: 7,
            created_at: example_time(),
            event: vec![AttemptEventBody::example()],
            sent_at: example_time(),
            http_request_body: r#"{"event_id":42,"type":"connection.created","created":1790000000.0,"data":{}}"#.into(),
            http_request_signature_header: "t=1790000000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd,v0=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd".into(),
            http_response_code: Nullable(Some(200)),
            http_response_body: "ok".into(),
            next_retry: Nullable(None),
            error: Nullable(None),
            latency_ms: 35,
        }
    }
}

page_body!(
    WebhookEndpointPage,
    EndpointBody,
    "A page of webhook endpoints: `count` in all, absolute `next`/`previous` page URLs (or `null`)."
);
page_body!(
    WebhookAttemptPage,
    AttemptBody,
    "A page of an endpoint's attempts, newest first: `count` in all, absolute `next`/`previous` page URLs (or `null`)."
);

#[derive(ApiResponse, Debug)]
pub enum EndpointPageResponse {
    /// A page of endpoints, in id order.
    #[oai(status = 200, content_type = "application/json")]
    Ok(Json<WebhookEndpointPage>),
}

#[derive(ApiResponse, Debug)]
pub enum EventTypesResponse {
    /// The event types an endpoint may subscribe to.
    #[oai(status = 200, content_type = "application/json")]
    Ok(Json<Vec<String>>),
}

#[derive(ApiResponse, Debug)]
pub enum CreatedResponse {
    /// The new endpoint, with its signing secret.
    #[oai(status = 201, content_type = "application/json")]
    Created(Json<CreatedBody>),
}

#[derive(ApiResponse, Debug)]
pub enum EndpointResponse {
    /// The endpoint.
    #[oai(status = 200, content_type = "application/json")]
    Ok(Json<EndpointBody>),
}

#[derive(ApiResponse, Debug)]
pub enum SecretResponse {
    /// The endpoint's signing secret.
    #[oai(status = 200, content_type = "application/json")]
    Ok(Json<SecretBody>),
}

#[derive(ApiResponse, Debug)]
pub enum AttemptPageResponse {
    /// A page of the endpoint's attempts, newest first.
    #[oai(status = 200, content_type = "application/json")]
    Ok(Json<WebhookAttemptPage>),
}

#[derive(ApiResponse, Debug)]
pub enum DoneResponse {
    /// Done.
    #[oai(status = 204)]
    NoContent,
}

#[OpenApi(tag = "WebhookTags::Webhooks")]
impl WebhooksApi {
    /// Get All Webhook Endpoints
    ///
    /// This endpoint lists the webhook endpoints, in id order. Staff only (`403
    /// permission_denied` for everyone else).
    #[oai(path = "/api/v2/webhook/endpoint", method = "get", operation_id = "getAllWebhookEndpoints")]
    async fn list(
        &self,
        req: &Request,
        state: Data<&Arc<State>>,
        _staff: StaffAuth,
        /// Number of results to return per page (default 20; more than 100 counts as 100).
        #[oai(validator(minimum(value = "1")))]
        limit: Query<Option<i64>>,
        /// The initial index from which to return the results.
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
    ) -> Result<EndpointPageResponse, ErrorResponses<WebhookListErrors>> {
        let page = page_request(limit.0, offset.0);
        let found = state.webhooks.list(page.limit, page.offset).await?;
        let results = found.items.into_iter().map(Into::into).collect();
        let links = links(req, state.kit.trust_forwarded_headers, page, found.count);
        Ok(EndpointPageResponse::Ok(Json(WebhookEndpointPage::new(found.count, links, results))))
    }

    /// Get All Webhook Events
    ///
    /// This endpoint lists the event types an endpoint may subscribe to: the six changes of a
    /// connection and follow mode's `connection.follow` and `connection.unfollow`. Staff only.
    #[oai(path = "/api/v2/webhook/endpoint/event", method = "get", operation_id = "getAllWebhookEvents")]
    async fn event_types(&self, _staff: StaffAuth) -> Result<EventTypesResponse, ErrorResponses<WebhookErrors>> {
        Ok(EventTypesResponse::Ok(Json(event_types().into_iter().map(str::to_owned).collect())))
    }

    /// Create a Webhook Endpoint
    ///
    /// This endpoint creates a webhook endpoint subscribed to the given event types (every type
    /// when `events` is absent or empty), and answers it with its `signing_secret`. A `target`
    /// that is not an absolute `http(s)` URL is a `400` on `target` (code `invalid`); one whose
    /// address is loopback, private, link-local or otherwise not public, code `private_target`
    /// (unless the server allows private targets). Staff only.
    #[oai(path = "/api/v2/webhook/endpoint", method = "post", operation_id = "createWebhookEndpoint")]
    async fn create(
        &self,
        state: Data<&Arc<State>>,
        _staff: StaffAuth,
        body: Json<Body<EndpointInput>>,
    ) -> Result<CreatedResponse, ErrorResponses<WebhookCreateErrors>> {
        let (endpoint, signing_secret) = state.webhooks.create(body.0.0.0).await?;
        Ok(CreatedResponse::Created(Json(CreatedBody { endpoint: endpoint.into(), signing_secret })))
    }

    /// Get a Specific Webhook Endpoint
    ///
    /// This endpoint returns the webhook endpoint identified by {id}. Staff only.
    #[oai(path = "/api/v2/webhook/endpoint/:id", method = "get", operation_id = "getASpecificWebhookEndpoint")]
    async fn get(
        &self,
        state: Data<&Arc<State>>,
        _staff: StaffAuth,
        id: Path<EndpointId>,
    ) -> Result<EndpointResponse, ErrorResponses<WebhookEndpointErrors>> {
        Ok(EndpointResponse::Ok(Json(state.webhooks.get(id.0.0).await?.into())))
    }

    /// Update a Specific Webhook Endpoint
    ///
    /// This endpoint replaces the webhook endpoint identified by {id}: `target` is required;
    /// the other fields take their defaults when absent (`description` empty, `is_active` and
    /// `ssl_cert_verification` true, every event type). Staff only.
    #[oai(path = "/api/v2/webhook/endpoint/:id", method = "put", operation_id = "updateASpecificWebhookEndpoint")]
    async fn put(
        &self,
        state: Data<&Arc<State>>,
        _staff: StaffAuth,
        id: Path<EndpointId>,
        body: Json<Body<EndpointInput>>,
    ) -> Result<EndpointResponse, ErrorResponses<WebhookUpdateErrors>> {
        Ok(EndpointResponse::Ok(Json(state.webhooks.update(id.0.0, body.0.0.0, true).await?.into())))
    }

    /// Update a Single Field of a Specific Webhook Endpoint
    ///
    /// This endpoint changes the fields of the webhook endpoint identified by {id} that the
    /// body names; the others keep their value (`events` empty: every event type). Staff only.
    #[oai(path = "/api/v2/webhook/endpoint/:id", method = "patch", operation_id = "updateASingleWebhookEndpointField")]
    async fn patch(
        &self,
        state: Data<&Arc<State>>,
        _staff: StaffAuth,
        id: Path<EndpointId>,
        body: Json<Body<EndpointInput>>,
    ) -> Result<EndpointResponse, ErrorResponses<WebhookUpdateErrors>> {
        Ok(EndpointResponse::Ok(Json(state.webhooks.update(id.0.0, body.0.0.0, false).await?.into())))
    }

    /// Delete a Webhook Endpoint
    ///
    /// This endpoint removes the webhook endpoint identified by {id}, with its pending
    /// deliveries and its attempts' log. Staff only.
    #[oai(path = "/api/v2/webhook/endpoint/:id", method = "delete", operation_id = "deleteWebhookEndpoint")]
    async fn delete(
        &self,
        state: Data<&Arc<State>>,
        _staff: StaffAuth,
        id: Path<EndpointId>,
    ) -> Result<DoneResponse, ErrorResponses<WebhookEndpointErrors>> {
        state.webhooks.delete(id.0.0).await?;
        Ok(DoneResponse::NoContent)
    }

    /// Get All Webhook Endpoint Attempts
    ///
    /// This endpoint lists the delivery attempts to the webhook endpoint identified by {id},
    /// newest first: what was sent (body, signature header) and what came back (status, the
    /// first 2,000 bytes of the body, or why nothing came), and when the next retry is due.
    /// Staff only.
    #[oai(path = "/api/v2/webhook/endpoint/:id/attempt", method = "get", operation_id = "getAllWebhookEndpointAttempts")]
    async fn attempts(
        &self,
        req: &Request,
        state: Data<&Arc<State>>,
        _staff: StaffAuth,
        id: Path<EndpointId>,
        /// Number of results to return per page (default 20; more than 100 counts as 100).
        #[oai(validator(minimum(value = "1")))]
        limit: Query<Option<i64>>,
        /// The initial index from which to return the results.
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
    ) -> Result<AttemptPageResponse, ErrorResponses<WebhookAttemptErrors>> {
        let page = page_request(limit.0, offset.0);
        let found = state.webhooks.attempts(id.0.0, page.limit, page.offset).await?;
        let results = found.items.into_iter().map(Into::into).collect();
        let links = links(req, state.kit.trust_forwarded_headers, page, found.count);
        Ok(AttemptPageResponse::Ok(Json(WebhookAttemptPage::new(found.count, links, results))))
    }

    /// Reveal a Specific Webhook Endpoint Signing Secret
    ///
    /// This endpoint answers the signing secret of the webhook endpoint identified by {id}.
    /// Staff only; no body.
    #[oai(path = "/api/v2/webhook/endpoint/:id/secret/reveal", method = "post", operation_id = "revealWebhookSigningSecret")]
    async fn reveal(
        &self,
        state: Data<&Arc<State>>,
        _staff: StaffAuth,
        id: Path<EndpointId>,
    ) -> Result<SecretResponse, ErrorResponses<WebhookEndpointActionErrors>> {
        Ok(SecretResponse::Ok(Json(SecretBody { signing_secret: state.webhooks.reveal(id.0.0).await? })))
    }

    /// Expire a Specific Webhook Endpoint Signing Secret
    ///
    /// This endpoint gives the webhook endpoint identified by {id} a new signing secret; the
    /// previous one keeps signing for 24 hours, as a second `v1` signature, so a receiver can
    /// switch without losing an event. Answers the endpoint (`secret/reveal/` shows the new
    /// secret). Staff only; no body.
    #[oai(path = "/api/v2/webhook/endpoint/:id/secret/expire", method = "post", operation_id = "expireWebhookSigningSecret")]
    async fn expire(
        &self,
        state: Data<&Arc<State>>,
        _staff: StaffAuth,
        id: Path<EndpointId>,
    ) -> Result<EndpointResponse, ErrorResponses<WebhookEndpointActionErrors>> {
        Ok(EndpointResponse::Ok(Json(state.webhooks.expire(id.0.0).await?.into())))
    }

    /// Resend a Specific Webhook Endpoint Event
    ///
    /// This endpoint delivers the event `{"event": EVENT_ID}` to the webhook endpoint
    /// identified by {id} again, at once, with a new set of retries (also an event that failed,
    /// or one of a type the endpoint does not subscribe to). An unknown event is a `400` on
    /// `event`; an inactive endpoint is a `409` (`endpoint_inactive`). Staff only.
    #[oai(path = "/api/v2/webhook/endpoint/:id/event/resend", method = "post", operation_id = "resendWebhookEndpointEvent")]
    async fn resend(
        &self,
        state: Data<&Arc<State>>,
        _staff: StaffAuth,
        id: Path<EndpointId>,
        body: Json<Body<ResendOne>>,
    ) -> Result<DoneResponse, ErrorResponses<WebhookResendErrors>> {
        state.webhooks.resend(id.0.0, &[body.0.0.0]).await?;
        Ok(DoneResponse::NoContent)
    }

    /// Resend Multiple Webhook Endpoint Events
    ///
    /// This endpoint delivers the events `{"event": [EVENT_ID, ...]}` (at most 1,000) to the
    /// webhook endpoint identified by {id} again, as `event/resend/` does; when one is unknown
    /// none is resent (`400` on `event`). Staff only.
    #[oai(
        path = "/api/v2/webhook/endpoint/:id/event/resend/bulk",
        method = "post",
        operation_id = "resendMultipleWebhookEndpointEvent"
    )]
    async fn resend_bulk(
        &self,
        state: Data<&Arc<State>>,
        _staff: StaffAuth,
        id: Path<EndpointId>,
        body: Json<Body<ResendMany>>,
    ) -> Result<DoneResponse, ErrorResponses<WebhookResendErrors>> {
        state.webhooks.resend(id.0.0, &body.0.0.0).await?;
        Ok(DoneResponse::NoContent)
    }
}

