//! SQLite: leaked values: the tenant's leak policy, the once-per-value record of
//! a scanner's report (with the revocation it causes), and the stored scanner keys.

use sqlx::{Row, SqlitePool};

use super::journal::{insert_audit, write_journal};
use crate::domain::audit::AuditEntry;
use crate::domain::ids::TenantId;
use crate::domain::leaks::{KeyEntry, LeakPolicy};
use crate::storage::{Journal, LeakRecord, StorageError};

pub(super) async fn get_leak_policy(
    pool: &SqlitePool,
    tenant: &TenantId,
) -> Result<Option<LeakPolicy>, StorageError> {
    let found: Option<String> = sqlx::query_scalar("SELECT leak_policy FROM tenants WHERE id = ?")
        .bind(tenant.to_string())
        .fetch_optional(pool)
        .await?;
    found
        .map(|p| {
            LeakPolicy::parse(&p)
                .ok_or_else(|| StorageError::Corrupt(format!("tenants.leak_policy: {p:?}")))
        })
        .transpose()
}

pub(super) async fn set_leak_policy(
    pool: &SqlitePool,
    tenant: &TenantId,
    policy: LeakPolicy,
    journal: &Journal,
) -> Result<(), StorageError> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query("UPDATE tenants SET leak_policy = ? WHERE id = ?")
        .bind(policy.as_str())
        .bind(tenant.to_string())
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound);
    }
    write_journal(&mut tx, journal).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn record_leak(
    pool: &SqlitePool,
    leak: &LeakRecord,
    journal: &Journal,
) -> Result<bool, StorageError> {
    let mut tx = pool.begin().await?;
    let first = sqlx::query(
        "INSERT INTO leak_reports (digest, tenant_id, client_pk, secret_id, action, reported_at) \
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING",
    )
    .bind(&leak.digest)
    .bind(leak.tenant.to_string())
    .bind(leak.client_pk)
    .bind(leak.secret_id.0)
    .bind(leak.policy.as_str())
    .bind(leak.at)
    .execute(&mut *tx)
    .await?;
    if first.rows_affected() == 0 {
        return Ok(false);
    }
    if leak.policy == LeakPolicy::Revoke {
        let done = sqlx::query(
            "UPDATE secrets SET revoked_at = ? WHERE client_pk = ? AND id = ? AND revoked_at IS NULL",
        )
        .bind(leak.at)
        .bind(leak.client_pk)
        .bind(leak.secret_id.0)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false); // revoked meanwhile: rolled back, nothing to do
        }
        sqlx::query("UPDATE clients SET active_secrets = active_secrets - 1 WHERE pk = ?")
            .bind(leak.client_pk)
            .execute(&mut *tx)
            .await?;
    }
    write_journal(&mut tx, journal).await?;
    tx.commit().await?;
    Ok(true)
}

pub(super) async fn scanner_keys(pool: &SqlitePool) -> Result<Vec<KeyEntry>, StorageError> {
    let found = sqlx::query(
        "SELECT key_identifier, public_key, is_current FROM scanner_keys ORDER BY key_identifier",
    )
    .fetch_all(pool)
    .await?;
    found
        .iter()
        .map(|r| {
            Ok(KeyEntry {
                key_identifier: r.try_get("key_identifier")?,
                key: r.try_get("public_key")?,
                is_current: r.try_get("is_current")?,
            })
        })
        .collect()
}

pub(super) async fn replace_scanner_keys(
    pool: &SqlitePool,
    keys: &[KeyEntry],
    audit: &AuditEntry,
) -> Result<(), StorageError> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM scanner_keys")
        .execute(&mut *tx)
        .await?;
    for k in keys {
        sqlx::query(
            "INSERT INTO scanner_keys (key_identifier, public_key, is_current) VALUES (?, ?, ?) \
             ON CONFLICT (key_identifier) DO UPDATE SET public_key = excluded.public_key, \
             is_current = excluded.is_current",
        )
        .bind(&k.key_identifier)
        .bind(&k.key)
        .bind(k.is_current)
        .execute(&mut *tx)
        .await?;
    }
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(())
}
