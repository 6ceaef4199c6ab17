//! The page cache is bounded per connection, on every connection of the pool:
//! SQLite's default would let a large database hold 2 MiB per connection.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::{PAGE_CACHE_KIB, SqliteStorage};

#[tokio::test]
async fn every_connection_keeps_a_small_page_cache() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/cache.db", dir.path().display());
    let storage = SqliteStorage::connect(&url).await.unwrap();
    // Several connections held at once, so they are distinct ones.
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut conn = storage.pool.acquire().await.unwrap();
        let kib: i64 = sqlx::query_scalar("PRAGMA cache_size")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(kib, -i64::from(PAGE_CACHE_KIB));
        held.push(conn);
    }
}
