//! Prometheus metrics at `GET /metrics`: requests by operation and status, a latency histogram
//! by operation, and the database pool's use. Written by hand in the text format: a few
//! counters need no client library.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Default)]
struct Latency {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// One operation's counts: answers by status, and the latency histogram.
#[derive(Default)]
struct Operation {
    statuses: BTreeMap<u16, u64>,
    latency: Latency,
}

#[derive(Default)]
pub struct Metrics {
    /// By operation label. One lock, taken once per request; the label is copied only the
    /// first time it is seen.
    operations: Mutex<BTreeMap<String, Operation>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

/// What the pool looks like now.
#[derive(Clone, Copy, Debug, Default)]
pub struct PoolUse {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

impl Metrics {
    pub fn record(&self, operation: &str, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let mut operations = self.operations.lock().unwrap_or_else(|p| p.into_inner());
        if !operations.contains_key(operation) {
            operations.insert(operation.to_owned(), Operation::default());
        }
        let Some(entry) = operations.get_mut(operation) else { return };
        *entry.statuses.entry(status).or_default() += 1;
        let latency = &mut entry.latency;
        latency.count += 1;
        latency.sum += seconds;
        for (bucket, bound) in latency.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self, pool: PoolUse) -> String {
        let mut out = String::new();
        out.push_str("# HELP connections_http_requests_total Requests answered, by operation and status.\n");
        out.push_str("# TYPE connections_http_requests_total counter\n");
        let operations = self.operations.lock().unwrap_or_else(|p| p.into_inner());
        for (operation, entry) in operations.iter() {
            for (status, count) in &entry.statuses {
                writeln!(out, "connections_http_requests_total{{operation=\"{operation}\",status=\"{status}\"}} {count}").ok();
            }
        }
        out.push_str("# HELP connections_http_request_duration_seconds Time to answer, by operation.\n");
        out.push_str("# TYPE connections_http_request_duration_seconds histogram\n");
        for (operation, Operation { latency, .. }) in operations.iter() {
            for (bound, count) in BUCKETS.iter().zip(latency.buckets) {
                writeln!(out, "connections_http_request_duration_seconds_bucket{{operation=\"{operation}\",le=\"{bound}\"}} {count}").ok();
            }
            writeln!(out, "connections_http_request_duration_seconds_bucket{{operation=\"{operation}\",le=\"+Inf\"}} {}", latency.count).ok();
            writeln!(out, "connections_http_request_duration_seconds_sum{{operation=\"{operation}\"}} {}", latency.sum).ok();
            writeln!(out, "connections_http_request_duration_seconds_count{{operation=\"{operation}\"}} {}", latency.count).ok();
        }
        out.push_str("# HELP connections_db_pool_connections Database connections open, by state.\n");
        out.push_str("# TYPE connections_db_pool_connections gauge\n");
        writeln!(out, "connections_db_pool_connections{{state=\"idle\"}} {}", pool.idle).ok();
        writeln!(out, "connections_db_pool_connections{{state=\"in_use\"}} {}", pool.size.saturating_sub(pool.idle)).ok();
        out.push_str("# HELP connections_db_pool_max_connections The pool's size limit.\n");
        out.push_str("# TYPE connections_db_pool_max_connections gauge\n");
        writeln!(out, "connections_db_pool_max_connections {}", pool.max).ok();
        out
    }
}
