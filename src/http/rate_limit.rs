//! Per-user limits: a rate of actions per user (governor's keyed limiter: GCRA, a burst of the
//! minute's allowance, refilled continuously); and a cap on one user's requests in flight at
//! once, so that a client flooding from many connections cannot take every database
//! connection from the others. Each instance counts its own requests; a user spread over
//! several instances gets each one's allowance.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

pub struct RateLimiter {
    limiter: DefaultKeyedRateLimiter<i64>,
    clock: DefaultClock,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RateLimiter")
    }
}

/// Past this many users remembered, forget those whose allowance is whole again.
const REMEMBERED_USERS: usize = 100_000;

impl RateLimiter {
    /// `None` for 0: no limit.
    pub fn new(per_minute: u32) -> Option<Self> {
        let per_minute = NonZeroU32::new(per_minute)?;
        Some(RateLimiter { limiter: governor::RateLimiter::keyed(Quota::per_minute(per_minute)), clock: DefaultClock::default() })
    }

    /// Takes one action from `user`'s allowance, or says how long until there is one.
    pub fn check(&self, user: i64) -> Result<(), Duration> {
        if self.limiter.len() > REMEMBERED_USERS {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&user).map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// How many requests each user has in flight on this instance, capped.
#[derive(Debug)]
pub struct InFlight {
    per_user: u32,
    counts: Mutex<HashMap<i64, u32>>,
}

/// One request's place under its user's cap, given back when dropped.
#[derive(Debug)]
pub struct Slot {
    owner: Arc<InFlight>,
    user: i64,
}

impl InFlight {
    /// `None` for 0: no cap.
    pub fn new(per_user: u32) -> Option<Arc<Self>> {
        (per_user > 0).then(|| Arc::new(InFlight { per_user, counts: Mutex::default() }))
    }

    /// The slots taken now, all users together.
    pub fn taken(&self) -> u64 {
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.values().map(|&n| u64::from(n)).sum()
    }

    /// A slot for one more request of `user`, or `None` when they have `per_user` in flight.
    pub fn enter(self: &Arc<Self>, user: i64) -> Option<Slot> {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let count = counts.entry(user).or_default();
        if *count >= self.per_user {
            return None;
        }
        *count += 1;
        Some(Slot { owner: self.clone(), user })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.owner.counts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = counts.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.user);
            }
        }
    }
}

/// Where the token check leaves the request's slot (it only sees `&Request`): put in every
/// request's extensions by the server, dropped with the request when its handler is done.
#[derive(Clone, Debug, Default)]
pub struct SlotHolder(Arc<Mutex<Option<Slot>>>);

impl SlotHolder {
    pub fn hold(&self, slot: Slot) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(slot);
    }
}

/// A connection's place under the server's `MAX_CONNECTIONS`, put in each of its requests'
/// extensions. A live connection (a stream) gives it back at once: live connections are
/// counted by the live caps alone, never in the place of ordinary requests. The answer that
/// gave it back closes its connection when it ends, so no request rides on it uncounted.
#[derive(Clone, Debug)]
pub struct ConnectionPlace(Arc<Mutex<Option<tokio::sync::OwnedSemaphorePermit>>>);

impl ConnectionPlace {
    pub fn new(permit: tokio::sync::OwnedSemaphorePermit) -> Self {
        ConnectionPlace(Arc::new(Mutex::new(Some(permit))))
    }

    /// Gives the place back now (it is given back anyway when the connection ends).
    pub fn release(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// Was the place given back before the connection ended?
    pub fn is_released(&self) -> bool {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_gets_as_many_slots_as_the_cap_and_they_come_back() {
        let cap = InFlight::new(2).unwrap();
        let first = cap.enter(1).unwrap();
        let _second = cap.enter(1).unwrap();
        assert!(cap.enter(1).is_none(), "the third waits for a slot");
        assert_eq!(cap.taken(), 2);
        assert!(cap.enter(2).is_some(), "another user has slots of their own");
        drop(first);
        assert_eq!(cap.taken(), 1, "the refused one took nothing, the finished one gave its slot back");
        assert!(cap.enter(1).is_some(), "a finished request gives its slot back");
        assert!(InFlight::new(0).is_none());
    }

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
