//! Hashing off the async runtime, with Argon2id bounded: at most
//! `argon2.concurrency` runs at a time (19 MiB each), and for checks of
//! presented values at most `argon2.queue` more waiting for a run. A check
//! beyond that is refused at once ([`ServiceError::Busy`]) instead of queueing
//! without bound, so a burst of supplied-secret or password guesses costs
//! bounded memory and latency. The permits travel into the blocking task, so a
//! cancelled request cannot free a place while its run still goes on.
//!
//! Secret values are hashed in memory from a fixed pool: at most one 19 MiB
//! buffer per run place, made on first need and reused for the life of the
//! process, so peak memory under any flood of supplied-format values, right or
//! wrong, is `argon2.concurrency` buffers (no allocator arena keeps freed ones).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::ServiceError;
use super::settings::Argon2Bound;
use crate::domain::secret_hash::{self, Block, PresentedDigest, StoredHash};
use crate::domain::secret_value::SecretValue;
use crate::metrics::METRICS;

#[derive(Clone)]
pub struct Hasher {
    /// One per Argon2id run.
    argon2_slots: Arc<Semaphore>,
    /// One per check of a presented value, running or waiting.
    admitted: Arc<Semaphore>,
    argon2_runs: Arc<AtomicU64>,
    memory: Arc<MemoryPool>,
}

impl Hasher {
    pub fn new(bound: Argon2Bound) -> Self {
        let runs = usize::try_from(bound.concurrency).unwrap_or(1).max(1);
        let waiting = usize::try_from(bound.queue).unwrap_or(0);
        Self {
            argon2_slots: Arc::new(Semaphore::new(runs)),
            admitted: Arc::new(Semaphore::new(runs.saturating_add(waiting))),
            argon2_runs: Arc::new(AtomicU64::new(0)),
            memory: Arc::new(MemoryPool::default()),
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
            return secret_hash::hash_for_storage(value, salt, &mut []).map_err(internal);
        }
        let (value, salt) = (value.clone(), salt.to_vec());
        self.blocking(None, true, move |memory| {
            secret_hash::hash_for_storage(&value, &salt, memory)
        })
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
            return PresentedDigest::compute(value, salt, &mut []).map_err(internal);
        }
        let (value, salt) = (value.clone(), salt.to_vec());
        self.check_presented(move |memory| PresentedDigest::compute(&value, &salt, memory))
            .await?
            .map_err(internal)
    }

    /// Runs `work`, one Argon2id check of a presented value (a console
    /// password, say), under the same bound and in a buffer of the pool:
    /// [`ServiceError::Busy`] at once when `argon2.concurrency` runs are going
    /// and `argon2.queue` wait.
    pub async fn check_presented<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut [Block]) -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        let admitted = self.admit()?;
        self.blocking(Some(admitted), true, work).await
    }

    /// Runs `work`, one Argon2id hash of a new value (a console password, say),
    /// in a buffer of the pool once a run place is free. Not subject to the
    /// queue bound: only authorised callers (and the first start) store values.
    pub async fn hash_new<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut [Block]) -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        self.blocking(None, true, work).await
    }

    fn admit(&self) -> Result<OwnedSemaphorePermit, ServiceError> {
        self.admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| ServiceError::Busy)
    }

    /// How many Argon2id runs this process has made (a metric, and the proof in
    /// tests that a verification costs at most one).
    pub fn argon2_runs(&self) -> u64 {
        self.argon2_runs.load(Ordering::Relaxed)
    }

    /// Argon2id buffers the pool has made so far: never more than
    /// `argon2.concurrency`, whatever the number of runs.
    pub fn argon2_buffers(&self) -> usize {
        self.memory.made.load(Ordering::Relaxed)
    }

    /// Runs `work` on a blocking thread once a run place is free, with a buffer
    /// of the pool when `with_memory` (else an empty slice).
    async fn blocking<T: Send + 'static>(
        &self,
        admitted: Option<OwnedSemaphorePermit>,
        with_memory: bool,
        work: impl FnOnce(&mut [Block]) -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        let waiting = METRICS.argon2_enqueued();
        let slot = self
            .argon2_slots
            .clone()
            .acquire_owned()
            .await
            .map_err(internal)?;
        waiting.admitted();
        METRICS.argon2_run();
        self.argon2_runs.fetch_add(1, Ordering::Relaxed);
        let pool = self.memory.clone();
        tokio::task::spawn_blocking(move || {
            // The buffer goes back to the pool before the run place is freed,
            // so the places bound the buffers too.
            let _held = (slot, admitted);
            if with_memory {
                let mut lent = Lent::from(&pool);
                work(lent.blocks())
            } else {
                work(&mut [])
            }
        })
        .await
        .map_err(internal)
    }
}

/// The Argon2id buffers not in use. A buffer is taken only while holding a run
/// place, so at most `argon2.concurrency` are ever made.
#[derive(Default)]
struct MemoryPool {
    free: Mutex<Vec<Box<[Block]>>>,
    made: AtomicUsize,
}

/// A buffer lent for one run, given back when dropped (after a panic too).
struct Lent<'a> {
    pool: &'a MemoryPool,
    buffer: Option<Box<[Block]>>,
}

impl<'a> From<&'a Arc<MemoryPool>> for Lent<'a> {
    fn from(pool: &'a Arc<MemoryPool>) -> Self {
        let reused = pool
            .free
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let buffer = reused.unwrap_or_else(|| {
            pool.made.fetch_add(1, Ordering::Relaxed);
            secret_hash::argon2_memory()
        });
        Self {
            pool,
            buffer: Some(buffer),
        }
    }
}

impl Lent<'_> {
    fn blocks(&mut self) -> &mut [Block] {
        self.buffer.as_deref_mut().unwrap_or_default()
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if let Some(buffer) = self.buffer.take() {
            self.pool
                .free
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(buffer);
        }
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
    use std::collections::HashSet;
    use std::sync::mpsc;

    use super::*;
    use crate::domain::secret_hash::ARGON2_BLOCKS;
    use crate::domain::secret_value::SecretValue;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn checks_beyond_the_runs_and_the_queue_are_refused_at_once() {
        let hasher = Hasher::new(Argon2Bound {
            concurrency: 1,
            queue: 1,
        });
        let (release, gate) = mpsc::channel::<()>();
        let running = {
            let h = hasher.clone();
            tokio::spawn(async move { h.check_presented(move |_| gate.recv().is_ok()).await })
        };
        let waiting = {
            let h = hasher.clone();
            tokio::spawn(async move { h.check_presented(|_| true).await })
        };
        // Both places are taken (one running, one waiting) before the third arrives.
        while hasher.admitted.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let third = hasher.check_presented(|_| true).await;
        assert!(matches!(third, Err(ServiceError::Busy)), "{third:?}");
        release.send(()).unwrap();
        assert!(running.await.unwrap().unwrap());
        assert!(waiting.await.unwrap().unwrap());
        assert!(
            hasher.check_presented(|_| true).await.unwrap(),
            "places come back"
        );
        assert_eq!(hasher.argon2_runs(), 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn argon2_memory_is_one_reused_buffer_per_run_place() {
        let hasher = Hasher::new(Argon2Bound {
            concurrency: 2,
            queue: 32,
        });
        let seen = Arc::new(Mutex::new(HashSet::new()));
        // The first two runs hold their buffers together, so the pool must make two.
        let both = Arc::new(std::sync::Barrier::new(2));
        let runs: Vec<_> = (0..12)
            .map(|n| {
                let (h, seen, both) = (hasher.clone(), seen.clone(), both.clone());
                tokio::spawn(async move {
                    h.check_presented(move |memory| {
                        if n < 2 {
                            both.wait();
                        }
                        seen.lock().unwrap().insert(memory.as_ptr() as usize);
                        memory.len()
                    })
                    .await
                })
            })
            .collect();
        for run in runs {
            assert_eq!(run.await.unwrap().unwrap(), ARGON2_BLOCKS);
        }
        assert_eq!(hasher.argon2_buffers(), 2, "one buffer per run place");
        assert_eq!(seen.lock().unwrap().len(), 2, "twelve runs, two buffers");

        // Real hashes of presented and stored values, right or wrong, reuse them.
        let salt = [5u8; 16];
        let value = SecretValue::supplied("a supplied value of some length, 40+").unwrap();
        let stored = hasher.hash_for_storage(&value, &salt).await.unwrap();
        let checks: Vec<_> = (0..6)
            .map(|n| {
                let h = hasher.clone();
                let presented = if n % 2 == 0 {
                    SecretValue::presented("a supplied value of some length, 40+")
                } else {
                    SecretValue::presented(&format!("a wrong value number {n}"))
                };
                tokio::spawn(async move { h.digest(&presented, &salt).await })
            })
            .collect();
        for (n, check) in checks.into_iter().enumerate() {
            let digest = check.await.unwrap().unwrap();
            assert_eq!(digest.matches(&stored), n % 2 == 0);
        }
        assert_eq!(hasher.argon2_buffers(), 2, "no buffer beyond the pool");
        assert_eq!(hasher.argon2_runs(), 12 + 1 + 6);
    }
}
