//! Refused attempts are recorded but bounded: nothing is written
//! for a tenant that does not exist; identical refusals of a minute are one entry
//! with a `Count`; past `audit.refusalsPerTenantPerMinute` a tenant's minute keeps
//! one overflow entry counting the rest; so a flood of refused token requests or
//! of 403s leaves a readable trail whose counts add up to the attempts.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::audit::audit_path;
use crate::harness::*;
use crate::lifecycle::{KINDS, call, exchange};
use crate::oauth::{Cred, cc_client, options, token_request};
use crate::policies::{as_caller, token_with};

/// No failed-authentication throttling in the way of the flood.
/// No failure limit and room for every concurrent Argon2id check: the floods here
/// must reach the audit trail, not the limiters.
const UNTHROTTLED: &str = "tokens:\n  failedAttemptsPerClient: 100000\n  \
                           failedAttemptsPerAddress: 100000\nargon2:\n  queue: 1000\n";

async fn start(backend: Backend, extra: &str) -> TestServer {
    let yaml = format!("{UNTHROTTLED}{extra}");
    TestServer::start_with(backend, options(backend, Some(&yaml))).await
}

/// Sends every request at once; asserts each got `status`.
async fn flood(requests: Vec<reqwest::RequestBuilder>, status: u16) {
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|req| tokio::spawn(exchange(req)))
        .collect();
    for task in tasks {
        let (got, _, body) = task.await.unwrap();
        assert_eq!(got, status, "{body}");
    }
}

/// The tenant's refused entries, read by the platform administrator.
async fn refused(server: &TestServer, tenant: &str) -> Vec<Value> {
    let path = format!("{}?count=1000", audit_path(tenant));
    let trail = call(server.get(&path), 200).await;
    let entries = trail.as_array().unwrap().clone();
    for e in &entries {
        assert!(e["Count"].as_i64().is_some_and(|c| c >= 1), "{e}");
    }
    entries
        .into_iter()
        .filter(|e| e["Outcome"] == "refused")
        .collect()
}

fn count(e: &Value) -> i64 {
    e["Count"].as_i64().unwrap()
}

/// `entries` are the folds of `attempts` identical refusals: one entry counting all
/// of them, or (when the flood straddled a minute boundary) one per minute.
fn assert_folded(entries: &[Value], attempts: i64) {
    assert_eq!(
        entries.iter().map(count).sum::<i64>(),
        attempts,
        "{entries:?}"
    );
    let minutes: BTreeSet<&str> = entries
        .iter()
        .map(|e| &e["Time"].as_str().unwrap()[..16])
        .collect();
    assert!(
        entries.len() <= 2 && minutes.len() == entries.len(),
        "one entry per minute, got {} entries: {entries:?}",
        entries.len()
    );
}

fn wrong_secret(cred: &Cred) -> Cred {
    Cred {
        secret: "a wrong secret, long enough to look real".to_owned(),
        ..cred.clone()
    }
}

async fn refusals_for_an_unknown_tenant_write_nothing(backend: Backend) {
    let server = start(backend, "").await;
    let tenant = server.create_tenant().await;
    let ghost = uuid::Uuid::new_v4().to_string();
    // Unauthenticated token requests at a well-formed tenant GUID that does not exist…
    let nobody = Cred {
        tenant: ghost.clone(),
        id: "svc".into(),
        secret: "a wrong secret, long enough to look real".into(),
        secret_id: 1,
    };
    for _ in 0..5 {
        let (status, _, body) = exchange(token_request(&server, &nobody, &[])).await;
        assert_eq!(status, 401, "{body}");
    }
    // …and a real tenant's token used on it (403: the token is for another tenant).
    let admin = token_with(&server, &tenant, "tenant-administrator").await;
    let clients = format!("/api/v1/Tenants/{ghost}/{}", KINDS[0]);
    for _ in 0..5 {
        let (status, _, body) = exchange(as_caller(&server, Method::GET, &clients, &admin)).await;
        assert_eq!(status, 403, "{body}");
    }
    // Nothing anywhere in the database names that tenant.
    let stored = String::from_utf8_lossy(&server.stored_bytes().await).into_owned();
    assert!(
        !stored.contains(&ghost),
        "the unknown tenant {ghost} was written"
    );
    let (status, _, _) = exchange(server.get(&audit_path(&ghost))).await;
    assert_eq!(status, 404);
}

async fn concurrent_identical_token_refusals_fold_into_one_counted_entry(backend: Backend) {
    let server = start(backend, "").await;
    let tenant = server.create_tenant().await;
    let cred = wrong_secret(&cc_client(&server, &tenant, &["tenant-member"]).await);
    let requests = (0..40)
        .map(|_| token_request(&server, &cred, &[]))
        .collect();
    flood(requests, 401).await;
    let entries = refused(&server, &tenant).await;
    assert!(
        entries
            .iter()
            .all(|e| e["Action"] == "token.request" && e["ClientId"] == json!(cred.id)),
        "{entries:?}"
    );
    assert_folded(&entries, 40);
    // The OpenAPI document describes the field.
    let doc = call(server.get("/api/openapi.json"), 200).await;
    let schema = &doc["components"]["schemas"]["AuditEvent"];
    assert_eq!(schema["properties"]["Count"]["type"], "integer", "{schema}");
    assert!(
        schema["required"]
            .as_array()
            .unwrap()
            .contains(&json!("Count")),
        "{schema}"
    );
}

async fn a_flood_of_distinct_refusals_is_capped_per_tenant_and_counted(backend: Backend) {
    let server = start(backend, "audit:\n  refusalsPerTenantPerMinute: 5\n").await;
    let tenant = server.create_tenant().await;
    let other = server.create_tenant().await;
    let requests = (0..30)
        .map(|i| {
            let nobody = Cred {
                tenant: tenant.clone(),
                id: format!("nobody-{i}"),
                secret: "a wrong secret, long enough to look real".into(),
                secret_id: 1,
            };
            token_request(&server, &nobody, &[])
        })
        .collect();
    flood(requests, 401).await;
    let entries = refused(&server, &tenant).await;
    let (overflow, individual): (Vec<&Value>, Vec<&Value>) = entries
        .iter()
        .partition(|e| e["Action"] == "audit.overflow");
    // At most the cap per minute (the flood may straddle two minutes) plus one
    // overflow entry per minute; every attempt counted once.
    assert!(
        individual.len() <= 10,
        "{} entries: {entries:?}",
        individual.len()
    );
    assert!((1..=2).contains(&overflow.len()), "{entries:?}");
    assert_eq!(entries.iter().map(count).sum::<i64>(), 30, "{entries:?}");
    let reason = overflow[0]["Reason"].as_str().unwrap();
    assert!(
        reason.contains("audit.refusalsPerTenantPerMinute"),
        "{reason}"
    );
    // The other tenant's trail is untouched and its own refusals are stored.
    assert!(refused(&server, &other).await.is_empty());
    let stranger = Cred {
        tenant: other.clone(),
        id: "stranger".into(),
        secret: "a wrong secret, long enough to look real".into(),
        secret_id: 1,
    };
    flood(vec![token_request(&server, &stranger, &[])], 401).await;
    let theirs = refused(&server, &other).await;
    assert_eq!(theirs.len(), 1, "{theirs:?}");
    assert_eq!(theirs[0]["Actor"], "stranger");
}

async fn a_flood_of_403s_by_a_low_privilege_token_is_folded(backend: Backend) {
    let server = start(backend, "").await;
    let tenant = server.create_tenant().await;
    let member = token_with(&server, &tenant, "tenant-member").await;
    let clients = format!("/api/v1/Tenants/{tenant}/{}", KINDS[0]);
    let body = json!({"Id": "sneaky", "Name": "x"});
    let requests = (0..40)
        .map(|_| as_caller(&server, Method::POST, &clients, &member).json(&body))
        .collect();
    flood(requests, 403).await;
    let entries = refused(&server, &tenant).await;
    assert!(
        entries.iter().all(|e| e["ClientId"] == "sneaky"),
        "{entries:?}"
    );
    assert_folded(&entries, 40);
}

both_backends!(
    refusals_for_an_unknown_tenant_write_nothing,
    concurrent_identical_token_refusals_fold_into_one_counted_entry,
    a_flood_of_distinct_refusals_is_capped_per_tenant_and_counted,
    a_flood_of_403s_by_a_low_privilege_token_is_folded,
);
