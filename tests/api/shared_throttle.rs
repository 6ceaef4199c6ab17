//! Failed-attempt limits across nodes (PostgreSQL only): two nodes on one database
//! share one allowance per client id. Wrong secrets alternated between the nodes, or
//! sent to both at once, get at most `failedAttemptsPerClient` `invalid_client`
//! answers in all (the rest 429); once the window is full both nodes refuse the
//! right secret too; failures counted on one node alone reach the other through the
//! announcement, and in strict mode at the very next request even without it (the
//! count is read with the credentials); and successes write nothing to the database.

use std::sync::Arc;
use std::time::Duration;

use reqwest::RequestBuilder;
use sqlx::{AssertSqlSafe, Connection, PgConnection, Row};
use tokio::sync::Barrier;
use tokio::time::{Instant, sleep};

use crate::harness::*;
use crate::lifecycle::exchange;
use crate::oauth::{Cred, access_token, cc_client, options, token_request};

const MAX: usize = 3;

fn yaml(mode: &str) -> String {
    format!(
        "database:\n  credentialCache: {mode}\ntokens:\n  \
         failedAttemptsPerClient: {MAX}\n  failedAttemptsPerAddress: 100000\n"
    )
}

/// Node A and node B on one database, in credentials mode `mode`.
async fn two_nodes(mode: &str) -> (TestServer, TestServer) {
    let yaml = yaml(mode);
    let a =
        TestServer::start_with(Backend::Postgres, options(Backend::Postgres, Some(&yaml))).await;
    let mut second = options(Backend::Postgres, Some(&yaml));
    second.database_url = Some(a.database_url.clone());
    let b = TestServer::start_with(Backend::Postgres, second).await;
    (a, b)
}

fn wrong(cred: &Cred) -> Cred {
    Cred {
        secret: "a wrong secret, long enough to look real".to_owned(),
        ..cred.clone()
    }
}

/// The status of a token request: 401 (invalid_client) or 429 (throttled), nothing else.
async fn answer(req: RequestBuilder) -> u16 {
    let (status, _, body) = exchange(req).await;
    match status {
        401 => assert_eq!(body["error"], "invalid_client", "{body}"),
        429 => assert_eq!(body["error"], "temporarily_unavailable", "{body}"),
        other => panic!("unexpected {other}: {body}"),
    }
    status
}

async fn failure_rows(database_url: &str) -> i64 {
    let mut db = PgConnection::connect(database_url).await.unwrap();
    sqlx::query("SELECT count(*) AS n FROM auth_failures")
        .fetch_one(&mut db)
        .await
        .unwrap()
        .get("n")
}

async fn alternating_wrong_secrets_share_one_allowance(mode: &str) {
    let (a, b) = two_nodes(mode).await;
    let tenant = a.create_tenant().await;
    let cred = cc_client(&a, &tenant, &["tenant-member"]).await;
    access_token(&a, &cred).await;
    access_token(&b, &cred).await;
    let mut refused = 0;
    for i in 0..4 * MAX {
        let node = if i % 2 == 0 { &a } else { &b };
        if answer(token_request(node, &wrong(&cred), &[])).await == 401 {
            refused += 1;
        }
    }
    assert_eq!(refused, MAX, "invalid_client answers over both nodes");
    for node in [&a, &b] {
        assert_eq!(
            answer(token_request(node, &cred, &[])).await,
            429,
            "the right secret is refused too while the window is full"
        );
    }
}

#[tokio::test]
async fn alternating_wrong_secrets_share_one_allowance_strict() {
    alternating_wrong_secrets_share_one_allowance("strict").await;
}

#[tokio::test]
async fn alternating_wrong_secrets_share_one_allowance_cached() {
    alternating_wrong_secrets_share_one_allowance("cached").await;
}

/// 40 wrong secrets at once, half on each node: at most `MAX` are judged wrong.
#[tokio::test]
async fn concurrent_wrong_secrets_on_two_nodes_share_one_allowance() {
    let (a, b) = two_nodes("strict").await;
    let tenant = a.create_tenant().await;
    let cred = cc_client(&a, &tenant, &["tenant-member"]).await;
    let barrier = Arc::new(Barrier::new(40));
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let node = if i % 2 == 0 { &a } else { &b };
            let req = token_request(node, &wrong(&cred), &[]);
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                answer(req).await
            })
        })
        .collect();
    let mut refused = 0;
    for task in tasks {
        if task.await.expect("the request task") == 401 {
            refused += 1;
        }
    }
    assert!(
        refused <= MAX,
        "{refused} invalid_client answers for a limit of {MAX}"
    );
    for node in [&a, &b] {
        assert_eq!(answer(token_request(node, &cred, &[])).await, 429);
    }
}

/// Failures made on node A alone: node B, which judged none of them, refuses the
/// right secret once A's announcements reached it (a bounded wait, not a timing).
#[tokio::test]
async fn failures_on_one_node_reach_the_other() {
    let (a, b) = two_nodes("strict").await;
    let tenant = a.create_tenant().await;
    let cred = cc_client(&a, &tenant, &["tenant-member"]).await;
    access_token(&b, &cred).await;
    for _ in 0..MAX {
        assert_eq!(answer(token_request(&a, &wrong(&cred), &[])).await, 401);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    // Until the announcement arrives B may still accept (200); then it refuses (429).
    loop {
        let (status, _, body) = exchange(token_request(&b, &cred, &[])).await;
        if status == 429 {
            break;
        }
        assert_eq!(status, 200, "{body}");
        assert!(
            Instant::now() < deadline,
            "node B still accepts after node A filled the window"
        );
        sleep(Duration::from_millis(20)).await;
    }
}

/// Many successes on both nodes write no failure; one failure writes one row per
/// limit it counts against.
#[tokio::test]
async fn successes_write_nothing() {
    let (a, b) = two_nodes("strict").await;
    let tenant = a.create_tenant().await;
    let cred = cc_client(&a, &tenant, &["tenant-member"]).await;
    for _ in 0..25 {
        access_token(&a, &cred).await;
        access_token(&b, &cred).await;
    }
    assert_eq!(failure_rows(&a.database_url).await, 0);
    assert_eq!(answer(token_request(&b, &wrong(&cred), &[])).await, 401);
    assert_eq!(failure_rows(&a.database_url).await, 2, "client and address");
    for _ in 0..25 {
        access_token(&a, &cred).await;
    }
    assert_eq!(failure_rows(&a.database_url).await, 2);
}

/// Strict mode, the other node's announcements cut off (its listener killed, no new
/// connection allowed): the failures counted through node A still refuse the right
/// secret on node B at its next request, read with the credentials.
#[tokio::test]
async fn strict_nodes_refuse_a_full_window_at_the_next_request() {
    let (a, b) = two_nodes("strict").await;
    let tenant = a.create_tenant().await;
    let cred = cc_client(&a, &tenant, &["tenant-member"]).await;
    access_token(&a, &cred).await;
    access_token(&b, &cred).await;
    let mut admin = PgConnection::connect(&latchkey::storage::test_database::postgres_admin_url())
        .await
        .expect("connect as admin");
    let name = a.database_url.rsplit('/').next().unwrap_or_default();
    let name = name.split('?').next().unwrap_or(name).to_owned();
    let allow = |yes: bool| format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {yes}");
    sqlx::raw_sql(AssertSqlSafe(allow(false)))
        .execute(&mut admin)
        .await
        .unwrap();
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND application_name = 'latchkey-failures-listener'",
    )
    .bind(&name)
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert_eq!(killed, [true, true], "both nodes listen");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !b
        .logs()
        .contains("failed-attempt announcements: not listening")
    {
        assert!(Instant::now() < deadline, "node B never noticed");
        sleep(Duration::from_millis(10)).await;
    }
    for _ in 0..MAX {
        assert_eq!(answer(token_request(&a, &wrong(&cred), &[])).await, 401);
    }
    let (status, _, body) = exchange(token_request(&b, &cred, &[])).await;
    sqlx::raw_sql(AssertSqlSafe(allow(true)))
        .execute(&mut admin)
        .await
        .unwrap();
    assert_eq!(
        (status, &body["error"]),
        (429, &serde_json::json!("temporarily_unavailable")),
        "node B judged a key whose window is full: {body}"
    );
}
