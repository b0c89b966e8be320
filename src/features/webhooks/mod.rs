//! Webhooks: the staff-only operations ([`api`]), the endpoints' rules ([`endpoints`]) and
//! queries ([`queries`]), which targets may be called ([`target`]), how a delivery is signed
//! ([`signature`]), and the task that delivers them ([`dispatcher`]). What a delivery carries
//! is the outbox's payload (`outbox/payload.rs`); the outbox makes the deliveries.

pub mod api;
pub mod dispatcher;
pub mod endpoints;
pub mod queries;
pub mod signature;
pub mod target;

use std::time::Duration;

/// SelfCommunity's retry schedule: after the first attempt fails, retries after these delays;
/// after the last, the delivery counts as failed.
pub const RETRY_SCHEDULE: [u64; 5] = [5, 25, 125, 625, 3125];

/// How webhooks are delivered.
#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// Call loopback, private, link-local... targets (on-premise receivers, tests).
    pub allow_private_targets: bool,
    /// The delays between attempts (default [`RETRY_SCHEDULE`], in seconds).
    pub retry_schedule: Vec<Duration>,
    /// An attempt's whole time: connecting, sending, and the answer's head and body.
    pub timeout: Duration,
    /// How often the dispatcher looks for new events and due deliveries.
    pub poll_interval: Duration,
    /// Attempts in flight at once, per instance.
    pub concurrency: usize,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            allow_private_targets: false,
            retry_schedule: RETRY_SCHEDULE.iter().map(|s| Duration::from_secs(*s)).collect(),
            timeout: Duration::from_secs(10),
            poll_interval: Duration::from_millis(250),
            concurrency: 16,
        }
    }
}

impl WebhookSettings {
    /// How long a dispatcher holds the deliveries it claimed: longer than an attempt can take,
    /// so that no other dispatcher takes one while it is being made.
    pub fn lease(&self) -> Duration {
        self.timeout + Duration::from_secs(5)
    }
}
