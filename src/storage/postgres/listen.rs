//! Credential changes between nodes, for the `cached` credentials mode: every
//! write that changes what [`crate::storage::Storage::load_credentials`] returns
//! calls [`announce_change`] inside its transaction (PostgreSQL delivers the
//! notification only if, and when, that transaction commits), and each node in
//! `cached` mode runs [`spawn`]: one connection that `LISTEN`s on [`CHANNEL`] and
//! empties the node's cache at every notification.
//!
//! A dropped listening connection loses notifications, so the cache is trusted
//! only while the listener is confirmed live: every [`PROBE_INTERVAL`] a probe
//! (`SELECT 1`) runs on the listening connection itself. PostgreSQL sends a
//! listening session the notifications pending for it before it answers a query,
//! so once the probe's answer is in and the notifications that came with it are
//! processed, every change committed before the probe was sent is applied. The
//! cache answers only within [`WINDOW`] of the last such probe; a probe without
//! an answer within the window, or a lost connection, empties the cache and the
//! node reads from the database until it has listened again (and emptied the
//! cache once more). Hence the bound: a change acknowledged to its caller is
//! enforced by every node at most [`WINDOW`] later, typically within milliseconds.
//!
//! Every node announces, whatever its own mode, so nodes may run mixed modes.

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{Postgres, Transaction};

use crate::storage::StorageError;
use crate::storage::cached::Invalidations;

/// The notification channel credential changes are announced on.
pub const CHANNEL: &str = "latchkey_credentials";
/// The `application_name` of the listening connection (seen in `pg_stat_activity`).
pub const APPLICATION_NAME: &str = "latchkey-credentials-listener";
/// How long after its last confirmed probe a node may answer from its cache.
pub const WINDOW: Duration = Duration::from_secs(1);
/// How often the listening connection is probed.
pub const PROBE_INTERVAL: Duration = Duration::from_millis(200);
/// The wait before listening again after a failure.
const RETRY: Duration = Duration::from_millis(250);
/// How long connecting and `LISTEN` may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Announces, at commit, that credentials changed. One call per writing
/// transaction, before its commit; a rolled-back transaction announces nothing.
pub(super) async fn announce_change(
    tx: &mut Transaction<'_, Postgres>,
) -> Result<(), StorageError> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(CHANNEL)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Listens for credential changes on the database at `url` and drives the cache
/// through `invalidations`, until the cache is dropped.
pub fn spawn(url: &str, invalidations: Invalidations) -> Result<(), StorageError> {
    let options = PgConnectOptions::from_str(url)?.application_name(APPLICATION_NAME);
    tokio::spawn(run(options, invalidations));
    Ok(())
}

async fn run(options: PgConnectOptions, invalidations: Invalidations) {
    let mut failing = false;
    loop {
        let began = Instant::now();
        let failure = match tokio::time::timeout(CONNECT_TIMEOUT, listen(options.clone())).await {
            Ok(Ok(mut listener)) => {
                if !invalidations.listening(began) {
                    return;
                }
                tracing::info!("credentials cache: listening for changes; cache emptied");
                failing = false;
                match serve(&mut listener, &invalidations).await {
                    None => return,
                    Some(why) => {
                        if !invalidations.lose() {
                            return;
                        }
                        why
                    }
                }
            }
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no connection within {CONNECT_TIMEOUT:?}"),
        };
        if failing {
            tracing::debug!(error = %failure, "credentials cache: still not listening");
        } else {
            tracing::warn!(
                error = %failure,
                "credentials cache: not listening for changes ({failure}); cache emptied, \
                 credentials are read from the database until listening again"
            );
            failing = true;
        }
        tokio::time::sleep(RETRY).await;
        if !invalidations.cache_alive() {
            return;
        }
    }
}

/// A listening connection of its own (one-connection pool, no reconnection
/// behind our back: a reconnect must empty the cache, so it is done here).
async fn listen(options: PgConnectOptions) -> Result<PgListener, sqlx::Error> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_with(options)
        .await?;
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.ignore_pool_close_event(true);
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Applies notifications and probes until the connection fails (`Some(why)`) or
/// the cache is gone (`None`).
async fn serve(listener: &mut PgListener, invalidations: &Invalidations) -> Option<String> {
    let mut next_probe = Instant::now() + PROBE_INTERVAL;
    loop {
        let deadline = tokio::time::Instant::from_std(next_probe);
        // `try_recv` is cancel-safe: a timeout loses no notification.
        match tokio::time::timeout_at(deadline, listener.try_recv()).await {
            Ok(Ok(Some(_))) => {
                if !invalidations.clear() {
                    return None;
                }
            }
            Ok(Ok(None)) => return Some("the listening connection was closed".to_owned()),
            Ok(Err(e)) => return Some(e.to_string()),
            Err(_) => {
                let sent = Instant::now();
                let probe = sqlx::raw_sql("SELECT 1").execute(&mut *listener);
                match tokio::time::timeout(WINDOW, probe).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => return Some(e.to_string()),
                    Err(_) => return Some(format!("no answer to a probe within {WINDOW:?}")),
                }
                // Notifications that arrived with the probe's answer, before it.
                let mut changed = false;
                while listener.next_buffered().is_some() {
                    changed = true;
                }
                if (changed && !invalidations.clear()) || !invalidations.confirm(sent) {
                    return None;
                }
                next_probe = sent + PROBE_INTERVAL;
            }
        }
    }
}
