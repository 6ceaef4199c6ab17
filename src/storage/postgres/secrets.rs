//! Secrets of a client: insert within the per-client limit, read, update, revoke,
//! and the batched last-used timestamps. Called by the `Storage` impl in `mod.rs`.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};

use super::journal::write_journal;
use super::listen::announce_change;
use super::secret_from_row;
use crate::domain::ids::{SecretId, TenantId};
use crate::domain::leaks::LeakPolicy;
use crate::storage::rows::{self, secret_columns};
use crate::storage::{
    FoundSecret, Journal, NewSecret, RefusedSecret, RefusedUse, SecretRecord, SecretUse,
    StorageError,
};
use sqlx::{Postgres, Transaction};

pub(super) async fn insert_secret_within_limit(
    pool: &PgPool,
    client_pk: i64,
    s: &NewSecret,
    secrets_max: u32,
    journal: &Journal,
) -> Result<SecretRecord, StorageError> {
    let mut tx = pool.begin().await?;
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
    announce_change(&mut tx).await?;
    tx.commit().await?;
    Ok(secret)
}

pub(super) async fn get_secret(
    pool: &PgPool,
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
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(secret_from_row)
    .transpose()
}

pub(super) async fn find_secrets_by_digest(
    pool: &PgPool,
    digest: &[u8],
) -> Result<Vec<FoundSecret>, StorageError> {
    // One indexed branch per hash column; a digest is unique in practice, so the
    // limit only bounds what a corrupt database could return.
    let found = sqlx::query(concat!(
        "SELECT c.tenant_id AS client_tenant, c.kind AS client_kind, c.id AS client_id, \
         t.leak_policy AS tenant_leak_policy, s.client_pk AS found_client_pk, FALSE AS found_previous, ",
        secret_columns!("s."),
        " FROM secrets s JOIN clients c ON c.pk = s.client_pk JOIN tenants t ON t.id = c.tenant_id \
         WHERE s.hash = $1 AND s.hash_kind = 'sha256' AND s.revoked_at IS NULL \
         UNION ALL SELECT c.tenant_id AS client_tenant, c.kind AS client_kind, c.id AS client_id, \
         t.leak_policy AS tenant_leak_policy, s.client_pk AS found_client_pk, TRUE AS found_previous, ",
        secret_columns!("s."),
        " FROM secrets s JOIN clients c ON c.pk = s.client_pk JOIN tenants t ON t.id = c.tenant_id \
         WHERE s.previous_hash = $1 AND s.previous_hash_kind = 'sha256' AND s.revoked_at IS NULL \
         LIMIT 16"
    ))
    .bind(digest)
    .fetch_all(pool)
    .await?;
    found
        .iter()
        .map(|row| {
            let tenant_id = TenantId::from(row.try_get::<uuid::Uuid, _>("client_tenant")?);
            let kind: String = row.try_get("client_kind")?;
            let policy: String = row.try_get("tenant_leak_policy")?;
            Ok(FoundSecret {
                leak_policy: LeakPolicy::parse(&policy).ok_or_else(|| {
                    StorageError::Corrupt(format!("tenants.leak_policy: {policy:?}"))
                })?,
                tenant_id,
                client_pk: row.try_get("found_client_pk")?,
                client_kind: rows::parse_kind(&kind)?,
                client_id: row.try_get("client_id")?,
                previous: row.try_get("found_previous")?,
                secret: secret_from_row(row)?,
            })
        })
        .collect()
}

pub(super) async fn update_secret(
    pool: &PgPool,
    client_pk: i64,
    s: &SecretRecord,
    journal: &Journal,
) -> Result<(), StorageError> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "UPDATE secrets SET description = $1, expiration = $2, hash_kind = $3, hash = $4, \
         credential = $5, hint = $6, previous_hash_kind = $7, previous_hash = $8, \
         previous_credential = $9, grace_until = $10, revision = revision + 1, \
         previous_last_used_at = CASE WHEN previous_credential = $9 THEN previous_last_used_at END \
         WHERE client_pk = $11 AND id = $12 AND revoked_at IS NULL AND revision = $13",
    )
    .bind(&s.description)
    .bind(s.expiration)
    .bind(s.hash.kind.as_db())
    .bind(&s.hash.digest)
    .bind(rows::credential_column(&s.hash))
    .bind(&s.hint)
    .bind(s.previous_hash.as_ref().map(|h| h.kind.as_db()))
    .bind(s.previous_hash.as_ref().map(|h| h.digest.as_slice()))
    .bind(s.previous_hash.as_ref().map(rows::credential_column))
    .bind(s.grace_until)
    .bind(client_pk)
    .bind(s.id.0)
    .bind(s.revision)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        let live = sqlx::query(
            "SELECT 1 FROM secrets WHERE client_pk = $1 AND id = $2 AND revoked_at IS NULL",
        )
        .bind(client_pk)
        .bind(s.id.0)
        .fetch_optional(&mut *tx)
        .await?;
        return Err(rows::conflict_or_missing(live.is_some()));
    }
    write_journal(&mut tx, journal).await?;
    announce_change(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn revoke_secret(
    pool: &PgPool,
    client_pk: i64,
    id: SecretId,
    now: DateTime<Utc>,
    journal: &Journal,
) -> Result<(), StorageError> {
    let mut tx = pool.begin().await?;
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
    announce_change(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn record_last_used(
    pool: &PgPool,
    uses: &[SecretUse],
) -> Result<(), StorageError> {
    let mut tx = pool.begin().await?;
    for u in uses {
        sqlx::query(
            "UPDATE secrets SET \
             last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < $1 \
                 THEN $1 ELSE last_used_at END, \
             previous_last_used_at = CASE WHEN previous_credential = $2 \
                 AND (previous_last_used_at IS NULL OR previous_last_used_at < $1) \
                 THEN $1 ELSE previous_last_used_at END \
             WHERE client_pk = $3 AND id = $4 \
             AND (last_used_at IS NULL OR last_used_at < $1 OR previous_credential = $2)",
        )
        .bind(u.at)
        .bind(u.credential.to_string())
        .bind(u.client_pk)
        .bind(u.secret_id.0)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn record_refused_uses(
    pool: &PgPool,
    uses: &[RefusedUse],
    event_before: DateTime<Utc>,
) -> Result<Vec<RefusedSecret>, StorageError> {
    let mut tx = pool.begin().await?;
    let mut due = Vec::new();
    for u in uses {
        let row = sqlx::query(
            "UPDATE secrets SET refused_count = refused_count + $1, \
             last_refused_from = CASE WHEN last_refused_at IS NULL OR last_refused_at <= $2 \
                 THEN $3 ELSE last_refused_from END, \
             last_refused_at = CASE WHEN last_refused_at IS NULL OR last_refused_at <= $2 \
                 THEN $2 ELSE last_refused_at END \
             WHERE client_pk = $4 AND id = $5 \
             RETURNING refused_event_at",
        )
        .bind(i64::from(u.count))
        .bind(u.at)
        .bind(&u.from)
        .bind(u.client_pk)
        .bind(u.secret_id.0)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { continue };
        let last_event: Option<DateTime<Utc>> = row.try_get("refused_event_at")?;
        if last_event.is_some_and(|at| at >= event_before) {
            continue;
        }
        let found = sqlx::query(concat!(
            "SELECT c.tenant_id, c.kind AS client_kind, c.id AS client_id, ",
            secret_columns!("s."),
            " FROM secrets s JOIN clients c ON c.pk = s.client_pk \
             WHERE s.client_pk = $1 AND s.id = $2"
        ))
        .bind(u.client_pk)
        .bind(u.secret_id.0)
        .fetch_one(&mut *tx)
        .await?;
        let secret = secret_from_row(&found)?;
        let tenant = TenantId::from(found.try_get::<uuid::Uuid, _>("tenant_id")?);
        let kind: String = found.try_get("client_kind")?;
        let client_id: String = found.try_get("client_id")?;
        due.push(RefusedSecret {
            client_pk: u.client_pk,
            subject: secret.subject(tenant, rows::parse_kind(&kind)?, &client_id),
            refused: secret.refused,
        });
    }
    tx.commit().await?;
    Ok(due)
}

pub(super) async fn raise_refused_use(
    pool: &PgPool,
    client_pk: i64,
    id: SecretId,
    event_before: DateTime<Utc>,
    now: DateTime<Utc>,
    journal: &Journal,
) -> Result<bool, StorageError> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "UPDATE secrets SET refused_event_at = $1 WHERE client_pk = $2 AND id = $3 \
         AND (refused_event_at IS NULL OR refused_event_at < $4)",
    )
    .bind(now)
    .bind(client_pk)
    .bind(id.0)
    .bind(event_before)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    write_journal(&mut tx, journal).await?;
    tx.commit().await?;
    Ok(true)
}

pub(super) async fn insert_secret(
    tx: &mut Transaction<'_, Postgres>,
    client_pk: i64,
    id: SecretId,
    s: &NewSecret,
) -> Result<SecretRecord, StorageError> {
    sqlx::query(
        "INSERT INTO secrets (client_pk, id, description, expiration, hash_kind, hash, credential, \
         hint, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(client_pk)
    .bind(id.0)
    .bind(&s.description)
    .bind(s.expiration)
    .bind(s.hash.kind.as_db())
    .bind(&s.hash.digest)
    .bind(rows::credential_column(&s.hash))
    .bind(&s.hint)
    .bind(s.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(rows::inserted_secret(id, s))
}
