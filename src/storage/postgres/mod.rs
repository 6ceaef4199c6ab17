//! PostgreSQL implementation of [`Storage`], for deployments that run several
//! instances against one database. It owns the PostgreSQL SQL, the pool and the
//! migrations in `migrations/postgres`; record conversions are shared with
//! SQLite through [`super::rows`].
//!
//! Why the limits hold under concurrency: every insert that counts against a
//! limit first runs `UPDATE parent SET count = count + 1 WHERE … AND count < max`.
//! Under READ COMMITTED that `UPDATE` row-locks the parent; a concurrent one
//! waits for the lock, then re-checks its `WHERE` against the committed row, so
//! once the last slot is taken every waiter updates nothing and reports
//! `LimitReached`. The same lock makes `next_secret_id` hand out each id once.
//!
//! Deadlocks are avoided by taking row locks in one order, parent before child
//! (tenant, client, secret), as the cascading deletes do: `delete_client` locks
//! its tenant first and `revoke_secret` its client first.
//!
//! Layout: this file opens the pool and holds the `Storage` impl, which delegates
//! to one file per resource (`tenants`, `clients`, `secrets`, `credentials` for the
//! token endpoint, `lists` for filtered secret lists, `journal` for audit entries
//! and the event outbox, `notify` + `queue` for [`super::NotifyStore`]).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgPoolOptions, PgRow};
use sqlx::{PgPool, Row};

use super::rows::{self};
use super::{
    ClientCredentials, ClientRecord, Journal, NewClient, NewSecret, Page, Paged, SecretFilter,
    SecretRecord, SecretUse, SigningKeyRecord, Storage, StorageError, TenantRecord, TenantSecret,
};
use crate::domain::audit::{AuditEntry, AuditFilter};
use crate::domain::client::ClientSettings;
use crate::domain::ids::{ClientId, ClientKind, SecretId, TenantId};
use crate::domain::policy::{ClientPolicy, TenantPolicy};

mod clients;
mod credentials;
mod journal;
mod lists;
mod notify;
mod queue;
mod secrets;
mod tenants;

pub struct PostgresStorage {
    pub(crate) pool: PgPool,
}

impl PostgresStorage {
    /// Connects to the database at `url` (`postgres://…`) and migrates it.
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }
}

fn tenant_from_row(row: &PgRow) -> Result<TenantRecord, StorageError> {
    Ok(TenantRecord {
        id: TenantId::from(row.try_get::<uuid::Uuid, _>("id")?),
        name: row.try_get("name")?,
        policy: TenantPolicy {
            default: rows::policy_from_columns(
                "tenants.policy",
                row.try_get("policy_unit")?,
                row.try_get("policy_duration")?,
            )?,
            max_lifetime: rows::policy_from_columns(
                "tenants.max_lifetime",
                row.try_get("max_lifetime_unit")?,
                row.try_get("max_lifetime_duration")?,
            )?,
        },
        created_at: row.try_get("created_at")?,
    })
}

fn client_from_row(row: &PgRow) -> Result<ClientRecord, StorageError> {
    let id: &str = row.try_get("id")?;
    Ok(ClientRecord {
        pk: row.try_get("pk")?,
        tenant_id: TenantId::from(row.try_get::<uuid::Uuid, _>("tenant_id")?),
        id: ClientId::parse(id).map_err(|e| StorageError::Corrupt(format!("clients.id: {e}")))?,
        kind: rows::parse_kind(row.try_get("kind")?)?,
        settings: rows::client_settings(
            row.try_get("name")?,
            row.try_get("enabled")?,
            row.try_get("access_token_lifetime")?,
            row.try_get("tags")?,
            row.try_get("role_ids")?,
            row.try_get("hybrid")?,
        )?,
        policy: ClientPolicy {
            own: rows::policy_from_columns(
                "clients.policy",
                row.try_get("policy_unit")?,
                row.try_get("policy_duration")?,
            )?,
        },
        argon_salt: row.try_get("argon_salt")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn secret_from_row(row: &PgRow) -> Result<SecretRecord, StorageError> {
    Ok(SecretRecord {
        id: SecretId(row.try_get("id")?),
        description: row.try_get("description")?,
        expiration: row.try_get("expiration")?,
        hash: rows::stored_hash(row.try_get("hash_kind")?, row.try_get("hash")?)?,
        hint: row.try_get("hint")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        previous_hash: rows::optional_hash(
            row.try_get("previous_hash_kind")?,
            row.try_get("previous_hash")?,
        )?,
        grace_until: row.try_get("grace_until")?,
    })
}

fn paged<T>(
    found: &[PgRow],
    total: i64,
    convert: fn(&PgRow) -> Result<T, StorageError>,
) -> Result<Paged<T>, StorageError> {
    Ok(Paged {
        items: found.iter().map(convert).collect::<Result<_, _>>()?,
        total: total.unsigned_abs(),
    })
}

#[async_trait]
impl Storage for PostgresStorage {
    async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn insert_tenant(&self, t: &TenantRecord, journal: &Journal) -> Result<(), StorageError> {
        tenants::insert_tenant(&self.pool, t, journal).await
    }

    async fn list_tenants(&self, page: Page) -> Result<Paged<TenantRecord>, StorageError> {
        tenants::list_tenants(&self.pool, page).await
    }

    async fn get_tenant(&self, id: &TenantId) -> Result<Option<TenantRecord>, StorageError> {
        tenants::get_tenant(&self.pool, id).await
    }

    async fn delete_tenant(&self, id: &TenantId, journal: &Journal) -> Result<(), StorageError> {
        tenants::delete_tenant(&self.pool, id, journal).await
    }

    async fn update_tenant_policy(
        &self,
        id: &TenantId,
        policy: &TenantPolicy,
        journal: &Journal,
    ) -> Result<(), StorageError> {
        tenants::update_tenant_policy(&self.pool, id, policy, journal).await
    }

    async fn insert_client_with_secret(
        &self,
        c: &NewClient,
        s: &NewSecret,
        clients_max: u32,
        journal: &Journal,
    ) -> Result<(ClientRecord, SecretRecord), StorageError> {
        clients::insert_client_with_secret(&self.pool, c, s, clients_max, journal).await
    }

    async fn list_clients(
        &self,
        tenant: &TenantId,
        kind: ClientKind,
        page: Page,
    ) -> Result<Paged<ClientRecord>, StorageError> {
        clients::list_clients(&self.pool, tenant, kind, page).await
    }

    async fn get_client(
        &self,
        tenant: &TenantId,
        kind: ClientKind,
        id: &ClientId,
    ) -> Result<Option<ClientRecord>, StorageError> {
        clients::get_client(&self.pool, tenant, kind, id).await
    }

    async fn update_client(
        &self,
        pk: i64,
        st: &ClientSettings,
        now: DateTime<Utc>,
        journal: &Journal,
    ) -> Result<ClientRecord, StorageError> {
        clients::update_client(&self.pool, pk, st, now, journal).await
    }

    async fn update_client_policy(
        &self,
        pk: i64,
        policy: &ClientPolicy,
        now: DateTime<Utc>,
        journal: &Journal,
    ) -> Result<ClientRecord, StorageError> {
        clients::update_client_policy(&self.pool, pk, policy, now, journal).await
    }

    async fn delete_client(
        &self,
        tenant: &TenantId,
        kind: ClientKind,
        id: &ClientId,
        journal: &Journal,
    ) -> Result<(), StorageError> {
        clients::delete_client(&self.pool, tenant, kind, id, journal).await
    }

    async fn insert_secret_within_limit(
        &self,
        client_pk: i64,
        s: &NewSecret,
        secrets_max: u32,
        journal: &Journal,
    ) -> Result<SecretRecord, StorageError> {
        secrets::insert_secret_within_limit(&self.pool, client_pk, s, secrets_max, journal).await
    }

    async fn list_secrets(
        &self,
        client_pk: i64,
        filter: &SecretFilter,
        page: Page,
    ) -> Result<Paged<SecretRecord>, StorageError> {
        lists::list_secrets(&self.pool, client_pk, filter, page).await
    }

    async fn list_tenant_secrets(
        &self,
        tenant: &TenantId,
        filter: &SecretFilter,
        page: Page,
    ) -> Result<Paged<TenantSecret>, StorageError> {
        lists::list_tenant_secrets(&self.pool, tenant, filter, page).await
    }

    async fn insert_audit(&self, entry: &AuditEntry) -> Result<(), StorageError> {
        let mut conn = self.pool.acquire().await?;
        journal::insert_audit(&mut conn, entry).await
    }

    async fn list_audit(
        &self,
        tenant: &TenantId,
        filter: &AuditFilter,
        page: Page,
    ) -> Result<Paged<AuditEntry>, StorageError> {
        journal::list_audit(&self.pool, tenant, filter, page).await
    }

    async fn get_secret(
        &self,
        client_pk: i64,
        id: SecretId,
    ) -> Result<Option<SecretRecord>, StorageError> {
        secrets::get_secret(&self.pool, client_pk, id).await
    }

    async fn update_secret(
        &self,
        client_pk: i64,
        s: &SecretRecord,
        journal: &Journal,
    ) -> Result<(), StorageError> {
        secrets::update_secret(&self.pool, client_pk, s, journal).await
    }

    async fn revoke_secret(
        &self,
        client_pk: i64,
        id: SecretId,
        now: DateTime<Utc>,
        journal: &Journal,
    ) -> Result<(), StorageError> {
        secrets::revoke_secret(&self.pool, client_pk, id, now, journal).await
    }

    async fn record_last_used(&self, uses: &[SecretUse]) -> Result<(), StorageError> {
        secrets::record_last_used(&self.pool, uses).await
    }

    async fn insert_signing_key_if_absent(
        &self,
        key: &SigningKeyRecord,
    ) -> Result<(), StorageError> {
        credentials::insert_signing_key_if_absent(&self.pool, key).await
    }

    async fn current_signing_key(&self) -> Result<Option<SigningKeyRecord>, StorageError> {
        credentials::current_signing_key(&self.pool).await
    }

    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StorageError> {
        credentials::signing_keys(&self.pool).await
    }

    async fn load_credentials(
        &self,
        tenant: &TenantId,
        client: &ClientId,
    ) -> Result<Option<Arc<ClientCredentials>>, StorageError> {
        credentials::load_credentials(&self.pool, tenant, client).await
    }
}
