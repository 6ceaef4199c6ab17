//! Hashing off the async runtime, with Argon2id bounded: at most
//! `argon2.concurrency` runs at a time (19 MiB each), and for checks of
//! presented values at most `argon2.queue` more waiting for a run. A check
//! beyond that is refused at once ([`ServiceError::Busy`]) instead of queueing
//! without bound, so a burst of supplied-secret or password guesses costs
//! bounded memory and latency. The permits travel into the blocking task, so a
//! cancelled request cannot free a place while its run still goes on.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::ServiceError;
use super::settings::Argon2Bound;
use crate::domain::secret_hash::{self, PresentedDigest, StoredHash};
use crate::domain::secret_value::SecretValue;

#[derive(Clone)]
pub struct Hasher {
    /// One per Argon2id run.
    argon2_slots: Arc<Semaphore>,
    /// One per check of a presented value, running or waiting.
    admitted: Arc<Semaphore>,
    argon2_runs: Arc<AtomicU64>,
}

impl Hasher {
    pub fn new(bound: Argon2Bound) -> Self {
        let runs = usize::try_from(bound.concurrency).unwrap_or(1).max(1);
        let waiting = usize::try_from(bound.queue).unwrap_or(0);
        Self {
            argon2_slots: Arc::new(Semaphore::new(runs)),
            admitted: Arc::new(Semaphore::new(runs.saturating_add(waiting))),
            argon2_runs: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The stored hash of a new value (Argon2id for supplied values). Not
    /// subject to the queue bound: only authorised callers store values.
    pub async fn hash_for_storage(
        &self,
        value: &SecretValue,
        salt: &[u8],
    ) -> Result<StoredHash, ServiceError> {
        if value.is_generated() {
            return secret_hash::hash_for_storage(value, salt).map_err(internal);
        }
        let (value, salt) = (value.clone(), salt.to_vec());
        self.blocking(None, move || secret_hash::hash_for_storage(&value, &salt))
            .await?
            .map_err(internal)
    }

    /// The digest of a presented value: one SHA-256, or one Argon2id run
    /// ([`ServiceError::Busy`] when the run queue is full).
    pub async fn digest(
        &self,
        value: &SecretValue,
        salt: &[u8],
    ) -> Result<PresentedDigest, ServiceError> {
        if !PresentedDigest::needs_argon2(value) {
            return PresentedDigest::compute(value, salt).map_err(internal);
        }
        let (value, salt) = (value.clone(), salt.to_vec());
        self.check_presented(move || PresentedDigest::compute(&value, &salt))
            .await?
            .map_err(internal)
    }

    /// Runs `work`, one Argon2id check of a presented value (a console
    /// password, say), under the same bound: [`ServiceError::Busy`] at once
    /// when `argon2.concurrency` runs are going and `argon2.queue` wait.
    pub async fn check_presented<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        let admitted = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| ServiceError::Busy)?;
        self.blocking(Some(admitted), work).await
    }

    /// How many Argon2id runs this process has made (a metric, and the proof in
    /// tests that a verification costs at most one).
    pub fn argon2_runs(&self) -> u64 {
        self.argon2_runs.load(Ordering::Relaxed)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        admitted: Option<OwnedSemaphorePermit>,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        let slot = self
            .argon2_slots
            .clone()
            .acquire_owned()
            .await
            .map_err(internal)?;
        self.argon2_runs.fetch_add(1, Ordering::Relaxed);
        tokio::task::spawn_blocking(move || {
            let _held = (slot, admitted);
            work()
        })
        .await
        .map_err(internal)
    }
}

impl Default for Hasher {
    fn default() -> Self {
        Self::new(Argon2Bound::default())
    }
}

fn internal(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(e.to_string())
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn checks_beyond_the_runs_and_the_queue_are_refused_at_once() {
        let hasher = Hasher::new(Argon2Bound {
            concurrency: 1,
            queue: 1,
        });
        let (release, gate) = mpsc::channel::<()>();
        let running = {
            let h = hasher.clone();
            tokio::spawn(async move { h.check_presented(move || gate.recv().is_ok()).await })
        };
        let waiting = {
            let h = hasher.clone();
            tokio::spawn(async move { h.check_presented(|| true).await })
        };
        // Both places are taken (one running, one waiting) before the third arrives.
        while hasher.admitted.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let third = hasher.check_presented(|| true).await;
        assert!(matches!(third, Err(ServiceError::Busy)), "{third:?}");
        release.send(()).unwrap();
        assert!(running.await.unwrap().unwrap());
        assert!(waiting.await.unwrap().unwrap());
        assert!(
            hasher.check_presented(|| true).await.unwrap(),
            "places come back"
        );
        assert_eq!(hasher.argon2_runs(), 3);
    }
}
