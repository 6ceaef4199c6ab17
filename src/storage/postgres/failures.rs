//! Failed client authentications shared by the nodes of one database (table
//! `auth_failures`, see [`crate::storage::failures`]).
//!
//! Recording is serialised per key: the transaction first takes a transaction
//! advisory lock per key (names before addresses, always in that order, so two
//! recordings never wait on each other in a cycle), then reads the key's count in
//! the window. Under READ COMMITTED each statement after the lock sees every
//! recording committed before the lock was granted, so the count is exact and at
//! most `max` failures per key are ever counted. A full key counts nothing, so a
//! key keeps at most `max` live rows; its expired rows are deleted at its next
//! failure, and a few expired rows of other keys with every recording.
//!
//! The token path reads a key's shared count with the client's credentials, in
//! the same query (`credentials::load_many`): a node refuses a key
//! whose window is full without checking, however recently it filled.
//!
//! Each counted failure is announced at commit on [`CHANNEL`] (payload: count,
//! milliseconds until the oldest failure leaves the window, key); every node
//! subscribed through [`Feed`] listens on one connection of its own and hands
//! the announcements to its limiter. A lost listening connection loses
//! announcements (the shared count still bounds what is counted) and is
//! re-opened after a pause.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{PgPool, Row};
use tokio::sync::broadcast;

use crate::storage::StorageError;
use crate::storage::failures::{FailureLimit, FailureVerdict, KeyFailures};

/// The channel counted failures are announced on.
pub const CHANNEL: &str = "latchkey_failures";
/// The `application_name` of the listening connection.
pub const APPLICATION_NAME: &str = "latchkey-failures-listener";
/// The advisory-lock class of the first limit (the second takes the next one).
const LOCK_CLASS: i32 = 0x4c4b_0000;
/// Expired rows of other keys deleted with each recording, at most.
const PRUNE: i64 = 64;
/// The pause before listening again after a failure.
const RETRY: Duration = Duration::from_secs(1);
/// Announcements a slow subscriber may lag behind before it loses some.
const BACKLOG: usize = 4096;

pub(super) async fn record(
    pool: &PgPool,
    limits: &[FailureLimit],
    window: Duration,
) -> Result<FailureVerdict, StorageError> {
    let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
    let keys: Vec<&str> = limits.iter().map(|l| l.key.as_str()).collect();
    let mut tx = pool.begin().await?;
    for (class, key) in (LOCK_CLASS..).zip(&keys) {
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind(class)
            .bind(*key)
            .execute(&mut *tx)
            .await?;
    }
    let rows = sqlx::query(
        "SELECT k.key, count(f.key) AS n, \
         COALESCE(EXTRACT(EPOCH FROM min(f.expires_at) - clock_timestamp()) * 1000, 0)::float8 AS ms \
         FROM unnest($1::text[]) AS k(key) \
         LEFT JOIN auth_failures f ON f.key = k.key AND f.expires_at > clock_timestamp() \
         GROUP BY k.key",
    )
    .bind(&keys)
    .fetch_all(&mut *tx)
    .await?;
    let mut states = Vec::with_capacity(limits.len());
    let mut full = None;
    for limit in limits {
        let row = rows
            .iter()
            .find(|r| r.try_get::<&str, _>("key").is_ok_and(|k| k == limit.key))
            .ok_or_else(|| StorageError::Corrupt("auth_failures: a key went missing".into()))?;
        let count = u32::try_from(row.try_get::<i64, _>("n")?).unwrap_or(u32::MAX);
        let ms: f64 = row.try_get("ms")?;
        let oldest_ends_in = Duration::from_secs_f64((ms / 1000.0).clamp(0.0, 1e9));
        if count >= limit.max {
            let wait = oldest_ends_in.max(Duration::from_secs(1));
            full = Some(full.map_or(wait, |w: Duration| w.max(wait)));
        }
        states.push(KeyFailures {
            key: limit.key.clone(),
            count,
            oldest_ends_in,
        });
    }
    if let Some(retry_after) = full {
        tx.commit().await?;
        return Ok(FailureVerdict::Full {
            retry_after,
            keys: states,
        });
    }
    sqlx::query(
        "DELETE FROM auth_failures WHERE key = ANY($1) AND expires_at <= clock_timestamp()",
    )
    .bind(&keys)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM auth_failures WHERE ctid IN (SELECT ctid FROM auth_failures \
         WHERE expires_at <= clock_timestamp() LIMIT $1)",
    )
    .bind(PRUNE)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO auth_failures (key, expires_at) \
         SELECT k, clock_timestamp() + $2 * interval '1 millisecond' FROM unnest($1::text[]) AS k",
    )
    .bind(&keys)
    .bind(window_ms)
    .execute(&mut *tx)
    .await?;
    for state in &mut states {
        if state.count == 0 {
            state.oldest_ends_in = window;
        }
        state.count += 1;
    }
    let payloads: Vec<String> = states.iter().map(payload).collect();
    sqlx::query("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p")
        .bind(CHANNEL)
        .bind(&payloads)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(FailureVerdict::Counted(states))
}

fn payload(state: &KeyFailures) -> String {
    format!(
        "{} {} {}",
        state.count,
        state.oldest_ends_in.as_millis(),
        state.key
    )
}

fn parse(payload: &str) -> Option<KeyFailures> {
    let mut parts = payload.splitn(3, ' ');
    let count = parts.next()?.parse().ok()?;
    let ms = parts.next()?.parse().ok()?;
    let key = parts.next()?.to_owned();
    Some(KeyFailures {
        key,
        count,
        oldest_ends_in: Duration::from_millis(ms),
    })
}

/// The announcements of every node, for this node's subscribers; the listening
/// connection is opened at the first subscription.
pub(super) struct Feed {
    options: PgConnectOptions,
    sender: std::sync::OnceLock<broadcast::Sender<KeyFailures>>,
}

impl Feed {
    pub(super) fn new(options: PgConnectOptions) -> Self {
        Self {
            options,
            sender: std::sync::OnceLock::new(),
        }
    }

    pub(super) fn subscribe(&self) -> broadcast::Receiver<KeyFailures> {
        self.sender
            .get_or_init(|| {
                let (sender, _) = broadcast::channel(BACKLOG);
                let options = self.options.clone().application_name(APPLICATION_NAME);
                tokio::spawn(listen(options, sender.downgrade()));
                sender
            })
            .subscribe()
    }
}

/// Listens until the feed is dropped, re-opening the connection after failures.
/// A failure is logged once as a warning, then at `debug` until listening again.
async fn listen(options: PgConnectOptions, feed: broadcast::WeakSender<KeyFailures>) {
    let mut failing = false;
    loop {
        let failure = match serve(&options, &feed, &mut failing).await {
            Ok(()) => return,
            Err(e) => e.to_string(),
        };
        if failing {
            tracing::debug!(error = %failure, "failed-attempt announcements: still not listening");
        } else {
            tracing::warn!(
                error = %failure,
                "failed-attempt announcements: not listening ({failure}); each node's own \
                 limit and the shared count still hold, listening again shortly"
            );
            failing = true;
        }
        tokio::time::sleep(RETRY).await;
        if feed.upgrade().is_none() {
            return;
        }
    }
}

/// Forwards announcements until the connection fails (`Err`) or the feed is gone.
async fn serve(
    options: &PgConnectOptions,
    feed: &broadcast::WeakSender<KeyFailures>,
    failing: &mut bool,
) -> Result<(), sqlx::Error> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_with(options.clone())
        .await?;
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.ignore_pool_close_event(true);
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    if std::mem::take(failing) {
        tracing::info!("failed-attempt announcements: listening again");
    }
    loop {
        let Some(notification) = listener.try_recv().await? else {
            return Err(sqlx::Error::Protocol(
                "the listening connection was closed".into(),
            ));
        };
        let Some(sender) = feed.upgrade() else {
            return Ok(());
        };
        if let Some(state) = parse(notification.payload()) {
            // No subscriber left is not an error: the node is shutting down.
            let _ = sender.send(state);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_keys_with_spaces() {
        let state = KeyFailures {
            key: "c 0b7 my client".into(),
            count: 3,
            oldest_ends_in: Duration::from_millis(41_500),
        };
        assert_eq!(parse(&payload(&state)), Some(state));
        assert_eq!(parse("x 1 k"), None);
    }
}
