//! SQLite implementation of [`Storage`]: the embedded default.
//!
//! WAL journal with `synchronous = FULL`, so an acknowledged write survives a
//! power cut; foreign keys on (cascading deletes); a busy timeout so concurrent
//! writers queue instead of failing. Every multi-statement change starts with a
//! write, which takes SQLite's single write lock at once, so the conditional
//! counter updates serialise concurrent inserts.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, SqlitePool};

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

pub struct SqliteStorage {
    pub(crate) pool: SqlitePool,
}

impl SqliteStorage {
    /// Opens (creating if missing) the database at `url` (`sqlite://path`) and migrates it.
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }
}

fn tenant_from_row(row: &SqliteRow) -> Result<TenantRecord, StorageError> {
    let id: String = row.try_get("id")?;
    Ok(TenantRecord {
        id: TenantId::parse(&id)
            .ok_or_else(|| StorageError::Corrupt(format!("tenants.id: {id:?}")))?,
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

fn client_from_row(row: &SqliteRow) -> Result<ClientRecord, StorageError> {
    let tenant: String = row.try_get("tenant_id")?;
    let id: String = row.try_get("id")?;
    let kind: String = row.try_get("kind")?;
    Ok(ClientRecord {
        pk: row.try_get("pk")?,
        tenant_id: TenantId::parse(&tenant)
            .ok_or_else(|| StorageError::Corrupt(format!("clients.tenant_id: {tenant:?}")))?,
        id: ClientId::parse(&id).map_err(|e| StorageError::Corrupt(format!("clients.id: {e}")))?,
        kind: rows::parse_kind(&kind)?,
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

fn secret_from_row(row: &SqliteRow) -> Result<SecretRecord, StorageError> {
    let kind: String = row.try_get("hash_kind")?;
    Ok(SecretRecord {
        id: SecretId(row.try_get("id")?),
        description: row.try_get("description")?,
        expiration: row.try_get("expiration")?,
        hash: rows::stored_hash(&kind, row.try_get("hash")?)?,
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

#[async_trait]
impl Storage for SqliteStorage {
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
             max_lifetime_duration, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(t.id.to_string())
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
            " FROM tenants ORDER BY created_at, id LIMIT ? OFFSET ?"
        ))
        .bind(page.count)
        .bind(page.skip)
        .fetch_all(&self.pool)
        .await?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenants")
            .fetch_one(&self.pool)
            .await?;
        Ok(Paged {
            items: found
                .iter()
                .map(tenant_from_row)
                .collect::<Result<_, _>>()?,
            total: total.unsigned_abs(),
        })
    }

    async fn get_tenant(&self, id: &TenantId) -> Result<Option<TenantRecord>, StorageError> {
        sqlx::query(concat!(
            "SELECT ",
            tenant_columns!(),
            " FROM tenants WHERE id = ?"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(tenant_from_row)
        .transpose()
    }

    async fn delete_tenant(&self, id: &TenantId, journal: &Journal) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
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
            "UPDATE tenants SET policy_unit = ?, policy_duration = ?, max_lifetime_unit = ?, \
             max_lifetime_duration = ? WHERE id = ?",
        )
        .bind(unit)
        .bind(duration)
        .bind(max_unit)
        .bind(max_duration)
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

    async fn insert_client_with_secret(
        &self,
        c: &NewClient,
        s: &NewSecret,
        clients_max: u32,
        journal: &Journal,
    ) -> Result<(ClientRecord, SecretRecord), StorageError> {
        let mut tx = self.pool.begin().await?;
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
             hybrid, argon_salt, active_secrets, next_secret_id, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 2, ?, ?) RETURNING ", client_columns!()))
        .bind(c.tenant_id.to_string())
        .bind(c.id.as_str())
        .bind(c.kind.as_db())
        .bind(&st.name)
        .bind(st.enabled)
        .bind(st.access_token_lifetime)
        .bind(rows::json_list(&st.tags))
        .bind(rows::json_list(&st.role_ids))
        .bind(rows::hybrid_json(&st.hybrid)?)
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

    async fn list_clients(
        &self,
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
        .fetch_all(&self.pool)
        .await?;
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM clients WHERE tenant_id = ? AND kind = ?")
                .bind(tenant.to_string())
                .bind(kind.as_db())
                .fetch_one(&self.pool)
                .await?;
        Ok(Paged {
            items: found
                .iter()
                .map(client_from_row)
                .collect::<Result<_, _>>()?,
            total: total.unsigned_abs(),
        })
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
            " FROM clients WHERE tenant_id = ? AND kind = ? AND id = ?"
        ))
        .bind(tenant.to_string())
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
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(concat!("UPDATE clients SET name = ?, enabled = ?, access_token_lifetime = ?, tags = ?, role_ids = ?, \
             hybrid = ?, updated_at = ? WHERE pk = ? RETURNING ", client_columns!()))
        .bind(&st.name)
        .bind(st.enabled)
        .bind(st.access_token_lifetime)
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

    async fn delete_client(
        &self,
        tenant: &TenantId,
        kind: ClientKind,
        id: &ClientId,
        journal: &Journal,
    ) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
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
        let deleted = sqlx::query(
            "DELETE FROM clients WHERE tenant_id = ? AND kind = ? AND id = ? RETURNING pk",
        )
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

    async fn insert_secret_within_limit(
        &self,
        client_pk: i64,
        s: &NewSecret,
        secrets_max: u32,
        journal: &Journal,
    ) -> Result<SecretRecord, StorageError> {
        let mut tx = self.pool.begin().await?;
        let next: Option<i32> = sqlx::query_scalar(
            "UPDATE clients SET active_secrets = active_secrets + 1, next_secret_id = next_secret_id + 1 \
             WHERE pk = ? AND active_secrets < ? RETURNING next_secret_id - 1",
        )
        .bind(client_pk)
        .bind(secrets_max)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = next else {
            let exists = sqlx::query("SELECT 1 FROM clients WHERE pk = ?")
                .bind(client_pk)
                .fetch_optional(&mut *tx)
                .await?;
            return Err(match exists {
                Some(_) => StorageError::LimitReached(secrets_max),
                None => StorageError::NotFound,
            });
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
            " FROM secrets WHERE client_pk = ? AND id = ? AND revoked_at IS NULL"
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
            "UPDATE secrets SET description = ?, expiration = ?, hash_kind = ?, hash = ?, hint = ?, \
             previous_hash_kind = ?, previous_hash = ?, grace_until = ? \
             WHERE client_pk = ? AND id = ? AND revoked_at IS NULL",
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
        let done = sqlx::query("UPDATE secrets SET revoked_at = ? WHERE client_pk = ? AND id = ? AND revoked_at IS NULL")
            .bind(now)
            .bind(client_pk)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound);
        }
        sqlx::query("UPDATE clients SET active_secrets = active_secrets - 1 WHERE pk = ?")
            .bind(client_pk)
            .execute(&mut *tx)
            .await?;
        write_journal(&mut tx, journal).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn record_last_used(&self, uses: &[SecretUse]) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
        for u in uses {
            sqlx::query(
                "UPDATE secrets SET last_used_at = ? WHERE client_pk = ? AND id = ? \
                 AND (last_used_at IS NULL OR last_used_at < ?)",
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
             VALUES (?, 'current', ?, ?, ?, ?) ON CONFLICT DO NOTHING",
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
             ORDER BY r.id DESC LIMIT ?)) WHERE c.tenant_id = ? AND c.id = ?",
        )
        .bind(RECENTLY_REVOKED)
        .bind(tenant.to_string())
        .bind(client.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows::credentials(&found)?.map(Arc::new))
    }
}

async fn insert_secret(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    client_pk: i64,
    id: SecretId,
    s: &NewSecret,
) -> Result<SecretRecord, StorageError> {
    sqlx::query(
        "INSERT INTO secrets (client_pk, id, description, expiration, hash_kind, hash, hint, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
