//! Clients of a tenant: insert with their first secret (within the per-tenant
//! limit), list, read, update, set their policy, and delete (announcing their live
//! secrets as revoked when the journal asks). Called by the `Storage` impl in `mod.rs`.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::journal::{self, write_journal};
use super::listen::announce_change;
use super::secrets::insert_secret;
use super::{client_from_row, paged, secret_from_row};
use crate::domain::client::ClientSettings;
use crate::domain::ids::{ClientId, ClientKind, SecretId, TenantId};
use crate::domain::policy::ClientPolicy;
use crate::storage::rows::{self, client_columns, secret_columns};
use crate::storage::{
    ClientRecord, Journal, NewClient, NewSecret, Page, Paged, SecretRecord, StorageError,
};

pub(super) async fn insert_client_with_secret(
    pool: &PgPool,
    c: &NewClient,
    s: &NewSecret,
    clients_max: u32,
    journal: &Journal,
) -> Result<(ClientRecord, SecretRecord), StorageError> {
    let st = &c.settings;
    let lifetime = rows::int_column("clients.access_token_lifetime", st.access_token_lifetime)?;
    let hybrid = rows::hybrid_json(&st.hybrid)?;
    let mut tx = pool.begin().await?;
    let counted = sqlx::query(
        "UPDATE tenants SET client_count = client_count + 1 \
         WHERE id = $1 AND client_count < $2 RETURNING id",
    )
    .bind(c.tenant_id.as_uuid())
    .bind(i64::from(clients_max))
    .fetch_optional(&mut *tx)
    .await?;
    if counted.is_none() {
        let exists = sqlx::query("SELECT 1 FROM tenants WHERE id = $1")
            .bind(c.tenant_id.as_uuid())
            .fetch_optional(&mut *tx)
            .await?;
        return Err(rows::limit_or_missing(exists.is_some(), clients_max));
    }
    let row = sqlx::query(concat!(
        "INSERT INTO clients (tenant_id, id, kind, name, enabled, access_token_lifetime, \
         tags, role_ids, hybrid, argon_salt, active_secrets, next_secret_id, created_at, \
         updated_at, allow_self_rotation) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, 2, $11, $11, $12) RETURNING ",
        client_columns!()
    ))
    .bind(c.tenant_id.as_uuid())
    .bind(c.id.as_str())
    .bind(c.kind.as_db())
    .bind(&st.name)
    .bind(st.enabled)
    .bind(lifetime)
    .bind(rows::json_list(&st.tags))
    .bind(rows::json_list(&st.role_ids))
    .bind(hybrid)
    .bind(&c.argon_salt)
    .bind(c.now)
    .bind(st.allow_self_rotation)
    .fetch_one(&mut *tx)
    .await
    .map_err(rows::on_unique_violation)?;
    let client = client_from_row(&row)?;
    let secret = insert_secret(&mut tx, client.pk, SecretId(1), s).await?;
    write_journal(&mut tx, &journal.for_secret(SecretId(1))).await?;
    announce_change(&mut tx).await?;
    tx.commit().await?;
    Ok((client, secret))
}

pub(super) async fn list_clients(
    pool: &PgPool,
    tenant: &TenantId,
    kind: ClientKind,
    page: Page,
) -> Result<Paged<ClientRecord>, StorageError> {
    let found = sqlx::query(concat!(
        "SELECT ",
        client_columns!(),
        " FROM clients WHERE tenant_id = $1 AND kind = $2 ORDER BY pk LIMIT $3 OFFSET $4"
    ))
    .bind(tenant.as_uuid())
    .bind(kind.as_db())
    .bind(i64::from(page.count))
    .bind(i64::from(page.skip))
    .fetch_all(pool)
    .await?;
    let total: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM clients WHERE tenant_id = $1 AND kind = $2")
            .bind(tenant.as_uuid())
            .bind(kind.as_db())
            .fetch_one(pool)
            .await?;
    paged(&found, total, client_from_row)
}

pub(super) async fn get_client(
    pool: &PgPool,
    tenant: &TenantId,
    kind: ClientKind,
    id: &ClientId,
) -> Result<Option<ClientRecord>, StorageError> {
    sqlx::query(concat!(
        "SELECT ",
        client_columns!(),
        " FROM clients WHERE tenant_id = $1 AND kind = $2 AND id = $3"
    ))
    .bind(tenant.as_uuid())
    .bind(kind.as_db())
    .bind(id.as_str())
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(client_from_row)
    .transpose()
}

pub(super) async fn update_client(
    pool: &PgPool,
    pk: i64,
    st: &ClientSettings,
    now: DateTime<Utc>,
    journal: &Journal,
) -> Result<ClientRecord, StorageError> {
    let lifetime = rows::int_column("clients.access_token_lifetime", st.access_token_lifetime)?;
    let mut tx = pool.begin().await?;
    let row = sqlx::query(concat!(
        "UPDATE clients SET name = $1, enabled = $2, access_token_lifetime = $3, tags = $4, \
         role_ids = $5, hybrid = $6, updated_at = $7, allow_self_rotation = $9 \
         WHERE pk = $8 RETURNING ",
        client_columns!()
    ))
    .bind(&st.name)
    .bind(st.enabled)
    .bind(lifetime)
    .bind(rows::json_list(&st.tags))
    .bind(rows::json_list(&st.role_ids))
    .bind(rows::hybrid_json(&st.hybrid)?)
    .bind(now)
    .bind(pk)
    .bind(st.allow_self_rotation)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StorageError::NotFound)?;
    write_journal(&mut tx, journal).await?;
    announce_change(&mut tx).await?;
    tx.commit().await?;
    client_from_row(&row)
}

pub(super) async fn update_client_policy(
    pool: &PgPool,
    pk: i64,
    policy: &ClientPolicy,
    now: DateTime<Utc>,
    journal: &Journal,
) -> Result<ClientRecord, StorageError> {
    let (unit, duration) = rows::policy_columns(policy.own);
    let mut tx = pool.begin().await?;
    let row = sqlx::query(concat!(
        "UPDATE clients SET policy_unit = $1, policy_duration = $2, updated_at = $3 \
         WHERE pk = $4 RETURNING ",
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
    pool: &PgPool,
    tenant: &TenantId,
    kind: ClientKind,
    id: &ClientId,
    journal: &Journal,
) -> Result<(), StorageError> {
    let mut tx = pool.begin().await?;
    // Tenant first: the lock order of a cascading tenant delete.
    let counted = sqlx::query(
        "UPDATE tenants SET client_count = client_count - 1 WHERE id = $1 RETURNING id",
    )
    .bind(tenant.as_uuid())
    .fetch_optional(&mut *tx)
    .await?;
    if counted.is_none() {
        return Err(StorageError::NotFound);
    }
    let live: Vec<SecretRecord> = if journal.revokes_client_secrets {
        // The client row first (FOR UPDATE): a secret being added waits for this
        // transaction and then finds the client gone, so none is missed.
        sqlx::query(
            "SELECT pk FROM clients WHERE tenant_id = $1 AND kind = $2 AND id = $3 FOR UPDATE",
        )
        .bind(tenant.as_uuid())
        .bind(kind.as_db())
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        sqlx::query(concat!(
            "SELECT ",
            secret_columns!("s."),
            " FROM secrets s JOIN clients c ON c.pk = s.client_pk \
             WHERE c.tenant_id = $1 AND c.kind = $2 AND c.id = $3 AND s.revoked_at IS NULL \
             ORDER BY s.id"
        ))
        .bind(tenant.as_uuid())
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
    let deleted = sqlx::query(
        "DELETE FROM clients WHERE tenant_id = $1 AND kind = $2 AND id = $3 RETURNING pk",
    )
    .bind(tenant.as_uuid())
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
    announce_change(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}
