//! Log volume: at the default level (`info`) a successful token
//! request writes no log line (it is logged at `debug`; `logging.tokenSuccessLevel: info`
//! brings the line back), while a refusal still writes its lines at `info`, and every
//! response keeps its `OperationId` header. SQLite (logging does not depend on storage).

use std::time::Duration;

use futures_util::{StreamExt, stream};
use tokio::time::{Instant, sleep};

use crate::harness::*;
use crate::oauth::{Cred, cc_client, token_request};

const TOKENS: usize = 1000;

fn at_info(yaml: Option<&str>) -> ServerOptions {
    ServerOptions {
        env: vec![("RUST_LOG".to_owned(), "info".to_owned())],
        config_yaml: yaml.map(str::to_owned),
        ..ServerOptions::default()
    }
}

/// Sends `TOKENS` successful token requests, 32 at a time; each has an `OperationId`.
async fn many_tokens(server: &TestServer, cred: &Cred) {
    let requests = (0..TOKENS).map(|_| async {
        let res = token_request(server, cred, &[]).send().await.expect("send");
        assert_eq!(res.status(), 200);
        assert!(res.headers().get("OperationId").is_some(), "no OperationId");
    });
    stream::iter(requests)
        .buffer_unordered(32)
        .collect::<Vec<()>>()
        .await;
}

/// Sends a refused token request (its `OperationId` returned) and waits until its log
/// line arrived, so every earlier line has been read too (one ordered stream).
async fn refusal_logged(server: &TestServer, cred: &Cred) -> String {
    let wrong = Cred {
        secret: "not-the-secret".to_owned(),
        ..cred.clone()
    };
    let res = token_request(server, &wrong, &[])
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 401);
    let op = res.headers().get("OperationId").expect("an OperationId");
    let op = op.to_str().expect("ASCII").to_owned();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server
        .logs()
        .lines()
        .any(|l| l.contains(&op) && l.contains("answered 401"))
    {
        assert!(
            Instant::now() < deadline,
            "no `answered 401` line at info for {op}:\n{}",
            server.logs()
        );
        sleep(Duration::from_millis(50)).await;
    }
    let refused = server.logs();
    assert!(
        refused
            .lines()
            .any(|l| l.contains(&op) && l.contains("client authentication refused")),
        "the refusal is logged at info:\n{refused}"
    );
    op
}

#[tokio::test]
async fn successful_tokens_write_no_lines_at_the_default_level() {
    let server = TestServer::start_with(Backend::Sqlite, at_info(None)).await;
    let tenant = server.create_tenant().await;
    let cred = cc_client(&server, &tenant, &[]).await;
    refusal_logged(&server, &cred).await;
    let before = server.logs().lines().count();

    many_tokens(&server, &cred).await;
    refusal_logged(&server, &cred).await;
    let after = server.logs().lines().count();
    // The refusal's own lines (refused, answered 401) and a handful of others at most.
    assert!(
        after - before <= 6,
        "{TOKENS} successful tokens wrote {} lines at info",
        after - before
    );
}

#[tokio::test]
async fn token_success_level_info_logs_each_success() {
    let yaml = "logging:\n  tokenSuccessLevel: info\n";
    let server = TestServer::start_with(Backend::Sqlite, at_info(Some(yaml))).await;
    let tenant = server.create_tenant().await;
    let cred = cc_client(&server, &tenant, &[]).await;
    let res = token_request(&server, &cred, &[])
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 200);
    let op = res.headers().get("OperationId").expect("an OperationId");
    let op = op.to_str().expect("ASCII").to_owned();
    refusal_logged(&server, &cred).await;
    let logs = server.logs();
    assert!(
        logs.lines()
            .any(|l| l.contains(&op) && l.contains("answered 200")),
        "the success is logged at info:\n{logs}"
    );
}
