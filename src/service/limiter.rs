//! Two failure limits checked together (a per-name key and a per-address key),
//! shared by the token endpoint and console sign-in. An [`Attempt`] holds its
//! place in both limits while the check runs ([`FailureWindow::reserve`]); it
//! must end as [`Attempt::fail`] or [`Attempt::release`]. Dropped without an
//! outcome (the request was cancelled mid-check) it counts as a failure, so
//! disconnecting cannot buy free guesses.
//!
//! When every place of a key is held by checks still in progress, a new attempt
//! waits (at most [`IN_FLIGHT_WAIT`]) for one of them to end instead of being
//! refused: a success gives its place back, so a legitimate burst larger than
//! the limit is served; failures fill the window and the waiters are refused.
//! Waiting costs no check: at most the limit's worth of checks ever run.

use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::domain::throttle::{FailureWindow, Refused};

/// The longest an attempt waits for a place held by checks in progress.
pub const IN_FLIGHT_WAIT: Duration = Duration::from_secs(5);

struct Windows<A, B> {
    by_name: FailureWindow<A>,
    by_address: FailureWindow<B>,
}

struct Shared<A, B> {
    windows: Mutex<Windows<A, B>>,
    /// Signalled whenever an attempt ends (a place may be free).
    settled: Notify,
}

/// Failures per name and, when the source is known, per address.
pub struct Limiter<A, B> {
    shared: Arc<Shared<A, B>>,
}

impl<A, B> Clone for Limiter<A, B> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<A: Hash + Eq + Clone, B: Hash + Eq + Clone> Limiter<A, B> {
    pub fn new(by_name: FailureWindow<A>, by_address: FailureWindow<B>) -> Self {
        Self {
            shared: Arc::new(Shared {
                windows: Mutex::new(Windows {
                    by_name,
                    by_address,
                }),
                settled: Notify::new(),
            }),
        }
    }

    /// A place in both limits for one check, or `Err(retry_after)` when either
    /// is full of failures (or stays full of checks in progress for [`IN_FLIGHT_WAIT`]).
    pub async fn reserve(&self, name: A, address: Option<B>) -> Result<Attempt<A, B>, Duration> {
        let deadline = tokio::time::Instant::now() + IN_FLIGHT_WAIT;
        loop {
            // Registered before looking, so an attempt ending in between is not missed.
            let settled = self.shared.settled.notified();
            tokio::pin!(settled);
            settled.as_mut().enable();
            match self.try_reserve(&name, address.as_ref()) {
                Ok(()) => {
                    return Ok(Attempt {
                        shared: self.shared.clone(),
                        name,
                        address,
                        settled: false,
                    });
                }
                Err(refused @ Refused::Failures(_)) => return Err(refused.retry_after()),
                Err(refused @ Refused::InFlight) => {
                    if tokio::time::timeout_at(deadline, settled).await.is_err() {
                        return Err(refused.retry_after());
                    }
                }
            }
        }
    }

    /// Failures of `name` counted elsewhere (see [`FailureWindow::fold`]).
    pub fn fold_name(&self, name: &A, count: usize, oldest_ends_in: Duration) {
        self.fold(|w, now| w.by_name.fold(name, count, oldest_ends_in, now));
    }

    /// Failures from `address` counted elsewhere (see [`FailureWindow::fold`]).
    pub fn fold_address(&self, address: &B, count: usize, oldest_ends_in: Duration) {
        self.fold(|w, now| w.by_address.fold(address, count, oldest_ends_in, now));
    }

    /// A handle that does not keep the limiter alive (for a background task).
    pub fn downgrade(&self) -> WeakLimiter<A, B> {
        WeakLimiter(Arc::downgrade(&self.shared))
    }

    fn fold(&self, apply: impl FnOnce(&mut Windows<A, B>, Instant)) {
        apply(
            &mut self
                .shared
                .windows
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
            Instant::now(),
        );
        // Waiters for a place held in flight are refused now rather than later.
        self.shared.settled.notify_waiters();
    }

    fn try_reserve(&self, name: &A, address: Option<&B>) -> Result<(), Refused> {
        let now = Instant::now();
        let mut w = self
            .shared
            .windows
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        w.by_name.reserve(name, now)?;
        if let Some(address) = address
            && let Err(refused) = w.by_address.reserve(address, now)
        {
            w.by_name.release(name);
            return Err(refused);
        }
        Ok(())
    }
}

/// A [`Limiter`] that may be gone.
pub struct WeakLimiter<A, B>(std::sync::Weak<Shared<A, B>>);

impl<A, B> WeakLimiter<A, B> {
    /// The limiter, while it lives.
    pub fn upgrade(&self) -> Option<Limiter<A, B>> {
        self.0.upgrade().map(|shared| Limiter { shared })
    }
}

/// A check holding its place in a [`Limiter`].
pub struct Attempt<A: Hash + Eq + Clone, B: Hash + Eq + Clone> {
    shared: Arc<Shared<A, B>>,
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
        {
            let mut w = self
                .shared
                .windows
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
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
        self.shared.settled.notify_waiters();
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

    #[tokio::test]
    async fn a_full_address_gives_back_the_name_place() {
        let l = limiter();
        for name in ["a", "b", "c"] {
            l.reserve(name, Some(1)).await.unwrap().fail();
        }
        assert!(l.reserve("d", Some(1)).await.is_err(), "address full");
        // "d" took no place: two attempts from elsewhere still fit.
        let first = l.reserve("d", Some(2)).await.unwrap();
        let second = l.reserve("d", None).await.unwrap();
        first.fail();
        second.fail();
        assert!(l.reserve("d", None).await.is_err());
    }

    #[tokio::test]
    async fn an_abandoned_attempt_counts_as_a_failure() {
        let l = limiter();
        drop(l.reserve("a", None).await.unwrap());
        l.reserve("a", None).await.unwrap().release();
        drop(l.reserve("a", None).await.unwrap());
        let refused = l.reserve("a", None).await.err();
        assert!(
            refused.is_some_and(|w| w > Duration::from_secs(50)),
            "{refused:?}"
        );
    }

    #[tokio::test]
    async fn an_attempt_waits_for_a_place_held_in_flight() {
        let l = limiter();
        let (first, second) = (
            l.reserve("a", None).await.unwrap(),
            l.reserve("a", None).await.unwrap(),
        );
        let waiting = {
            let l = l.clone();
            tokio::spawn(async move { l.reserve("a", None).await.map(Attempt::release) })
        };
        tokio::task::yield_now().await;
        // One check fails (its place stays taken), the other succeeds (its place comes back).
        first.fail();
        second.release();
        assert_eq!(waiting.await.unwrap(), Ok(()), "the freed place is taken");
        // Both places failed now: no waiting, refused with the window's wait.
        l.reserve("a", None).await.unwrap().fail();
        assert!(matches!(l.reserve("a", None).await, Err(w) if w > Duration::from_secs(50)));
    }
}
