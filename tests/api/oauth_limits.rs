//! What the token path does around a request: the failed-authentication limiter
//! per client id and per source address (429 with `Retry-After`, other clients unslowed),
//! and `LastUsedAt`, written coalesced once per `tokens.lastUsedInterval` and on shutdown.

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{Value, json};

use crate::harness::*;
use crate::lifecycle::{call, secrets_path, time};
use crate::oauth::{
    Cred, access_token, cc_client, introspect_request, invalid_client, oauth_error, options,
    token_request, token_response,
};

async fn start_with_yaml(backend: Backend, yaml: &str) -> TestServer {
    TestServer::start_with(backend, options(backend, Some(yaml))).await
}

/// Asserts 429 `temporarily_unavailable` with a `Retry-After` of 1..=60 seconds.
async fn throttled(req: reqwest::RequestBuilder) {
    let (headers, body) = oauth_error(req, 429, "temporarily_unavailable").await;
    let retry = headers
        .get("Retry-After")
        .map(|v| v.to_str().unwrap_or("?").to_owned());
    let seconds = retry.as_deref().and_then(|r| r.parse::<u64>().ok());
    assert!(
        seconds.is_some_and(|s| (1..=60).contains(&s)),
        "Retry-After {retry:?}: {body}"
    );
}

fn wrong(cred: &Cred) -> Cred {
    Cred {
        secret: "a wrong secret, long enough to look real".to_owned(),
        ..cred.clone()
    }
}

async fn failed_attempts_per_client_trip_429_without_slowing_others(backend: Backend) {
    let server = start_with_yaml(backend, "tokens:\n  failedAttemptsPerClient: 3\n").await;
    let tenant = server.create_tenant().await;
    let a = cc_client(&server, &tenant, &["tenant-member"]).await;
    let b = cc_client(&server, &tenant, &["tenant-member"]).await;
    access_token(&server, &a).await;
    for _ in 0..3 {
        invalid_client(&server, &tenant, token_request(&server, &wrong(&a), &[])).await;
    }
    throttled(token_request(&server, &a, &[])).await;
    throttled(token_request(&server, &wrong(&a), &[])).await;
    throttled(introspect_request(&server, &a, "x")).await;
    // Another client of the same tenant, from the same address, is not throttled.
    token_response(token_request(&server, &b, &[])).await;
    let (status, _, _) = crate::lifecycle::exchange(introspect_request(&server, &b, "x")).await;
    assert_eq!(status, 200);
}

async fn failed_attempts_per_address_trip_429(backend: Backend) {
    let yaml = "tokens:\n  failedAttemptsPerClient: 100\n  failedAttemptsPerAddress: 3\n";
    let server = start_with_yaml(backend, yaml).await;
    let tenant = server.create_tenant().await;
    let a = cc_client(&server, &tenant, &["tenant-member"]).await;
    access_token(&server, &a).await;
    for i in 0..3 {
        let nobody = Cred {
            id: format!("nobody-{i}"),
            ..wrong(&a)
        };
        invalid_client(&server, &tenant, token_request(&server, &nobody, &[])).await;
    }
    throttled(token_request(&server, &a, &[])).await;
}

/// The secret's `LastUsedAt` (polled every 100 ms until non-null or `limit` passes).
async fn last_used(server: &TestServer, cred: &Cred, limit: std::time::Duration) -> Value {
    let path = format!(
        "{}/{}",
        secrets_path(&cred.tenant, "ClientCredentialClients", &cred.id),
        cred.secret_id
    );
    let deadline = std::time::Instant::now() + limit;
    loop {
        let got = call(server.get(&path), 200).await["LastUsedAt"].clone();
        if !got.is_null() || std::time::Instant::now() >= deadline {
            return got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

fn assert_used_between(got: &Value, from: DateTime<Utc>) {
    let at = time(got);
    assert!(
        at >= from.trunc_subsecs(0),
        "LastUsedAt {at} is before the request at {from}"
    );
    assert!(at <= Utc::now(), "LastUsedAt {at} is in the future");
}

async fn last_used_at_is_written_within_the_interval(backend: Backend) {
    let server = start_with_yaml(backend, "tokens:\n  lastUsedInterval: 1\n").await;
    let tenant = server.create_tenant().await;
    let cred = cc_client(&server, &tenant, &["tenant-member"]).await;
    let unused = cc_client(&server, &tenant, &["tenant-member"]).await;
    let before = Utc::now();
    access_token(&server, &cred).await;
    let first = last_used(&server, &cred, std::time::Duration::from_secs(10)).await;
    assert!(!first.is_null(), "LastUsedAt is set within 10 s");
    assert_used_between(&first, before);

    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let again = Utc::now();
    access_token(&server, &cred).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let later = loop {
        let got = last_used(&server, &cred, std::time::Duration::ZERO).await;
        if time(&got) > time(&first) || std::time::Instant::now() >= deadline {
            break got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_used_between(&later, again);
    assert_eq!(
        last_used(&server, &unused, std::time::Duration::ZERO).await,
        Value::Null
    );
}

/// With the default 60 s interval nothing is written right after use; SIGTERM flushes.
async fn last_used_at_is_coalesced_and_flushed_on_shutdown(backend: Backend) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut opts = options(backend, None);
    if backend == Backend::Sqlite {
        opts.database_url = Some(format!(
            "sqlite://{}",
            dir.path().join("latchkey.db").display()
        ));
    }
    let server = TestServer::start_with(backend, opts.clone()).await;
    opts.database_url = Some(server.database_url.clone());
    let tenant = server.create_tenant().await;
    let cred = cc_client(&server, &tenant, &["tenant-member"]).await;
    let before = Utc::now();
    for _ in 0..5 {
        access_token(&server, &cred).await;
    }
    let now = last_used(&server, &cred, std::time::Duration::ZERO).await;
    assert_eq!(now, Value::Null, "not written per request");
    assert_eq!(server.terminate().await.code(), Some(0));

    let server = TestServer::start_with(backend, opts).await;
    let flushed = last_used(&server, &cred, std::time::Duration::ZERO).await;
    assert!(!flushed.is_null(), "flushed on shutdown");
    assert_used_between(&flushed, before);
    let body = json!({});
    let other = crate::lifecycle::add_secret(
        &server,
        &secrets_path(&tenant, "ClientCredentialClients", &cred.id),
        body,
    )
    .await;
    assert_eq!(other["LastUsedAt"], Value::Null);
}

both_backends!(
    failed_attempts_per_client_trip_429_without_slowing_others,
    failed_attempts_per_address_trip_429,
    last_used_at_is_written_within_the_interval,
    last_used_at_is_coalesced_and_flushed_on_shutdown,
);
