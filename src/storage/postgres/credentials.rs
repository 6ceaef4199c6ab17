//! What the token endpoint reads: the signing keys and a client's credentials
//! (its live and recently revoked secrets, in one round trip).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};

use crate::domain::ids::{ClientId, TenantId};
use crate::storage::failures::KeyFailures;
use crate::storage::rows::{self};
use crate::storage::{ClientCredentials, RECENTLY_REVOKED, SigningKeyRecord, StorageError};

pub(super) async fn insert_signing_key(
    pool: &PgPool,
    key: &SigningKeyRecord,
    revoke: Option<(&str, DateTime<Utc>)>,
) -> Result<bool, StorageError> {
    let mut tx = pool.begin().await?;
    // Any unique column (kid, generation) in conflict means another insert won.
    let inserted = sqlx::query(
        "INSERT INTO signing_keys (kid, algorithm, private_key_sealed, public_jwk, created_at, generation, activates_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
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
            "UPDATE signing_keys SET revoked_at = $1, private_key_sealed = $2 \
             WHERE kid = $3 AND revoked_at IS NULL",
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

pub(super) async fn signing_keys(pool: &PgPool) -> Result<Vec<SigningKeyRecord>, StorageError> {
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

/// One read of the token path: a client, and optionally the key of its failures
/// shared by every node (see [`super::failures`]).
pub(super) type CredentialRead = (TenantId, ClientId, Option<String>);
/// Its answer: the credentials (`None`: no such client) and, when asked for and the
/// client exists, the key's shared failures.
pub(super) type CredentialAnswer = (Option<Arc<ClientCredentials>>, Option<KeyFailures>);

/// The credentials of several clients in one round trip, in the order asked, each
/// with its shared failures when a failure key is given. Unknown clients cost about
/// what known ones do; their failures are not read (nothing can be guessed for them;
/// recording still bounds what is counted).
pub(super) async fn load_many(
    db: &mut sqlx::PgConnection,
    reads: &[CredentialRead],
) -> Result<Vec<CredentialAnswer>, StorageError> {
    let tenants: Vec<uuid::Uuid> = reads.iter().map(|(t, _, _)| t.as_uuid()).collect();
    let clients: Vec<&str> = reads.iter().map(|(_, c, _)| c.as_str()).collect();
    let failure_keys: Vec<Option<&str>> = reads.iter().map(|(_, _, k)| k.as_deref()).collect();
    // LATERAL: each asked (tenant, client) is looked up by its index, whatever the
    // planner guesses about the arrays' length.
    let found = sqlx::query(
        "SELECT q.ord, x.*, f.shared_failures, f.shared_oldest_ms \
         FROM unnest($2::uuid[], $3::text[], $4::text[]) WITH ORDINALITY AS q(tenant_id, client_id, failure_key, ord) \
         CROSS JOIN LATERAL (SELECT c.pk, c.kind, c.role_ids, c.access_token_lifetime, c.enabled, c.argon_salt, \
         s.id, s.hash_kind, s.hash, s.credential, s.expiration, s.previous_hash_kind, s.previous_hash, \
         s.previous_credential, s.grace_until, s.revoked_at \
         FROM clients c LEFT JOIN secrets s ON s.client_pk = c.pk AND (s.revoked_at IS NULL OR s.id IN \
         (SELECT r.id FROM secrets r WHERE r.client_pk = c.pk AND r.revoked_at IS NOT NULL \
         ORDER BY r.id DESC LIMIT $1)) WHERE c.tenant_id = q.tenant_id AND c.id = q.client_id) x \
         CROSS JOIN LATERAL (SELECT count(*) AS shared_failures, \
         COALESCE(EXTRACT(EPOCH FROM min(a.expires_at) - clock_timestamp()) * 1000, 0)::float8 AS shared_oldest_ms \
         FROM auth_failures a WHERE q.failure_key IS NOT NULL AND a.key = q.failure_key \
         AND a.expires_at > clock_timestamp()) f \
         ORDER BY q.ord",
    )
    .bind(i64::from(RECENTLY_REVOKED))
    .bind(&tenants)
    .bind(&clients)
    .bind(&failure_keys)
    .fetch_all(db)
    .await?;
    let mut answers: Vec<CredentialAnswer> = vec![(None, None); reads.len()];
    let mut rest = found.as_slice();
    while let Some(first) = rest.first() {
        let ord: i64 = first.try_get("ord")?;
        let same = rest
            .iter()
            .position(|r| r.try_get::<i64, _>("ord").ok() != Some(ord))
            .unwrap_or(rest.len());
        let (client_rows, after) = rest.split_at(same);
        let index = usize::try_from(ord - 1)
            .ok()
            .filter(|i| *i < reads.len())
            .ok_or_else(|| StorageError::Corrupt(format!("credentials read answered row {ord}")))?;
        let failures = match &reads[index].2 {
            Some(key) => Some(shared_failures(first, key)?),
            None => None,
        };
        answers[index] = (rows::credentials(client_rows)?.map(Arc::new), failures);
        rest = after;
    }
    Ok(answers)
}

fn shared_failures(row: &PgRow, key: &str) -> Result<KeyFailures, StorageError> {
    let count: i64 = row.try_get("shared_failures")?;
    let ms: f64 = row.try_get("shared_oldest_ms")?;
    Ok(KeyFailures {
        key: key.to_owned(),
        count: u32::try_from(count).unwrap_or(u32::MAX),
        oldest_ends_in: Duration::from_secs_f64((ms / 1000.0).clamp(0.0, 1e9)),
    })
}
