//! `GET /api/v2/stream/`: the caller's events as Server-Sent Events, resumable from the outbox.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use poem::web::Data;
use poem_openapi::param::Header;
use poem_openapi::payload::EventStream;
use poem_openapi::{ApiResponse, OpenApi};
use futures_util::stream::BoxStream;
use tokio::sync::broadcast::error::RecvError;

use super::error::{ApiError, ErrorResponses, TOO_MANY_LIVE};
use super::users::OtherTags;
use super::webhooks::EventPayloadBody;
use super::{AppState, BearerAuth, StreamErrors};
use crate::live::{LiveEvent, Ticket};

/// How often an idle stream gets a comment, so that proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The most missed events one resume reads from the outbox (a client further behind resumes
/// again from the last one it got).
const RESUME_LIMIT: u64 = 1000;

pub struct StreamApi;

#[derive(ApiResponse)]
pub enum StreamResponse {
    /// The stream: for each of the caller's events, `event:` its type, `id:` its `event_id`,
    /// `data:` its webhook payload on one line; a comment every 15 s while idle.
    #[oai(status = 200)]
    Ok(EventStream<BoxStream<'static, EventPayloadBody>>),
}

struct Cursor {
    backlog: VecDeque<EventPayloadBody>,
    events: tokio::sync::broadcast::Receiver<Arc<LiveEvent>>,
    closing: tokio::sync::watch::Receiver<bool>,
    user: i64,
    last_sent: i64,
    _ticket: Ticket,
}

#[OpenApi(tag = "OtherTags::Users")]
impl StreamApi {
    /// Stream the Caller's Events
    ///
    /// This endpoint streams the caller's connection events (those in which they are
    /// `from_user` or `to_user`) as Server-Sent Events (`text/event-stream`): `event:` the event
    /// type, `id:` its `event_id`, `data:` its webhook payload (one line of JSON). A client that
    /// reconnects with `Last-Event-ID` first gets, from the outbox, the events after that one it
    /// missed, then live ones: nothing is lost across a dropped connection (browsers' `EventSource`
    /// sends the header by itself). Live events reach streams on every server instance within
    /// a second. A stream that falls behind is closed (reconnect with `Last-Event-ID`); at most
    /// 5 sockets and streams per user per instance (`429 too_many_streams` past it). Requires
    /// authentication, not friendship mode.
    #[oai(path = "/api/v2/stream", method = "get", operation_id = "getEventStream")]
    async fn stream(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// The `event_id` of the last event received: the stream starts after it.
        #[oai(name = "Last-Event-ID", validator(minimum(value = "0")))]
        last_event_id: Header<Option<i64>>,
    ) -> Result<StreamResponse, ErrorResponses<StreamErrors>> {
        let user = state.connections.me(auth.0).await?.id;
        let Some(ticket) = state.live.admit(user) else {
            return Err(ApiError::new(TOO_MANY_LIVE).with_header(poem::http::header::RETRY_AFTER, "5").into());
        };
        // Listen first, then read what was missed: an event committed in between is in one or
        // the other (or both: sent once, by `event_id`).
        let events = state.live.subscribe();
        let closing = state.live.closing();
        let (backlog, last_sent) = match last_event_id.0 {
            Some(after) => {
                let missed = state.connections.missed_events(user, after, RESUME_LIMIT).await?;
                (missed.iter().map(EventPayloadBody::new).collect(), after)
            }
            None => (VecDeque::new(), 0),
        };
        let cursor = Cursor { backlog, events, closing, user, last_sent, _ticket: ticket };
        let stream = futures_util::stream::unfold(cursor, |mut c| async move {
            if let Some(item) = c.backlog.pop_front() {
                c.last_sent = c.last_sent.max(item.event_id);
                return Some((item, c));
            }
            loop {
                tokio::select! {
                    event = c.events.recv() => match event {
                        Ok(event) if event.concerns(c.user) && event.event_id() > c.last_sent => {
                            c.last_sent = event.event_id();
                            return Some((EventPayloadBody::new(&event.event), c));
                        }
                        Ok(_) => continue,
                        // Fell behind (or the process stops): end; the client resumes.
                        Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return None,
                    },
                    _ = c.closing.changed() => return None,
                }
            }
        });
        let stream: BoxStream<'static, EventPayloadBody> = Box::pin(stream);
        Ok(StreamResponse::Ok(
            EventStream::new(stream)
                .keep_alive(KEEP_ALIVE)
                .to_event(|item| {
                    use poem_openapi::types::ToJSON;
                    let data = item.to_json_string();
                    poem::web::sse::Event::message(data).event_type(item.r#type.clone()).id(item.event_id.to_string())
                }),
        ))
    }
}
