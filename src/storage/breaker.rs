//! Fail fast while the database is unreachable: a circuit breaker at the storage seam.
//!
//! Closed (the normal state), every call runs. A call that fails with
//! [`StorageError::Unavailable`] (connection refused or reset, pool timed out, the
//! server shutting down) opens the breaker: from then on every call fails at once
//! with `Unavailable` instead of queueing for the pool's acquire timeout, so the
//! front ends answer 503 within milliseconds. While open, one background probe
//! (`SELECT 1` through the pool) runs every [`PROBE_INTERVAL`]; the first probe
//! that reaches the database closes the breaker again, without a restart.
//!
//! ```text
//!   closed --(call fails Unavailable)--> open --(probe succeeds)--> closed
//!                                         ^ |
//!                                         +-+ probe fails: stay open, probe again
//! ```
//!
//! It must not open on ordinary database errors (a constraint, a bad row): only
//! errors the seam classified as "unreachable" count.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::StorageError;

/// How often an open breaker probes the database.
pub const PROBE_INTERVAL: Duration = Duration::from_millis(250);

type Probe =
    dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), StorageError>> + Send>> + Send + Sync;

/// Shared by every clone; one per pool.
#[derive(Clone)]
pub struct Breaker {
    inner: Arc<Inner>,
}

struct Inner {
    open: AtomicBool,
    probe: Box<Probe>,
}

impl Breaker {
    /// A closed breaker whose probe is `probe` (a cheap query that bypasses the breaker).
    pub fn new<F, Fut>(probe: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), StorageError>> + Send + 'static,
    {
        Self {
            inner: Arc::new(Inner {
                open: AtomicBool::new(false),
                probe: Box::new(move || Box::pin(probe())),
            }),
        }
    }

    /// True while the database is known to be unreachable.
    pub fn is_open(&self) -> bool {
        self.inner.open.load(Ordering::Acquire)
    }

    /// Runs `op` unless the breaker is open; opens it when `op` finds the database unreachable.
    pub async fn run<T>(
        &self,
        op: impl Future<Output = Result<T, StorageError>>,
    ) -> Result<T, StorageError> {
        if self.is_open() {
            return Err(StorageError::Unavailable(
                "the database is unreachable (waiting for it to come back)".into(),
            ));
        }
        let result = op.await;
        if let Err(StorageError::Unavailable(cause)) = &result {
            self.trip(cause);
        }
        result
    }

    /// Opens the breaker and starts the probe, unless it is open already.
    fn trip(&self, cause: &str) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.inner.open.swap(true, Ordering::AcqRel) {
            return;
        }
        tracing::warn!(error = %cause, "database unreachable; answering 503 until it is back: {cause}");
        let inner = self.inner.clone();
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(PROBE_INTERVAL).await;
                match (inner.probe)().await {
                    Err(StorageError::Unavailable(_)) => continue,
                    _ => break,
                }
            }
            inner.open.store(false, Ordering::Release);
            tracing::info!("database reachable again");
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use super::*;

    fn down() -> StorageError {
        StorageError::Unavailable("connection refused".into())
    }

    #[tokio::test]
    async fn opens_on_unreachable_fails_fast_and_closes_when_the_probe_succeeds() {
        let reachable = Arc::new(AtomicBool::new(false));
        let probe_sees = reachable.clone();
        let breaker = Breaker::new(move || {
            let up = probe_sees.load(Ordering::SeqCst);
            async move { if up { Ok(()) } else { Err(down()) } }
        });
        assert!(breaker.run(async { Ok(1) }).await.is_ok());
        let err = breaker.run(async { Err::<(), _>(down()) }).await;
        assert!(matches!(err, Err(StorageError::Unavailable(_))));
        assert!(breaker.is_open());
        // While open, the operation does not even run.
        let ran = AtomicBool::new(false);
        let err = breaker
            .run(async {
                ran.store(true, Ordering::SeqCst);
                Ok(())
            })
            .await;
        assert!(matches!(err, Err(StorageError::Unavailable(_))));
        assert!(!ran.load(Ordering::SeqCst));
        reachable.store(true, Ordering::SeqCst);
        for _ in 0..200 {
            if !breaker.is_open() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert!(
            !breaker.is_open(),
            "the breaker closed once the probe succeeded"
        );
        assert!(breaker.run(async { Ok(2) }).await.is_ok());
    }

    #[tokio::test]
    async fn other_database_errors_keep_it_closed() {
        let breaker = Breaker::new(|| async { Ok(()) });
        let err = breaker
            .run(async { Err::<(), _>(StorageError::Duplicate) })
            .await;
        assert!(matches!(err, Err(StorageError::Duplicate)));
        assert!(!breaker.is_open());
    }
}
