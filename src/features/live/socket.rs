//! `/ws/notify?subscribe-user`: the WebSocket SelfCommunity's React UI keeps open
//! (`react-core`'s `useSCWebSocket`). The access token comes as the subprotocol `__<token>`
//! and is verified as a Bearer token is (a bad one is refused with `401` before the upgrade:
//! the socket never opens, nothing is pushed); the accepted subprotocol is echoed, as browsers
//! require. The heartbeat message is echoed. For each event that notifies the user (the other
//! user acted on their relation) the socket gets one `interaction` message
//! ([`super::hub::LiveEvent::interaction_for`]).

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use poem::web::websocket::{CloseCode, Message, WebSocket, WebSocketConfig};
use poem::{IntoResponse, Request, Response, handler};
use tokio::sync::broadcast::error::RecvError;

use super::hub::State;
use crate::http::error::{ApiError, NOT_AUTHENTICATED, TOO_MANY_LIVE};

/// The subprotocol's prefix: the token follows it.
pub const SUBPROTOCOL_PREFIX: &str = "__";
/// `react-core`'s heartbeat message, echoed as it came.
pub const HEARTBEAT: &str = "--1a61c1de89b75ddfbb684b8d224ee3ae--";
/// A push that cannot be written within this long drops the socket (a reader that stopped).
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// The token's subprotocol among those the client offered.
fn offered_token(req: &Request) -> Option<String> {
    req.header("sec-websocket-protocol")?
        .split(',')
        .map(str::trim)
        .find(|p| p.starts_with(SUBPROTOCOL_PREFIX) && p.len() > SUBPROTOCOL_PREFIX.len())
        .map(str::to_owned)
}

/// The largest message a client may send (after its frames are put together): it sends only
/// the heartbeat. A larger one closes the socket with `1009`.
pub const MAX_CLIENT_MESSAGE: usize = 4096;

/// The socket's protocol settings: small client messages and small buffers (a socket holds
/// its read buffer for hours; tungstenite's default is 128 KiB).
fn socket_config() -> WebSocketConfig {
    let mut config = WebSocketConfig::default();
    config.read_buffer_size = 4096;
    config.write_buffer_size = 0;
    config.max_message_size = Some(MAX_CLIENT_MESSAGE);
    config.max_frame_size = Some(MAX_CLIENT_MESSAGE);
    config
}

/// Why a socket ends, with the close frame it gets (none: the peer is gone).
fn close_frame(code: CloseCode, reason: &str) -> Message {
    Message::Close(Some((code, reason.to_owned())))
}

#[handler]
pub async fn notify(req: &Request, ws: WebSocket) -> poem::Result<Response> {
    let state = req.data::<Arc<State>>().ok_or(poem::error::NotFoundError)?.clone();
    let Some(protocol) = offered_token(req) else {
        return Err(ApiError::new(NOT_AUTHENTICATED)
            .with_message("The access token is the subprotocol: __<token>.")
            .with_header(poem::http::header::WWW_AUTHENTICATE, "Bearer")
            .into());
    };
    let (user, expiry) = state.kit.user_and_expiry_of_token(&protocol[SUBPROTOCOL_PREFIX.len()..]).await?;
    let Some(mut ticket) = state.live.admit(user.id) else {
        return Err(ApiError::new(TOO_MANY_LIVE).with_header(poem::http::header::RETRY_AFTER, "5").into());
    };
    let mut events = state.live.subscribe();
    let mut closing = state.live.closing();
    let ping_interval = state.live.settings.ping_interval;
    let user_id = user.id;
    Ok(ws
        .protocols([protocol])
        .config(socket_config())
        .on_upgrade(move |socket| async move {
            let (mut sink, mut stream) = socket.split();
            let expired = expiry.reached();
            tokio::pin!(expired);
            let mut pings = tokio::time::interval_at(tokio::time::Instant::now() + ping_interval, ping_interval);
            // A ping sent and not answered yet: at the next tick the socket is closed.
            let mut unanswered = false;
            let last = loop {
                tokio::select! {
                    incoming = stream.next() => match incoming {
                        Some(Ok(Message::Text(text))) if text == HEARTBEAT => {
                            if send(&mut sink, Message::Text(text)).await.is_err() { break None; }
                        }
                        Some(Ok(Message::Pong(_))) => unanswered = false,
                        Some(Ok(Message::Close(_))) | None => break None,
                        // tungstenite refuses a message or frame past the limit ("Space limit exceeded").
                        Some(Err(e)) if e.to_string().contains("Space limit exceeded") => {
                            break Some(close_frame(CloseCode::Size, "a client message is at most 4096 bytes"));
                        }
                        Some(Err(_)) => break None,
                        Some(Ok(_)) => {}
                    },
                    event = events.recv() => match event {
                        Ok(event) => {
                            if let Some(message) = event.interaction_for(user_id) {
                                if send(&mut sink, Message::Text(message.to_string())).await.is_err() { break None; }
                            }
                        }
                        // Fell behind: dropped rather than buffered; the client reconnects.
                        Err(RecvError::Lagged(_)) => break Some(close_frame(CloseCode::Again, "too slow")),
                        Err(RecvError::Closed) => break None,
                    },
                    _ = pings.tick() => {
                        if unanswered {
                            tracing::debug!(user = user_id, "socket closed: a ping went unanswered");
                            break None;
                        }
                        unanswered = true;
                        if send(&mut sink, Message::Ping(Vec::new())).await.is_err() { break None; }
                    }
                    _ = &mut expired => break Some(close_frame(CloseCode::Policy, "token expired")),
                    _ = ticket.revoked() => break Some(close_frame(CloseCode::Policy, "user deleted")),
                    _ = closing.changed() => break Some(close_frame(CloseCode::Away, "server shutting down")),
                }
            };
            if let Some(close) = last {
                let _ = send(&mut sink, close).await;
            }
            drop(ticket);
        })
        .into_response())
}

async fn send<S: SinkExt<Message> + Unpin>(sink: &mut S, message: Message) -> Result<(), ()> {
    match tokio::time::timeout(WRITE_TIMEOUT, sink.send(message)).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}
