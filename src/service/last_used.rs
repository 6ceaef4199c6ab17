//! `LastUsedAt`, coalesced: a successful use is noted in memory; a flush writes
//! each noted secret once (its latest use) in one transaction. The server
//! flushes every `tokens.lastUsedInterval` and at shutdown, so the token path
//! never writes to the database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use crate::domain::ids::SecretId;
use crate::storage::{SecretUse, Storage, StorageError};

/// The latest noted use of each secret, keyed by (client pk, secret id).
type Pending = HashMap<(i64, SecretId), DateTime<Utc>>;

#[derive(Clone)]
pub struct LastUsed {
    pending: Arc<Mutex<Pending>>,
    store: Arc<dyn Storage>,
}

impl LastUsed {
    pub fn new(store: Arc<dyn Storage>) -> Self {
        Self {
            pending: Arc::new(Mutex::new(HashMap::new())),
            store,
        }
    }

    /// Notes a successful use (memory only).
    pub fn note(&self, client_pk: i64, secret_id: SecretId, at: DateTime<Utc>) {
        if let Ok(mut pending) = self.pending.lock() {
            let latest = pending.entry((client_pk, secret_id)).or_insert(at);
            *latest = (*latest).max(at);
        }
    }

    /// Writes every noted use; returns how many secrets were written. On failure
    /// the uses are put back for the next flush.
    pub async fn flush(&self) -> Result<usize, StorageError> {
        let drained: Vec<SecretUse> = match self.pending.lock() {
            Ok(mut pending) => pending
                .drain()
                .map(|((client_pk, secret_id), at)| SecretUse {
                    client_pk,
                    secret_id,
                    at,
                })
                .collect(),
            Err(_) => return Ok(0),
        };
        if drained.is_empty() {
            return Ok(0);
        }
        if let Err(e) = self.store.record_last_used(&drained).await {
            for u in &drained {
                self.note(u.client_pk, u.secret_id, u.at);
            }
            return Err(e);
        }
        Ok(drained.len())
    }
}
