//! The delivery queue: claim due deliveries under a lease (`FOR UPDATE SKIP LOCKED`,
//! so nodes never wait on or take each other's rows), renew the lease while attempts
//! run, and record each attempt's outcome. Called by `notify.rs`.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::storage::rows::{self, delivery_columns};
use crate::storage::{AttemptOutcome, ClaimedDelivery, NextStep, PendingDeliveries, StorageError};

pub(super) async fn claim_deliveries(
    pool: &PgPool,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<ClaimedDelivery>, StorageError> {
    let mut tx = pool.begin().await?;
    let ids: Vec<i64> = sqlx::query_scalar(
        "UPDATE deliveries SET lease_until = $1, attempts = attempts + 1 WHERE id IN \
         (SELECT id FROM deliveries WHERE state = 'pending' AND next_attempt_at <= $2 \
         AND (lease_until IS NULL OR lease_until <= $3) ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) \
         RETURNING id",
    )
    .bind(lease_until)
    .bind(now)
    .bind(now)
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?;
    let mut claimed = Vec::with_capacity(ids.len());
    for id in ids {
        let row = sqlx::query(concat!(
            "SELECT ",
            delivery_columns!("::text"),
            ", d.tenant_id::text AS tenant, e.payload, w.url, w.signing_secret_sealed \
             FROM deliveries d JOIN events e ON e.id = d.event_id \
             LEFT JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = $1"
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
    pool: &PgPool,
    ids: &[i64],
    lease_until: DateTime<Utc>,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE deliveries SET lease_until = $1 \
         WHERE id = ANY($2) AND state = 'pending' AND lease_until IS NOT NULL",
    )
    .bind(lease_until)
    .bind(ids)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn finish_attempt(
    pool: &PgPool,
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
        "UPDATE deliveries SET state = $1, next_attempt_at = $2, lease_until = NULL, \
         last_status = $3, last_error = $4, delivered_at = $5 WHERE id = $6 AND attempts = $7",
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
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(delivery_id)
    .bind(i32::try_from(r.attempt).unwrap_or(i32::MAX))
    .bind(r.at)
    .bind(r.status.map(i32::from))
    .bind(&r.error)
    .bind(i32::try_from(r.duration_ms).unwrap_or(i32::MAX))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) fn claimed_delivery(
    row: &sqlx::postgres::PgRow,
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

pub(super) async fn pending_deliveries(pool: &PgPool) -> Result<PendingDeliveries, StorageError> {
    let (count, oldest_created_at): (i64, Option<DateTime<Utc>>) =
        sqlx::query_as("SELECT COUNT(*), MIN(created_at) FROM deliveries WHERE state = 'pending'")
            .fetch_one(pool)
            .await?;
    Ok(PendingDeliveries {
        count,
        oldest_created_at,
    })
}
