//! `GET /api/v1/Tenants/{t}/SecretSummary`: the tenant's live secrets counted by
//! state and expirations per week, as the console's overview shows them; only
//! this tenant's secrets, revoked ones left out.

use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{Value, json};

use crate::harness::*;
use crate::lifecycle::{call, secrets_path};
use crate::oauth::{Cred, cc_client, invalid_client, options, token_request, token_response};

fn summary_path(tenant: &str) -> String {
    format!("/api/v1/Tenants/{tenant}/SecretSummary")
}

/// Adds a secret of `cred`'s client expiring in `days` (never, when `None`).
async fn add(server: &TestServer, cred: &Cred, days: Option<i64>) -> Value {
    let body = match days {
        Some(d) => json!({"Expiration": (Utc::now() + chrono::Duration::days(d)).to_rfc3339()}),
        None => json!({"Expires": false}),
    };
    let path = secrets_path(&cred.tenant, "ClientCredentialClients", &cred.id);
    call(server.post(&path).json(&body), 201).await
}

async fn summary_until(server: &TestServer, tenant: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let got = call(server.get(&summary_path(tenant)), 200).await;
        if done(&got) || Instant::now() >= deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn the_summary_counts_secrets_by_state_and_week(backend: Backend) {
    let yaml = "tokens:\n  lastUsedInterval: 1\n";
    let server = TestServer::start_with(backend, options(backend, Some(yaml))).await;
    let tenant = server.create_tenant().await;
    let other = server.create_tenant().await;
    cc_client(&server, &other, &[]).await; // another tenant's secret: never counted

    let empty = call(server.get(&summary_path(&tenant)), 200).await;
    assert_eq!(empty["Active"], 0, "{empty}");
    assert_eq!(
        empty["ExpirationsPerWeek"].as_array().map(Vec::len),
        Some(12)
    );

    // Secret 1 (created with the client, default policy), then 3, 20, 60 days and never.
    let used = cc_client(&server, &tenant, &["tenant-member"]).await;
    add(&server, &used, Some(3)).await;
    add(&server, &used, Some(20)).await;
    add(&server, &used, Some(60)).await;
    add(&server, &used, None).await;
    let revoked = add(&server, &used, Some(3)).await;
    let path = secrets_path(&tenant, "ClientCredentialClients", &used.id);
    call(server.delete(&format!("{path}/{}", revoked["Id"])), 204).await;
    // The first secret is used; then renewed and its old value presented.
    token_response(token_request(&server, &used, &[])).await;
    call(
        server.post(&format!("{path}/1/Renew")).json(&json!({})),
        200,
    )
    .await;
    invalid_client(&server, &tenant, token_request(&server, &used, &[])).await;

    let got = summary_until(&server, &tenant, |s| s["PresentedAfterRotation"] == 1).await;
    assert_eq!(got["Active"], 5, "{got}");
    assert_eq!(got["Expired"], 0, "{got}");
    assert_eq!(got["ExpiringWithin7Days"], 1, "{got}");
    assert_eq!(got["ExpiringWithin30Days"], 2, "{got}");
    assert_eq!(got["NeverUsed"], 4, "{got}");
    assert_eq!(got["Leaked"], 0, "{got}");
    assert_eq!(got["PresentedAfterRotation"], 1, "{got}");
    let weeks: Vec<i64> = got["ExpirationsPerWeek"]
        .as_array()
        .expect("weeks")
        .iter()
        .map(|w| w["Count"].as_i64().expect("a count"))
        .collect();
    let mut want = vec![0; 12];
    want[0] = 1; // 3 days
    want[2] = 1; // 20 days
    want[8] = 1; // 60 days
    // The renewed secret 1 expires by the default policy (if within 12 weeks).
    let one = call(server.get(&format!("{path}/1")), 200).await;
    if let Some(at) = one["Expiration"].as_str() {
        let at: chrono::DateTime<Utc> = at.parse().expect("a date");
        let days = (at - Utc::now()).num_days();
        if days < 84 {
            want[usize::try_from(days / 7).unwrap()] += 1;
        }
    }
    assert_eq!(weeks, want, "{got}");

    // Auditors read it; members (no secret reading) do not; other tenants' tokens do not.
    let auditor = cc_client(&server, &tenant, &["tenant-auditor"]).await;
    let member = cc_client(&server, &tenant, &["tenant-member"]).await;
    let outsider = cc_client(&server, &other, &["tenant-administrator"]).await;
    for (cred, want) in [(&auditor, 200), (&member, 403), (&outsider, 403)] {
        let token = crate::oauth::access_token(&server, cred).await;
        let req = server
            .http
            .get(server.url(&summary_path(&tenant)))
            .bearer_auth(token);
        let (status, _, body) = crate::lifecycle::exchange(req).await;
        assert_eq!(status, want, "{} {body}", cred.id);
    }
    let unknown = uuid::Uuid::new_v4();
    let (status, _, _) =
        crate::lifecycle::exchange(server.get(&summary_path(&unknown.to_string()))).await;
    assert_eq!(status, 404);
}

crate::both_backends!(the_summary_counts_secrets_by_state_and_week);
