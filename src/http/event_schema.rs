//! A connection event's schema, as webhooks POST it, the stream sends it and the notification
//! feed's examples show its users: shared by the features that carry events.

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use poem_openapi::types::Example;

use super::types::Nullable;
use crate::db::entities::users;
use crate::outbox::events::EventWithUsers;

/// A user as an event shows them: their counters are as they were right after the change.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
#[oai(rename = "EventUser", example)]
pub struct EventUserBody {
    pub id: i64,
    pub username: String,
    pub real_name: String,
    pub avatar: Nullable<String>,
    pub ext_id: Nullable<i64>,
    pub date_joined: DateTime<Utc>,
    pub connections_counter: i64,
    pub connection_requests_received_counter: i64,
    pub connection_requests_sent_counter: i64,
    pub followers_counter: i64,
    pub followings_counter: i64,
}

impl EventUserBody {
    /// The user with their counters as they are now.
    pub fn from_user(user: &users::Model) -> Self {
        let counters = [
            user.connections_counter,
            user.connection_requests_received_counter,
            user.connection_requests_sent_counter,
            user.followers_counter,
            user.followings_counter,
        ];
        EventUserBody::new(user, counters)
    }

    fn new(user: &users::Model, counters: [i64; 5]) -> Self {
        EventUserBody {
            id: user.id,
            username: user.username.clone(),
            real_name: user.real_name.clone(),
            avatar: Nullable(user.avatar.clone()),
            ext_id: Nullable(user.ext_id),
            date_joined: user.date_joined,
            connections_counter: counters[0],
            connection_requests_received_counter: counters[1],
            connection_requests_sent_counter: counters[2],
            followers_counter: counters[3],
            followings_counter: counters[4],
        }
    }
}

impl Example for EventUserBody {
    fn example() -> Self {
        EventUserBody {
            id: 1,
            username: "alice".into(),
            real_name: "Alice Liddell".into(),
            avatar: Nullable(None),
            ext_id: Nullable(None),
            date_joined: DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default(),
            connections_counter: 3,
            connection_requests_received_counter: 0,
            connection_requests_sent_counter: 1,
            followers_counter: 0,
            followings_counter: 0,
        }
    }
}

/// The two users of an event.
#[derive(Object, Clone, Debug, PartialEq)]
#[oai(rename = "EventUsers", example)]
pub struct EventUsersBody {
    pub from_user: EventUserBody,
    pub to_user: EventUserBody,
}

impl Example for EventUsersBody {
    fn example() -> Self {
        EventUsersBody {
            from_user: EventUserBody::example(),
            to_user: EventUserBody { id: 2, username: "bob".into(), real_name: "Bob Marley".into(), ..EventUserBody::example() },
        }
    }
}

/// A connection event, as webhooks POST it and the stream sends it (SelfCommunity's webhook
/// payload): `event_id` increases with commit order; `created` is in seconds since the epoch.
#[derive(Object, Clone, Debug, PartialEq)]
#[oai(rename = "ConnectionEvent", example)]
pub struct EventPayloadBody {
    pub event_id: i64,
    /// One of the event types: the six changes of a connection, and follow mode's
    /// `connection.follow` and `connection.unfollow`.
    #[oai(rename = "type")]
    pub r#type: String,
    pub created: f64,
    pub data: EventUsersBody,
}

impl EventPayloadBody {
    pub fn new(e: &EventWithUsers) -> Self {
        let ev = &e.event;
        EventPayloadBody {
            event_id: ev.event_id.unwrap_or_default(),
            r#type: ev.r#type.clone(),
            created: ev.created.timestamp_micros() as f64 / 1e6,
            data: EventUsersBody {
                from_user: EventUserBody::new(&e.from_user, [ev.from_connections, ev.from_received, ev.from_sent, ev.from_followers, ev.from_followings]),
                to_user: EventUserBody::new(&e.to_user, [ev.to_connections, ev.to_received, ev.to_sent, ev.to_followers, ev.to_followings]),
            },
        }
    }
}

impl Example for EventPayloadBody {
    fn example() -> Self {
        EventPayloadBody {
            event_id: 42,
            r#type: "connection_request.created".into(),
            created: 1_790_000_000.25,
            data: EventUsersBody::example(),
        }
    }
}
