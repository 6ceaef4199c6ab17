//! Throwaway PostgreSQL databases for tests, one way for every test that needs one:
//! the storage conformance tests and the API test harness (`tests/api/harness.rs`)
//! both create a fresh `lk_<uuid>` database on the server named by
//! `LATCHKEY_TEST_POSTGRES_URL`, an admin URL on which the tests may
//! `CREATE DATABASE`. PostgreSQL tests never skip: without the variable they fail
//! and say how to set it. The server itself never calls this module.

use sqlx::{AssertSqlSafe, Connection, PgConnection};

/// The environment variable naming the PostgreSQL server the tests create databases on.
pub const POSTGRES_URL_VAR: &str = "LATCHKEY_TEST_POSTGRES_URL";

/// A database made by [`create_postgres_database`].
pub struct TestDatabase {
    /// Its name: `lk_` and a UUID.
    pub name: String,
    /// Its URL: the admin URL with the database replaced (query parameters kept).
    pub url: String,
    admin: String,
}

/// The admin URL of the test server, from `LATCHKEY_TEST_POSTGRES_URL`.
///
/// # Panics
/// When the variable is not set: PostgreSQL tests never skip.
pub fn postgres_admin_url() -> String {
    std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| {
        panic!(
            "{POSTGRES_URL_VAR} is not set, and PostgreSQL tests never skip: run \
             scripts/test.sh (it starts a throwaway cluster) or export \
             {POSTGRES_URL_VAR}=postgres://USER@HOST:PORT/postgres (USER may CREATE DATABASE)"
        )
    })
}

/// `CREATE DATABASE lk_<uuid>` on the server of [`postgres_admin_url`].
///
/// # Panics
/// When the variable is not set, or the server cannot be reached or refuses.
pub async fn create_postgres_database() -> TestDatabase {
    let admin = postgres_admin_url();
    let name = format!("lk_{}", uuid::Uuid::new_v4().simple());
    let mut conn = connect(&admin).await;
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
    let _ = conn.close().await;
    TestDatabase {
        url: database_url(&admin, &name),
        name,
        admin,
    }
}

impl TestDatabase {
    /// Drops the database, ending the sessions still connected to it.
    ///
    /// # Panics
    /// When the server cannot be reached or refuses.
    pub async fn drop_database(self) {
        let mut conn = connect(&self.admin).await;
        let name = &self.name;
        sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)")))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("DROP DATABASE {name}: {e}"));
        let _ = conn.close().await;
    }
}

async fn connect(admin: &str) -> PgConnection {
    PgConnection::connect(admin)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {POSTGRES_URL_VAR}={admin}: {e}"))
}

/// `admin` with its database replaced by `name` (query parameters kept).
fn database_url(admin: &str, name: &str) -> String {
    let (base, query) = admin
        .split_once('?')
        .map_or((admin, None), |(b, q)| (b, Some(q)));
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut url = format!("{}/{name}", &base[..path_start]);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

#[test]
fn database_url_keeps_server_and_options() {
    let url = database_url("postgres://u:p@h:5/postgres?sslmode=disable", "x");
    assert_eq!(url, "postgres://u:p@h:5/x?sslmode=disable");
    assert_eq!(database_url("postgres://h", "x"), "postgres://h/x");
}
