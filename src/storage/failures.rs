//! Failed client authentications counted for every node at once: the types of
//! [`super::Storage::record_failure`] and [`super::Storage::failure_feed`].
//!
//! A node keeps its own failed-attempt limiter; with several nodes on one
//! PostgreSQL database it also records each failure in the database, where the
//! count per key is serialised, so at most `max` failures per key and window are
//! confirmed across all nodes. Each recorded failure is announced to every node,
//! which folds it into its own limiter (a key whose window is full is then
//! refused everywhere without a check). Successes write and announce nothing.
//! SQLite has one process, whose limiter is the whole count: it records nothing.

use std::time::Duration;

/// One shared limit a failure counts against: `key` (opaque to storage) holds at
/// most `max` failures per window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureLimit {
    pub key: String,
    pub max: u32,
}

/// The shared count of one key after a failure was recorded (or refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFailures {
    pub key: String,
    /// Failures in the window, this one included when it was counted.
    pub count: u32,
    /// When the oldest of them leaves the window, from now.
    pub oldest_ends_in: Duration,
}

/// What [`super::Storage::record_failure`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureVerdict {
    /// Counted against every limit: each key's count is at most its `max`.
    Counted(Vec<KeyFailures>),
    /// A limit was already full (other nodes' failures filled it): nothing was
    /// counted; the attempt is to be refused as throttled for this long.
    Full {
        retry_after: Duration,
        keys: Vec<KeyFailures>,
    },
}

impl FailureVerdict {
    /// The keys' shared counts, for the local limiter.
    pub fn keys(&self) -> &[KeyFailures] {
        match self {
            Self::Counted(keys) | Self::Full { keys, .. } => keys,
        }
    }
}
