//! The batching rules with a fake source whose reads the test opens and closes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Semaphore, mpsc};

use super::*;

/// Answers each key with (key, number of the batch that read it); a read starts by
/// reporting its keys and then waits for one permit of `gate`.
struct Fake {
    batches: AtomicUsize,
    started: mpsc::UnboundedSender<Vec<u32>>,
    gate: Arc<Semaphore>,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
    fail: bool,
}

impl Source for Fake {
    type Key = u32;
    type Value = (u32, usize);

    async fn read(&self, keys: &[u32]) -> Result<Vec<(u32, usize)>, StorageError> {
        let batch = self.batches.fetch_add(1, Ordering::SeqCst) + 1;
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_in_flight.fetch_max(now, Ordering::SeqCst);
        self.started.send(keys.to_vec()).unwrap();
        self.gate.acquire().await.unwrap().forget();
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        if self.fail {
            return Err(StorageError::Unavailable("refused".into()));
        }
        Ok(keys.iter().map(|k| (*k, batch)).collect())
    }
}

fn batcher(
    workers: usize,
    fail: bool,
) -> (
    Arc<Batcher<Fake>>,
    mpsc::UnboundedReceiver<Vec<u32>>,
    Arc<Semaphore>,
) {
    let (started, reads) = mpsc::unbounded_channel();
    let gate = Arc::new(Semaphore::new(0));
    let fake = Fake {
        batches: AtomicUsize::new(0),
        started,
        gate: gate.clone(),
        in_flight: AtomicUsize::new(0),
        most_in_flight: AtomicUsize::new(0),
        fail,
    };
    (Arc::new(Batcher::new(fake, workers)), reads, gate)
}

fn spawn_read(
    b: &Arc<Batcher<Fake>>,
    key: u32,
) -> tokio::task::JoinHandle<Result<(u32, usize), StorageError>> {
    let b = b.clone();
    tokio::spawn(async move { b.read(key).await })
}

/// A request for a key whose read is already in flight is not answered by that read:
/// the change it must see may have been acknowledged after that read started.
#[tokio::test]
async fn a_request_never_joins_a_read_already_in_flight() {
    for workers in [1, 4] {
        let (b, mut reads, gate) = batcher(workers, false);
        let first = spawn_read(&b, 7);
        assert_eq!(
            reads.recv().await.unwrap(),
            vec![7],
            "the first read is in flight"
        );
        let second = spawn_read(&b, 7);
        // The second request waits for a read of its own (a second batch).
        gate.add_permits(1);
        assert_eq!(first.await.unwrap().unwrap(), (7, 1));
        assert_eq!(reads.recv().await.unwrap(), vec![7], "a read of its own");
        gate.add_permits(1);
        assert_eq!(second.await.unwrap().unwrap(), (7, 2), "{workers} workers");
    }
}

async fn settle() {
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
}

/// Requests that arrive while the worker is busy share its next read, and each gets
/// the answer for its own key; fewer than a full batch start no second read.
#[tokio::test]
async fn waiting_requests_share_one_read_and_each_gets_its_own_answer() {
    let (b, mut reads, gate) = batcher(4, false);
    let busy = spawn_read(&b, 0);
    assert_eq!(reads.recv().await.unwrap(), vec![0], "the worker is busy");
    let waiting: Vec<_> = (100..140).map(|k| spawn_read(&b, k)).collect();
    settle().await;
    assert!(
        reads.try_recv().is_err(),
        "40 waiting requests start no second read"
    );
    gate.add_permits(1_000);
    assert_eq!(busy.await.unwrap().unwrap(), (0, 1));
    for (k, task) in (100..140).zip(waiting) {
        assert_eq!(
            task.await.unwrap().unwrap(),
            (k, 2),
            "its own key, from the second read"
        );
    }
    assert_eq!(
        b.shared.queue().workers,
        0,
        "workers end when the queue is empty"
    );
}

/// When a full batch waits behind a busy worker, another worker reads it at once (up
/// to the limit), and never more than the limit's number of reads run.
#[tokio::test]
async fn a_full_batch_waiting_starts_another_worker() {
    let (b, mut reads, gate) = batcher(2, false);
    let busy = spawn_read(&b, 0);
    assert_eq!(reads.recv().await.unwrap(), vec![0]);
    let full = u32::try_from(MAX_BATCH).unwrap();
    let waiting: Vec<_> = (1..=full * 3).map(|k| spawn_read(&b, k)).collect();
    settle().await;
    let second = reads.recv().await.unwrap();
    assert_eq!(second.len(), MAX_BATCH, "a second worker took a full batch");
    assert!(reads.try_recv().is_err(), "no third read: the limit is two");
    gate.add_permits(1_000);
    busy.await.unwrap().unwrap();
    for (k, task) in (1..).zip(waiting) {
        assert_eq!(task.await.unwrap().unwrap().0, k);
    }
    assert_eq!(b.shared.source.most_in_flight.load(Ordering::SeqCst), 2);
}

/// A failed read fails every request of its batch with the same kind of error, and the
/// next request starts a fresh worker.
#[tokio::test]
async fn a_failed_read_fails_its_whole_batch_as_unavailable() {
    let (b, mut reads, gate) = batcher(1, true);
    let busy = spawn_read(&b, 1);
    reads.recv().await.unwrap();
    let waiting: Vec<_> = (2..6).map(|k| spawn_read(&b, k)).collect();
    settle().await;
    gate.add_permits(100);
    assert!(matches!(
        busy.await.unwrap(),
        Err(StorageError::Unavailable(_))
    ));
    for task in waiting {
        assert!(matches!(
            task.await.unwrap(),
            Err(StorageError::Unavailable(_))
        ));
    }
    let again = spawn_read(&b, 9);
    assert!(matches!(
        again.await.unwrap(),
        Err(StorageError::Unavailable(_))
    ));
}
