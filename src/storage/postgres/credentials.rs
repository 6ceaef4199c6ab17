//! What the token endpoint reads: the signing keys and a client's credentials
//! (its live and recently revoked secrets, in one round trip).

use std::sync::Arc;

use sqlx::{PgPool, Row};

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

/// The credentials of several clients in one round trip, in the order asked (`None`
/// for a client that does not exist). Unknown clients cost about what known ones do.
pub(super) async fn load_many(
    db: &mut sqlx::PgConnection,
    keys: &[(TenantId, ClientId)],
) -> Result<Vec<Option<Arc<ClientCredentials>>>, StorageError> {
    let tenants: Vec<uuid::Uuid> = keys.iter().map(|(t, _)| t.as_uuid()).collect();
    let clients: Vec<&str> = keys.iter().map(|(_, c)| c.as_str()).collect();
    // LATERAL: each asked (tenant, client) is looked up by its index, whatever the
    // planner guesses about the arrays' length.
    let found = sqlx::query(
        "SELECT q.ord, x.* FROM unnest($2::uuid[], $3::text[]) WITH ORDINALITY AS q(tenant_id, client_id, ord) \
         CROSS JOIN LATERAL (SELECT c.pk, c.kind, c.role_ids, c.access_token_lifetime, c.enabled, c.argon_salt, \
         s.id, s.hash_kind, s.hash, s.credential, s.expiration, s.previous_hash_kind, s.previous_hash, \
         s.previous_credential, s.grace_until, s.revoked_at \
         FROM clients c LEFT JOIN secrets s ON s.client_pk = c.pk AND (s.revoked_at IS NULL OR s.id IN \
         (SELECT r.id FROM secrets r WHERE r.client_pk = c.pk AND r.revoked_at IS NOT NULL \
         ORDER BY r.id DESC LIMIT $1)) WHERE c.tenant_id = q.tenant_id AND c.id = q.client_id) x \
         ORDER BY q.ord",
    )
    .bind(i64::from(RECENTLY_REVOKED))
    .bind(&tenants)
    .bind(&clients)
    .fetch_all(db)
    .await?;
    let mut answers = vec![None; keys.len()];
    let mut rest = found.as_slice();
    while let Some(first) = rest.first() {
        let ord: i64 = first.try_get("ord")?;
        let same = rest
            .iter()
            .position(|r| r.try_get::<i64, _>("ord").ok() != Some(ord))
            .unwrap_or(rest.len());
        let (client_rows, after) = rest.split_at(same);
        let slot = usize::try_from(ord - 1)
            .ok()
            .and_then(|i| answers.get_mut(i))
            .ok_or_else(|| StorageError::Corrupt(format!("credentials read answered row {ord}")))?;
        *slot = rows::credentials(client_rows)?.map(Arc::new);
        rest = after;
    }
    Ok(answers)
}
