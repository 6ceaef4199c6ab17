//! PostgreSQL: refused attempts, bounded as [`RefusalFold`] says. A repeat folds
//! with one UPDATE; a new refusal takes a transaction-scoped advisory lock on its
//! tenant's minute (keyed by the overflow key, which names exactly that), so the
//! count of the minute's entries and the insert it decides are not interleaved
//! with another node's. The insert is an upsert on the fold key, so two identical
//! first refusals make one row counting both.

use sqlx::{PgConnection, PgPool};

use crate::domain::audit::{AuditEntry, RefusalFold};
use crate::storage::{RefusalKept, StorageError};

pub(super) async fn record_refusal(
    pool: &PgPool,
    entry: &AuditEntry,
    fold: &RefusalFold,
) -> Result<RefusalKept, StorageError> {
    let mut tx = pool.begin().await?;
    let kept = keep(&mut tx, entry, fold).await?;
    tx.commit().await?;
    Ok(kept)
}

async fn keep(
    conn: &mut PgConnection,
    e: &AuditEntry,
    fold: &RefusalFold,
) -> Result<RefusalKept, StorageError> {
    let folded =
        sqlx::query("UPDATE audit_events SET occurrences = occurrences + 1 WHERE fold_key = $1")
            .bind(&fold.key)
            .execute(&mut *conn)
            .await?;
    if folded.rows_affected() > 0 {
        return Ok(RefusalKept::Folded);
    }
    let tenant = e.tenant.map(|t| t.as_uuid());
    if let Some(id) = tenant {
        let exists = sqlx::query("SELECT 1 FROM tenants WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        if exists.is_none() {
            return Ok(RefusalKept::UnknownTenant);
        }
    }
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(&fold.overflow_key)
        .execute(&mut *conn)
        .await?;
    // `tenant_id = $1` (not IS NOT DISTINCT FROM) so the (tenant_id, at) index serves it.
    let count = if tenant.is_some() {
        "SELECT COUNT(*) FROM audit_events WHERE tenant_id = $1 AND at >= $2 AND at < $3 \
         AND fold_key IS NOT NULL"
    } else {
        "SELECT COUNT(*) FROM audit_events WHERE tenant_id IS NULL AND $1::uuid IS NULL \
         AND at >= $2 AND at < $3 AND fold_key IS NOT NULL"
    };
    let stored: i64 = sqlx::query_scalar(count)
        .bind(tenant)
        .bind(fold.window_start)
        .bind(fold.window_end)
        .fetch_one(&mut *conn)
        .await?;
    if stored < i64::from(fold.cap) {
        upsert(conn, e, &fold.key, RefusalKept::Stored).await
    } else {
        upsert(
            conn,
            &fold.overflow,
            &fold.overflow_key,
            RefusalKept::Overflowed,
        )
        .await
    }
}

/// Inserts `e` under `key`, or counts one more on the row that has it.
async fn upsert(
    conn: &mut PgConnection,
    e: &AuditEntry,
    key: &str,
    fresh: RefusalKept,
) -> Result<RefusalKept, StorageError> {
    let occurrences = super::journal::insert_audit_folded(conn, e, Some(key)).await?;
    Ok(if occurrences > 1 && fresh == RefusalKept::Stored {
        RefusalKept::Folded
    } else {
        fresh
    })
}
