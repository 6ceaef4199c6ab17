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
use crate::storage::failures::KeyFailures;
use crate::storage::{ClientCredentials, StorageError};

/// Connections at most; reads beyond wait for one (at most [`WAIT`]).
const CONNECTIONS: usize = 8;
/// How long a read waits for a connection (a free one, a new one, or the ping of a
/// stale one) before answering "unavailable": the bound the pool's acquire timeout
/// gave, so a database that stops answering (packets dropped, not refused) costs a
/// request at most this long, and the breaker then answers at once.
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
        let mut conn = tokio::time::timeout(WAIT, self.take())
            .await
            .map_err(|_| {
                StorageError::Unavailable("the database did not answer in time".into())
            })??;
        match super::credentials::load_credentials(&mut conn, tenant, client).await {
            Ok(found) => {
                self.give_back(conn);
                Ok(found)
            }
            // The connection may be broken: drop it rather than hand it to the next read.
            Err(e) => Err(e),
        }
    }

    /// [`Self::load_credentials`] with the shared failures of `failure_key`
    /// (see [`super::failures`]), in the same query.
    pub(super) async fn load_credentials_and_failures(
        &self,
        tenant: &TenantId,
        client: &ClientId,
        failure_key: &str,
    ) -> Result<(Option<Arc<ClientCredentials>>, Option<KeyFailures>), StorageError> {
        let _permit = tokio::time::timeout(WAIT, self.permits.acquire())
            .await
            .map_err(|_| StorageError::Unavailable("no connection for the token path".into()))?
            .map_err(|_| StorageError::Unavailable("the token path's connections closed".into()))?;
        let mut conn = tokio::time::timeout(WAIT, self.take())
            .await
            .map_err(|_| {
                StorageError::Unavailable("the database did not answer in time".into())
            })??;
        let found =
            super::failures::load_credentials_and_failures(&mut conn, tenant, client, failure_key)
                .await?;
        self.give_back(conn);
        Ok(found)
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::str::FromStr;

    use super::*;

    /// A server that accepts connections and never answers (a black hole, as when a
    /// firewall drops packets): a read gives up after [`WAIT`] with "unavailable",
    /// instead of waiting for the operating system's connect timeout.
    #[tokio::test]
    async fn a_database_that_never_answers_is_unavailable_after_the_wait() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let held = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                open.push(socket);
            }
        });
        let url = format!("postgres://nobody@127.0.0.1:{port}/nothing");
        let readers = Readers::new(PgConnectOptions::from_str(&url).unwrap());
        let (tenant, client) = (TenantId::generate(), ClientId::parse("c").unwrap());
        let started = Instant::now();
        let got = tokio::time::timeout(WAIT * 3, readers.load_credentials(&tenant, &client))
            .await
            .expect("the read gives up by itself");
        assert!(matches!(got, Err(StorageError::Unavailable(_))), "{got:?}");
        assert!(started.elapsed() >= WAIT);
        held.abort();
    }
}
