//! Shutdown that cannot hang: after SIGTERM the server stops
//! accepting, writes `LastUsedAt` first, lets in-flight requests finish for
//! `server.shutdownTimeout`, then closes what is left and exits 0, even when clients
//! hold connections open with half a header or a stalled body. SQLite (the behaviour
//! is the server's, not the database's).

use std::time::Duration;

use sqlx::{Connection, SqliteConnection};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep};

use crate::harness::*;
use crate::lifecycle::{call, secrets_path};
use crate::oauth::{Cred, access_token, cc_client};

/// A server on a SQLite file in `dir` (so a second server can open it), with `yaml`.
fn options(dir: &tempfile::TempDir, yaml: &str) -> ServerOptions {
    let db = dir.path().join("latchkey.db");
    ServerOptions {
        database_url: Some(format!("sqlite://{}", db.display())),
        config_yaml: Some(yaml.to_owned()),
        ..ServerOptions::default()
    }
}

/// Two connections no well-behaved client would leave: half a request head, and a
/// whole head announcing a body that never comes.
async fn stalled_connections(server: &TestServer, tenant: &str) -> Vec<TcpStream> {
    let addr = server.base_url.trim_start_matches("http://");
    let mut half = TcpStream::connect(addr).await.expect("connect");
    let head = "GET /healthz HTTP/1.1\r\nHost: latchkey\r\nX-Half: ";
    half.write_all(head.as_bytes())
        .await
        .expect("send half a head");
    let mut body = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /identity/{tenant}/connect/token HTTP/1.1\r\nHost: latchkey\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n\
         grant_type="
    );
    body.write_all(head.as_bytes()).await.expect("send a head");
    vec![half, body]
}

/// `LastUsedAt` of `cred`'s secret, read over the API.
async fn last_used(server: &TestServer, cred: &Cred) -> serde_json::Value {
    let path = secrets_path(&cred.tenant, "ClientCredentialClients", &cred.id);
    let path = format!("{path}/{}", cred.secret_id);
    call(server.get(&path), 200).await["LastUsedAt"].clone()
}

#[tokio::test]
async fn sigterm_exits_0_within_the_shutdown_timeout_despite_stalled_clients() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let opts = options(&dir, "server:\n  shutdownTimeout: 3\n");
    let server = TestServer::start_with(Backend::Sqlite, opts.clone()).await;
    let tenant = server.create_tenant().await;
    let cred = cc_client(&server, &tenant, &[]).await;
    access_token(&server, &cred).await;
    assert!(
        last_used(&server, &cred).await.is_null(),
        "noted in memory only"
    );
    let _held = stalled_connections(&server, &tenant).await;
    // Let the server read what was sent (the head of the second request is complete).
    sleep(Duration::from_millis(300)).await;

    let started = Instant::now();
    let status = server.terminate().await;
    let took = started.elapsed();
    assert_eq!(status.code(), Some(0), "exit status {status}");
    assert!(
        took < Duration::from_secs(3 + 7),
        "exited {took:?} after SIGTERM with shutdownTimeout 3 s"
    );

    let again = TestServer::start_with(Backend::Sqlite, opts).await;
    let at = last_used(&again, &cred).await;
    assert!(at.is_string(), "LastUsedAt survived the shutdown: {at}");
}

#[tokio::test]
async fn sigterm_writes_last_used_before_waiting_for_connections() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let opts = options(&dir, "server:\n  shutdownTimeout: 120\n");
    let mut server = TestServer::start_with(Backend::Sqlite, opts).await;
    let tenant = server.create_tenant().await;
    let cred = cc_client(&server, &tenant, &[]).await;
    access_token(&server, &cred).await;
    let _held = stalled_connections(&server, &tenant).await;
    sleep(Duration::from_millis(300)).await;

    // An orchestrator sends SIGTERM, and SIGKILL before the stalled body gives up.
    server.send_sigterm().await;
    let mut db = SqliteConnection::connect(&server.database_url)
        .await
        .expect("open the SQLite file");
    let deadline = Instant::now() + Duration::from_secs(10);
    let written = loop {
        let at: Option<String> = sqlx::query_scalar(
            "SELECT last_used_at FROM secrets WHERE last_used_at IS NOT NULL LIMIT 1",
        )
        .fetch_optional(&mut db)
        .await
        .expect("read secrets")
        .flatten();
        if at.is_some() || Instant::now() >= deadline {
            break at;
        }
        sleep(Duration::from_millis(100)).await;
    };
    assert!(
        server.is_running().await,
        "still draining (the stalled body holds a request in flight)"
    );
    assert!(
        written.is_some(),
        "LastUsedAt is written right after SIGTERM, before the drain ends"
    );
    server.kill().await;
}
