//! Conversions between records and the column values both SQL dialects share,
//! so the SQLite and PostgreSQL implementations differ only in SQL and binding.

use chrono::{DateTime, Utc};

use super::StorageError;
use crate::domain::client::{ClientSettings, HybridSettings};
use crate::domain::ids::{ClientKind, SecretId};
use crate::domain::secret_hash::{HashKind, StoredHash};
use crate::domain::verification::Candidate;

/// Client columns every `SELECT` of a client lists (a macro, so `concat!` keeps SQL static).
macro_rules! client_columns {
    () => {
        "pk, tenant_id, id, kind, name, enabled, access_token_lifetime, tags, role_ids, hybrid, \
         argon_salt, created_at, updated_at"
    };
}
pub(crate) use client_columns;

/// Secret columns every `SELECT` of a secret lists.
macro_rules! secret_columns {
    () => {
        "id, description, expiration, hash_kind, hash, hint, created_at, last_used_at, \
         previous_hash_kind, previous_hash, grace_until"
    };
}
pub(crate) use secret_columns;

/// Columns verification reads.
macro_rules! candidate_columns {
    () => {
        "id, hash_kind, hash, expiration, previous_hash_kind, previous_hash, grace_until, revoked_at"
    };
}
pub(crate) use candidate_columns;

pub fn json_list(items: &[String]) -> String {
    serde_json::Value::from(items.to_vec()).to_string()
}

pub fn parse_json_list(column: &str, text: &str) -> Result<Vec<String>, StorageError> {
    serde_json::from_str(text).map_err(|e| StorageError::Corrupt(format!("clients.{column}: {e}")))
}

pub fn hybrid_json(h: &Option<HybridSettings>) -> Result<Option<String>, StorageError> {
    h.as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StorageError::Corrupt(format!("clients.hybrid: {e}")))
}

pub fn parse_kind(s: &str) -> Result<ClientKind, StorageError> {
    ClientKind::from_db(s).ok_or_else(|| StorageError::Corrupt(format!("clients.kind: {s:?}")))
}

/// Client settings from their columns.
pub fn client_settings(
    name: String,
    enabled: bool,
    access_token_lifetime: i32,
    tags: &str,
    role_ids: &str,
    hybrid: Option<&str>,
) -> Result<ClientSettings, StorageError> {
    Ok(ClientSettings {
        name,
        enabled,
        access_token_lifetime: u32::try_from(access_token_lifetime)
            .map_err(|_| StorageError::Corrupt("clients.access_token_lifetime".into()))?,
        tags: parse_json_list("tags", tags)?,
        role_ids: parse_json_list("role_ids", role_ids)?,
        hybrid: hybrid
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| StorageError::Corrupt(format!("clients.hybrid: {e}")))?,
    })
}

pub fn stored_hash(kind: &str, digest: Vec<u8>) -> Result<StoredHash, StorageError> {
    let kind = HashKind::from_db(kind)
        .ok_or_else(|| StorageError::Corrupt(format!("secrets.hash_kind: {kind:?}")))?;
    Ok(StoredHash { kind, digest })
}

pub fn optional_hash(
    kind: Option<String>,
    digest: Option<Vec<u8>>,
) -> Result<Option<StoredHash>, StorageError> {
    match (kind, digest) {
        (Some(k), Some(d)) => stored_hash(&k, d).map(Some),
        _ => Ok(None),
    }
}

/// The candidate verification compares against, from its columns.
#[allow(clippy::too_many_arguments)]
pub fn candidate(
    id: i32,
    hash_kind: &str,
    hash: Vec<u8>,
    expiration: Option<DateTime<Utc>>,
    previous_hash_kind: Option<String>,
    previous_hash: Option<Vec<u8>>,
    grace_until: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
) -> Result<Candidate, StorageError> {
    let previous = optional_hash(previous_hash_kind, previous_hash)?.zip(grace_until);
    Ok(Candidate {
        id: SecretId(id),
        hash: stored_hash(hash_kind, hash)?,
        expiration,
        previous,
        revoked: revoked_at.is_some(),
    })
}

/// Maps a unique-constraint violation to `Duplicate`.
pub fn on_unique_violation(e: sqlx::Error) -> StorageError {
    match e.as_database_error() {
        Some(db) if db.is_unique_violation() => StorageError::Duplicate,
        _ => StorageError::Database(e),
    }
}
