//! The OpenAPI document generated from the code, finished in one place: the trailing slashes
//! SelfCommunity's paths have, and the examples poem-openapi has no attribute for.
//! `openapi.yaml` must equal this (the drift test); `connections-api openapi` prints it.

use poem_openapi::types::ToJSON;
use poem_openapi::{LicenseObject, OpenApiService, ServerObject};
use serde_json::{Map, Value, json};

use poem_openapi::types::Example;

use crate::features::connections::api::ConnectionsApi;
use crate::features::connections::lists_api::ListsApi;
use crate::features::follows::api::FollowsApi;
use crate::features::suggestions::api::SuggestionsApi;
use crate::features::hidden::api::HiddenUsersApi;
use crate::features::live::stream::StreamApi;
use crate::features::notifications::api::NotificationsApi;
use crate::features::users::api::UsersApi;
use crate::features::users::settings_api::SettingsApi;
use crate::features::webhooks::api::WebhooksApi;
use crate::features::webhooks::endpoints::event_types;
use crate::http::error;
use crate::http::event_schema::EventPayloadBody;
use crate::features::users::schemas::MeBody;

pub const TITLE: &str = "Connections API";
pub const VERSION: &str = "1.0.0";
const DESCRIPTION: &str = "A SelfCommunity-compatible connections API: friendships (by request) in \
friendship mode, one-way follows in follow mode (SelfCommunity's default, and a fresh database's). \
The two preferences `configurations.follow_enabled` and `configurations.connection_enabled` decide \
the mode; each mode's operations answer `403` in the other.\n\n\
Every error answer, whatever its status, has the body `{\"errors\": [...]}`: each error has a \
stable snake_case `code` and a `message` for people, or is about one `field` with its own \
`messages`. Paths end with a slash; the same path without it is served the same way.\n\n\
**Live updates.** Besides these operations the server serves the WebSocket SelfCommunity's React \
UI keeps open, `/ws/notify?subscribe-user` (OpenAPI cannot describe a socket). The access token is \
its subprotocol, `__<token>`, verified as a Bearer token is: a missing or bad one is refused with \
`401` before the upgrade, so the socket never opens; the accepted subprotocol is echoed. The \
heartbeat message `--1a61c1de89b75ddfbb684b8d224ee3ae--` is echoed as it came. For each event that \
notifies the user (the other user acted on their relation, or followed or unfollowed them) the \
socket gets one message \
`{\"type\": \"interaction\", \"data\": {\"id\": EVENT_ID, \"activity_type\": N, \
\"feed_serialization_id\": SID, \"connection\": {\"event_id\", \"from_user\", \"to_user\"}, KEY: User, \
\"notification_obj\": {\"is_new\": true, \"sid\": SID, \"type\": TYPE, \"active_at\": TIME, KEY: User}}}`, \
the user being the one who acted, as in the webhook payload: `activity_type` 55 with `request_user` \
(type `connection_request`, a request received), 56 `accept_user` (`connection_accept`, a request \
accepted), 57 `reject_user`, 58 `cancel_reject_user`, 59 `remove_user`, 60 `cancel_request_user`; \
in follow mode 97 `follower` (`user_follow`, a new follower) and 98 `unfollower` (`user_unfollow`). \
A repeat pushes nothing; nobody is told of their own action. Events reach sockets and streams on \
every instance within a second. A socket that falls behind is closed (code 1013); at most 5 sockets \
and streams per user (`LIVE_MAX_PER_USER`) and 10,000 in all (`LIVE_MAX_TOTAL`) per instance, \
`429 too_many_streams` past them; shutdown closes them (code 1001). A socket ends when its right \
to exist ends: at the token's `exp` and when its user is deleted (code 1008, within 10 s), and when \
a ping is still unanswered at the next (sent every 25 s while idle). A client message over 4,096 \
bytes closes it (code 1009). Sockets and streams are counted by their own caps, never in \
`MAX_CONNECTIONS`. SelfCommunity's client builds \
the socket's URL from the portal's host name without a port: serve `/ws/` from the portal's host \
(a reverse proxy route to this server). `GET /api/v2/stream/` carries the same events as \
Server-Sent Events.";

/// Every operation of the API, in one place.
pub type Api = (ConnectionsApi, ListsApi, SuggestionsApi, FollowsApi, UsersApi, HiddenUsersApi, SettingsApi, WebhooksApi, StreamApi, NotificationsApi);

pub fn openapi_service() -> OpenApiService<Api, ()> {
    OpenApiService::new((ConnectionsApi, ListsApi, SuggestionsApi, FollowsApi, UsersApi, HiddenUsersApi, SettingsApi, WebhooksApi, StreamApi, NotificationsApi), TITLE, VERSION)
        .description(DESCRIPTION)
        .license(LicenseObject::new("MIT").url("https://opensource.org/licenses/MIT"))
        .server(ServerObject::new("/").description("The server that serves this document"))
}

/// The finished document, as JSON.
pub fn generate() -> Result<Value, serde_json::Error> {
    let mut spec: Value = serde_json::from_str(&openapi_service().spec())?;
    add_trailing_slashes(&mut spec);
    add_response_examples(&mut spec);
    declare_open_operations(&mut spec);
    mark_community_modes(&mut spec);
    mark_staff_only(&mut spec);
    plain_json_request_bodies(&mut spec);
    parameter_descriptions(&mut spec);
    integral_bounds(&mut spec);
    describe_deliveries(&mut spec);
    Ok(spec)
}

/// The finished document, as YAML (what `openapi.yaml` holds).
pub fn generate_yaml() -> Result<String, String> {
    let spec = generate().map_err(|e| e.to_string())?;
    serde_yaml::to_string(&spec).map_err(|e| e.to_string())
}

/// poem-openapi drops the trailing slash of every path; SelfCommunity's paths all have one.
/// (The router side of the same fix is `server::trim_trailing_slash`.)
fn add_trailing_slashes(spec: &mut Value) {
    if let Some(Value::Object(paths)) = spec.get_mut("paths") {
        let fixed: Map<String, Value> = std::mem::take(paths)
            .into_iter()
            .map(|(path, item)| if path.ends_with('/') { (path, item) } else { (format!("{path}/"), item) })
            .collect();
        *paths = fixed;
    }
}

/// Runs `f` on every operation object of the document.
fn for_each_operation(spec: &mut Value, mut f: impl FnMut(&mut Map<String, Value>)) {
    let Some(Value::Object(paths)) = spec.get_mut("paths") else { return };
    for item in paths.values_mut().filter_map(Value::as_object_mut) {
        for operation in item.values_mut().filter_map(Value::as_object_mut) {
            f(operation);
        }
    }
}

/// Every response gets examples: an error response those of its error set (which its
/// handler's `ErrorResponses<S>` put on an inline schema), a success response the example of
/// its schema.
fn add_response_examples(spec: &mut Value) {
    let schemas = spec.pointer("/components/schemas").cloned().unwrap_or(Value::Null);
    for_each_operation(spec, |operation| {
        let operation_id = operation.get("operationId").and_then(Value::as_str).map(str::to_owned);
        let Some(Value::Object(responses)) = operation.get_mut("responses") else { return };
        for (status, response) in responses.iter_mut() {
            let Some(media) = response.pointer_mut("/content/application~1json") else { continue };
            let status: u16 = status.parse().unwrap_or(0);
            if status >= 400 {
                let examples = media.pointer_mut("/schema/example").map(Value::take).unwrap_or_else(|| json!({}));
                media["examples"] = examples;
                media["schema"] = json!({"$ref": "#/components/schemas/ErrorBody"});
            } else if let Some(example) = operation_example(operation_id.as_deref()) {
                media["example"] = example;
            } else if let Some(example) = media
                .pointer("/schema/$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .and_then(|name| schemas.get(name))
                .and_then(|schema| schema.get("example"))
            {
                media["example"] = example.clone();
            }
        }
    });
}

/// A success example that says more than its schema's: what the operation documents.
fn operation_example(operation_id: Option<&str>) -> Option<Value> {
    match operation_id? {
        // The caller as they see themselves: no status with oneself.
        "getMe" => MeBody::example().to_json(),
        // A bare array has no schema of its own to carry one.
        "getHiddenUsersId" => Some(json!([7, 3])),
        "getAllWebhookEvents" => Some(json!(event_types())),
        _ => None,
    }
}

/// The (status, code) pairs an operation of the finished document documents, from its error
/// responses' examples.
pub fn documented_codes(operation: &Map<String, Value>) -> Vec<(u16, String)> {
    let mut codes = Vec::new();
    for (status, response) in operation.get("responses").and_then(Value::as_object).into_iter().flatten() {
        let examples = response.pointer("/content/application~1json/examples").and_then(Value::as_object);
        for example in examples.into_iter().flat_map(|e| e.values()) {
            let first = &example["value"]["errors"][0];
            if let Some(code) = first["code"].as_str().or(first["messages"][0]["code"].as_str()) {
                codes.push((status.parse().unwrap_or(0), code.to_owned()));
            }
        }
    }
    codes
}

/// An operation without `security` would inherit a global requirement if one were added:
/// the ones open to anyone say so (`security: []`).
fn declare_open_operations(spec: &mut Value) {
    for_each_operation(spec, |operation| {
        operation.entry("security").or_insert_with(|| json!([]));
    });
}

/// Operations that answer in either mode, and `friendship_mode_disabled` only in neither (the
/// contract's suggestions): their error sets alone would say "friendship mode".
const EITHER_MODE_OPERATIONS: [&str; 1] = ["getUserSuggestion"];

/// The vendor extension `x-community-modes` lists the community modes in which an operation
/// answers, on the operations that need one (the docs' info box comes from it). It is derived,
/// in this one place, from the error sets: an operation needs friendship mode exactly when it
/// can answer `friendship_mode_disabled`, follow mode when it can answer `follow_mode_disabled`.
fn mark_community_modes(spec: &mut Value) {
    for_each_operation(spec, |operation| {
        let codes = documented_codes(operation);
        let answers = |code: &str| codes.iter().any(|(_, c)| c == code);
        let either = operation.get("operationId").and_then(Value::as_str).is_some_and(|id| EITHER_MODE_OPERATIONS.contains(&id));
        let mut modes = Vec::new();
        if answers(error::FRIENDSHIP_MODE_DISABLED.code) {
            modes.push("friendship");
        }
        if answers(error::FOLLOW_MODE_DISABLED.code) || either {
            modes.push("follow");
        }
        if !modes.is_empty() {
            operation.insert("x-community-modes".to_owned(), json!(modes));
        }
    });
}

/// `x-staff-only: true` on the operations only staff may call (the webhooks'): the docs say so
/// as SelfCommunity's do ("This operation requires admin role").
fn mark_staff_only(spec: &mut Value) {
    for_each_operation(spec, |operation| {
        let tags = operation.get("tags").and_then(Value::as_array).cloned().unwrap_or_default();
        if tags.iter().any(|t| t == "Webhooks") {
            operation.insert("x-staff-only".to_owned(), Value::Bool(true));
        }
    });
}

/// What poem-openapi has no attribute for: the webhook delivery, as OpenAPI 3.0 describes one (a
/// callback of `createWebhookEndpoint`, POSTing a `ConnectionEvent` to the endpoint's `target`),
/// and, on the stream's per-event schema, that `data` holds a `ConnectionEvent` as JSON (OpenAPI
/// 3.0 has no `contentSchema`: an extension says it, for readers and the docs pages).
fn describe_deliveries(spec: &mut Value) {
    // poem-openapi prunes the schemas no operation names; these two name the event's.
    for (name, schema) in event_schemas() {
        if let Some(schemas) = spec.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
            schemas.entry(name).or_insert(schema);
        }
    }
    let event = serde_json::json!({"$ref": "#/components/schemas/ConnectionEvent"});
    if let Some(data) = spec.pointer_mut("/paths/~1api~1v2~1stream~1/get/responses/200/content/text~1event-stream/schema/properties/data")
        && let Some(data) = data.as_object_mut()
    {
        data.insert("x-contentMediaType".into(), Value::from("application/json"));
        data.insert("x-contentSchema".into(), event.clone());
    }
    let delivery = serde_json::json!({
        "{$request.body#/target}": {
            "post": {
                "summary": "Connection Event Delivery",
                "description": "The server POSTs each event the endpoint subscribes to, signed in the \
                    `SelfCommunity-Signature` header (`t=<unix seconds>,v1=<hex>,v0=<hex>`, both \
                    HMAC-SHA256 of `<t>.<body>` with the endpoint's signing secret). Only a `2xx` \
                    within 10 s is a delivery; anything else is retried after 5, 25, 125, 625 and \
                    3125 s. At least once: deduplicate by `event_id`.",
                "operationId": "deliverConnectionEvent",
                "security": [],
                "parameters": [{
                    "name": "SelfCommunity-Signature",
                    "in": "header",
                    "required": true,
                    "description": "`t=<unix seconds>,v1=<hex>,v0=<hex>` (a second `v1` while a rotated secret overlaps).",
                    "schema": {"type": "string"}
                }],
                "requestBody": {"required": true, "content": {"application/json": {"schema": event}}},
                "responses": {
                    "200": {"description": "Any `2xx` answer: delivered."},
                    "400": {"description": "Any other answer (or none within 10 s): retried."}
                }
            }
        }
    });
    if let Some(create) = spec.pointer_mut("/paths/~1api~1v2~1webhook~1endpoint~1/post").and_then(Value::as_object_mut) {
        create.insert("callbacks".into(), serde_json::json!({"connectionEvent": delivery}));
    }
}

/// `ConnectionEvent` and the schemas it names, as poem-openapi writes them: from a document of
/// one operation that answers one (never served).
fn event_schemas() -> Map<String, Value> {
    struct EventSchemas;
    #[poem_openapi::OpenApi]
    impl EventSchemas {
        #[oai(path = "/event", method = "get")]
        async fn event(&self) -> poem_openapi::payload::Json<EventPayloadBody> {
            poem_openapi::payload::Json(poem_openapi::types::Example::example())
        }
    }
    let document = OpenApiService::new(EventSchemas, TITLE, VERSION).spec();
    serde_json::from_str::<Value>(&document)
        .ok()
        .and_then(|mut d| d.pointer_mut("/components/schemas").map(Value::take))
        .and_then(|s| s.as_object().cloned())
        .unwrap_or_default()
}

/// poem-openapi names request bodies `application/json; charset=utf-8`; the server takes any
/// `application/json` (and `+json`), and clients send the plain type.
fn plain_json_request_bodies(spec: &mut Value) {
    for_each_operation(spec, |operation| {
        let Some(Value::Object(content)) = operation.get_mut("requestBody").and_then(|b| b.get_mut("content")) else {
            return;
        };
        if let Some(media) = content.remove("application/json; charset=utf-8") {
            content.insert("application/json".to_owned(), media);
        }
    });
}

/// A parameter without a description of its own takes its schema's (a type such as
/// `UserId` declares its description once): Swagger UI and the docs show the parameter's.
fn parameter_descriptions(spec: &mut Value) {
    for_each_operation(spec, |operation| {
        let Some(Value::Array(parameters)) = operation.get_mut("parameters") else { return };
        for parameter in parameters.iter_mut().filter_map(Value::as_object_mut) {
            if parameter.contains_key("description") {
                continue;
            }
            let described = parameter.get_mut("schema").and_then(Value::as_object_mut).and_then(|s| s.remove("description"));
            if let Some(description) = described {
                parameter.insert("description".to_owned(), description);
            }
        }
    });
}

/// poem-openapi writes `minimum: 1.0`; an integer parameter's bounds read better as integers.
fn integral_bounds(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if matches!(key.as_str(), "minimum" | "maximum") {
                    if let Some(f) = v.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15) {
                        *v = Value::from(f as i64);
                        continue;
                    }
                }
                integral_bounds(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_bounds),
        _ => {}
    }
}
