//! `GET /api/v2/stream/`: the caller's events as Server-Sent Events, resumable from the outbox.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use poem::web::Data;
use poem_openapi::param::Header;
use poem_openapi::payload::EventStream;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::{ApiResponse, OpenApi};
use futures_util::stream::BoxStream;
use tokio::sync::broadcast::error::RecvError;

use crate::http::error::{ApiError, ErrorResponses, TOO_MANY_LIVE};
use crate::http::tags::OtherTags;
use crate::http::event_schema::EventPayloadBody;
use crate::http::error_sets::StreamErrors;
use crate::http::kit::BearerAuth;
use crate::domain::Event;
use super::hub::{LiveEvent, State, Ticket};
use crate::domain::error::ServiceError;
use crate::http::kit::Expiry;
use crate::http::rate_limit::ConnectionPlace;

/// How often an idle stream gets a comment, so that proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub struct StreamApi;

#[derive(ApiResponse)]
pub enum StreamResponse {
    /// The stream: for each of the caller's events, `event:` its type, `id:` its `event_id`,
    /// `data:` its webhook payload on one line; a comment every 15 s while idle.
    #[oai(status = 200)]
    Ok(ConnectionEventStream),
}

/// The stream's payload. Its schema describes one event as the SSE format carries it (what
/// OpenAPI 3.2 calls the `itemSchema`, and what contract testers validate each event against
/// in 3.0): `event`, `id` and `data`, the last a line of JSON in the `ConnectionEvent` shape.
/// (poem-openapi's own `EventStream` declares an array of payloads, which no event matches.)
pub struct ConnectionEventStream(EventStream<BoxStream<'static, EventPayloadBody>>);

impl poem_openapi::payload::Payload for ConnectionEventStream {
    const CONTENT_TYPE: &'static str = "text/event-stream";

    fn schema_ref() -> MetaSchemaRef {
        let string = |description: &'static str| MetaSchema { description: Some(description), ..MetaSchema::new("string") };
        let event = MetaSchema {
            enum_items: Event::ALL.iter().map(|e| serde_json::Value::from(e.name())).collect(),
            ..string("The event's type (`ConnectionEvent.type`).")
        };
        let id = MetaSchema { pattern: Some("^[1-9][0-9]*$".into()), ..string("Its `event_id`: what `Last-Event-ID` resumes after.") };
        let data = string("The webhook payload, on one line of JSON: a `ConnectionEvent` (see its schema).");
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            description: Some("One event of the stream, as the Server-Sent Events format carries it."),
            required: vec!["event", "id", "data"],
            properties: vec![
                ("event", MetaSchemaRef::Inline(Box::new(event))),
                ("id", MetaSchemaRef::Inline(Box::new(id))),
                ("data", MetaSchemaRef::Inline(Box::new(data))),
            ],
            ..MetaSchema::new("object")
        }))
    }

    fn register(registry: &mut Registry) {
        <EventPayloadBody as poem_openapi::types::Type>::register(registry);
    }
}

impl poem::IntoResponse for ConnectionEventStream {
    fn into_response(self) -> poem::Response {
        self.0.into_response()
    }
}

/// Where a stream is: what it read from the outbox and has not sent yet, whether it is still
/// reading the outbox (resuming, or fallen behind the live events), and the last id sent.
struct Cursor {
    state: Arc<State>,
    backlog: VecDeque<EventPayloadBody>,
    replaying: bool,
    events: tokio::sync::broadcast::Receiver<Arc<LiveEvent>>,
    closing: tokio::sync::watch::Receiver<bool>,
    /// The token's expiry: the stream ends then.
    expired: std::pin::Pin<Box<dyn Future<Output = ()> + Send>>,
    user: i64,
    last_sent: i64,
    /// Its place under the live caps; revoked when the user is deleted (the stream ends).
    ticket: Ticket,
}

impl Cursor {
    /// The next event to send, or `None` when the stream ends (shutdown, the token's expiry,
    /// the user deleted, the outbox out of reach: the client resumes with `Last-Event-ID`).
    ///
    /// The hand-over is exact: the live feed was subscribed before the first outbox read, so
    /// an event is either in the outbox when a read finds the outbox caught up, or in the feed
    /// after it; what is in both is sent once, by `event_id`. A stream that falls behind the
    /// feed's backlog reads the outbox again from its last id, so nothing is lost either way.
    async fn next(&mut self) -> Option<EventPayloadBody> {
        loop {
            if let Some(item) = self.backlog.pop_front() {
                self.last_sent = self.last_sent.max(item.event_id);
                return Some(item);
            }
            if self.replaying {
                let page = self.state.live.settings.replay_page;
                let read = async {
                    let _turn = self.state.live.replay_turn().await;
                    self.state.repo.events_of_user_after(self.user, self.last_sent, page).await
                };
                let missed = tokio::select! {
                    missed = read => missed.ok()?,
                    _ = self.closing.changed() => return None,
                    _ = &mut self.expired => return None,
                    _ = self.ticket.revoked() => return None,
                };
                self.replaying = missed.len() as u64 >= page;
                self.backlog.extend(missed.iter().map(EventPayloadBody::new));
                continue;
            }
            tokio::select! {
                event = self.events.recv() => match event {
                    Ok(event) if event.concerns(self.user) && event.event_id() > self.last_sent => {
                        self.last_sent = event.event_id();
                        return Some(EventPayloadBody::new(&event.event));
                    }
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => self.replaying = true,
                    Err(RecvError::Closed) => return None,
                },
                _ = self.closing.changed() => return None,
                _ = &mut self.expired => return None,
                _ = self.ticket.revoked() => return None,
            }
        }
    }
}

#[OpenApi(tag = "OtherTags::Users")]
impl StreamApi {
    /// Stream the Caller's Events
    ///
    /// This endpoint streams the caller's connection events (those in which they are
    /// `from_user` or `to_user`) as Server-Sent Events (`text/event-stream`): `event:` the event
    /// type, `id:` its `event_id`, `data:` its webhook payload (one line of JSON). A client that
    /// reconnects with `Last-Event-ID` first gets, from the outbox, every event after that one
    /// it missed, in `event_id` order, however many (read page by page), then live ones, with
    /// no gap and no repeat between the two: nothing is lost across a dropped connection
    /// (browsers' `EventSource` sends the header by itself). Live events reach streams on every
    /// server instance within a second; a stream that falls behind them reads on from the
    /// outbox. The stream ends at the token's `exp` and when its user is deleted (within 10 s).
    /// At most 5 sockets and streams per user per instance (`429 too_many_streams` past it).
    /// Requires authentication, not friendship mode.
    #[oai(path = "/api/v2/stream", method = "get", operation_id = "getEventStream")]
    async fn stream(
        &self,
        req: &poem::Request,
        state: Data<&Arc<State>>,
        auth: BearerAuth,
        /// The `event_id` of the last event received: the stream starts after it.
        #[oai(name = "Last-Event-ID", validator(minimum(value = "0")))]
        last_event_id: Header<Option<i64>>,
    ) -> Result<StreamResponse, ErrorResponses<StreamErrors>> {
        let user = state.kit.me(auth.0).await?.id;
        let expiry = state.kit.bearer_expiry(req).unwrap_or(Expiry(i64::MAX));
        let Some(ticket) = state.live.admit(user) else {
            return Err(ApiError::new(TOO_MANY_LIVE).with_header(poem::http::header::RETRY_AFTER, "5").into());
        };
        // Where it starts: after the client's last event, or after the outbox's end as it is
        // now (read before listening, so that nothing numbered in between is missed).
        let after = match last_event_id.0 {
            Some(after) => after,
            None => state.repo.last_event_id().await.map_err(ServiceError::from)?,
        };
        // Listen first, then read the outbox from `after` (see `Cursor::next`).
        let events = state.live.subscribe();
        let closing = state.live.closing();
        // From here the live cap counts it, not the server's connection cap.
        if let Some(place) = req.extensions().get::<ConnectionPlace>() {
            place.release();
        }
        let cursor = Cursor {
            state: state.0.clone(),
            backlog: VecDeque::new(),
            replaying: true,
            events,
            closing,
            expired: Box::pin(expiry.reached()),
            user,
            last_sent: after,
            ticket,
        };
        let stream = futures_util::stream::unfold(cursor, |mut c| async move { c.next().await.map(|item| (item, c)) });
        let stream: BoxStream<'static, EventPayloadBody> = Box::pin(stream);
        Ok(StreamResponse::Ok(ConnectionEventStream(
            EventStream::new(stream)
                .keep_alive(KEEP_ALIVE)
                .to_event(|item| {
                    use poem_openapi::types::ToJSON;
                    let data = item.to_json_string();
                    poem::web::sse::Event::message(data).event_type(item.r#type.clone()).id(item.event_id.to_string())
                }),
        )))
    }
}
