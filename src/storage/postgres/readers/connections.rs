//! The token path's PostgreSQL connections: a stack of idle connections, each used
//! as is (no ping on take or give-back, unlike sqlx's pool), pinged only after it
//! idled a while, dropped when a read on it failed.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

use super::batch::Source;
use crate::storage::StorageError;
use crate::storage::postgres::credentials::{CredentialAnswer, CredentialRead};

/// How long a read waits for a connection (a free one, a new one, or the ping of a
/// stale one) before answering "unavailable": the bound the pool's acquire timeout
/// gave, so a database that stops answering (packets dropped, not refused) costs a
/// request at most about this long, and the breaker then answers at once.
pub(super) const WAIT: Duration = Duration::from_secs(3);
/// A connection idle longer than this is pinged before its next read.
const STALE_AFTER: Duration = Duration::from_secs(5);

pub(super) struct Connections {
    options: PgConnectOptions,
    /// Idle connections and since when they are idle (most recently used last).
    idle: Mutex<Vec<(PgConnection, Instant)>>,
}

impl Connections {
    pub(super) fn new(options: PgConnectOptions) -> Self {
        Self {
            // The batched read's plan does not depend on its arrays (every key is an
            // index look-up): one generic plan, instead of PostgreSQL planning the
            // statement again at each execution because each batch has its own size.
            options: options.options([("plan_cache_mode", "force_generic_plan")]),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// An idle connection (pinged first when it idled long), or a new one.
    async fn take(&self) -> Result<PgConnection, StorageError> {
        loop {
            let popped = self.idle.lock().ok().and_then(|mut idle| idle.pop());
            let Some((mut conn, since)) = popped else {
                return Ok(PgConnection::connect_with(&self.options).await?);
            };
            if since.elapsed() < STALE_AFTER || conn.ping().await.is_ok() {
                return Ok(conn);
            }
        }
    }

    fn give_back(&self, conn: PgConnection) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push((conn, Instant::now()));
        }
    }
}

impl Source for Connections {
    type Key = CredentialRead;
    type Value = CredentialAnswer;

    async fn read(&self, keys: &[CredentialRead]) -> Result<Vec<CredentialAnswer>, StorageError> {
        let mut conn = tokio::time::timeout(WAIT, self.take())
            .await
            .map_err(|_| {
                StorageError::Unavailable("the database did not answer in time".into())
            })??;
        let found = super::super::credentials::load_many(&mut conn, keys).await?;
        // Only a connection whose read succeeded goes back: a failed one may be broken.
        self.give_back(conn);
        Ok(found)
    }
}
