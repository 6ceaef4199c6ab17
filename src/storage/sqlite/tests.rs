//! The pool after a failed write: SQLite rolls a transaction back by itself on
//! `SQLITE_FULL`, after which sqlx's ROLLBACK fails and sqlx still counts the
//! transaction as open. Reused, such a connection begins with a SAVEPOINT, and a
//! later error rolled back to that savepoint leaves it inside a transaction that
//! never commits. The pool must close it instead.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};

use super::{SqliteStorage, pool_options};

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

/// Migration 0007 moves expirations stored past year 9999 (which sorted
/// before every normal date) to 9999-12-31T23:59:59Z, and leaves others alone.
#[tokio::test]
async fn migration_0007_brings_far_expirations_back_into_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/t.db", dir.path().display());
    let pool = SqliteStorage::connect(&url).await.unwrap().pool;
    let at = "2026-01-01T00:00:00+00:00";
    sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ('t', 't', ?)")
        .bind(at)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO clients (tenant_id, id, kind, name, enabled, access_token_lifetime, \
         tags, role_ids, argon_salt, created_at, updated_at) \
         VALUES ('t', 'c', 'client_credentials', 'c', 1, 3600, '[]', '[]', x'00', ?, ?)",
    )
    .bind(at)
    .bind(at)
    .execute(&pool)
    .await
    .unwrap();
    for (id, expiration) in [
        (1, Some("+262142-01-01T00:00:00+00:00")),
        (2, Some("2030-06-01T12:00:00.123456+00:00")),
        (3, None),
    ] {
        sqlx::query(
            "INSERT INTO secrets (client_pk, id, description, expiration, hash_kind, hash, \
             hint, created_at) VALUES (1, ?, '', ?, 'sha256', x'00', 'h', ?)",
        )
        .bind(id)
        .bind(expiration)
        .bind(at)
        .execute(&pool)
        .await
        .unwrap();
    }
    sqlx::raw_sql(include_str!("../../../migrations/sqlite/0007_instants.sql"))
        .execute(&pool)
        .await
        .unwrap();
    let got: Vec<(i32, Option<String>)> =
        sqlx::query_as("SELECT id, expiration FROM secrets ORDER BY expiration, id")
            .fetch_all(&pool)
            .await
            .unwrap();
    let want = [
        (3, None),
        (2, Some("2030-06-01T12:00:00.123456+00:00".to_owned())),
        (1, Some("9999-12-31T23:59:59+00:00".to_owned())),
    ];
    assert_eq!(got, want);
}
