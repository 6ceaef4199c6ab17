//! `database.credentialCache: cached` on PostgreSQL: two nodes on one database, each
//! answering the token path from memory. A change made through node A (revoke, renew,
//! disable, demote, delete) is refused by node B within the bound (1 s; asserted at 2 s
//! for a shared machine), and the delay distribution over 100+ revocations is printed.
//! When B's listening connection is killed, B empties its cache and reads from the
//! database (a revoke made while it cannot listen is refused at once), and once it
//! listens again it answers from memory again. PostgreSQL only.
//!
//! "Answered from memory" is observed, not timed: with the credential tables locked
//! (`LOCK TABLE … ACCESS EXCLUSIVE`), a read from the database cannot finish, so a 200
//! while the lock is held came from the cache.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tokio::time::{Instant, sleep};

use crate::harness::*;
use crate::lifecycle::{call, secrets_path};
use crate::oauth::{Cred, access_token, cc_client, claims, options, token_request};

const CC: &str = "ClientCredentialClients";
/// Polling with refused values counts as failed attempts: lift the limiter out of the way.
const YAML: &str = "database:\n  credentialCache: cached\ntokens:\n  \
                    failedAttemptsPerClient: 100000\n  failedAttemptsPerAddress: 100000\n";
const LISTENER: &str = "latchkey-credentials-listener";
/// What a node logs when its listener is live (again) and its cache emptied.
const LISTENING: &str = "credentials cache: listening for changes";
/// What a node logs when its listener is lost.
const NOT_LISTENING: &str = "credentials cache: not listening for changes";
/// The documented bound is 1 s; asserted with room for a loaded machine.
const BOUND: Duration = Duration::from_secs(2);
const REVOCATIONS: usize = 100;

/// Node A and node B on one database, both in cached mode, both listening.
async fn cached_nodes() -> (TestServer, TestServer) {
    let a = TestServer::start_with(Backend::Postgres, options(Backend::Postgres, Some(YAML))).await;
    let mut second = options(Backend::Postgres, Some(YAML));
    second.database_url = Some(a.database_url.clone());
    let b = TestServer::start_with(Backend::Postgres, second).await;
    for node in [&a, &b] {
        wait_for_log(node, LISTENING, 1).await;
    }
    (a, b)
}

/// Waits until `node` logged `line` `times` times.
async fn wait_for_log(node: &TestServer, line: &str, times: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while node.logs().matches(line).count() < times {
        assert!(
            Instant::now() < deadline,
            "no {line:?} ({times}) in the log"
        );
        sleep(Duration::from_millis(10)).await;
    }
}

async fn admin_connection() -> PgConnection {
    let url = latchkey::storage::test_database::postgres_admin_url();
    PgConnection::connect(&url).await.expect("connect as admin")
}

/// The database name of a `postgres://…/NAME?…` URL.
fn database_name(url: &str) -> String {
    let path = url.rsplit('/').next().expect("a path");
    path.split('?').next().unwrap_or(path).to_owned()
}

/// Asserts that `node` answers `cred` from memory: 200 while no read of the
/// credential tables can finish. A few tries: an announcement still on its way from
/// an earlier change may empty the cache between the warming request and the check.
async fn answered_from_memory(node: &TestServer, cred: &Cred) {
    let mut last = None;
    for _ in 0..3 {
        access_token(node, cred).await;
        let mut locker = PgConnection::connect(&node.database_url).await.unwrap();
        sqlx::raw_sql("BEGIN; LOCK TABLE clients, secrets IN ACCESS EXCLUSIVE MODE")
            .execute(&mut locker)
            .await
            .expect("lock the credential tables");
        let res = token_request(node, cred, &[])
            .timeout(Duration::from_secs(3))
            .send()
            .await;
        sqlx::raw_sql("ROLLBACK")
            .execute(&mut locker)
            .await
            .unwrap();
        match res.map(|r| r.status().as_u16()) {
            Ok(200) => return,
            other => last = Some(other),
        }
    }
    panic!("not answered from memory while the tables were locked: {last:?}");
}

/// Polls `node` until `seen(status, body)`; returns how long that took. Asserts every
/// answer before is a 200 or a 401 and the whole wait stays within [`BOUND`].
async fn delay_until(node: &TestServer, cred: &Cred, seen: fn(u16, &Value) -> bool) -> Duration {
    let start = Instant::now();
    loop {
        let res = token_request(node, cred, &[]).send().await.unwrap();
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        if seen(status, &body) {
            return start.elapsed();
        }
        assert!(status == 200 || status == 401, "{status} {body}");
        assert!(
            start.elapsed() < BOUND,
            "node B still answered the old state {:?} after the change",
            start.elapsed()
        );
        sleep(Duration::from_millis(2)).await;
    }
}

fn is_401(status: u16, _: &Value) -> bool {
    status == 401
}

fn is_200(status: u16, _: &Value) -> bool {
    status == 200
}

fn without_admin_role(status: u16, body: &Value) -> bool {
    let token = body["access_token"].as_str().unwrap_or_default();
    status == 200 && claims(token)["roles"] == json!([])
}

fn print_distribution(label: &str, delays: &mut [Duration]) {
    delays.sort();
    let at = |q: f64| delays[((delays.len() - 1) as f64 * q).round() as usize];
    println!(
        "{label}: n={} min={:?} p50={:?} p90={:?} p99={:?} max={:?}",
        delays.len(),
        delays[0],
        at(0.5),
        at(0.9),
        at(0.99),
        delays[delays.len() - 1]
    );
}

#[tokio::test]
async fn cached_nodes_refuse_a_change_made_on_the_other_within_the_bound() {
    let (a, b) = cached_nodes().await;
    let tenant = a.create_tenant().await;
    let cred = cc_client(&a, &tenant, &["tenant-administrator"]).await;
    access_token(&b, &cred).await;
    answered_from_memory(&b, &cred).await;

    // Revocations: a new secret, used on B (cached there), revoked on A.
    let path = secrets_path(&tenant, CC, &cred.id);
    let (mut delays, mut additions) = (Vec::new(), Vec::new());
    for _ in 0..REVOCATIONS {
        let added = call(a.post(&path).json(&json!({})), 201).await;
        let fresh = Cred {
            secret: added["Secret"].as_str().unwrap().to_owned(),
            secret_id: added["Id"].as_i64().unwrap(),
            ..cred.clone()
        };
        // A new secret is a change too: B may refuse it until it hears of it.
        additions.push(delay_until(&b, &fresh, is_200).await);
        access_token(&b, &fresh).await;
        call(a.delete(&format!("{path}/{}", fresh.secret_id)), 204).await;
        delays.push(delay_until(&b, &fresh, is_401).await);
    }
    answered_from_memory(&b, &cred).await;

    // Renew: the replaced value.
    let first = format!("{path}/{}", cred.secret_id);
    access_token(&b, &cred).await;
    let renewed = call(a.post(&format!("{first}/Renew")).json(&json!({})), 200).await;
    delays.push(delay_until(&b, &cred, is_401).await);
    let cred = Cred {
        secret: renewed["Secret"].as_str().unwrap().to_owned(),
        ..cred
    };

    // Demote: the roles in B's next token.
    access_token(&b, &cred).await;
    let client = format!("/api/v1/Tenants/{tenant}/{CC}/{}", cred.id);
    call(a.put(&client).json(&json!({"RoleIds": []})), 200).await;
    delays.push(delay_until(&b, &cred, without_admin_role).await);

    // Disable, then enable again.
    call(a.put(&client).json(&json!({"Enabled": false})), 200).await;
    delays.push(delay_until(&b, &cred, is_401).await);
    call(a.put(&client).json(&json!({"Enabled": true})), 200).await;
    additions.push(delay_until(&b, &cred, is_200).await);

    // Delete the client; then a whole tenant.
    call(a.delete(&client), 204).await;
    delays.push(delay_until(&b, &cred, is_401).await);
    let other = a.create_tenant().await;
    let gone = cc_client(&a, &other, &[]).await;
    access_token(&b, &gone).await;
    call(a.delete(&format!("/api/v1/Tenants/{other}")), 204).await;
    delays.push(delay_until(&b, &gone, is_401).await);

    print_distribution("node B accepted the old state for", &mut delays);
    print_distribution(
        "node B refused a new secret or re-enabled client for",
        &mut additions,
    );
}

#[tokio::test]
async fn a_node_whose_listener_is_killed_reads_from_the_database_until_it_listens_again() {
    let (a, b) = cached_nodes().await;
    let tenant = a.create_tenant().await;
    let cred = cc_client(&a, &tenant, &[]).await;
    let other = cc_client(&a, &tenant, &[]).await;
    access_token(&b, &cred).await;
    answered_from_memory(&b, &cred).await;

    // Grow both pools, so they need no new connection while connections are refused.
    for node in [&a, &b] {
        let lists = (0..12).map(|_| node.get(&format!("/api/v1/Tenants/{tenant}/{CC}")).send());
        for res in join_all(lists).await {
            assert_eq!(res.unwrap().status(), 200);
        }
    }

    // No new connection to the database, then kill the listeners: they cannot come back.
    let mut admin = admin_connection().await;
    let name = database_name(&a.database_url);
    let allow = |yes: bool| format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {yes}");
    sqlx::raw_sql(AssertSqlSafe(allow(false)))
        .execute(&mut admin)
        .await
        .unwrap();
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND application_name = $2",
    )
    .bind(&name)
    .bind(LISTENER)
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert_eq!(killed, [true, true]);
    wait_for_log(&b, NOT_LISTENING, 1).await;

    // Revoked on A while B cannot listen: B refuses at once, and still serves the others.
    let path = secrets_path(&tenant, CC, &cred.id);
    call(a.delete(&format!("{path}/{}", cred.secret_id)), 204).await;
    let status = token_request(&b, &cred, &[]).send().await.unwrap().status();
    assert_eq!(
        status, 401,
        "node B answered from a cache it cannot keep current"
    );
    access_token(&b, &other).await;

    // Listening again: B answers from memory again.
    sqlx::raw_sql(AssertSqlSafe(allow(true)))
        .execute(&mut admin)
        .await
        .unwrap();
    wait_for_log(&b, LISTENING, 2).await;
    access_token(&b, &other).await;
    answered_from_memory(&b, &other).await;
    let status = token_request(&b, &cred, &[]).send().await.unwrap().status();
    assert_eq!(status, 401);
}
