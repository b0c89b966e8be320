//! A webhook delivery's states, as the outbox makes deliveries and the dispatcher moves them on.

use chrono::{DateTime, Utc};

/// A delivery's states.
pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
pub const FAILED: &str = "failed";

/// A time as a delivery stores it: milliseconds since the epoch.
pub fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}
