//! Conversions between records and the column values both SQL dialects share,
//! so the SQLite and PostgreSQL implementations differ only in SQL and binding.

use chrono::{DateTime, Utc};

use sqlx::{ColumnIndex, Decode, Row, Type};

use super::{ClientCredentials, SigningKeyRecord, StorageError};
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

/// A `u32` setting as the `INTEGER` column that stores it.
pub fn int_column(column: &str, value: u32) -> Result<i32, StorageError> {
    i32::try_from(value).map_err(|_| StorageError::Corrupt(format!("{column}: {value} too large")))
}

/// The error for a failed conditional counter update: the limit when the
/// parent row exists, otherwise `NotFound`.
pub fn limit_or_missing(parent_exists: bool, max: u32) -> StorageError {
    if parent_exists {
        StorageError::LimitReached(max)
    } else {
        StorageError::NotFound
    }
}

/// The record of a secret just inserted with `id`.
pub fn inserted_secret(id: SecretId, s: &super::NewSecret) -> super::SecretRecord {
    super::SecretRecord {
        id,
        description: s.description.clone(),
        expiration: s.expiration,
        hash: s.hash.clone(),
        hint: s.hint.clone(),
        created_at: s.created_at,
        last_used_at: None,
        previous_hash: None,
        grace_until: None,
    }
}

/// The credentials of one client from the rows of the `clients LEFT JOIN secrets`
/// query (columns `pk, kind, role_ids, access_token_lifetime, enabled, argon_salt, id, hash_kind, hash, expiration,
/// previous_hash_kind, previous_hash, grace_until, revoked_at`); no rows: no client.
pub fn credentials<R>(found: &[R]) -> Result<Option<ClientCredentials>, StorageError>
where
    R: Row,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i32: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<i32>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<Vec<u8>>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<DateTime<Utc>>: Decode<'r, R::Database> + Type<R::Database>,
{
    let Some(first) = found.first() else {
        return Ok(None);
    };
    let mut candidates = Vec::with_capacity(found.len());
    for r in found {
        let (Some(id), Some(kind), Some(hash)) = (
            r.try_get::<Option<i32>, _>("id")?,
            r.try_get::<Option<String>, _>("hash_kind")?,
            r.try_get::<Option<Vec<u8>>, _>("hash")?,
        ) else {
            continue;
        };
        candidates.push(candidate(
            id,
            &kind,
            hash,
            r.try_get("expiration")?,
            r.try_get("previous_hash_kind")?,
            r.try_get("previous_hash")?,
            r.try_get("grace_until")?,
            r.try_get("revoked_at")?,
        )?);
    }
    let kind: String = first.try_get("kind")?;
    let lifetime: i32 = first.try_get("access_token_lifetime")?;
    let role_ids: String = first.try_get("role_ids")?;
    Ok(Some(ClientCredentials {
        pk: first.try_get("pk")?,
        kind: parse_kind(&kind)?,
        role_ids: parse_json_list("role_ids", &role_ids)?,
        access_token_lifetime: u32::try_from(lifetime)
            .map_err(|_| StorageError::Corrupt("clients.access_token_lifetime".into()))?,
        enabled: first.try_get("enabled")?,
        argon_salt: first.try_get("argon_salt")?,
        candidates,
    }))
}

/// A signing key from its columns (`kid, algorithm, private_key_sealed, public_jwk, created_at`).
pub fn signing_key<R>(r: &R) -> Result<SigningKeyRecord, StorageError>
where
    R: Row,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> DateTime<Utc>: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(SigningKeyRecord {
        kid: r.try_get("kid")?,
        algorithm: r.try_get("algorithm")?,
        private_key_sealed: r.try_get("private_key_sealed")?,
        public_jwk: r.try_get("public_jwk")?,
        created_at: r.try_get("created_at")?,
    })
}
