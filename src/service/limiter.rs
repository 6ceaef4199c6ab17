//! Two failure limits checked together (a per-name key and a per-address key),
//! shared by the token endpoint and console sign-in. An [`Attempt`] holds its
//! place in both limits while the check runs ([`FailureWindow::reserve`]); it
//! must end as [`Attempt::fail`] or [`Attempt::release`]. Dropped without an
//! outcome (the request was cancelled mid-check) it counts as a failure, so
//! disconnecting cannot buy free guesses.

use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::domain::throttle::FailureWindow;

struct Windows<A, B> {
    by_name: FailureWindow<A>,
    by_address: FailureWindow<B>,
}

/// Failures per name and, when the source is known, per address.
pub struct Limiter<A, B> {
    windows: Arc<Mutex<Windows<A, B>>>,
}

impl<A, B> Clone for Limiter<A, B> {
    fn clone(&self) -> Self {
        Self {
            windows: self.windows.clone(),
        }
    }
}

impl<A: Hash + Eq + Clone, B: Hash + Eq + Clone> Limiter<A, B> {
    pub fn new(by_name: FailureWindow<A>, by_address: FailureWindow<B>) -> Self {
        Self {
            windows: Arc::new(Mutex::new(Windows {
                by_name,
                by_address,
            })),
        }
    }

    /// A place in both limits for one check, or `Err(retry_after)` when either
    /// is full (of failures, or of checks still in progress).
    pub fn reserve(&self, name: A, address: Option<B>) -> Result<Attempt<A, B>, Duration> {
        let now = Instant::now();
        let mut w = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        w.by_name.reserve(&name, now)?;
        if let Some(address) = &address
            && let Err(wait) = w.by_address.reserve(address, now)
        {
            w.by_name.release(&name);
            return Err(wait);
        }
        Ok(Attempt {
            windows: self.windows.clone(),
            name,
            address,
            settled: false,
        })
    }
}

/// A check holding its place in a [`Limiter`].
pub struct Attempt<A: Hash + Eq + Clone, B: Hash + Eq + Clone> {
    windows: Arc<Mutex<Windows<A, B>>>,
    name: A,
    address: Option<B>,
    settled: bool,
}

impl<A: Hash + Eq + Clone, B: Hash + Eq + Clone> Attempt<A, B> {
    /// The check failed: it counts against both limits for one window.
    pub fn fail(mut self) {
        self.settle(true);
    }

    /// The check succeeded, or could not be made: its place is free again.
    pub fn release(mut self) {
        self.settle(false);
    }

    fn settle(&mut self, failed: bool) {
        if std::mem::replace(&mut self.settled, true) {
            return;
        }
        let now = Instant::now();
        let mut w = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        if failed {
            w.by_name.commit(&self.name, now);
        } else {
            w.by_name.release(&self.name);
        }
        if let Some(address) = &self.address {
            if failed {
                w.by_address.commit(address, now);
            } else {
                w.by_address.release(address);
            }
        }
    }
}

impl<A: Hash + Eq + Clone, B: Hash + Eq + Clone> Drop for Attempt<A, B> {
    fn drop(&mut self) {
        self.settle(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter() -> Limiter<&'static str, u8> {
        let minute = Duration::from_secs(60);
        Limiter::new(FailureWindow::new(2, minute), FailureWindow::new(3, minute))
    }

    #[test]
    fn a_full_address_gives_back_the_name_place() {
        let l = limiter();
        for name in ["a", "b", "c"] {
            l.reserve(name, Some(1)).unwrap().fail();
        }
        assert!(l.reserve("d", Some(1)).is_err(), "address full");
        // "d" took no place: two attempts from elsewhere still fit.
        let first = l.reserve("d", Some(2)).unwrap();
        let second = l.reserve("d", None).unwrap();
        assert!(l.reserve("d", None).is_err());
        first.release();
        second.release();
        assert!(l.reserve("d", None).is_ok());
    }

    #[test]
    fn an_abandoned_attempt_counts_as_a_failure() {
        let l = limiter();
        drop(l.reserve("a", None).unwrap());
        l.reserve("a", None).unwrap().release();
        drop(l.reserve("a", None).unwrap());
        assert!(l.reserve("a", None).is_err());
    }
}
