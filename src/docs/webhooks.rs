//! The webhooks' page (`docs/webhooks.md`), made from the code that sends them: the event
//! types and who is `from_user` (`crate::domain::Event`), a payload (`outbox::payload`), the
//! signature (`webhooks::signature`) and the retry schedule.

use std::fmt::Write as _;

use chrono::DateTime;

use crate::domain::Event;
use crate::db::entities::{events, users};
use crate::features::webhooks::{RETRY_SCHEDULE, signature};
use crate::outbox::events::EventWithUsers;
use crate::outbox::payload;

fn change(event: Event) -> &'static str {
    match event {
        Event::ConnectionRequestCreated => "a new pending request (`request` from nothing)",
        Event::ConnectionRequestRejected => "a request rejected (`reject`)",
        Event::ConnectionRequestRestored => "a rejection undone (`cancel_reject`)",
        Event::ConnectionRequestCancelled => "a request withdrawn (`cancel_request`)",
        Event::ConnectionCreated => "a connection made (`accept`, or a request answering a request)",
        Event::ConnectionDeleted => "a connection removed (`remove`)",
        Event::ConnectionFollow => "follow mode: a follow (`follow/` while not following)",
        Event::ConnectionUnfollow => "follow mode: an unfollow (`follow/` while following)",
    }
}

fn example_event() -> EventWithUsers {
    let at = DateTime::from_timestamp(1_790_000_000, 250_000_000).unwrap_or_default();
    let user = |id: i64, username: &str, real_name: &str| users::Model {
        id,
        username: username.into(),
        real_name: real_name.into(),
        avatar: None,
        ext_id: None,
        date_joined: at,
        deleted: false,
        connections_counter: 0,
        connection_requests_received_counter: 0,
        connection_requests_sent_counter: 0,
        role: None,
        followers_counter: 0,
        followings_counter: 0,
    };
    EventWithUsers {
        event: events::Model {
            id: 42,
            event_id: Some(42),
            r#type: Event::ConnectionRequestCreated.name().into(),
            from_user_id: 1,
            to_user_id: 2,
            created: at,
            from_connections: 3,
            from_received: 0,
            from_sent: 1,
            to_connections: 5,
            to_received: 1,
            to_sent: 0,
            from_followers: 0,
            from_followings: 0,
            to_followers: 0,
            to_followings: 0,
        },
        from_user: user(1, "alice", "Alice Liddell"),
        to_user: user(2, "bob", "Bob Marley"),
    }
}

/// The page.
pub(super) fn webhooks_page() -> String {
    let mut out = String::new();
    out.push_str("---\nsidebar_label: Webhooks\nsidebar_position: 2\ntitle: Connection events as webhooks\n---\n\n");
    out.push_str("<!-- Generated from the code that sends them (src/webhooks, src/domain) by `connections-api docs`: do not edit. -->\n\n");
    out.push_str(
        "Every change of a relation is an event, written in the same transaction as the change (a \
         transactional outbox): an acknowledged change always has its event, a failed one never does, and \
         an action that changes nothing (a repeat) has none. Each event is POSTed to every active webhook \
         endpoint subscribed to its type. Staff manage endpoints with the `/api/v2/webhook/endpoint/` \
         operations (SelfCommunity's `WebhookService`) or `connections-api webhook add|list|remove`.\n\n",
    );
    out.push_str("## Event types\n\n| type | change | `data.from_user` | `data.to_user` |\n|---|---|---|---|\n");
    for event in Event::ALL {
        let (from, to) = if event.from_is_actor() { ("the user who acted", "the other user") } else { ("the other user (who requested)", "the user who acted") };
        writeln!(out, "| `{}` | {} | {from} | {to} |", event.name(), change(event)).ok();
    }
    out.push_str(
        "\n## Payload\n\n`event_id` increases with commit order (SQLite's single writer numbers each event as it \
         commits it in order; on PostgreSQL a relay numbers events after commit, one relay at a time), so a \
         reader that has seen one number never meets a smaller one later; `created` is the change's time in seconds since the epoch; both users carry their counters \
         as they were right after the change.\n\n```json\n",
    );
    let example = example_event();
    let body = payload::body(&example);
    out.push_str(&serde_json::to_string_pretty(&payload::payload(&example)).unwrap_or_default());
    out.push_str("\n```\n\n## Signature\n\n");
    let header = signature::header("whsec-example", None, 1_790_000_000, body.as_bytes());
    writeln!(
        out,
        "Each delivery carries `{}: t=<unix seconds>,v1=<hex>,v0=<hex>`, both HMAC-SHA256 of `\"<t>.<body>\"` \
         keyed with the endpoint's signing secret (its text), as SelfCommunity's \"Build a webhook endpoint\" \
         page describes: a receiver written for either scheme verifies. For the payload above (the body is its \
         compact JSON, as the server sends it) and the secret \
         `whsec-example`:\n\n```\n{}: {header}\n```\n",
        signature::HEADER,
        signature::HEADER
    )
    .ok();
    out.push_str(
        "After `secret/expire/` the previous secret signs too, as a second `v1`, for 24 hours. Verify in \
         constant time, and refuse an old `t`:\n\n```python\nimport hashlib, hmac, time\n\ndef verify(secret: str, header: str, body: bytes, tolerance=300) -> bool:\n    \
         parts = [p.split(\"=\", 1) for p in header.split(\",\")]\n    \
         t = next(v for k, v in parts if k == \"t\")\n    \
         expected = hmac.new(secret.encode(), f\"{t}.\".encode() + body, hashlib.sha256).hexdigest()\n    \
         fresh = abs(time.time() - int(t)) <= tolerance\n    \
         return fresh and any(hmac.compare_digest(expected, v) for k, v in parts if k in (\"v1\", \"v0\"))\n```\n\n",
    );
    out.push_str("## Delivery and retries\n\n");
    let schedule: Vec<String> = RETRY_SCHEDULE.iter().map(u64::to_string).collect();
    writeln!(
        out,
        "- Only a `2xx` answer within 10 s is a delivery; a redirect, any other status, a refused connection \
         or a timeout is a failure. Redirects are not followed; at most 64 KiB of an answer is read.\n\
         - A failure is retried after {} seconds (`WEBHOOK_RETRY_SCHEDULE`); after the last, the delivery \
         counts as failed. `event/resend/` and `event/resend/bulk/` deliver an event again, with a new set \
         of retries.\n\
         - At least once, not ordered: after a crash or a timeout a receiver may get an event again, and \
         deduplicates by `event_id`. A healthy receiver that answers `2xx` at once gets each event exactly once.\n\
         - Every attempt is logged (`GET .../{{id}}/attempt/`): the body and signature sent, the status and \
         the first 2,000 bytes of the answer, or why no answer came, and when the next retry is due.\n\
         - Each server process runs a dispatcher; several processes on one PostgreSQL database share the \
         work, and never attempt the same delivery at once (a lease taken with `FOR UPDATE SKIP LOCKED`); \
         a crashed process's deliveries are taken again when their lease runs out.\n\
         - A receiver that is down costs the server its deliveries' rows and one attempt per retry, nothing \
         more: attempts run beside each other, each within its timeout.",
        schedule.join(", ")
    )
    .ok();
    out.push_str(
        "\n## Targets\n\nA `target` must be an absolute `http` or `https` URL. One whose address is loopback, \
         private, link-local, multicast or otherwise not public is refused (`400`, code `private_target`) and \
         never called: names are resolved again at each delivery and only public addresses are connected to \
         (a name that later resolves to a private address is not called). `WEBHOOK_ALLOW_PRIVATE_TARGETS=true` \
         allows private targets (on-premise receivers, tests).\n",
    );
    out
}
