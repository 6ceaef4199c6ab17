//! What the token endpoint reads: the signing keys and a client's credentials
//! (its live and recently revoked secrets, in one round trip).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::SqlitePool;

use crate::domain::ids::{ClientId, TenantId};
use crate::storage::rows::{self};
use crate::storage::{ClientCredentials, RECENTLY_REVOKED, SigningKeyRecord, StorageError};

pub(super) async fn insert_signing_key(
    pool: &SqlitePool,
    key: &SigningKeyRecord,
    revoke: Option<(&str, DateTime<Utc>)>,
) -> Result<bool, StorageError> {
    let mut tx = pool.begin().await?;
    // Any unique column (kid, generation) in conflict means another insert won.
    let inserted = sqlx::query(
        "INSERT INTO signing_keys (kid, algorithm, private_key_sealed, public_jwk, created_at, generation, activates_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(&key.kid)
    .bind(&key.algorithm)
    .bind(&key.private_key_sealed)
    .bind(&key.public_jwk)
    .bind(key.created_at)
    .bind(key.generation)
    .bind(key.activates_at)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !inserted {
        return Ok(false);
    }
    if let Some((kid, at)) = revoke {
        // The withdrawn key never signs again: its private half is erased.
        sqlx::query(
            "UPDATE signing_keys SET revoked_at = ?, private_key_sealed = ? \
             WHERE kid = ? AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(Vec::<u8>::new())
        .bind(kid)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

pub(super) async fn signing_keys(pool: &SqlitePool) -> Result<Vec<SigningKeyRecord>, StorageError> {
    sqlx::query(
        "SELECT kid, algorithm, private_key_sealed, public_jwk, created_at, generation, activates_at, revoked_at \
         FROM signing_keys ORDER BY generation",
    )
    .fetch_all(pool)
    .await?
    .iter()
    .map(rows::signing_key)
    .collect()
}

pub(super) async fn load_credentials(
    pool: &SqlitePool,
    tenant: &TenantId,
    client: &ClientId,
) -> Result<Option<Arc<ClientCredentials>>, StorageError> {
    // One round trip whether or not the client exists, so an unknown client
    // costs about what a known one does.
    let found = sqlx::query(
        "SELECT c.pk, c.kind, c.role_ids, c.access_token_lifetime, c.enabled, c.argon_salt, s.id, s.hash_kind, s.hash, s.credential, \
         s.expiration, s.previous_hash_kind, s.previous_hash, s.previous_credential, s.grace_until, s.revoked_at \
         FROM clients c LEFT JOIN secrets s ON s.client_pk = c.pk AND (s.revoked_at IS NULL OR s.id IN \
         (SELECT r.id FROM secrets r WHERE r.client_pk = c.pk AND r.revoked_at IS NOT NULL \
         ORDER BY r.id DESC LIMIT ?)) WHERE c.tenant_id = ? AND c.id = ?",
    )
    .bind(RECENTLY_REVOKED)
    .bind(tenant.to_string())
    .bind(client.as_str())
    .fetch_all(pool)
    .await?;
    Ok(rows::credentials(&found)?.map(Arc::new))
}
