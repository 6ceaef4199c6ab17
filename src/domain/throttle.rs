//! Failed-attempt throttling: at most `max` failures per key in a sliding
//! window; once reached, every attempt for that key is refused until the oldest
//! failure leaves the window. Time is an argument, so the rule is testable.
//!
//! ```text
//!  failures in window < max ──fail──► count it
//!  failures in window = max ──any attempt──► refused, retry after (oldest + window − now)
//! ```
//!
//! Memory stays bounded: expired entries are dropped whenever the map grows
//! past `PRUNE_AT`, so an attacker cycling keys costs at most the keys it used
//! within one window.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::{Duration, Instant};

const PRUNE_AT: usize = 10_000;

#[derive(Debug)]
pub struct FailureWindow<K> {
    max: usize,
    window: Duration,
    failures: HashMap<K, VecDeque<Instant>>,
}

impl<K: Hash + Eq + Clone> FailureWindow<K> {
    pub fn new(max: u32, window: Duration) -> Self {
        Self {
            max: usize::try_from(max).unwrap_or(usize::MAX).max(1),
            window,
            failures: HashMap::new(),
        }
    }

    /// `Some(retry_after)` when `key` has used up its failures.
    pub fn blocked(&mut self, key: &K, now: Instant) -> Option<Duration> {
        let window = self.window;
        let times = self.failures.get_mut(key)?;
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            times.pop_front();
        }
        if times.len() < self.max {
            return None;
        }
        times.front().map(|oldest| {
            (*oldest + window)
                .saturating_duration_since(now)
                .max(Duration::from_secs(1))
        })
    }

    /// Counts a failed attempt for `key`.
    pub fn record_failure(&mut self, key: K, now: Instant) {
        if self.failures.len() >= PRUNE_AT {
            let window = self.window;
            self.failures.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < window)
            });
        }
        let times = self.failures.entry(key).or_default();
        times.push_back(now);
        while times.len() > self.max {
            times.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_attempt_after_max_failures_is_refused_until_the_window_moves() {
        let start = Instant::now();
        let mut w = FailureWindow::new(3, Duration::from_secs(60));
        for i in 0..3 {
            assert_eq!(w.blocked(&"a", start), None, "attempt {i}");
            w.record_failure("a", start + Duration::from_secs(i));
        }
        let now = start + Duration::from_secs(10);
        assert_eq!(w.blocked(&"a", now), Some(Duration::from_secs(50)));
        assert_eq!(w.blocked(&"b", now), None, "other keys are not slowed down");
        assert_eq!(w.blocked(&"a", start + Duration::from_secs(60)), None);
    }

    #[test]
    fn expired_keys_are_pruned_when_the_map_grows() {
        let start = Instant::now();
        let mut w = FailureWindow::new(1, Duration::from_secs(1));
        for k in 0..PRUNE_AT {
            w.record_failure(k, start);
        }
        w.record_failure(usize::MAX, start + Duration::from_secs(2));
        assert_eq!(w.failures.len(), 1);
    }
}
