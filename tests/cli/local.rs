//! The local commands on SQLite: `migrate` on a fresh database, `backup` while
//! a server runs (a new server opens the copy and finds the data), `restore`
//! (refused while a server holds the database), `users reset-password` (the
//! user signs in to the console with the printed password), and the pointers to
//! PostgreSQL's own tools.

use std::path::Path;

use reqwest::redirect::Policy;
use sqlx::{Connection, SqliteConnection};

use crate::harness::{Backend, ServerOptions, TestServer};
use crate::{cli, latchkey_in};

const ADMIN_PASSWORD: &str = "correct horse battery staple";

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// A server on the SQLite database at `db` (with `admin`'s password known).
async fn server_on(db: &Path) -> TestServer {
    let opts = ServerOptions {
        database_url: Some(sqlite_url(db)),
        env: vec![("LATCHKEY_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into())],
        ..ServerOptions::default()
    };
    TestServer::start_with(Backend::Sqlite, opts).await
}

/// Runs a local command on the database at `db`.
async fn local(dir: &Path, db: &Path, args: &[&str]) -> crate::Run {
    let url = sqlite_url(db);
    let args = [args, &["--database", url.as_str()]].concat();
    latchkey_in(dir, &[], &args, "").await
}

/// The names of the tenants `server` lists.
async fn tenant_names(server: &TestServer) -> Vec<String> {
    let list = cli(server, &["tenants", "list", "-o", "json"]).await.json();
    let mut names: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["Name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_writes_is_one_consistent_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("latchkey.db");
    let server = std::sync::Arc::new(server_on(&db).await);
    // Tenants created one after another while the backup runs.
    let writer = {
        let server = server.clone();
        tokio::spawn(async move {
            for _ in 0..40 {
                server.create_tenant().await;
            }
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let copy = dir.path().join("copy.db");
    let run = local(dir.path(), &db, &["backup", copy.to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{run:?}");
    writer.await.unwrap();

    let mut conn = SqliteConnection::connect(&sqlite_url(&copy)).await.unwrap();
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(check, "ok");
    // Every tenant in the copy has its audit entry: no write is there in part.
    let tenants: i64 = sqlx::query_scalar("SELECT count(*) FROM tenants")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let created: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'tenant.create'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    conn.close().await.unwrap();
    assert!(tenants <= 40, "{tenants}");
    assert_eq!(
        tenants, created,
        "tenants and their audit entries, as committed together"
    );
    let opened = server_on(&copy).await;
    assert_eq!(tenant_names(&opened).await.len() as i64, tenants);
}

#[tokio::test]
async fn migrate_creates_a_fresh_database_a_server_then_opens() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fresh.db");
    let run = local(dir.path(), &db, &["migrate"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
    let migrations = std::fs::read_dir("migrations/sqlite").unwrap().count() as i64;
    let mut conn = SqliteConnection::connect(&sqlite_url(&db)).await.unwrap();
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    assert_eq!(applied, migrations, "every migration applied");
    // Again: nothing left to apply, still success.
    assert_eq!(local(dir.path(), &db, &["migrate"]).await.code, 0);
    let server = server_on(&db).await;
    assert_eq!(tenant_names(&server).await, Vec::<String>::new());
}

#[tokio::test]
async fn backup_while_serving_and_restore_once_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("latchkey.db");
    let mut server = server_on(&db).await;
    cli(&server, &["tenants", "create", "before backup"])
        .await
        .ok();

    // A consistent copy while the server runs and keeps writing.
    let copy = dir.path().join("copy.db");
    let run = local(dir.path(), &db, &["backup", copy.to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the backup is private");
    let again = local(dir.path(), &db, &["backup", copy.to_str().unwrap()]).await;
    assert_ne!(
        again.code, 0,
        "an existing file is never overwritten: {again:?}"
    );
    cli(&server, &["tenants", "create", "after backup"])
        .await
        .ok();

    // A new server opens a copy of the backup and finds what was there before it.
    let other_dir = tempfile::tempdir().unwrap();
    let opened = other_dir.path().join("opened.db");
    std::fs::copy(&copy, &opened).unwrap();
    let second = server_on(&opened).await;
    assert_eq!(tenant_names(&second).await, vec!["before backup"]);
    drop(second);

    // Restore is refused while the server holds the database.
    let refused = local(dir.path(), &db, &["restore", copy.to_str().unwrap()]).await;
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("in use"), "{refused:?}");
    assert_eq!(
        tenant_names(&server).await,
        vec!["after backup", "before backup"],
        "a refused restore changes nothing"
    );

    // Stopped: the restore replaces the database, and a server finds the backup's data.
    server.kill().await;
    let not_a_backup = dir.path().join("notes.txt");
    std::fs::write(&not_a_backup, "hello").unwrap();
    let bad = local(
        dir.path(),
        &db,
        &["restore", not_a_backup.to_str().unwrap()],
    )
    .await;
    assert_eq!(bad.code, 1, "{bad:?}");
    let run = local(dir.path(), &db, &["restore", copy.to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{run:?}");
    drop(server);
    let restored = server_on(&db).await;
    assert_eq!(tenant_names(&restored).await, vec!["before backup"]);
}

/// Signs in to the console over HTTP; true when the server opened a session.
async fn signs_in(server: &TestServer, user: &str, password: &str) -> bool {
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let res = http
        .get(server.url("/console/signin"))
        .send()
        .await
        .unwrap();
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("lk_presignin="))
        .expect("pre-sign-in cookie");
    let token = cookie.split(';').next().unwrap()["lk_presignin=".len()..].to_owned();
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("csrf", &token)
        .append_pair("username", user)
        .append_pair("password", password);
    let res = http
        .post(server.url("/console/signin"))
        .header("Cookie", format!("lk_presignin={token}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form.finish())
        .send()
        .await
        .unwrap();
    res.status() == 303
        && res
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|v| v.to_str().unwrap_or("").starts_with("lk_session="))
}

#[tokio::test]
async fn a_reset_password_signs_the_user_in() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("latchkey.db");
    let mut server = server_on(&db).await;
    assert!(signs_in(&server, "admin", ADMIN_PASSWORD).await);
    let busy = local(dir.path(), &db, &["users", "reset-password", "admin"]).await;
    assert_eq!(busy.code, 1, "one process per SQLite database: {busy:?}");
    assert!(busy.stdout.is_empty(), "{busy:?}");
    server.kill().await;
    drop(server);

    let unknown = local(dir.path(), &db, &["users", "reset-password", "nobody"]).await;
    assert_eq!(unknown.code, 3, "{unknown:?}");
    let run = local(dir.path(), &db, &["users", "reset-password", "admin"]).await;
    let password = run.ok().strip_suffix('\n').unwrap().to_owned();
    assert!(
        password.len() >= 16 && !password.contains(char::is_whitespace),
        "{run:?}"
    );
    assert!(!run.stderr.contains(&password), "printed once, on stdout");

    let server = server_on(&db).await;
    assert!(
        signs_in(&server, "admin", &password).await,
        "the new password works"
    );
    assert!(
        !signs_in(&server, "admin", ADMIN_PASSWORD).await,
        "the old one does not"
    );
}

#[tokio::test]
async fn postgres_databases_are_pointed_to_their_own_tools() {
    let dir = tempfile::tempdir().unwrap();
    let url = "postgres://nobody@127.0.0.1:1/none";
    let file = dir.path().join("dump");
    let file = file.to_str().unwrap();
    let backup = latchkey_in(dir.path(), &[], &["backup", file, "--database", url], "").await;
    assert_ne!(backup.code, 0, "{backup:?}");
    assert!(backup.stderr.contains("pg_dump"), "{backup:?}");
    let restore = latchkey_in(dir.path(), &[], &["restore", file, "--database", url], "").await;
    assert_ne!(restore.code, 0, "{restore:?}");
    assert!(restore.stderr.contains("pg_restore"), "{restore:?}");
    let bad = latchkey_in(dir.path(), &[], &["migrate", "--database", "mysql://x"], "").await;
    assert_eq!(bad.code, 2, "a bad database URL is bad input: {bad:?}");
}

/// `keys rotate ARGS` with the test servers' master key.
async fn rotate(dir: &Path, db: &Path, args: &[&str]) -> crate::Run {
    let url = sqlite_url(db);
    let args = [&["keys", "rotate"], args, &["--database", url.as_str()]].concat();
    let env = [("LATCHKEY_MASTER_KEY", crate::harness::TEST_MASTER_KEY)];
    latchkey_in(dir, &env, &args, "").await
}

/// `keys rotate` on a stopped SQLite server's database: a next key is published
/// (a second manual rotation while it is pending is refused, exit 5); `--now`
/// withdraws the current key at once; the restarted server lists them so, and the
/// token the old key signed no longer works. Refused (exit 1) while a server runs.
#[tokio::test]
async fn keys_rotate_from_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("keys.db");
    let server = server_on(&db).await;
    let running = rotate(dir.path(), &db, &[]).await;
    assert_ne!(
        running.code, 0,
        "the database belongs to the running server: {running:?}"
    );
    let tenant = server.create_tenant().await;
    let created = server
        .create_client(
            &tenant,
            "ClientCredentialClients",
            serde_json::json!({"Name": "app", "RoleIds": ["tenant-administrator"]}),
        )
        .await;
    let client = created["Client"]["Id"].as_str().unwrap().to_owned();
    let secret = created["Secret"].as_str().unwrap().to_owned();
    let token_url = server.url(&format!("/identity/{tenant}/connect/token"));
    let old_token: serde_json::Value = server
        .http
        .post(&token_url)
        .basic_auth(&client, Some(&secret))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let old_token = old_token["access_token"].as_str().unwrap().to_owned();
    server.terminate().await;

    let manual = rotate(dir.path(), &db, &[]).await;
    assert_eq!(manual.code, 0, "{manual:?}");
    assert!(manual.stdout.contains("generation 2"), "{manual:?}");
    let again = rotate(dir.path(), &db, &[]).await;
    assert_eq!(again.code, 5, "a rotation is under way: {again:?}");
    let emergency = rotate(dir.path(), &db, &["--now"]).await;
    assert_eq!(emergency.code, 0, "{emergency:?}");
    assert!(emergency.stdout.contains("generation 3"), "{emergency:?}");

    let server = server_on(&db).await;
    let keys: serde_json::Value = server
        .get("/api/v1/SigningKeys")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let states: Vec<&str> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["State"].as_str().unwrap_or_default())
        .collect();
    assert!(
        states.contains(&"revoked"),
        "the first key is withdrawn: {keys}"
    );
    let status = server
        .http
        .get(server.url(&format!("/api/v1/Tenants/{tenant}")))
        .bearer_auth(&old_token)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401, "the withdrawn key's token no longer works");
}
