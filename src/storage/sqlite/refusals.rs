//! SQLite: refused attempts, bounded as [`RefusalFold`] says. One transaction whose
//! first statement is a write (the fold's UPDATE), so it holds SQLite's single
//! write lock throughout: concurrent refusals run one after the other, and the
//! count of a tenant's minute cannot go stale before the insert it decides.

use sqlx::{SqliteConnection, SqlitePool};

use crate::domain::audit::{AuditEntry, RefusalFold};
use crate::storage::{RefusalKept, StorageError};

pub(super) async fn record_refusal(
    pool: &SqlitePool,
    entry: &AuditEntry,
    fold: &RefusalFold,
) -> Result<RefusalKept, StorageError> {
    let mut tx = pool.begin().await?;
    let kept = keep(&mut tx, entry, fold).await?;
    tx.commit().await?;
    Ok(kept)
}

async fn keep(
    conn: &mut SqliteConnection,
    e: &AuditEntry,
    fold: &RefusalFold,
) -> Result<RefusalKept, StorageError> {
    let folded =
        sqlx::query("UPDATE audit_events SET occurrences = occurrences + 1 WHERE fold_key = ?")
            .bind(&fold.key)
            .execute(&mut *conn)
            .await?;
    if folded.rows_affected() > 0 {
        return Ok(RefusalKept::Folded);
    }
    let tenant = e.tenant.map(|t| t.to_string());
    if let Some(id) = &tenant {
        let exists = sqlx::query("SELECT 1 FROM tenants WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        if exists.is_none() {
            return Ok(RefusalKept::UnknownTenant);
        }
    }
    let stored: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE tenant_id IS ? AND at >= ? AND at < ? \
         AND fold_key IS NOT NULL",
    )
    .bind(&tenant)
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
    conn: &mut SqliteConnection,
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
