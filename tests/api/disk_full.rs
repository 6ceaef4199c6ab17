//! A full disk loses nothing acknowledged (SQLite): while writes fail for want of
//! space, every 2xx is a committed write (present after a crash and a restart,
//! GET-able, accepted at the token endpoint), no connection is left inside a
//! transaction (that would hold the write lock and swallow later writes), and once
//! space returns writes succeed again without a restart.
//!
//! "Disk full" is the database size cap `LATCHKEY_SQLITE_MAX_PAGE_COUNT` (`PRAGMA
//! max_page_count` on every connection): SQLite answers `SQLITE_FULL` exactly as
//! for a full file system, with no mount and no privilege. Space returns by
//! deleting a tenant whose clients filled the database: SQLite reuses the freed
//! pages.

use futures_util::future::join_all;
use serde_json::{Value, json};
use sqlx::{Connection, SqliteConnection};

use crate::harness::*;
use crate::lifecycle::{exchange, total_count};
use crate::oauth::{Cred, access_token};

const CAP_VAR: &str = "LATCHKEY_SQLITE_MAX_PAGE_COUNT";
/// Pages of room above the measured database: a few dozen client creations.
const ROOM: i64 = 24;
/// Concurrent requests per round (more than the pool's 8 connections).
const WIDTH: usize = 16;
/// Rounds of filling at most: the cap is reached long before.
const MAX_FILL_ROUNDS: usize = 60;
/// Rounds of mixed traffic once the database is full.
const FULL_ROUNDS: usize = 6;

/// The database's size in pages, read with a connection of the test's own.
async fn page_count(url: &str) -> i64 {
    let mut conn = SqliteConnection::connect(url).await.expect("open the file");
    let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(&mut conn)
        .await
        .expect("PRAGMA page_count");
    let _ = conn.close().await;
    pages
}

/// POSTs a new client-credential client into `tenant`: its credentials on 201, else
/// the status (which must then not be a success).
async fn create(server: &TestServer, tenant: &str, body: Value) -> Result<Cred, u16> {
    let path = format!("/api/v1/Tenants/{tenant}/ClientCredentialClients");
    let (status, _, created) = exchange(server.post(&path).json(&body)).await;
    if status != 201 {
        assert!(!(200..300).contains(&status), "{status}: {created}");
        return Err(status);
    }
    Ok(Cred {
        tenant: tenant.to_owned(),
        id: created["Client"]["Id"].as_str().expect("an Id").to_owned(),
        secret: created["Secret"].as_str().expect("a Secret").to_owned(),
        secret_id: created["Id"].as_i64().expect("a secret Id"),
    })
}

fn tenant_path(tenant: &str) -> String {
    format!("/api/v1/Tenants/{tenant}")
}

fn member(name: &str) -> Value {
    json!({ "Name": name, "RoleIds": ["tenant-member"] })
}

#[tokio::test]
async fn sqlite_full_disk_acknowledges_only_committed_writes_and_recovers() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("latchkey.db").display());
    let plain = ServerOptions {
        database_url: Some(url.clone()),
        ..ServerOptions::default()
    };

    // A database with the tenant under test (and a client `dup` in it) and a filler tenant.
    let server = TestServer::start_with(Backend::Sqlite, plain.clone()).await;
    let tenant = server.create_tenant().await;
    let filler = server.create_tenant().await;
    let dup = json!({ "Name": "dup", "Id": "dup", "RoleIds": ["tenant-member"] });
    let dup = create(&server, &tenant, dup.clone())
        .await
        .expect("client dup");
    assert_eq!(server.terminate().await.code(), Some(0));

    // Capped a little above its size; the filler tenant's clients fill it up.
    let cap = page_count(&url).await + ROOM;
    let mut capped = plain.clone();
    capped.env.push((CAP_VAR.to_owned(), cap.to_string()));
    let mut server = TestServer::start_with(Backend::Sqlite, capped).await;
    let mut refused = 0;
    let mut fillers = Vec::new();
    for _ in 0..MAX_FILL_ROUNDS {
        let round = (0..WIDTH).map(|i| create(&server, &filler, member(&format!("fill-{i}"))));
        for result in join_all(round).await {
            match result {
                Ok(cred) => fillers.push(cred),
                Err(_) => refused += 1,
            }
        }
        if refused >= WIDTH {
            break;
        }
    }
    assert!(refused >= WIDTH, "{cap} pages never filled up");
    let grown = format!(
        "{}/ClientCredentialClients/{}",
        tenant_path(&filler),
        fillers[0].id
    );

    // Full: creations (which may or may not fit), updates that grow a row (SQLite rolls
    // their whole transaction back), and writes that fail inside their transaction for
    // another reason (a duplicate client id).
    let mut acknowledged = vec![dup.clone()];
    let duplicate = json!({ "Name": "dup", "Id": "dup", "RoleIds": ["tenant-member"] });
    for round in 0..FULL_ROUNDS {
        let creations = (0..6).map(|i| create(&server, &tenant, member(&format!("c{round}-{i}"))));
        let updates = (0..4).map(|i| {
            let tags: Vec<String> = (0..40)
                .map(|t| format!("{round}-{i}-{t}-{}", "x".repeat(150)))
                .collect();
            exchange(server.put(&grown).json(&json!({ "Tags": tags })))
        });
        let duplicates = (0..6).map(|_| create(&server, &tenant, duplicate.clone()));
        let (created, _, duplicated) =
            tokio::join!(join_all(creations), join_all(updates), join_all(duplicates));
        acknowledged.extend(created.into_iter().flatten());
        assert!(
            duplicated.iter().all(Result::is_err),
            "a second client `dup`"
        );
    }

    // Space returns: the filler tenant goes, and writes succeed again, without a restart.
    let (status, _, body) = exchange(server.delete(&format!("/api/v1/Tenants/{filler}"))).await;
    assert_eq!(status, 204, "deleting the filler tenant: {body}");
    let round = (0..WIDTH).map(|i| create(&server, &tenant, member(&format!("after-{i}"))));
    for result in join_all(round).await {
        match result {
            Ok(cred) => acknowledged.push(cred),
            Err(status) => panic!("a write failed with {status} after space returned"),
        }
    }

    // A crash, then a restart without the cap: every acknowledged write is there.
    server.kill().await;
    let restarted = TestServer::start_with(Backend::Sqlite, plain).await;
    let clients = format!("/api/v1/Tenants/{tenant}/ClientCredentialClients");
    for cred in &acknowledged {
        let secret = format!("{clients}/{}/Secrets/{}", cred.id, cred.secret_id);
        let (status, _, body) = exchange(restarted.get(&secret)).await;
        assert_eq!(status, 200, "acknowledged secret {secret} is gone: {body}");
        access_token(&restarted, cred).await;
    }
    let (status, headers, body) = exchange(restarted.head(&clients)).await;
    assert_eq!(status, 200, "{body}");
    let stored = usize::try_from(total_count(&headers)).expect("a count");
    assert_eq!(stored, acknowledged.len(), "clients stored vs acknowledged");
    let (status, _, _) = exchange(restarted.get(&format!("/api/v1/Tenants/{filler}"))).await;
    assert_eq!(
        status, 404,
        "the acknowledged deletion of the filler tenant was lost"
    );
}
