//! The delivery queue: claim due deliveries under a lease, renew the lease while
//! attempts run, and record each attempt's outcome. Called by `notify.rs`.

use chrono::{DateTime, Utc};
use sqlx::SqlitePool;

use crate::storage::rows::{self, delivery_columns};
use crate::storage::{AttemptOutcome, ClaimedDelivery, NextStep, PendingDeliveries, StorageError};

pub(super) async fn claim_deliveries(
    pool: &SqlitePool,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<ClaimedDelivery>, StorageError> {
    let mut tx = pool.begin().await?;
    let ids: Vec<i64> = sqlx::query_scalar(
        "UPDATE deliveries SET lease_until = ?, attempts = attempts + 1 WHERE id IN \
         (SELECT id FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ? \
         AND (lease_until IS NULL OR lease_until <= ?) ORDER BY next_attempt_at, id LIMIT ?) \
         RETURNING id",
    )
    .bind(lease_until)
    .bind(now)
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    let mut claimed = Vec::with_capacity(ids.len());
    for id in ids {
        let row = sqlx::query(concat!(
            "SELECT ",
            delivery_columns!(""),
            ", d.tenant_id AS tenant, e.payload, w.url, w.signing_secret_sealed \
             FROM deliveries d JOIN events e ON e.id = d.event_id \
             LEFT JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = ?"
        ))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        claimed.push(claimed_delivery(&row)?);
    }
    tx.commit().await?;
    Ok(claimed)
}

pub(super) async fn renew_leases(
    pool: &SqlitePool,
    ids: &[i64],
    lease_until: DateTime<Utc>,
) -> Result<(), StorageError> {
    let mut tx = pool.begin().await?;
    for id in ids {
        sqlx::query(
            "UPDATE deliveries SET lease_until = ? \
             WHERE id = ? AND state = 'pending' AND lease_until IS NOT NULL",
        )
        .bind(lease_until)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn finish_attempt(
    pool: &SqlitePool,
    delivery_id: i64,
    outcome: &AttemptOutcome,
) -> Result<(), StorageError> {
    let r = &outcome.record;
    let (state, next, delivered) = match outcome.next {
        NextStep::Delivered => ("delivered", r.at, Some(r.at)),
        NextStep::RetryAt(at) => ("pending", at, None),
        NextStep::GiveUp => ("failed", r.at, None),
    };
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "UPDATE deliveries SET state = ?, next_attempt_at = ?, lease_until = NULL, \
         last_status = ?, last_error = ?, delivered_at = ? WHERE id = ? AND attempts = ?",
    )
    .bind(state)
    .bind(next)
    .bind(r.status.map(i32::from))
    .bind(&r.error)
    .bind(delivered)
    .bind(delivery_id)
    .bind(i64::from(r.attempt))
    .execute(&mut *tx)
    .await?;
    // A delivery deleted during the attempt (its subscription or tenant went)
    // has nothing left to record; nor has an attempt whose lease ran out and whose
    // delivery another worker claimed since (its outcome would overwrite a newer one).
    if done.rows_affected() == 0 {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO delivery_attempts (delivery_id, attempt, at, status, error, duration_ms) \
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(delivery_id)
    .bind(r.attempt)
    .bind(r.at)
    .bind(r.status.map(i32::from))
    .bind(&r.error)
    .bind(r.duration_ms)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) fn claimed_delivery(
    row: &sqlx::sqlite::SqliteRow,
) -> Result<ClaimedDelivery, StorageError> {
    use sqlx::Row;
    let tenant: String = row.try_get("tenant")?;
    let url: Option<String> = row.try_get("url")?;
    let sealed: Option<Vec<u8>> = row.try_get("signing_secret_sealed")?;
    Ok(ClaimedDelivery {
        delivery: rows::delivery(row)?,
        tenant: rows::parse_tenant("deliveries.tenant_id", &tenant)?,
        payload: row.try_get("payload")?,
        webhook: url.zip(sealed),
    })
}

pub(super) async fn pending_deliveries(
    pool: &SqlitePool,
) -> Result<PendingDeliveries, StorageError> {
    let (count, oldest_created_at): (i64, Option<DateTime<Utc>>) =
        sqlx::query_as("SELECT COUNT(*), MIN(created_at) FROM deliveries WHERE state = 'pending'")
            .fetch_one(pool)
            .await?;
    Ok(PendingDeliveries {
        count,
        oldest_created_at,
    })
}
