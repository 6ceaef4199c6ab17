//! The pool after a failed write: SQLite rolls a transaction back by itself on
//! `SQLITE_FULL`, after which sqlx's ROLLBACK fails and sqlx still counts the
//! transaction as open. Reused, such a connection begins with a SAVEPOINT, and a
//! later error rolled back to that savepoint leaves it inside a transaction that
//! never commits. The pool must close it instead.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};

use super::pool_options;

async fn count(pool: &SqlitePool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM t")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_write_acknowledged_after_a_full_disk_is_committed() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/full.db", dir.path().display());
    let options = SqliteConnectOptions::from_str(&url)
        .unwrap()
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal);
    // One connection, so every step below reuses it.
    let pool = pool_options(1).connect_with(options.clone()).await.unwrap();
    sqlx::raw_sql("CREATE TABLE t (v TEXT UNIQUE); CREATE TABLE big (v TEXT)")
        .execute(&pool)
        .await
        .unwrap();
    let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(&pool)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "PRAGMA max_page_count = {}",
        pages + 2
    )))
    .execute(&pool)
    .await
    .unwrap();

    // Disk full: SQLite rolls the whole transaction back itself.
    let mut tx = pool.begin().await.unwrap();
    let full = sqlx::query("INSERT INTO big VALUES (?)")
        .bind("x".repeat(64 * 1024))
        .execute(&mut *tx)
        .await;
    assert!(full.is_err(), "the cap did not bite");
    drop(tx);

    // A write failing for another reason (a duplicate) is rolled back by sqlx.
    sqlx::query("INSERT INTO t VALUES ('a')")
        .execute(&pool)
        .await
        .unwrap();
    let mut tx = pool.begin().await.unwrap();
    let dup = sqlx::query("INSERT INTO t VALUES ('a')")
        .execute(&mut *tx)
        .await;
    assert!(dup.is_err(), "a duplicate");
    drop(tx);

    // Then a write that commits: it must be visible to another connection.
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("INSERT INTO t VALUES ('b')")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    pool.close().await;
    let other = pool_options(1).connect_with(options).await.unwrap();
    assert_eq!(count(&other).await, 2, "the committed write is lost");
}
