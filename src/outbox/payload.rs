//! An event as SelfCommunity's webhooks carry it: `{"event_id", "type", "created" (seconds
//! since the epoch, a float), "data": {"from_user", "to_user"}}`, each user with their
//! counters as they were right after the change.

use serde_json::{Value, json};

use super::events::EventWithUsers;
use crate::db::entities::users;

fn user(user: &users::Model, counters: [i64; 5]) -> Value {
    json!({
        "id": user.id,
        "username": user.username,
        "real_name": user.real_name,
        "avatar": user.avatar,
        "ext_id": user.ext_id,
        "date_joined": user.date_joined,
        "connections_counter": counters[0],
        "connection_requests_received_counter": counters[1],
        "connection_requests_sent_counter": counters[2],
        "followers_counter": counters[3],
        "followings_counter": counters[4],
    })
}

/// The payload of `e`, as a JSON value.
pub fn payload(e: &EventWithUsers) -> Value {
    let ev = &e.event;
    let created = ev.created.timestamp_micros() as f64 / 1e6;
    json!({
        "event_id": ev.event_id,
        "type": ev.r#type,
        "created": created,
        "data": {
            "from_user": user(&e.from_user, [ev.from_connections, ev.from_received, ev.from_sent, ev.from_followers, ev.from_followings]),
            "to_user": user(&e.to_user, [ev.to_connections, ev.to_received, ev.to_sent, ev.to_followers, ev.to_followings]),
        },
    })
}

/// The payload as the body of a delivery: compact JSON.
pub fn body(e: &EventWithUsers) -> String {
    payload(e).to_string()
}
