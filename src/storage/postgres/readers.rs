//! The token path's own connections: a few PostgreSQL connections used only for
//! [`super::credentials::load_credentials`], the read behind every token request and
//! every use of a token.
//!
//! Why not the pool: sqlx's pool pings a connection when it is taken (unless told not
//! to) and always pings it again when it is given back, so one read costs three round
//! trips to the server and three wake-ups of a PostgreSQL backend. Here a connection is
//! taken from a stack and used as is, and given back only when its read succeeded; a
//! connection that failed is dropped (the next read opens a new one). One that sat idle
//! for a while is pinged before use, so a server restart costs no failed request.
//!
//! Every read still goes to the database: nothing is cached here, so a change
//! acknowledged on any node is seen by the next read.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};
use tokio::sync::Semaphore;

use crate::domain::ids::{ClientId, TenantId};
use crate::storage::{ClientCredentials, StorageError};

/// Connections at most; reads beyond wait for one (at most [`WAIT`]).
const CONNECTIONS: usize = 8;
/// How long a read waits for a connection before answering "unavailable".
const WAIT: Duration = Duration::from_secs(3);
/// A connection idle longer than this is pinged before its next read.
const STALE_AFTER: Duration = Duration::from_secs(5);

pub(super) struct Readers {
    options: PgConnectOptions,
    /// Idle connections and since when they are idle (most recently used last).
    idle: Mutex<Vec<(PgConnection, Instant)>>,
    /// One permit per connection in use or being opened.
    permits: Arc<Semaphore>,
}

impl Readers {
    pub(super) fn new(options: PgConnectOptions) -> Self {
        Self {
            options,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(CONNECTIONS)),
        }
    }

    /// The client's credentials, read on a connection of the token path.
    pub(super) async fn load_credentials(
        &self,
        tenant: &TenantId,
        client: &ClientId,
    ) -> Result<Option<Arc<ClientCredentials>>, StorageError> {
        let _permit = tokio::time::timeout(WAIT, self.permits.acquire())
            .await
            .map_err(|_| StorageError::Unavailable("no connection for the token path".into()))?
            .map_err(|_| StorageError::Unavailable("the token path's connections closed".into()))?;
        let mut conn = self.take().await?;
        match super::credentials::load_credentials(&mut conn, tenant, client).await {
            Ok(found) => {
                self.give_back(conn);
                Ok(found)
            }
            // The connection may be broken: drop it rather than hand it to the next read.
            Err(e) => Err(e),
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
