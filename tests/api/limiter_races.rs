//! The failure limits and the Argon2id queue under truly concurrent requests: a burst of wrong secrets for one client runs at most the limit's
//! worth of checks (the attempt takes its place before the check), and when the
//! Argon2id runs and queue (`argon2.concurrency`, `argon2.queue`) are full a
//! check is refused at once with 503 `temporarily_unavailable` and `Retry-After`.

use std::sync::Arc;

use reqwest::RequestBuilder;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tokio::sync::Barrier;

use crate::harness::*;
use crate::lifecycle::{call, exchange, secrets_path};
use crate::oauth::{Cred, access_token, cc_client, options, token_request};

/// A supplied value (not generated), so every check of it costs one Argon2id run.
const SUPPLIED: &str = "a supplied client secret value, long enough: 0042";

/// Sends every request at the same moment; returns each answer (status, headers, body).
async fn all_at_once(requests: Vec<RequestBuilder>) -> Vec<(u16, HeaderMap, Value)> {
    let barrier = Arc::new(Barrier::new(requests.len()));
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|req| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                exchange(req).await
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("the request task"));
    }
    answers
}

/// A client-credential client whose only secret is [`SUPPLIED`].
async fn supplied_client(server: &TestServer, tenant: &str) -> Cred {
    supplied_client_with(server, tenant, SUPPLIED).await
}

/// A client whose one secret is `value`, supplied (so its check runs Argon2id).
async fn supplied_client_with(server: &TestServer, tenant: &str, value: &str) -> Cred {
    let cred = cc_client(server, tenant, &["tenant-member"]).await;
    let path = secrets_path(tenant, "ClientCredentialClients", &cred.id);
    let added = call(server.post(&path).json(&json!({"Value": value})), 201).await;
    call(server.delete(&format!("{path}/{}", cred.secret_id)), 204).await;
    Cred {
        secret: value.to_owned(),
        secret_id: added["Id"].as_i64().expect("a secret Id"),
        ..cred
    }
}

fn retry_after(headers: &HeaderMap) -> Option<u64> {
    headers
        .get("Retry-After")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

async fn concurrent_wrong_secrets_run_at_most_the_limit_of_checks(backend: Backend) {
    // A queue long enough that no check is refused for capacity: only the limit decides.
    let yaml = "tokens:\n  failedAttemptsPerClient: 10\nargon2:\n  queue: 200\n";
    let server = TestServer::start_with(backend, options(backend, Some(yaml))).await;
    let tenant = server.create_tenant().await;
    let target = supplied_client(&server, &tenant).await;
    let other = supplied_client(&server, &tenant).await;
    let wrong = Cred {
        secret: "not the supplied value, but just as long: 0043".to_owned(),
        ..target.clone()
    };
    let requests = (0..40)
        .map(|_| token_request(&server, &wrong, &[]))
        .collect();
    let answers = all_at_once(requests).await;

    let (mut refused, mut throttled) = (0, 0);
    for (status, headers, body) in &answers {
        match (*status, body["error"].as_str()) {
            (401, Some("invalid_client")) => refused += 1,
            (429, Some("temporarily_unavailable")) => {
                let seconds = retry_after(headers);
                assert!(
                    seconds.is_some_and(|s| (1..=60).contains(&s)),
                    "Retry-After {seconds:?}: {body}"
                );
                throttled += 1;
            }
            _ => panic!("unexpected answer {status}: {body}"),
        }
    }
    assert_eq!(
        (refused, throttled),
        (10, 30),
        "exactly the limit's worth of checks ran (each 401 is one Argon2id check)"
    );
    // The limit now holds for the right secret too, and not for another client.
    let (status, _, body) = exchange(token_request(&server, &target, &[])).await;
    assert_eq!(status, 429, "{body}");
    access_token(&server, &other).await;
}

async fn a_full_argon2_queue_refuses_at_once_with_503(backend: Backend) {
    let yaml = "argon2:\n  concurrency: 1\n  queue: 0\ntokens:\n  failedAttemptsPerClient: 1000\n  \
                failedAttemptsPerAddress: 1000\n";
    let server = TestServer::start_with(backend, options(backend, Some(yaml))).await;
    let tenant = server.create_tenant().await;
    // 32 clients, each with its own supplied value: a verified value is remembered
    // (no second Argon2 run), so one shared value could let a slow machine answer
    // every request from memory after the first; 32 values each need their own run.
    let mut creds = Vec::new();
    for n in 0..32 {
        let value = format!("{SUPPLIED}-{n:02}");
        creds.push(supplied_client_with(&server, &tenant, &value).await);
    }
    let requests = creds
        .iter()
        .map(|cred| token_request(&server, cred, &[]))
        .collect();
    let answers = all_at_once(requests).await;
    let cred = &creds[0];

    let (mut issued, mut busy) = (0, 0);
    for (status, headers, body) in &answers {
        match *status {
            200 => issued += 1,
            503 => {
                assert_eq!(body["error"], "temporarily_unavailable", "{body}");
                assert_eq!(retry_after(headers), Some(1), "{body}");
                busy += 1;
            }
            _ => panic!("unexpected answer {status}: {body}"),
        }
    }
    assert!(issued >= 1, "{issued} issued, {busy} busy");
    assert!(
        busy >= 1,
        "one run and no queue: concurrent checks are refused ({issued} issued)"
    );
    // Refusals for capacity are not failures: the client is not throttled afterwards.
    access_token(&server, cred).await;
}

both_backends!(
    concurrent_wrong_secrets_run_at_most_the_limit_of_checks,
    a_full_argon2_queue_refuses_at_once_with_503,
);
