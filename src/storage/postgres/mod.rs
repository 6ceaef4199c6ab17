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

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgPoolOptions, PgRow};
use sqlx::{PgPool, Postgres, Row, Transaction};

use super::rows::{self, client_columns, secret_columns, tenant_columns};
use super::{
    ClientCredentials, ClientRecord, Journal, NewClient, NewSecret, Page, Paged, RECENTLY_REVOKED,
    SecretFilter, SecretRecord, SecretUse, SigningKeyRecord, Storage, StorageError, TenantRecord,
    TenantSecret,
};
use crate::domain::audit::{AuditEntry, AuditFilter};
use crate::domain::client::ClientSettings;
use crate::domain::ids::{ClientId, ClientKind, SecretId, TenantId};
use crate::domain::policy::{ClientPolicy, TenantPolicy};

mod journal;
mod lists;
mod notify;

use journal::write_journal;

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
        let mut tx = self.pool.begin().await?;
        let (unit, duration) = rows::policy_columns(t.policy.default);
        let (max_unit, max_duration) = rows::policy_columns(t.policy.max_lifetime);
        sqlx::query(
            "INSERT INTO tenants (id, name, policy_unit, policy_duration, max_lifetime_unit, \
             max_lifetime_duration, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(t.id.as_uuid())
        .bind(&t.name)
        .bind(unit)
        .bind(duration)
        .bind(max_unit)
        .bind(max_duration)
        .bind(t.created_at)
        .execute(&mut *tx)
        .await
        .map_err(rows::on_unique_violation)?;
        write_journal(&mut tx, journal).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_tenants(&self, page: Page) -> Result<Paged<TenantRecord>, StorageError> {
        let found = sqlx::query(concat!(
            "SELECT ",
            tenant_columns!(),
            " FROM tenants ORDER BY created_at, id LIMIT $1 OFFSET $2"
        ))
        .bind(i64::from(page.count))
        .bind(i64::from(page.skip))
        .fetch_all(&self.pool)
        .await?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenants")
            .fetch_one(&self.pool)
            .await?;
        paged(&found, total, tenant_from_row)
    }

    async fn get_tenant(&self, id: &TenantId) -> Result<Option<TenantRecord>, StorageError> {
        sqlx::query(concat!(
            "SELECT ",
            tenant_columns!(),
            " FROM tenants WHERE id = $1"
        ))
        .bind(id.as_uuid())
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(tenant_from_row)
        .transpose()
    }

    async fn delete_tenant(&self, id: &TenantId, journal: &Journal) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM tenants WHERE id = $1")
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound);
        }
        write_journal(&mut tx, journal).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_tenant_policy(
        &self,
        id: &TenantId,
        policy: &TenantPolicy,
        journal: &Journal,
    ) -> Result<(), StorageError> {
        let (unit, duration) = rows::policy_columns(policy.default);
        let (max_unit, max_duration) = rows::policy_columns(policy.max_lifetime);
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE tenants SET policy_unit = $1, policy_duration = $2, max_lifetime_unit = $3, \
             max_lifetime_duration = $4 WHERE id = $5",
        )
        .bind(unit)
        .bind(duration)
        .bind(max_unit)
        .bind(max_duration)
        .bind(id.as_uuid())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound);
        }
        write_journal(&mut tx, journal).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn insert_client_with_secret(
        &self,
        c: &NewClient,
        s: &NewSecret,
        clients_max: u32,
        journal: &Journal,
    ) -> Result<(ClientRecord, SecretRecord), StorageError> {
        let st = &c.settings;
        let lifetime = rows::int_column("clients.access_token_lifetime", st.access_token_lifetime)?;
        let hybrid = rows::hybrid_json(&st.hybrid)?;
        let mut tx = self.pool.begin().await?;
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
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, 2, $11, $11) RETURNING ",
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
        .fetch_one(&mut *tx)
        .await
        .map_err(rows::on_unique_violation)?;
        let client = client_from_row(&row)?;
        let secret = insert_secret(&mut tx, client.pk, SecretId(1), s).await?;
        write_journal(&mut tx, &journal.for_secret(SecretId(1))).await?;
        tx.commit().await?;
        Ok((client, secret))
    }

    async fn list_clients(
        &self,
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
        .fetch_all(&self.pool)
        .await?;
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM clients WHERE tenant_id = $1 AND kind = $2")
                .bind(tenant.as_uuid())
                .bind(kind.as_db())
                .fetch_one(&self.pool)
                .await?;
        paged(&found, total, client_from_row)
    }

    async fn get_client(
        &self,
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
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(client_from_row)
        .transpose()
    }

    async fn update_client(
        &self,
        pk: i64,
        st: &ClientSettings,
        now: DateTime<Utc>,
        journal: &Journal,
    ) -> Result<ClientRecord, StorageError> {
        let lifetime = rows::int_column("clients.access_token_lifetime", st.access_token_lifetime)?;
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(concat!(
            "UPDATE clients SET name = $1, enabled = $2, access_token_lifetime = $3, tags = $4, \
             role_ids = $5, hybrid = $6, updated_at = $7 WHERE pk = $8 RETURNING ",
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
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StorageError::NotFound)?;
        write_journal(&mut tx, journal).await?;
        tx.commit().await?;
        client_from_row(&row)
    }

    async fn update_client_policy(
        &self,
        pk: i64,
        policy: &ClientPolicy,
        now: DateTime<Utc>,
        journal: &Journal,
    ) -> Result<ClientRecord, StorageError> {
        let (unit, duration) = rows::policy_columns(policy.own);
        let mut tx = self.pool.begin().await?;
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

    async fn delete_client(
        &self,
        tenant: &TenantId,
        kind: ClientKind,
        id: &ClientId,
        journal: &Journal,
    ) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
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
        tx.commit().await?;
        Ok(())
    }

    async fn insert_secret_within_limit(
        &self,
        client_pk: i64,
        s: &NewSecret,
        secrets_max: u32,
        journal: &Journal,
    ) -> Result<SecretRecord, StorageError> {
        let mut tx = self.pool.begin().await?;
        let next: Option<i32> = sqlx::query_scalar(
            "UPDATE clients SET active_secrets = active_secrets + 1, \
             next_secret_id = next_secret_id + 1 \
             WHERE pk = $1 AND active_secrets < $2 RETURNING next_secret_id - 1",
        )
        .bind(client_pk)
        .bind(i64::from(secrets_max))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = next else {
            let exists = sqlx::query("SELECT 1 FROM clients WHERE pk = $1")
                .bind(client_pk)
                .fetch_optional(&mut *tx)
                .await?;
            return Err(rows::limit_or_missing(exists.is_some(), secrets_max));
        };
        let secret = insert_secret(&mut tx, client_pk, SecretId(id), s).await?;
        write_journal(&mut tx, &journal.for_secret(SecretId(id))).await?;
        tx.commit().await?;
        Ok(secret)
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
        sqlx::query(concat!(
            "SELECT ",
            secret_columns!(),
            " FROM secrets WHERE client_pk = $1 AND id = $2 AND revoked_at IS NULL"
        ))
        .bind(client_pk)
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(secret_from_row)
        .transpose()
    }

    async fn update_secret(
        &self,
        client_pk: i64,
        s: &SecretRecord,
        journal: &Journal,
    ) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE secrets SET description = $1, expiration = $2, hash_kind = $3, hash = $4, \
             hint = $5, previous_hash_kind = $6, previous_hash = $7, grace_until = $8 \
             WHERE client_pk = $9 AND id = $10 AND revoked_at IS NULL",
        )
        .bind(&s.description)
        .bind(s.expiration)
        .bind(s.hash.kind.as_db())
        .bind(&s.hash.digest)
        .bind(&s.hint)
        .bind(s.previous_hash.as_ref().map(|h| h.kind.as_db()))
        .bind(s.previous_hash.as_ref().map(|h| h.digest.as_slice()))
        .bind(s.grace_until)
        .bind(client_pk)
        .bind(s.id.0)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound);
        }
        write_journal(&mut tx, journal).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn revoke_secret(
        &self,
        client_pk: i64,
        id: SecretId,
        now: DateTime<Utc>,
        journal: &Journal,
    ) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
        // Client first: the lock order of a cascading client delete.
        let counted = sqlx::query(
            "UPDATE clients SET active_secrets = active_secrets - 1 WHERE pk = $1 RETURNING pk",
        )
        .bind(client_pk)
        .fetch_optional(&mut *tx)
        .await?;
        let done = sqlx::query(
            "UPDATE secrets SET revoked_at = $1 \
             WHERE client_pk = $2 AND id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(client_pk)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        if counted.is_none() || done.rows_affected() == 0 {
            return Err(StorageError::NotFound); // rolls the decrement back
        }
        write_journal(&mut tx, journal).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn record_last_used(&self, uses: &[SecretUse]) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
        for u in uses {
            sqlx::query(
                "UPDATE secrets SET last_used_at = $1 WHERE client_pk = $2 AND id = $3 \
                 AND (last_used_at IS NULL OR last_used_at < $4)",
            )
            .bind(u.at)
            .bind(u.client_pk)
            .bind(u.secret_id.0)
            .bind(u.at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn insert_signing_key_if_absent(
        &self,
        key: &SigningKeyRecord,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, slot, algorithm, private_key_sealed, public_jwk, created_at) \
             VALUES ($1, 'current', $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(&key.kid)
        .bind(&key.algorithm)
        .bind(&key.private_key_sealed)
        .bind(&key.public_jwk)
        .bind(key.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn current_signing_key(&self) -> Result<Option<SigningKeyRecord>, StorageError> {
        sqlx::query("SELECT kid, algorithm, private_key_sealed, public_jwk, created_at FROM signing_keys WHERE slot = 'current'")
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(rows::signing_key)
            .transpose()
    }

    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StorageError> {
        sqlx::query("SELECT kid, algorithm, private_key_sealed, public_jwk, created_at FROM signing_keys ORDER BY created_at DESC")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(rows::signing_key)
            .collect()
    }

    async fn load_credentials(
        &self,
        tenant: &TenantId,
        client: &ClientId,
    ) -> Result<Option<Arc<ClientCredentials>>, StorageError> {
        // One round trip whether or not the client exists, so an unknown client
        // costs about what a known one does.
        let found = sqlx::query(
            "SELECT c.pk, c.kind, c.role_ids, c.access_token_lifetime, c.enabled, c.argon_salt, s.id, s.hash_kind, s.hash, s.expiration, \
             s.previous_hash_kind, s.previous_hash, s.grace_until, s.revoked_at \
             FROM clients c LEFT JOIN secrets s ON s.client_pk = c.pk AND (s.revoked_at IS NULL OR s.id IN \
             (SELECT r.id FROM secrets r WHERE r.client_pk = c.pk AND r.revoked_at IS NOT NULL \
             ORDER BY r.id DESC LIMIT $1)) WHERE c.tenant_id = $2 AND c.id = $3",
        )
        .bind(i64::from(RECENTLY_REVOKED))
        .bind(tenant.as_uuid())
        .bind(client.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows::credentials(&found)?.map(Arc::new))
    }
}

async fn insert_secret(
    tx: &mut Transaction<'_, Postgres>,
    client_pk: i64,
    id: SecretId,
    s: &NewSecret,
) -> Result<SecretRecord, StorageError> {
    sqlx::query(
        "INSERT INTO secrets (client_pk, id, description, expiration, hash_kind, hash, hint, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(client_pk)
    .bind(id.0)
    .bind(&s.description)
    .bind(s.expiration)
    .bind(s.hash.kind.as_db())
    .bind(&s.hash.digest)
    .bind(&s.hint)
    .bind(s.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(rows::inserted_secret(id, s))
}
