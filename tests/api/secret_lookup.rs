//! "Which secret is this?": `POST /api/v1/Tenants/{t}/SecretLookup` for tenant
//! administrators and auditors (own tenant only: another tenant's value answers
//! exactly like an unknown one), `POST /api/v1/SecretLookup` for platform
//! administrators; supplied values only within a named client; lookups that
//! find nothing are limited like failed authentications; audited without the value.

use serde_json::{Value, json};

use crate::harness::*;
use crate::lifecycle::{call, exchange, secrets_path};
use crate::oauth::{access_token, cc_client, start};

const CC: &str = "ClientCredentialClients";

fn lookup_path(tenant: &str) -> String {
    format!("/api/v1/Tenants/{tenant}/SecretLookup")
}

async fn lookup(server: &TestServer, token: &str, tenant: &str, body: Value) -> (u16, Value) {
    let req = server
        .http
        .post(server.url(&lookup_path(tenant)))
        .bearer_auth(token)
        .json(&body);
    let (status, _, body) = exchange(req).await;
    (status, body)
}

async fn a_value_names_its_secret_only_in_its_own_tenant(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let other = server.create_tenant().await;
    let auditor = cc_client(&server, &tenant, &["tenant-auditor"]).await;
    let admin = cc_client(&server, &tenant, &["tenant-administrator"]).await;
    let member = cc_client(&server, &tenant, &["tenant-member"]).await;
    let (auditor_token, admin_token, member_token) = (
        access_token(&server, &auditor).await,
        access_token(&server, &admin).await,
        access_token(&server, &member).await,
    );
    let target = cc_client(&server, &tenant, &[]).await;
    let foreign = cc_client(&server, &other, &[]).await;

    // The auditor's own value: found, with what names it.
    let (status, found) = lookup(
        &server,
        &auditor_token,
        &tenant,
        json!({"Value": target.secret}),
    )
    .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["Found"], true, "{found}");
    assert_eq!(found["ClientType"], CC);
    assert_eq!(found["ClientId"], target.id.as_str());
    assert_eq!(found["Id"], target.secret_id);
    assert_eq!(found["Status"], "Active");
    assert_eq!(found["ReplacedValue"], false);
    assert!(found.get("LastUsedAt").is_some() && found.get("Description").is_some());

    // Another tenant's value, a revoked value and a bad checksum all answer the same.
    let (status, foreign_answer) = lookup(
        &server,
        &admin_token,
        &tenant,
        json!({"Value": foreign.secret}),
    )
    .await;
    assert_eq!((status, &foreign_answer), (200, &json!({"Found": false})));
    let path = secrets_path(&tenant, CC, &target.id);
    let extra = call(
        server.post(&path).json(&json!({"Description": "extra"})),
        201,
    )
    .await;
    let extra_value = extra["Secret"].as_str().unwrap().to_owned();
    call(server.delete(&format!("{path}/{}", extra["Id"])), 204).await;
    let mut typo = target.secret.clone();
    typo.replace_range(10..11, if &typo[10..11] == "A" { "B" } else { "A" });
    for value in [&extra_value, &typo] {
        let (status, body) = lookup(&server, &admin_token, &tenant, json!({"Value": value})).await;
        assert_eq!((status, &body), (200, &foreign_answer), "{value}");
    }

    // A member may not look up; a platform administrator finds any tenant's value.
    let (status, _) = lookup(
        &server,
        &member_token,
        &tenant,
        json!({"Value": target.secret}),
    )
    .await;
    assert_eq!(status, 403);
    let platform = call(
        server
            .post("/api/v1/SecretLookup")
            .json(&json!({"Value": foreign.secret})),
        200,
    )
    .await;
    assert_eq!(platform["Found"], true, "{platform}");
    assert_eq!(platform["TenantId"], other.as_str());
    assert_eq!(platform["ClientId"], foreign.id.as_str());

    // A supplied value: only within its named client.
    let supplied = "a supplied value: with spaces + symbols % 0123456789";
    let added = call(
        server
            .post(&path)
            .json(&json!({"Description": "own value", "Value": supplied})),
        201,
    )
    .await;
    let (status, refused) =
        lookup(&server, &admin_token, &tenant, json!({"Value": supplied})).await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["Field"], "Value");
    assert!(!refused.to_string().contains(supplied));
    let named = json!({"Value": supplied, "ClientType": CC, "ClientId": target.id});
    let (status, found) = lookup(&server, &admin_token, &tenant, named).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(
        (found["Found"].clone(), found["Id"].clone()),
        (json!(true), added["Id"].clone())
    );
    assert_eq!(found["Description"], "own value");
    let wrong_client = json!({"Value": supplied, "ClientType": CC, "ClientId": admin.id});
    let (_, body) = lookup(&server, &admin_token, &tenant, wrong_client).await;
    assert_eq!(body, json!({"Found": false}));

    // Audited, without the value; the value is in no log line.
    let audit = call(
        server.get(&format!("/api/v1/Tenants/{tenant}/AuditEvents?count=1000")),
        200,
    )
    .await;
    let lookups: Vec<&Value> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["Action"] == "secret.lookup")
        .collect();
    assert!(lookups.len() >= 6, "{audit}");
    assert!(
        lookups.iter().any(|e| e["ClientId"] == target.id.as_str()),
        "{audit}"
    );
    let text = format!("{audit}{}", server.logs());
    for value in [&target.secret, &foreign.secret, &extra_value, &typo] {
        assert!(
            !text.contains(value.as_str()),
            "a looked-up value was recorded"
        );
    }
    assert!(!text.contains(supplied));
}

async fn lookups_that_find_nothing_are_limited_per_caller(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let auditor = cc_client(&server, &tenant, &["tenant-auditor"]).await;
    let token = access_token(&server, &auditor).await;
    let mut bad = auditor.secret.clone();
    bad.replace_range(10..11, if &bad[10..11] == "A" { "B" } else { "A" });
    // 32 at once: exactly the per-client limit (10) is served, the rest get 429.
    let attempts = (0..32).map(|_| lookup(&server, &token, &tenant, json!({"Value": bad})));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    let served = statuses.iter().filter(|s| **s == 200).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((served, limited), (10, 22), "{statuses:?}");
    // Another caller is not affected.
    let admin = cc_client(&server, &tenant, &["tenant-administrator"]).await;
    let admin_token = access_token(&server, &admin).await;
    let (status, body) = lookup(
        &server,
        &admin_token,
        &tenant,
        json!({"Value": admin.secret}),
    )
    .await;
    assert_eq!((status, body["Found"].clone()), (200, json!(true)));
}

both_backends!(
    a_value_names_its_secret_only_in_its_own_tenant,
    lookups_that_find_nothing_are_limited_per_caller,
);
