//! Per-user rate limiting of the actions: a token bucket per user, refilled continuously.
//! Each instance counts its own requests; a user spread over several instances gets each one's
//! allowance.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct RateLimiter {
    per_minute: f64,
    buckets: Mutex<HashMap<i64, (f64, Instant)>>,
}

/// Forget users idle this long: their bucket would be full again anyway.
const IDLE: Duration = Duration::from_secs(120);

impl RateLimiter {
    /// `None` for 0: no limit.
    pub fn new(per_minute: u32) -> Option<Self> {
        (per_minute > 0).then(|| RateLimiter { per_minute: f64::from(per_minute), buckets: Mutex::default() })
    }

    /// Takes one action from `user`'s allowance, or says how long until there is one.
    pub fn check(&self, user: i64) -> Result<(), Duration> {
        let now = Instant::now();
        let per_second = self.per_minute / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 100_000 {
            buckets.retain(|_, (_, at)| now.duration_since(*at) < IDLE);
        }
        let (tokens, at) = buckets.entry(user).or_insert((self.per_minute, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * per_second).min(self.per_minute);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_the_minutes_allowance_then_a_wait() {
        let limiter = RateLimiter::new(3).unwrap();
        assert!(limiter.check(1).is_ok());
        assert!(limiter.check(1).is_ok());
        assert!(limiter.check(1).is_ok());
        let wait = limiter.check(1).unwrap_err();
        assert!(wait > Duration::from_secs(15) && wait <= Duration::from_secs(20), "{wait:?}");
        assert!(limiter.check(2).is_ok(), "another user has an allowance of their own");
        assert!(RateLimiter::new(0).is_none());
    }
}
