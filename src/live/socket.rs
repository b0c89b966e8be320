//! `/ws/notify?subscribe-user`: the WebSocket SelfCommunity's React UI keeps open
//! (`react-core`'s `useSCWebSocket`). The access token comes as the subprotocol `__<token>`
//! and is verified as a Bearer token is (a bad one is refused with `401` before the upgrade:
//! the socket never opens, nothing is pushed); the accepted subprotocol is echoed, as browsers
//! require. The heartbeat message is echoed. For each event that notifies the user (the other
//! user acted on their relation) the socket gets one `interaction` message
//! ([`super::LiveEvent::interaction_for`]).

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use poem::web::websocket::{CloseCode, Message, WebSocket};
use poem::{IntoResponse, Request, Response, handler};
use tokio::sync::broadcast::error::RecvError;

use crate::api::AppState;
use crate::api::error::{ApiError, NOT_AUTHENTICATED, TOO_MANY_LIVE};

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

#[handler]
pub async fn notify(req: &Request, ws: WebSocket) -> poem::Result<Response> {
    let state = req.data::<Arc<AppState>>().ok_or(poem::error::NotFoundError)?.clone();
    let Some(protocol) = offered_token(req) else {
        return Err(ApiError::new(NOT_AUTHENTICATED)
            .with_message("The access token is the subprotocol: __<token>.")
            .with_header(poem::http::header::WWW_AUTHENTICATE, "Bearer")
            .into());
    };
    let user = state.user_of_token(&protocol[SUBPROTOCOL_PREFIX.len()..]).await?;
    let Some(ticket) = state.live.admit(user.id) else {
        return Err(ApiError::new(TOO_MANY_LIVE).with_header(poem::http::header::RETRY_AFTER, "5").into());
    };
    let mut events = state.live.subscribe();
    let mut closing = state.live.closing();
    let user_id = user.id;
    Ok(ws
        .protocols([protocol])
        .on_upgrade(move |socket| async move {
            let _ticket = ticket;
            let (mut sink, mut stream) = socket.split();
            loop {
                tokio::select! {
                    incoming = stream.next() => match incoming {
                        Some(Ok(Message::Text(text))) if text == HEARTBEAT => {
                            if send(&mut sink, Message::Text(text)).await.is_err() { break; }
                        }
                        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                        Some(Ok(_)) => {}
                    },
                    event = events.recv() => match event {
                        Ok(event) => {
                            if let Some(message) = event.interaction_for(user_id) {
                                if send(&mut sink, Message::Text(message.to_string())).await.is_err() { break; }
                            }
                        }
                        // Fell behind: dropped rather than buffered; the client reconnects.
                        Err(RecvError::Lagged(_)) => {
                            let _ = send(&mut sink, Message::Close(Some((CloseCode::Again, "too slow".into())))).await;
                            break;
                        }
                        Err(RecvError::Closed) => break,
                    },
                    _ = closing.changed() => {
                        let _ = send(&mut sink, Message::Close(Some((CloseCode::Away, "server shutting down".into())))).await;
                        break;
                    }
                }
            }
        })
        .into_response())
}

async fn send<S: SinkExt<Message> + Unpin>(sink: &mut S, message: Message) -> Result<(), ()> {
    match tokio::time::timeout(WRITE_TIMEOUT, sink.send(message)).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}
