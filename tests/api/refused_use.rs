//! Who still presents an old value: a value that worked once and no longer does
//! (replaced after any grace, revoked) is counted on its secret (`RefusedCount`,
//! `LastRefusedAt`, `LastRefusedFrom`) without a write per attempt, found by the
//! `refusedSince` filter, and announced by at most one `secret.refused-use` event
//! per secret and hour, also when 32 such requests arrive at once; during a grace,
//! `PreviousValueLastUsedAt` tells whether the old value is still in use.

use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{Value, json};

use crate::harness::*;
use crate::lifecycle::{call, exchange, secrets_path};
use crate::oauth::{Cred, cc_client, invalid_client, options, token_request, token_response};
use crate::receiver::WebhookReceiver;
use crate::webhooks::{assert_none_of, notify_yaml, subscribe};

/// Usage flushed every second, limits out of the way, and the forwarded address
/// of a loopback proxy trusted (so the source is the one a test names).
fn yaml() -> String {
    format!(
        "{}tokens:\n  lastUsedInterval: 1\n  failedAttemptsPerClient: 1000\n  \
         failedAttemptsPerAddress: 1000\nserver:\n  trustedProxies: [\"127.0.0.0/8\"]\n",
        notify_yaml(&[], None)
    )
}

async fn start(backend: Backend) -> TestServer {
    TestServer::start_with(backend, options(backend, Some(&yaml()))).await
}

fn secret_path(cred: &Cred) -> String {
    format!(
        "{}/{}",
        secrets_path(&cred.tenant, "ClientCredentialClients", &cred.id),
        cred.secret_id
    )
}

/// The secret, polled (every 100 ms, at most 15 s) until `done` holds for it.
async fn secret_until(server: &TestServer, cred: &Cred, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let secret = call(server.get(&secret_path(cred)), 200).await;
        if done(&secret) || Instant::now() >= deadline {
            return secret;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `n` token requests at once with `cred`, forwarded for `address`; all refused.
async fn present_refused(server: &TestServer, cred: &Cred, address: &str, n: usize) {
    let requests = (0..n).map(|_| {
        let req = token_request(server, cred, &[]).header("X-Forwarded-For", address);
        invalid_client(server, &cred.tenant, req)
    });
    futures_util::future::join_all(requests).await;
}

/// The tenant's audit entries of `action`.
async fn audited(server: &TestServer, tenant: &str, action: &str) -> Vec<Value> {
    let path = format!("/api/v1/Tenants/{tenant}/AuditEvents?action={action}");
    let trail = call(server.get(&path), 200).await;
    trail.as_array().expect("a list").clone()
}

async fn a_replaced_value_presented_again_is_counted_and_announced_once(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let receiver = WebhookReceiver::start(None).await;
    subscribe(&server, &tenant, &receiver, &["secret.refused-use"]).await;
    let old = cc_client(&server, &tenant, &["tenant-member"]).await;
    let before = Utc::now();
    let renewed = call(
        server
            .post(&format!("{}/Renew", secret_path(&old)))
            .json(&json!({})),
        200,
    )
    .await;
    let new = Cred {
        secret: renewed["Secret"].as_str().expect("a new value").to_owned(),
        ..old.clone()
    };

    present_refused(&server, &old, "203.0.113.7", 32).await;
    token_response(token_request(&server, &new, &[])).await;
    let secret = secret_until(&server, &old, |s| s["RefusedCount"] == 32).await;
    assert_eq!(
        secret["RefusedCount"], 32,
        "every refusal counted: {secret}"
    );
    assert_eq!(secret["LastRefusedFrom"], "203.0.113.7", "{secret}");
    assert!(!secret["LastRefusedAt"].is_null(), "{secret}");
    assert_eq!(
        secret["PreviousValueLastUsedAt"],
        Value::Null,
        "no grace: {secret}"
    );

    let delivered = receiver.wait_for(1, Duration::from_secs(15)).await;
    assert_eq!(delivered.len(), 1);
    let event = delivered[0].json();
    assert_eq!(event["type"], "secret.refused-use", "{event}");
    assert_eq!(event["data"]["clientId"], old.id.as_str(), "{event}");
    assert_eq!(event["data"]["secretId"], old.secret_id, "{event}");
    let refused = &event["data"]["refusedUse"];
    assert!(
        refused["count"]
            .as_i64()
            .is_some_and(|n| (1..=32).contains(&n)),
        "{event}"
    );
    assert_eq!(refused["lastRefusedFrom"], "203.0.113.7", "{event}");

    // More refusals within the hour: counted, but no second event.
    present_refused(&server, &old, "198.51.100.9", 32).await;
    let secret = secret_until(&server, &old, |s| s["RefusedCount"] == 64).await;
    assert_eq!(secret["RefusedCount"], 64, "{secret}");
    assert_eq!(secret["LastRefusedFrom"], "198.51.100.9", "{secret}");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        receiver.valid_deliveries().len(),
        1,
        "at most one event an hour"
    );

    let entries = audited(&server, &tenant, "secret.refused-use").await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["Actor"], old.id.as_str(), "{entries:?}");
    let everything = format!("{event} {entries:?} {}", server.logs());
    assert_none_of(&everything, &[old.secret.clone(), new.secret.clone()]);

    // The inventory finds the secrets still presented after a rotation.
    let since = |at: &str| format!("/api/v1/Tenants/{tenant}/Secrets?refusedSince={at}");
    let listed = call(
        server.get(&since(
            &before.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )),
        200,
    )
    .await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["ClientId"], old.id.as_str());
    let future =
        (Utc::now() + chrono::Duration::days(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(call(server.get(&since(&future)), 200).await, json!([]));
    let (status, _, body) = exchange(server.get(&since("yesterday"))).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("refusedSince"), "{body}");
}

async fn the_old_value_in_grace_shows_its_last_use(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let old = cc_client(&server, &tenant, &["tenant-member"]).await;
    let renew = server
        .post(&format!("{}/Renew", secret_path(&old)))
        .json(&json!({"GracePeriodSeconds": 3600}));
    let renewed = call(renew, 200).await;
    assert_eq!(renewed["PreviousValueLastUsedAt"], Value::Null, "{renewed}");
    let new = Cred {
        secret: renewed["Secret"].as_str().expect("a new value").to_owned(),
        ..old.clone()
    };
    token_response(token_request(&server, &new, &[])).await;
    let secret = secret_until(&server, &old, |s| !s["LastUsedAt"].is_null()).await;
    assert_eq!(
        secret["PreviousValueLastUsedAt"],
        Value::Null,
        "only the new value was used: {secret}"
    );
    token_response(token_request(&server, &old, &[])).await;
    let secret = secret_until(&server, &old, |s| !s["PreviousValueLastUsedAt"].is_null()).await;
    assert!(!secret["PreviousValueLastUsedAt"].is_null(), "{secret}");
    assert_eq!(secret["RefusedCount"], 0, "{secret}");

    call(server.post(&format!("{}/EndGrace", secret_path(&old))), 200).await;
    present_refused(&server, &old, "203.0.113.8", 1).await;
    let secret = secret_until(&server, &old, |s| s["RefusedCount"] == 1).await;
    assert_eq!(
        secret["RefusedCount"], 1,
        "after the grace, refused: {secret}"
    );
    assert_eq!(
        secret["PreviousValueLastUsedAt"],
        Value::Null,
        "no grace running: {secret}"
    );
}

async fn presenting_a_revoked_value_reaches_the_audit_trail(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let revoked = cc_client(&server, &tenant, &["tenant-member"]).await;
    call(server.delete(&secret_path(&revoked)), 204).await;
    present_refused(&server, &revoked, "203.0.113.9", 3).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let entries = loop {
        let entries = audited(&server, &tenant, "secret.refused-use").await;
        if !entries.is_empty() || Instant::now() >= deadline {
            break entries;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["SecretId"], revoked.secret_id, "{entries:?}");
    assert_eq!(entries[0]["SourceAddress"], "203.0.113.9", "{entries:?}");
}

crate::both_backends!(
    a_replaced_value_presented_again_is_counted_and_announced_once,
    the_old_value_in_grace_shows_its_last_use,
    presenting_a_revoked_value_reaches_the_audit_trail,
);
