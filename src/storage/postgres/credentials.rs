//! What the token endpoint reads: the signing keys and a client's credentials
//! (its live and recently revoked secrets, in one round trip).

use std::sync::Arc;

use sqlx::PgPool;

use crate::domain::ids::{ClientId, TenantId};
use crate::storage::rows::{self};
use crate::storage::{ClientCredentials, RECENTLY_REVOKED, SigningKeyRecord, StorageError};

pub(super) async fn insert_signing_key_if_absent(
    pool: &PgPool,
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
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn current_signing_key(
    pool: &PgPool,
) -> Result<Option<SigningKeyRecord>, StorageError> {
    sqlx::query("SELECT kid, algorithm, private_key_sealed, public_jwk, created_at FROM signing_keys WHERE slot = 'current'")
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(rows::signing_key)
        .transpose()
}

pub(super) async fn signing_keys(pool: &PgPool) -> Result<Vec<SigningKeyRecord>, StorageError> {
    sqlx::query("SELECT kid, algorithm, private_key_sealed, public_jwk, created_at FROM signing_keys ORDER BY created_at DESC")
        .fetch_all(pool)
        .await?
        .iter()
        .map(rows::signing_key)
        .collect()
}

pub(super) async fn load_credentials(
    db: &mut sqlx::PgConnection,
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
         ORDER BY r.id DESC LIMIT $1)) WHERE c.tenant_id = $2 AND c.id = $3",
    )
    .bind(i64::from(RECENTLY_REVOKED))
    .bind(tenant.as_uuid())
    .bind(client.as_str())
    .fetch_all(db)
    .await?;
    Ok(rows::credentials(&found)?.map(Arc::new))
}
