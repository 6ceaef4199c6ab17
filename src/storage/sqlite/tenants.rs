//! Tenants: insert, list, read, rename, delete (cascading to everything they own) and set
//! their secret policy. Called by the `Storage` impl in `mod.rs`.

use sqlx::SqlitePool;

use super::journal::write_journal;
use super::tenant_from_row;
use crate::domain::ids::TenantId;
use crate::domain::policy::{TenantPolicy, TenantPolicyChange};
use crate::storage::rows::{self, tenant_columns};
use crate::storage::{Journal, Page, Paged, StorageError, TenantRecord};

pub(super) async fn insert_tenant(
    pool: &SqlitePool,
    t: &TenantRecord,
    journal: &Journal,
) -> Result<(), StorageError> {
    let mut tx = pool.begin().await?;
    let (unit, duration) = rows::policy_columns(t.policy.default);
    let (max_unit, max_duration) = rows::policy_columns(t.policy.max_lifetime);
    sqlx::query(
        "INSERT INTO tenants (id, name, policy_unit, policy_duration, max_lifetime_unit, \
         max_lifetime_duration, allow_self_rotation, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(t.id.to_string())
    .bind(&t.name)
    .bind(unit)
    .bind(duration)
    .bind(max_unit)
    .bind(max_duration)
    .bind(t.policy.allow_self_rotation)
    .bind(t.created_at)
    .execute(&mut *tx)
    .await
    .map_err(rows::on_unique_violation)?;
    write_journal(&mut tx, journal).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn list_tenants(
    pool: &SqlitePool,
    page: Page,
) -> Result<Paged<TenantRecord>, StorageError> {
    let found = sqlx::query(concat!(
        "SELECT ",
        tenant_columns!(),
        " FROM tenants ORDER BY created_at, id LIMIT ? OFFSET ?"
    ))
    .bind(page.count)
    .bind(page.skip)
    .fetch_all(pool)
    .await?;
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenants")
        .fetch_one(pool)
        .await?;
    Ok(Paged {
        items: found
            .iter()
            .map(tenant_from_row)
            .collect::<Result<_, _>>()?,
        total: total.unsigned_abs(),
    })
}

pub(super) async fn get_tenant(
    pool: &SqlitePool,
    id: &TenantId,
) -> Result<Option<TenantRecord>, StorageError> {
    sqlx::query(concat!(
        "SELECT ",
        tenant_columns!(),
        " FROM tenants WHERE id = ?"
    ))
    .bind(id.to_string())
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(tenant_from_row)
    .transpose()
}

pub(super) async fn delete_tenant(
    pool: &SqlitePool,
    id: &TenantId,
    journal: &Journal,
) -> Result<(), StorageError> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query("DELETE FROM tenants WHERE id = ?")
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound);
    }
    write_journal(&mut tx, journal).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn update_tenant_policy(
    pool: &SqlitePool,
    id: &TenantId,
    change: &TenantPolicyChange,
    journal: &Journal,
) -> Result<TenantPolicy, StorageError> {
    let mut tx = pool.begin().await?;
    // One statement: the parts the change does not name are kept as they are then.
    let (unit, duration) = rows::policy_columns(change.default.flatten());
    let (max_unit, max_duration) = rows::policy_columns(change.max_lifetime.flatten());
    let query = sqlx::query(concat!(
        "UPDATE tenants SET \
         policy_unit = CASE WHEN ?1 THEN ?2 ELSE policy_unit END, \
         policy_duration = CASE WHEN ?1 THEN ?3 ELSE policy_duration END, \
         max_lifetime_unit = CASE WHEN ?4 THEN ?5 ELSE max_lifetime_unit END, \
         max_lifetime_duration = CASE WHEN ?4 THEN ?6 ELSE max_lifetime_duration END, \
         allow_self_rotation = COALESCE(?7, allow_self_rotation) \
         WHERE id = ?8 RETURNING ",
        tenant_columns!()
    ))
    .bind(change.default.is_some())
    .bind(unit)
    .bind(duration)
    .bind(change.max_lifetime.is_some())
    .bind(max_unit)
    .bind(max_duration);
    let row = query
        .bind(change.allow_self_rotation)
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StorageError::NotFound)?;
    let tenant = tenant_from_row(&row)?;
    write_journal(&mut tx, journal).await?;
    tx.commit().await?;
    Ok(tenant.policy)
}

pub(super) async fn rename_tenant(
    pool: &SqlitePool,
    id: &TenantId,
    name: &str,
    journal: &Journal,
) -> Result<TenantRecord, StorageError> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query(concat!(
        "UPDATE tenants SET name = ? WHERE id = ? RETURNING ",
        tenant_columns!()
    ))
    .bind(name)
    .bind(id.to_string())
    .fetch_optional(&mut *tx)
    .await
    .map_err(rows::on_unique_violation)?
    .ok_or(StorageError::NotFound)?;
    let tenant = tenant_from_row(&row)?;
    write_journal(&mut tx, journal).await?;
    tx.commit().await?;
    Ok(tenant)
}
