//! Prometheus metrics at `GET /metrics` (OpenMetrics text, by the Prometheus project's own
//! client): requests by operation and status, a latency histogram by operation, and the
//! database connections' use.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::db::connection::PoolUse;

/// The media type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Answered {
    operation: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Timed {
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Delivery {
    event_type: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Backlog {
    part: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolState {
    state: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

pub struct Metrics {
    registry: Registry,
    requests: Family<Answered, Counter>,
    durations: Family<Timed, Histogram, fn() -> Histogram>,
    in_flight: Gauge,
    user_slots: Gauge,
    pool: Family<PoolState, Gauge>,
    pool_max: Gauge,
    deliveries: Family<Delivery, Counter>,
    backlog: Family<Backlog, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        let requests = Family::<Answered, Counter>::default();
        let durations = Family::<Timed, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        let pool = Family::<PoolState, Gauge>::default();
        let pool_max = Gauge::default();
        let (in_flight, user_slots) = (Gauge::default(), Gauge::default());
        let mut registry = Registry::default();
        // A counter's samples get `_total` after its name.
        registry.register("connections_http_requests", "Requests answered, by operation and status", requests.clone());
        registry.register("connections_http_request_duration_seconds", "Time to answer, by operation", durations.clone());
        registry.register("connections_http_requests_in_flight", "Requests being served now (this scrape included)", in_flight.clone());
        registry.register(
            "connections_http_user_requests_in_flight",
            "Requests holding one of their user's in-flight places (MAX_IN_FLIGHT_PER_USER), all users together",
            user_slots.clone(),
        );
        registry.register("connections_db_pool_connections", "Database connections open, by state", pool.clone());
        registry.register("connections_db_pool_max_connections", "The pool's size limit", pool_max.clone());
        let deliveries = Family::<Delivery, Counter>::default();
        let backlog = Family::<Backlog, Gauge>::default();
        registry.register(
            "connections_webhook_deliveries",
            "Webhook delivery attempts, by event type and outcome (delivered, retrying, failed)",
            deliveries.clone(),
        );
        registry.register(
            "connections_webhook_outbox_backlog",
            "The outbox's backlog: events not numbered yet (unnumbered), deliveries still to make (pending)",
            backlog.clone(),
        );
        Metrics { registry, requests, durations, in_flight, user_slots, pool, pool_max, deliveries, backlog }
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}


/// One request counted in `connections_http_requests_in_flight` until dropped (answered, or
/// cancelled by a client that went away).
pub struct InFlightRequest(Gauge);

impl Drop for InFlightRequest {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Metrics {
    /// Counts a request in flight for as long as the guard lives.
    pub fn request_started(&self) -> InFlightRequest {
        self.in_flight.inc();
        InFlightRequest(self.in_flight.clone())
    }

    pub fn record(&self, operation: &str, status: u16, elapsed: Duration) {
        self.requests.get_or_create(&Answered { operation: operation.to_owned(), status }).inc();
        self.durations.get_or_create(&Timed { operation: operation.to_owned() }).observe(elapsed.as_secs_f64());
    }

    /// One webhook attempt's outcome.
    pub fn record_delivery(&self, event_type: &str, outcome: &str) {
        self.deliveries.get_or_create(&Delivery { event_type: event_type.to_owned(), outcome: outcome.to_owned() }).inc();
    }

    /// The outbox's backlog, as the dispatcher last measured it.
    pub fn set_outbox_backlog(&self, unnumbered: u64, pending: u64) {
        self.backlog.get_or_create(&Backlog { part: "unnumbered".into() }).set(unnumbered as i64);
        self.backlog.get_or_create(&Backlog { part: "pending".into() }).set(pending as i64);
    }

    /// The OpenMetrics text exposition, with the pool's use and the users' in-flight places
    /// taken as of now.
    pub fn render(&self, pool: PoolUse, user_slots: u64) -> String {
        self.user_slots.set(i64::try_from(user_slots).unwrap_or(i64::MAX));
        let gauge = |state: &str| self.pool.get_or_create(&PoolState { state: state.to_owned() }).clone();
        gauge("idle").set(i64::from(pool.idle));
        gauge("in_use").set(i64::from(pool.size.saturating_sub(pool.idle)));
        self.pool_max.set(i64::from(pool.max));
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
