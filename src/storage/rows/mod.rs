//! Conversions between records and the column values both SQL dialects share,
//! so the SQLite and PostgreSQL implementations differ only in SQL and binding.
//! This file: tenants, clients, secrets, credentials, signing keys and policies;
//! `notify.rs`: the journal's and the notifications' rows (re-exported here).

use chrono::{DateTime, Utc};

use sqlx::{ColumnIndex, Decode, Row, Type};

use super::{ClientCredentials, SigningKeyRecord, StorageError};
use crate::domain::client::{ClientSettings, HybridSettings};
use crate::domain::expiry::{ExpiryPolicy, ExpiryUnit};
use crate::domain::ids::{ClientKind, CredentialId, SecretId};
use crate::domain::secret_hash::{HashKind, StoredHash};
use crate::domain::verification::Candidate;

mod notify;
pub use notify::{
    attempt, audit_entry, delivery, due_secret, event_type_pattern, event_types_column,
    parse_tenant, webhook,
};
pub(crate) use notify::{audit_columns, delivery_columns, due_columns, webhook_columns};

/// Tenant columns every `SELECT` of a tenant lists.
macro_rules! tenant_columns {
    () => {
        "id, name, policy_unit, policy_duration, max_lifetime_unit, max_lifetime_duration, \
         allow_self_rotation, created_at"
    };
}
pub(crate) use tenant_columns;

/// Client columns every `SELECT` of a client lists (a macro, so `concat!` keeps SQL static).
macro_rules! client_columns {
    () => {
        "pk, tenant_id, id, kind, name, enabled, access_token_lifetime, tags, role_ids, hybrid, \
         argon_salt, policy_unit, policy_duration, allow_self_rotation, created_at, updated_at"
    };
}
pub(crate) use client_columns;

/// Secret columns every `SELECT` of a secret lists.
macro_rules! secret_columns {
    () => {
        secret_columns!("")
    };
    ($p:literal) => {
        concat!(
            $p,
            "id, ",
            $p,
            "description, ",
            $p,
            "expiration, ",
            $p,
            "hash_kind, ",
            $p,
            "hash, ",
            $p,
            "hint, ",
            $p,
            "created_at, ",
            $p,
            "last_used_at, ",
            $p,
            "previous_hash_kind, ",
            $p,
            "previous_hash, ",
            $p,
            "grace_until, ",
            $p,
            "credential, ",
            $p,
            "previous_credential, ",
            $p,
            "revision, ",
            $p,
            "previous_last_used_at, ",
            $p,
            "refused_count, ",
            $p,
            "last_refused_at, ",
            $p,
            "last_refused_from"
        )
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
    allow_self_rotation: bool,
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
        allow_self_rotation,
    })
}

pub fn stored_hash(
    kind: &str,
    digest: Vec<u8>,
    credential: &str,
) -> Result<StoredHash, StorageError> {
    let kind = HashKind::from_db(kind)
        .ok_or_else(|| StorageError::Corrupt(format!("secrets.hash_kind: {kind:?}")))?;
    let credential = CredentialId::parse(credential)
        .ok_or_else(|| StorageError::Corrupt("secrets.credential".into()))?;
    Ok(StoredHash {
        kind,
        digest,
        credential,
    })
}

pub fn optional_hash(
    kind: Option<String>,
    digest: Option<Vec<u8>>,
    credential: Option<String>,
) -> Result<Option<StoredHash>, StorageError> {
    match (kind, digest, credential) {
        (Some(k), Some(d), Some(c)) => stored_hash(&k, d, &c).map(Some),
        _ => Ok(None),
    }
}

/// The credential id column of a stored hash.
pub fn credential_column(hash: &StoredHash) -> String {
    hash.credential.to_string()
}

/// The candidate verification compares against: a secret's current hash, its
/// previous hash with the end of its grace, and its dates.
pub fn candidate(
    id: i32,
    hash: StoredHash,
    previous: Option<StoredHash>,
    expiration: Option<DateTime<Utc>>,
    grace_until: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
) -> Candidate {
    Candidate {
        id: SecretId(id),
        hash,
        expiration,
        previous: previous.zip(grace_until),
        revoked: revoked_at.is_some(),
    }
}

/// Maps a unique-constraint violation to `Duplicate`.
pub fn on_unique_violation(e: sqlx::Error) -> StorageError {
    match e.as_database_error() {
        Some(db) if db.is_unique_violation() => StorageError::Duplicate,
        _ => StorageError::from(e),
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

/// The error for a conditional secret update that changed nothing: `Conflict` when
/// the secret is still live (another change came first), otherwise `NotFound`.
pub fn conflict_or_missing(still_live: bool) -> StorageError {
    if still_live {
        StorageError::Conflict
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
        revision: 0,
        previous_last_used_at: None,
        refused: super::RefusedPresentations::default(),
    }
}

/// The credentials of one client from the rows of the `clients LEFT JOIN secrets`
/// query (columns `pk, kind, role_ids, access_token_lifetime, enabled, argon_salt, id, hash_kind, hash, credential,
/// expiration, previous_hash_kind, previous_hash, previous_credential, grace_until, revoked_at`); no rows: no client.
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
        let (Some(id), Some(kind), Some(hash), Some(credential)) = (
            r.try_get::<Option<i32>, _>("id")?,
            r.try_get::<Option<String>, _>("hash_kind")?,
            r.try_get::<Option<Vec<u8>>, _>("hash")?,
            r.try_get::<Option<String>, _>("credential")?,
        ) else {
            continue;
        };
        candidates.push(candidate(
            id,
            stored_hash(&kind, hash, &credential)?,
            optional_hash(
                r.try_get("previous_hash_kind")?,
                r.try_get("previous_hash")?,
                r.try_get("previous_credential")?,
            )?,
            r.try_get("expiration")?,
            r.try_get("grace_until")?,
            r.try_get("revoked_at")?,
        ));
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

/// A signing key from its columns (`kid, algorithm, private_key_sealed, public_jwk,
/// created_at, generation, activates_at, revoked_at`).
pub fn signing_key<R>(r: &R) -> Result<SigningKeyRecord, StorageError>
where
    R: Row,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> DateTime<Utc>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<DateTime<Utc>>: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(SigningKeyRecord {
        kid: r.try_get("kid")?,
        algorithm: r.try_get("algorithm")?,
        private_key_sealed: r.try_get("private_key_sealed")?,
        public_jwk: r.try_get("public_jwk")?,
        created_at: r.try_get("created_at")?,
        generation: r.try_get("generation")?,
        activates_at: r.try_get("activates_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

/// A policy as its `(unit, duration)` columns; `None` as two NULLs.
pub fn policy_columns(policy: Option<ExpiryPolicy>) -> (Option<&'static str>, Option<i32>) {
    match policy {
        None => (None, None),
        Some(p) => (
            Some(p.unit().as_str()),
            Some(i32::try_from(p.duration()).unwrap_or(i32::MAX)),
        ),
    }
}

/// A policy from its `(unit, duration)` columns.
pub fn policy_from_columns(
    column: &str,
    unit: Option<String>,
    duration: Option<i32>,
) -> Result<Option<ExpiryPolicy>, StorageError> {
    let Some(unit) = unit else {
        return Ok(None);
    };
    let corrupt = || StorageError::Corrupt(format!("{column}: {unit:?} {duration:?}"));
    let parsed = ExpiryUnit::parse(&unit).ok_or_else(corrupt)?;
    let duration = u32::try_from(duration.unwrap_or(0)).map_err(|_| corrupt())?;
    ExpiryPolicy::new(parsed, duration)
        .map(Some)
        .map_err(|_| corrupt())
}
