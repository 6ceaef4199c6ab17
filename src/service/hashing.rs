//! Hashing off the async runtime, with Argon2id bounded to one run per core at a
//! time so a burst of supplied-secret checks cannot exhaust memory (19 MiB each).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Semaphore;

use super::ServiceError;
use crate::domain::secret_hash::{self, PresentedDigest, StoredHash};
use crate::domain::secret_value::SecretValue;

#[derive(Clone)]
pub struct Hasher {
    argon2_slots: Arc<Semaphore>,
    argon2_runs: Arc<AtomicU64>,
}

impl Hasher {
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self {
            argon2_slots: Arc::new(Semaphore::new(cores)),
            argon2_runs: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The stored hash of a new value (Argon2id for supplied values).
    pub async fn hash_for_storage(
        &self,
        value: &SecretValue,
        salt: &[u8],
    ) -> Result<StoredHash, ServiceError> {
        if value.is_generated() {
            return secret_hash::hash_for_storage(value, salt).map_err(internal);
        }
        let (value, salt) = (value.clone(), salt.to_vec());
        self.blocking(move || secret_hash::hash_for_storage(&value, &salt))
            .await
    }

    /// The digest of a presented value: one SHA-256, or one Argon2id run.
    pub async fn digest(
        &self,
        value: &SecretValue,
        salt: &[u8],
    ) -> Result<PresentedDigest, ServiceError> {
        if !PresentedDigest::needs_argon2(value) {
            return PresentedDigest::compute(value, salt).map_err(internal);
        }
        let (value, salt) = (value.clone(), salt.to_vec());
        self.blocking(move || PresentedDigest::compute(&value, &salt))
            .await
    }

    /// How many Argon2id runs this process has made (a metric, and the proof in
    /// tests that a verification costs at most one).
    pub fn argon2_runs(&self) -> u64 {
        self.argon2_runs.load(Ordering::Relaxed)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, secret_hash::HashingFailed> + Send + 'static,
    ) -> Result<T, ServiceError> {
        let _slot = self.argon2_slots.acquire().await.map_err(internal)?;
        self.argon2_runs.fetch_add(1, Ordering::Relaxed);
        tokio::task::spawn_blocking(work)
            .await
            .map_err(internal)?
            .map_err(internal)
    }
}

impl Default for Hasher {
    fn default() -> Self {
        Self::new()
    }
}

fn internal(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(e.to_string())
}
