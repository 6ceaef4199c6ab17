//! Clients of a tenant: insert with their first secret (within the per-tenant
//! limit), list, read, update, set their policy, and delete (announcing their live
//! secrets as revoked when the journal asks). Called by the `Storage` impl in `mod.rs`.

use chrono::{DateTime, Utc};
use sqlx::SqlitePool;

use super::journal::{self, write_journal};
use super::secrets::insert_secret;
use super::{client_from_row, secret_from_row};
use crate::domain::client::ClientSettings;
use crate::domain::ids::{ClientId, ClientKind, SecretId, TenantId};
use crate::domain::policy::ClientPolicy;
use crate::storage::rows::{self, client_columns, secret_columns};
use crate::storage::{
    ClientRecord, Journal, NewClient, NewSecret, Page, Paged, SecretRecord, StorageError,
};

pub(super) async fn insert_client_with_secret(
    pool: &SqlitePool,
    c: &NewClient,
    s: &NewSecret,
    clients_max: u32,
    journal: &Journal,
) -> Result<(ClientRecord, SecretRecord), StorageError> {
    let mut tx = pool.begin().await?;
    let counted = sqlx::query(
        "UPDATE tenants SET client_count = client_count + 1 WHERE id = ? AND client_count < ? RETURNING id",
    )
    .bind(c.tenant_id.to_string())
    .bind(clients_max)
    .fetch_optional(&mut *tx)
    .await?;
    if counted.is_none() {
        let exists = sqlx::query("SELECT 1 FROM tenants WHERE id = ?")
            .bind(c.tenant_id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        return Err(match exists {
            Some(_) => StorageError::LimitReached(clients_max),
            None => StorageError::NotFound,
        });
    }
    let st = &c.settings;
    let row = sqlx::query(concat!("INSERT INTO clients (tenant_id, id, kind, name, enabled, access_token_lifetime, tags, role_ids, \
         hybrid, allow_self_rotation, argon_salt, active_secrets, next_secret_id, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 2, ?, ?) RETURNING ", client_columns!()))
    .bind(c.tenant_id.to_string())
    .bind(c.id.as_str())
    .bind(c.kind.as_db())
    .bind(&st.name)
    .bind(st.enabled)
    .bind(st.access_token_lifetime)
    .bind(rows::json_list(&st.tags))
    .bind(rows::json_list(&st.role_ids))
    .bind(rows::hybrid_json(&st.hybrid)?)
    .bind(st.allow_self_rotation)
    .bind(&c.argon_salt)
    .bind(c.now)
    .bind(c.now)
    .fetch_one(&mut *tx)
    .await
    .map_err(rows::on_unique_violation)?;
    let client = client_from_row(&row)?;
    let secret = insert_secret(&mut tx, client.pk, SecretId(1), s).await?;
    write_journal(&mut tx, &journal.for_secret(SecretId(1))).await?;
    tx.commit().await?;
    Ok((client, secret))
}

pub(super) async fn list_clients(
    pool: &SqlitePool,
    tenant: &TenantId,
    kind: ClientKind,
    page: Page,
) -> Result<Paged<ClientRecord>, StorageError> {
    let found = sqlx::query(concat!(
        "SELECT ",
        client_columns!(),
        " FROM clients WHERE tenant_id = ? AND kind = ? ORDER BY pk LIMIT ? OFFSET ?"
    ))
    .bind(tenant.to_string())
    .bind(kind.as_db())
    .bind(page.count)
    .bind(page.skip)
    .fetch_all(pool)
    .await?;
    let total: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM clients WHERE tenant_id = ? AND kind = ?")
            .bind(tenant.to_string())
            .bind(kind.as_db())
            .fetch_one(pool)
            .await?;
    Ok(Paged {
        items: found
            .iter()
            .map(client_from_row)
            .collect::<Result<_, _>>()?,
        total: total.unsigned_abs(),
    })
}

pub(super) async fn get_client(
    pool: &SqlitePool,
    tenant: &TenantId,
    kind: ClientKind,
    id: &ClientId,
) -> Result<Option<ClientRecord>, StorageError> {
    sqlx::query(concat!(
        "SELECT ",
        client_columns!(),
        " FROM clients WHERE tenant_id = ? AND kind = ? AND id = ?"
    ))
    .bind(tenant.to_string())
    .bind(kind.as_db())
    .bind(id.as_str())
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(client_from_row)
    .transpose()
}

pub(super) async fn update_client(
    pool: &SqlitePool,
    pk: i64,
    st: &ClientSettings,
    now: DateTime<Utc>,
    journal: &Journal,
) -> Result<ClientRecord, StorageError> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query(concat!("UPDATE clients SET name = ?, enabled = ?, access_token_lifetime = ?, tags = ?, role_ids = ?, \
         hybrid = ?, allow_self_rotation = ?, updated_at = ? WHERE pk = ? RETURNING ", client_columns!()))
    .bind(&st.name)
    .bind(st.enabled)
    .bind(st.access_token_lifetime)
    .bind(rows::json_list(&st.tags))
    .bind(rows::json_list(&st.role_ids))
    .bind(rows::hybrid_json(&st.hybrid)?)
    .bind(st.allow_self_rotation)
    .bind(now)
    .bind(pk)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StorageError::NotFound)?;
    write_journal(&mut tx, journal).await?;
    tx.commit().await?;
    client_from_row(&row)
}

pub(super) async fn update_client_policy(
    pool: &SqlitePool,
    pk: i64,
    policy: &ClientPolicy,
    now: DateTime<Utc>,
    journal: &Journal,
) -> Result<ClientRecord, StorageError> {
    let (unit, duration) = rows::policy_columns(policy.own);
    let mut tx = pool.begin().await?;
    let row = sqlx::query(concat!(
        "UPDATE clients SET policy_unit = ?, policy_duration = ?, updated_at = ? WHERE pk = ? RETURNING ",
        client_columns!()
    ))
    .bind(unit)
    .bind(duration)
    .bind(now)
    .bind(pk)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StorageError::NotFound)?;
    write_journal(&mut tx, journal).await?;
    tx.commit().await?;
    client_from_row(&row)
}

pub(super) async fn delete_client(
    pool: &SqlitePool,
    tenant: &TenantId,
    kind: ClientKind,
    id: &ClientId,
    journal: &Journal,
) -> Result<(), StorageError> {
    let mut tx = pool.begin().await?;
    // A write first, so the transaction holds the write lock before it reads the
    // secrets it announces as revoked.
    sqlx::query("UPDATE tenants SET client_count = client_count - 1 WHERE id = ?")
        .bind(tenant.to_string())
        .execute(&mut *tx)
        .await?;
    let live: Vec<SecretRecord> = if journal.revokes_client_secrets {
        sqlx::query(concat!(
            "SELECT ",
            secret_columns!("s."),
            " FROM secrets s JOIN clients c ON c.pk = s.client_pk \
             WHERE c.tenant_id = ? AND c.kind = ? AND c.id = ? AND s.revoked_at IS NULL \
             ORDER BY s.id"
        ))
        .bind(tenant.to_string())
        .bind(kind.as_db())
        .bind(id.as_str())
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(secret_from_row)
        .collect::<Result<_, _>>()?
    } else {
        Vec::new()
    };
    let deleted =
        sqlx::query("DELETE FROM clients WHERE tenant_id = ? AND kind = ? AND id = ? RETURNING pk")
            .bind(tenant.to_string())
            .bind(kind.as_db())
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
    if deleted.is_none() {
        return Err(StorageError::NotFound); // rolls the decrement back
    }
    write_journal(&mut tx, journal).await?;
    for event in journal.revocations(tenant, kind, id.as_str(), &live) {
        journal::write_event(&mut tx, &event).await?;
    }
    tx.commit().await?;
    Ok(())
}
