//! Migration 0016 on a database that already holds tenants of one name: the
//! oldest keeps the name, each later one gets its id appended, and the unique
//! index is then in force. On SQLite and PostgreSQL.

use std::borrow::Cow;

use sqlx::migrate::Migrator;

use super::test_database::create_postgres_database;

/// `m` without migration 16 and later.
fn before_0016(mut m: Migrator) -> Migrator {
    m.migrations = Cow::Owned(
        m.migrations
            .iter()
            .filter(|x| x.version < 16)
            .cloned()
            .collect(),
    );
    m
}

const IDS: [&str; 4] = [
    "00000000-0000-4000-8000-000000000001",
    "00000000-0000-4000-8000-000000000002",
    "00000000-0000-4000-8000-000000000003",
    "00000000-0000-4000-8000-000000000004",
];

/// (id, name, created_at seconds): two later "Acme" (one at the same instant,
/// ordered by id), one "Solo".
const ROWS: [(usize, &str, i64); 4] = [
    (1, "Acme", 10),
    (0, "Acme", 10),
    (2, "Acme", 5),
    (3, "Solo", 1),
];

fn expected() -> Vec<(String, String)> {
    let mut v = vec![
        (IDS[0].to_owned(), format!("Acme ({})", IDS[0])),
        (IDS[1].to_owned(), format!("Acme ({})", IDS[1])),
        (IDS[2].to_owned(), "Acme".to_owned()),
        (IDS[3].to_owned(), "Solo".to_owned()),
    ];
    v.sort();
    v
}

fn at(secs: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
}

#[tokio::test]
async fn duplicate_names_are_suffixed_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/names.db?mode=rwc", dir.path().display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    before_0016(sqlx::migrate!("migrations/sqlite"))
        .run(&pool)
        .await
        .unwrap();
    for (i, name, secs) in ROWS {
        sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)")
            .bind(IDS[i])
            .bind(name)
            .bind(at(secs))
            .execute(&pool)
            .await
            .unwrap();
    }
    sqlx::migrate!("migrations/sqlite")
        .run(&pool)
        .await
        .unwrap();
    let mut got: Vec<(String, String)> = sqlx::query_as("SELECT id, name FROM tenants")
        .fetch_all(&pool)
        .await
        .unwrap();
    got.sort();
    assert_eq!(got, expected());
    let again = sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES (?, 'Acme', ?)")
        .bind("00000000-0000-4000-8000-000000000009")
        .bind(at(20))
        .execute(&pool)
        .await;
    assert!(
        again
            .unwrap_err()
            .as_database_error()
            .unwrap()
            .is_unique_violation()
    );
}

#[tokio::test]
async fn duplicate_names_are_suffixed_on_postgres() {
    let db = create_postgres_database().await;
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    before_0016(sqlx::migrate!("migrations/postgres"))
        .run(&pool)
        .await
        .unwrap();
    for (i, name, secs) in ROWS {
        sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1::uuid, $2, $3)")
            .bind(IDS[i])
            .bind(name)
            .bind(at(secs))
            .execute(&pool)
            .await
            .unwrap();
    }
    sqlx::migrate!("migrations/postgres")
        .run(&pool)
        .await
        .unwrap();
    let mut got: Vec<(String, String)> = sqlx::query_as("SELECT id::text, name FROM tenants")
        .fetch_all(&pool)
        .await
        .unwrap();
    got.sort();
    assert_eq!(got, expected());
    let again = sqlx::query(
        "INSERT INTO tenants (id, name, created_at) VALUES (gen_random_uuid(), 'Acme', $1)",
    )
    .bind(at(20))
    .execute(&pool)
    .await;
    assert!(
        again
            .unwrap_err()
            .as_database_error()
            .unwrap()
            .is_unique_violation()
    );
    pool.close().await;
    db.drop_database().await;
}
