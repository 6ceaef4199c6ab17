//! SQLite implementation of [`super::Storage`]: the embedded default.
//!
//! WAL journal with `synchronous = FULL`, so an acknowledged write survives a
//! power cut; foreign keys on (cascading deletes); a busy timeout so concurrent
//! writers queue instead of failing. Every multi-statement change starts with a
//! write, which takes SQLite's single write lock at once, so the conditional
//! counter updates serialise concurrent inserts.
//!
//! Layout: this file opens the pool and instantiates the `Storage` impl shared
//! by both dialects ([`super::delegate`]), which hands the pool to one file per
//! resource: `tenants`, `clients`, `secrets`, `credentials` (the token endpoint's
//! reads), `lists` (filtered secret lists), `journal` (audit entries and the event
//! outbox); `notify` + `queue` implement [`super::NotifyStore`].

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, SqlitePool};

use super::rows::{self};
use super::{
    ClientCredentials, ClientRecord, Journal, NewClient, NewSecret, Page, Paged, SecretFilter,
    SecretRecord, SecretUse, SigningKeyRecord, StorageError, TenantRecord, TenantSecret,
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

pub struct SqliteStorage {
    pub(crate) pool: SqlitePool,
    breaker: super::breaker::Breaker,
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
        let probe = pool.clone();
        let breaker = super::breaker::Breaker::new(move || {
            let pool = probe.clone();
            async move {
                sqlx::query("SELECT 1").execute(&pool).await?;
                Ok(())
            }
        });
        Ok(Self { pool, breaker })
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

super::delegate::storage_impl!(SqliteStorage);
