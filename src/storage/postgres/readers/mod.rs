//! The token path's own connections: a few PostgreSQL connections used only for
//! [`super::credentials::load_many`], the read behind every token request and every
//! use of a token.
//!
//! Why not the pool: sqlx's pool pings a connection when it is taken (unless told not
//! to) and always pings it again when it is given back, so one read costs three round
//! trips to the server and three wake-ups of a PostgreSQL backend. Here a connection is
//! taken from a stack and used as is, and given back only when its read succeeded; a
//! connection that failed is dropped (the next read opens a new one). One that sat idle
//! for a while is pinged before use, so a server restart costs no failed request.
//!
//! Reads are batched: a request puts its (tenant, client) in a queue, and a worker (a
//! task spawned while there is work, one connection) takes everything waiting, reads
//! it in one statement and hands each request its answer. At low load a batch holds
//! one request; under load the requests that arrived while the worker was busy share
//! its next round trip, so the database runs one statement for many requests instead
//! of one each (measured on one core: a tenth of the statements, half the CPU per
//! request). More workers (at most [`WORKERS`]) start only while a full batch waits.
//!
//! Every read still goes to the database, and a batch is read only after every request
//! in it arrived: nothing is cached or shared across time, so a change acknowledged on
//! any node before a request arrives is seen by that request's read.
//!
//! ```text
//!  request ──push──► queue ──(a worker is free? spawn one)──► worker: take all waiting
//!     ▲                                                          │ one SELECT for the batch
//!     └──────────────────── its own answer (oneshot) ◄───────────┘
//! ```

mod batch;
mod connections;

use std::sync::Arc;

use sqlx::postgres::PgConnectOptions;

use crate::domain::ids::{ClientId, TenantId};
use crate::storage::failures::KeyFailures;
use crate::storage::{ClientCredentials, StorageError};

/// Workers (and so connections) at most, when one cannot keep up.
const WORKERS: usize = 4;

/// The token path's reads: batched ([`batch`]) over its own connections ([`connections`]).
pub(in crate::storage::postgres) struct Readers {
    batches: batch::Batcher<connections::Connections>,
}

impl Readers {
    pub(in crate::storage::postgres) fn new(options: PgConnectOptions) -> Self {
        Self {
            batches: batch::Batcher::new(connections::Connections::new(options), WORKERS),
        }
    }

    /// The client's credentials, read on a connection of the token path.
    pub(in crate::storage::postgres) async fn load_credentials(
        &self,
        tenant: &TenantId,
        client: &ClientId,
    ) -> Result<Option<Arc<ClientCredentials>>, StorageError> {
        let (credentials, _) = self.batches.read((*tenant, client.clone(), None)).await?;
        Ok(credentials)
    }

    /// [`Self::load_credentials`] with the shared failures of `failure_key` (see
    /// [`super::failures`]), in the same read.
    pub(in crate::storage::postgres) async fn load_credentials_and_failures(
        &self,
        tenant: &TenantId,
        client: &ClientId,
        failure_key: &str,
    ) -> Result<(Option<Arc<ClientCredentials>>, Option<KeyFailures>), StorageError> {
        let read = (*tenant, client.clone(), Some(failure_key.to_owned()));
        self.batches.read(read).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::str::FromStr;
    use std::time::Instant;

    use super::*;
    use connections::WAIT;

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
