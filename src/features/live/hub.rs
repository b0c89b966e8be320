//! Live updates: each process follows the outbox (the numbered events, whichever process made
//! them) and hands every new event to its open sockets (`socket.rs`: SelfCommunity's
//! `/ws/notify`) and streams (`GET /api/v2/stream/`, in `stream.rs`).
//!
//! Why polling the outbox rather than PostgreSQL's `LISTEN/NOTIFY`: it is the same code on both
//! engines, it needs no connection held outside the pool, and a process that was briefly cut
//! off misses nothing (it reads on from the last number it saw); one indexed read every
//! [`LiveSettings::poll_interval`] per process keeps an event within a second of its commit on
//! every instance.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{Notify, broadcast, watch};

use crate::db::connection::Repo;
use crate::domain::Event;
use crate::http::kit::Kit;
use crate::outbox::events::EventWithUsers;
use crate::outbox::payload;

/// What the live operations share (poem data on every route): the hub, and the outbox's reads.
#[derive(Debug)]
pub struct State {
    pub kit: Arc<Kit>,
    pub live: Arc<LiveHub>,
    pub repo: Repo,
}

/// The caps and the pace of live updates.
#[derive(Clone, Copy, Debug)]
pub struct LiveSettings {
    /// Sockets and streams one user may hold open at once, per process.
    pub max_per_user: usize,
    /// Sockets and streams open at once, per process.
    pub max_total: usize,
    /// How often the outbox is read for new events.
    pub poll_interval: Duration,
    /// Events held in memory for the sockets and streams that have not taken them yet. A
    /// socket further behind is dropped; a stream further behind reads on from the outbox.
    pub backlog: usize,
    /// Events one read of the outbox gives a stream that resumes or fell behind.
    pub replay_page: u64,
    /// Streams reading the outbox at once, per process: resuming clients take at most this
    /// many of the database's connections from the requests and the live follower.
    pub replays_at_once: usize,
    /// An idle socket is pinged this often; one whose ping is still unanswered at the next
    /// is closed (a dead client holds none of its user's places for long).
    pub ping_interval: Duration,
    /// How often the users holding sockets and streams are checked: a deleted user's end.
    pub revalidate_interval: Duration,
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings {
            max_per_user: 5,
            max_total: 10_000,
            poll_interval: Duration::from_millis(200),
            backlog: 1024,
            replay_page: 500,
            replays_at_once: 2,
            ping_interval: Duration::from_secs(25),
            revalidate_interval: Duration::from_secs(5),
        }
    }
}

/// A numbered event as live updates carry it.
#[derive(Debug)]
pub struct LiveEvent {
    pub event: EventWithUsers,
    /// The webhook payload (the stream's `data`).
    pub payload: Value,
}

impl LiveEvent {
    pub fn new(event: EventWithUsers) -> Self {
        let payload = payload::payload(&event);
        LiveEvent { event, payload }
    }

    pub fn event_id(&self) -> i64 {
        self.event.event.event_id.unwrap_or_default()
    }

    /// Is `user` one of the event's two users?
    pub fn concerns(&self, user: i64) -> bool {
        self.event.event.from_user_id == user || self.event.event.to_user_id == user
    }

    /// SelfCommunity's `interaction` message for `user`, when the event notifies them: the other
    /// user acted on their relation (or followed or unfollowed them). (`react-core`'s connections manager reads
    /// `data.activity_type`, `data.connection` and the acting user under the key of the
    /// activity; its toasts read `data.notification_obj`.)
    pub fn interaction_for(&self, user: i64) -> Option<Value> {
        let e = &self.event.event;
        let kind = Event::from_name(&e.r#type)?;
        // The one notified, and the one who acted.
        let (notified, actor) = if kind.from_is_actor() { (e.to_user_id, e.from_user_id) } else { (e.from_user_id, e.to_user_id) };
        if notified != user {
            return None;
        }
        let (activity_type, notification_type, key) = match kind {
            Event::ConnectionRequestCreated => (55, "connection_request", "request_user"),
            Event::ConnectionCreated => (56, "connection_accept", "accept_user"),
            Event::ConnectionRequestRejected => (57, "connection_reject", "reject_user"),
            Event::ConnectionRequestRestored => (58, "connection_cancel_reject", "cancel_reject_user"),
            Event::ConnectionDeleted => (59, "connection_remove", "remove_user"),
            Event::ConnectionRequestCancelled => (60, "connection_cancel_request", "cancel_request_user"),
            // `react-core`'s followers manager reads `data.follower.id` / `data.unfollower.id`.
            Event::ConnectionFollow => (97, "user_follow", "follower"),
            Event::ConnectionUnfollow => (98, "user_unfollow", "unfollower"),
        };
        let side = if actor == e.from_user_id { "from_user" } else { "to_user" };
        let acting = self.payload["data"][side].clone();
        // The feed's serialization id of the same notification (`GET /api/v2/notification/`).
        let sid = format!("connection_{}", e.id);
        Some(json!({
            "type": "interaction",
            "data": {
                "id": self.event_id(),
                "activity_type": activity_type,
                "feed_serialization_id": sid,
                "connection": {"event_id": self.event_id(), "from_user": e.from_user_id, "to_user": e.to_user_id},
                key: acting.clone(),
                "notification_obj": {
                    "is_new": true,
                    "sid": sid,
                    "type": notification_type,
                    "active_at": e.created,
                    key: acting,
                },
            },
        }))
    }
}

/// The process's live updates: the feed of new events, the caps, and the signal to close.
pub struct LiveHub {
    events: broadcast::Sender<Arc<LiveEvent>>,
    open: Mutex<HashMap<i64, OpenOf>>,
    total: AtomicUsize,
    closing: watch::Sender<bool>,
    replays: tokio::sync::Semaphore,
    pub settings: LiveSettings,
}

impl std::fmt::Debug for LiveHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveHub").field("open", &self.total.load(Ordering::Relaxed)).finish()
    }
}

/// One user's open sockets and streams: how many, and the signal that ends them all.
struct OpenOf {
    count: usize,
    revoked: watch::Sender<bool>,
}

/// A place among the open sockets and streams, given back when dropped.
pub struct Ticket {
    hub: Arc<LiveHub>,
    user: i64,
    revoked: watch::Receiver<bool>,
}

impl Ticket {
    /// Resolves when the user's right to live updates ends (the user was deleted).
    pub async fn revoked(&mut self) {
        if self.revoked.wait_for(|revoked| *revoked).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.hub.total.fetch_sub(1, Ordering::Relaxed);
        let mut open = self.hub.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(of) = open.get_mut(&self.user) {
            of.count -= 1;
            if of.count == 0 {
                open.remove(&self.user);
            }
        }
    }
}

impl LiveHub {
    pub fn new(settings: LiveSettings) -> Arc<LiveHub> {
        let (events, _) = broadcast::channel(settings.backlog.max(1));
        let (closing, _) = watch::channel(false);
        let replays = tokio::sync::Semaphore::new(settings.replays_at_once.max(1));
        Arc::new(LiveHub { events, open: Mutex::default(), total: AtomicUsize::new(0), closing, replays, settings })
    }

    /// A place for one more socket or stream of `user`, or `None` past a cap.
    pub fn admit(self: &Arc<Self>, user: i64) -> Option<Ticket> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let mine = open.get(&user).map_or(0, |of| of.count);
        if mine >= self.settings.max_per_user || self.total.load(Ordering::Relaxed) >= self.settings.max_total {
            return None;
        }
        let of = open.entry(user).or_insert_with(|| OpenOf { count: 0, revoked: watch::channel(false).0 });
        of.count += 1;
        let revoked = of.revoked.subscribe();
        self.total.fetch_add(1, Ordering::Relaxed);
        Some(Ticket { hub: self.clone(), user, revoked })
    }

    /// Ends every socket and stream of `user` (close `1008`).
    pub fn revoke(&self, user: i64) {
        if let Some(of) = self.open.lock().unwrap_or_else(|p| p.into_inner()).get(&user) {
            let _ = of.revoked.send(true);
        }
    }

    /// The users holding sockets or streams now.
    fn users_open(&self) -> Vec<i64> {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).keys().copied().collect()
    }

    /// Every [`LiveSettings::revalidate_interval`], ends the sockets and streams of the users
    /// deleted since they opened them (one indexed read per 500 users holding any). Runs until
    /// aborted.
    pub async fn revalidate_users(self: Arc<Self>, repo: Repo) {
        loop {
            tokio::time::sleep(self.settings.revalidate_interval).await;
            for users in self.users_open().chunks(500) {
                match repo.deleted_among(users).await {
                    Ok(deleted) => deleted.into_iter().for_each(|user| self.revoke(user)),
                    Err(e) => tracing::warn!(error = %e, "live updates: checking the users failed"),
                }
            }
        }
    }

    /// A turn to read the outbox for a stream (see [`LiveSettings::replays_at_once`]).
    pub async fn replay_turn(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.replays.acquire().await.ok()
    }

    /// Sockets and streams open now.
    pub fn open_now(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.events.subscribe()
    }

    /// Changes to `true` when the server shuts down: sockets and streams end.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    pub fn close(&self) {
        let _ = self.closing.send(true);
    }

    /// Follows the outbox until `stop`: every event numbered after the last one seen, in order.
    pub async fn follow_outbox(self: Arc<Self>, repo: Repo, stop: Arc<Notify>) {
        let mut last = loop {
            match repo.last_event_id().await {
                Ok(last) => break last,
                Err(e) => {
                    tracing::warn!(error = %e, "live updates: cannot read the outbox yet");
                    tokio::select! {
                        _ = stop.notified() => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        };
        loop {
            // Nobody listening on this process: only keep up with the outbox's end (one index
            // probe), so that a socket opened later starts from there.
            if self.events.receiver_count() == 0 {
                match repo.last_event_id().await {
                    Ok(end) => last = last.max(end),
                    Err(e) => tracing::warn!(error = %e, "live updates: reading the outbox failed"),
                }
                tokio::select! {
                    _ = stop.notified() => break,
                    _ = tokio::time::sleep(self.settings.poll_interval) => {}
                }
                continue;
            }
            match repo.numbered_events_after(last, 500).await {
                Ok(found) if !found.is_empty() => {
                    for event in found {
                        last = last.max(event.event.event_id.unwrap_or_default());
                        // No receiver: nobody is listening, nothing to do.
                        let _ = self.events.send(Arc::new(LiveEvent::new(event)));
                    }
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "live updates: reading the outbox failed"),
            }
            tokio::select! {
                _ = stop.notified() => break,
                _ = tokio::time::sleep(self.settings.poll_interval) => {}
            }
        }
    }
}
