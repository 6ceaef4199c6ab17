//! Failed-attempt throttling: at most `max` failures per key in a sliding
//! window, counted **before** the check runs. An attempt first reserves one of
//! the key's `max` places; a failure turns its reservation into a failure that
//! stays for the window, a success (or an attempt that could not be judged)
//! gives it back. So however many attempts arrive at once, at most `max`
//! checks run for a key per window. Time is an argument, so the rule is testable.
//!
//! ```text
//!  failures + in flight < max ──reserve──► in flight + 1
//!     in flight ──commit (failed)──► failure (for one window)
//!     in flight ──release (succeeded / not judged)──► place free again
//!  failures = max ──any attempt──► refused, retry after (oldest + window − now)
//!  failures + in flight = max, failures < max ──any attempt──► refused for now
//!     (in flight: a place may come back as soon as a check succeeds)
//! ```
//!
//! Memory stays bounded: expired entries are dropped whenever the map grows
//! past `PRUNE_AT`, so an attacker cycling keys costs at most the keys it used
//! within one window.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::{Duration, Instant};

const PRUNE_AT: usize = 10_000;

/// Why [`FailureWindow::reserve`] found no place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The window is full of failures: retry after this long.
    Failures(Duration),
    /// Places are held by attempts still being checked; one may come back at once.
    InFlight,
}

impl Refused {
    /// The wait to suggest to the caller (`Retry-After`): one second while in flight.
    pub fn retry_after(self) -> Duration {
        match self {
            Self::Failures(wait) => wait,
            Self::InFlight => Duration::from_secs(1),
        }
    }
}

#[derive(Debug, Default)]
struct Entry {
    failures: VecDeque<Instant>,
    in_flight: usize,
}

impl Entry {
    fn expire(&mut self, now: Instant, window: Duration) {
        while self
            .failures
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            self.failures.pop_front();
        }
    }

    fn unused(&self) -> bool {
        self.in_flight == 0 && self.failures.is_empty()
    }
}

#[derive(Debug)]
pub struct FailureWindow<K> {
    max: usize,
    window: Duration,
    entries: HashMap<K, Entry>,
}

impl<K: Hash + Eq + Clone> FailureWindow<K> {
    pub fn new(max: u32, window: Duration) -> Self {
        Self {
            max: usize::try_from(max).unwrap_or(usize::MAX).max(1),
            window,
            entries: HashMap::new(),
        }
    }

    /// Takes one of `key`'s places for an attempt about to be checked, or says
    /// why there is none. Every `Ok` must be followed by exactly one
    /// [`Self::commit`] or [`Self::release`].
    pub fn reserve(&mut self, key: &K, now: Instant) -> Result<(), Refused> {
        if self.entries.len() >= PRUNE_AT {
            self.prune(now);
        }
        let (max, window) = (self.max, self.window);
        let entry = self.entries.entry(key.clone()).or_default();
        entry.expire(now, window);
        if entry.failures.len() + entry.in_flight < max {
            entry.in_flight += 1;
            return Ok(());
        }
        Err(match entry.failures.front() {
            Some(oldest) if entry.failures.len() >= max => Refused::Failures(
                (*oldest + window)
                    .saturating_duration_since(now)
                    .max(Duration::from_secs(1)),
            ),
            _ => Refused::InFlight,
        })
    }

    /// The reserved attempt failed: it counts as a failure for one window from `now`.
    pub fn commit(&mut self, key: &K, now: Instant) {
        if let Some(entry) = self.entries.get_mut(key) {
            entry.in_flight = entry.in_flight.saturating_sub(1);
            entry.failures.push_back(now);
            while entry.failures.len() > self.max {
                entry.failures.pop_front();
            }
        }
    }

    /// Failures counted elsewhere (by other nodes, in a shared record): `key`
    /// holds at least `count` failures, the oldest leaving the window after
    /// `oldest_ends_in`. Those it already holds are not counted twice; the others
    /// are taken as failing `now` (so they may stay a little longer than where
    /// they were counted, never shorter).
    pub fn fold(&mut self, key: &K, count: usize, oldest_ends_in: Duration, now: Instant) {
        let count = count.min(self.max);
        if count == 0 {
            return;
        }
        if self.entries.len() >= PRUNE_AT {
            self.prune(now);
        }
        let window = self.window;
        let entry = self.entries.entry(key.clone()).or_default();
        entry.expire(now, window);
        if entry.failures.len() >= count {
            return;
        }
        let oldest = now
            .checked_sub(window.saturating_sub(oldest_ends_in))
            .unwrap_or(now);
        let oldest = entry.failures.front().map_or(oldest, |t| oldest.min(*t));
        entry.failures.clear();
        entry.failures.push_back(oldest);
        entry.failures.extend(std::iter::repeat_n(now, count - 1));
    }

    /// The reserved attempt succeeded (or was never judged): its place is free again.
    pub fn release(&mut self, key: &K) {
        if let Some(entry) = self.entries.get_mut(key) {
            entry.in_flight = entry.in_flight.saturating_sub(1);
            if entry.unused() {
                self.entries.remove(key);
            }
        }
    }

    fn prune(&mut self, now: Instant) {
        let window = self.window;
        self.entries.retain(|_, entry| {
            entry.expire(now, window);
            !entry.unused()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn the_attempt_after_max_failures_is_refused_until_the_window_moves() {
        let start = Instant::now();
        let mut w = FailureWindow::new(3, MINUTE);
        for i in 0..3 {
            let at = start + Duration::from_secs(i);
            assert_eq!(w.reserve(&"a", at), Ok(()), "attempt {i}");
            w.commit(&"a", at);
        }
        let now = start + Duration::from_secs(10);
        assert_eq!(
            w.reserve(&"a", now),
            Err(Refused::Failures(Duration::from_secs(50)))
        );
        assert_eq!(
            w.reserve(&"b", now),
            Ok(()),
            "other keys are not slowed down"
        );
        assert_eq!(w.reserve(&"a", start + MINUTE), Ok(()));
    }

    #[test]
    fn a_released_reservation_leaves_no_trace() {
        let start = Instant::now();
        let mut w = FailureWindow::new(2, MINUTE);
        for _ in 0..100 {
            assert_eq!(w.reserve(&"a", start), Ok(()));
            w.release(&"a");
        }
        assert!(w.entries.is_empty(), "successes are not remembered");
        w.reserve(&"a", start).unwrap();
        w.commit(&"a", start);
        w.reserve(&"a", start).unwrap();
        w.release(&"a");
        assert_eq!(w.entries[&"a"].failures.len(), 1);
        assert_eq!(w.entries[&"a"].in_flight, 0);
    }

    #[test]
    fn reservations_in_flight_fill_the_places_before_any_failure_is_known() {
        let start = Instant::now();
        let mut w = FailureWindow::new(10, MINUTE);
        let granted = (0..40).filter(|_| w.reserve(&"a", start).is_ok()).count();
        assert_eq!(granted, 10, "at most max checks run at once");
        assert_eq!(w.reserve(&"a", start), Err(Refused::InFlight));
        // One succeeds: its place is free for exactly one more attempt.
        w.release(&"a");
        assert_eq!(w.reserve(&"a", start), Ok(()));
        assert_eq!(w.reserve(&"a", start), Err(Refused::InFlight));
        // All ten fail: the key is refused for the whole window.
        for _ in 0..10 {
            w.commit(&"a", start);
        }
        assert_eq!(w.reserve(&"a", start), Err(Refused::Failures(MINUTE)));
    }

    #[test]
    fn reservations_from_many_threads_never_exceed_max() {
        use std::sync::{Arc, Barrier, Mutex};
        let w = Arc::new(Mutex::new(FailureWindow::new(10, MINUTE)));
        let start = Instant::now();
        let barrier = Arc::new(Barrier::new(64));
        let threads: Vec<_> = (0..64)
            .map(|_| {
                let (w, barrier) = (w.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    let granted = w.lock().unwrap().reserve(&"a", start).is_ok();
                    if granted {
                        w.lock().unwrap().commit(&"a", start);
                    }
                    granted
                })
            })
            .collect();
        let granted = threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .filter(|g| *g)
            .count();
        assert_eq!(granted, 10);
        assert_eq!(
            w.lock().unwrap().reserve(&"a", start),
            Err(Refused::Failures(MINUTE))
        );
    }

    #[test]
    fn failures_counted_elsewhere_fill_the_window_once() {
        let start = Instant::now();
        let mut w = FailureWindow::new(3, MINUTE);
        w.reserve(&"a", start).unwrap();
        w.commit(&"a", start);
        // Two failures elsewhere, the oldest 40 s from leaving: two in all, not three.
        w.fold(
            &"a",
            2,
            Duration::from_secs(40),
            start + Duration::from_secs(20),
        );
        assert_eq!(w.entries[&"a"].failures.len(), 2);
        w.fold(&"a", 1, Duration::from_secs(40), start);
        assert_eq!(w.entries[&"a"].failures.len(), 2, "never fewer");
        // The third, elsewhere: full on this node too, until the oldest leaves.
        let now = start + Duration::from_secs(30);
        w.fold(&"a", 3, Duration::from_secs(30), now);
        assert_eq!(
            w.reserve(&"a", now),
            Err(Refused::Failures(Duration::from_secs(30)))
        );
        assert_eq!(w.reserve(&"a", start + MINUTE), Ok(()));
        w.fold(&"b", 0, MINUTE, now);
        assert!(!w.entries.contains_key(&"b"), "nothing to fold");
    }

    #[test]
    fn expired_keys_are_pruned_when_the_map_grows() {
        let start = Instant::now();
        let mut w = FailureWindow::new(1, Duration::from_secs(1));
        for k in 0..PRUNE_AT {
            w.reserve(&k, start).unwrap();
            w.commit(&k, start);
        }
        w.reserve(&usize::MAX, start).unwrap();
        w.reserve(&(usize::MAX - 1), start + Duration::from_secs(2))
            .unwrap();
        assert_eq!(
            w.entries.len(),
            2,
            "expired failures go; attempts in flight stay"
        );
    }
}
