//! Batching reads: a request queues its key; a worker (a task spawned while there is
//! work) takes everything waiting, reads it with one call to the [`Source`] and hands
//! every request its own answer. One worker runs while it keeps up; more (up to
//! `max_workers`) start only while a full batch ([`MAX_BATCH`]) is waiting.
//!
//! The rule that keeps strict mode strict: a batch is taken from the queue before its
//! read starts, so every request in it arrived before the read started, and a request
//! arriving later never joins a read in flight (not even one for the same key): it
//! waits for the next batch.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::storage::StorageError;

/// Requests answered by one read at most.
const MAX_BATCH: usize = 128;
/// How long a request waits for its answer at most (a worker's wait for a
/// connection, then the read itself).
const ANSWER_WAIT: Duration = Duration::from_secs(6);

/// Where batches are read from.
pub(super) trait Source: Send + Sync + 'static {
    type Key: Send + 'static;
    type Value: Send + 'static;

    /// One value per key, in the keys' order.
    fn read(
        &self,
        keys: &[Self::Key],
    ) -> impl Future<Output = Result<Vec<Self::Value>, StorageError>> + Send;
}

struct Waiting<S: Source> {
    key: S::Key,
    reply: oneshot::Sender<Result<S::Value, StorageError>>,
}

struct Queue<S: Source> {
    waiting: Vec<Waiting<S>>,
    /// Workers running.
    workers: usize,
}

struct Shared<S: Source> {
    source: S,
    queue: Mutex<Queue<S>>,
    max_workers: usize,
}

pub(super) struct Batcher<S: Source> {
    shared: Arc<Shared<S>>,
}

impl<S: Source> Batcher<S> {
    pub(super) fn new(source: S, max_workers: usize) -> Self {
        Self {
            shared: Arc::new(Shared {
                source,
                queue: Mutex::new(Queue {
                    waiting: Vec::new(),
                    workers: 0,
                }),
                max_workers: max_workers.max(1),
            }),
        }
    }

    /// The value for `key`, read by a batch that started after this call.
    pub(super) async fn read(&self, key: S::Key) -> Result<S::Value, StorageError> {
        let (reply, answer) = oneshot::channel();
        let start_worker = {
            let mut queue = self.shared.queue();
            queue.waiting.push(Waiting { key, reply });
            // One worker while it keeps up: fewer, larger statements cost the database
            // far less than many small ones. Another starts only when a full batch
            // is waiting.
            let start = queue.workers == 0
                || (queue.workers < self.shared.max_workers && queue.waiting.len() >= MAX_BATCH);
            if start {
                queue.workers += 1;
            }
            start
        };
        if start_worker {
            tokio::spawn(Worker::new(self.shared.clone()).run());
        }
        match tokio::time::timeout(ANSWER_WAIT, answer).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => Err(StorageError::Unavailable(
                "the token path's read was abandoned".into(),
            )),
            Err(_) => Err(StorageError::Unavailable(
                "the database did not answer in time".into(),
            )),
        }
    }
}

impl<S: Source> Shared<S> {
    fn queue(&self) -> MutexGuard<'_, Queue<S>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads one batch and answers each of its requests.
    async fn serve(&self, batch: Vec<Waiting<S>>) {
        let (keys, replies): (Vec<_>, Vec<_>) = batch.into_iter().map(|w| (w.key, w.reply)).unzip();
        match self.source.read(&keys).await {
            Ok(values) if values.len() == replies.len() => {
                for (reply, value) in replies.into_iter().zip(values) {
                    let _ = reply.send(Ok(value));
                }
            }
            Ok(values) => {
                let why = format!("a read of {} keys answered {}", replies.len(), values.len());
                for reply in replies {
                    let _ = reply.send(Err(StorageError::Corrupt(why.clone())));
                }
            }
            Err(e) => {
                for reply in replies {
                    let _ = reply.send(Err(same_error(&e)));
                }
            }
        }
    }
}

/// One error for every request of a failed batch: "unreachable" stays "unreachable"
/// (the breaker counts it), anything else stays a database error.
fn same_error(e: &StorageError) -> StorageError {
    match e {
        StorageError::Unavailable(why) => StorageError::Unavailable(why.clone()),
        StorageError::Corrupt(why) => StorageError::Corrupt(why.clone()),
        other => StorageError::Database(sqlx::Error::Protocol(other.to_string())),
    }
}

/// A running worker: serves batches until the queue is empty. It counts itself out
/// under the queue's lock when it sees the queue empty, so a request pushed after
/// that starts a new worker; if it ends any other way (a panic), dropping it counts
/// it out.
struct Worker<S: Source> {
    shared: Arc<Shared<S>>,
    counted_out: bool,
}

impl<S: Source> Worker<S> {
    fn new(shared: Arc<Shared<S>>) -> Self {
        Self {
            shared,
            counted_out: false,
        }
    }

    async fn run(mut self) {
        loop {
            let batch = {
                let mut queue = self.shared.queue();
                if queue.waiting.is_empty() {
                    queue.workers -= 1;
                    drop(queue);
                    self.counted_out = true;
                    return;
                }
                let take = queue.waiting.len().min(MAX_BATCH);
                queue.waiting.drain(..take).collect::<Vec<_>>()
            };
            self.shared.serve(batch).await;
        }
    }
}

impl<S: Source> Drop for Worker<S> {
    fn drop(&mut self) {
        if !self.counted_out {
            self.shared.queue().workers -= 1;
        }
    }
}

#[cfg(test)]
mod tests;
