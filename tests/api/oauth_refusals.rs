//! Every reason the token endpoint refuses a client, one test each: wrong
//! secret, unknown client, a client of another tenant, an expired, revoked or renewed
//! secret, a disabled or deleted client (all 401 `invalid_client` with
//! `WWW-Authenticate`), and a hybrid client (400 `unauthorized_client`). Each refusal
//! takes effect on the very next request: nothing is cached, no background job runs.

use chrono::{Duration, SecondsFormat, SubsecRound, Utc};
use serde_json::json;

use crate::harness::*;
use crate::lifecycle::{call, secrets_path, time};
use crate::oauth::{
    Cred, access_token, cc_client, claims, client_in, introspect, invalid_client, oauth_error,
    start, token_request,
};

const CC: &str = "ClientCredentialClients";

/// A new tenant with a member client in it.
async fn setup(server: &TestServer) -> Cred {
    let tenant = server.create_tenant().await;
    cc_client(server, &tenant, &["tenant-member"]).await
}

/// Adds a secret to `cred`'s client through the management API; returns its credentials.
async fn add_secret(server: &TestServer, cred: &Cred, body: serde_json::Value) -> Cred {
    let path = secrets_path(&cred.tenant, CC, &cred.id);
    let added = call(server.post(&path).json(&body), 201).await;
    Cred {
        secret: added["Secret"].as_str().expect("a value").to_owned(),
        secret_id: added["Id"].as_i64().expect("an id"),
        ..cred.clone()
    }
}

async fn refused(server: &TestServer, cred: &Cred) {
    invalid_client(server, &cred.tenant, token_request(server, cred, &[])).await;
}

async fn a_wrong_secret_is_invalid_client(backend: Backend) {
    let server = start(backend).await;
    let cred = setup(&server).await;
    let other = cc_client(&server, &cred.tenant, &[]).await;
    let mut changed = cred.secret.clone();
    changed.replace_range(10..11, if &changed[10..11] == "a" { "b" } else { "a" });
    for wrong in [
        other.secret.as_str(),
        &changed,
        "not the secret at all, but 32+ chars",
    ] {
        let bad = Cred {
            secret: wrong.to_owned(),
            ..cred.clone()
        };
        refused(&server, &bad).await;
    }
    access_token(&server, &cred).await;
}

async fn an_unknown_client_is_invalid_client(backend: Backend) {
    let server = start(backend).await;
    let cred = setup(&server).await;
    let nobody = Cred {
        id: "nobody".to_owned(),
        ..cred.clone()
    };
    refused(&server, &nobody).await;
    let nobody = Cred {
        id: uuid::Uuid::new_v4().to_string(),
        ..cred
    };
    refused(&server, &nobody).await;
}

/// A valid client and secret of tenant B at tenant A's token endpoint.
async fn a_client_of_another_tenant_is_invalid_client(backend: Backend) {
    let server = start(backend).await;
    let a = setup(&server).await;
    let b = setup(&server).await;
    access_token(&server, &b).await;
    let foreign = Cred {
        tenant: a.tenant.clone(),
        ..b
    };
    refused(&server, &foreign).await;
}

/// A secret expiring seconds ahead works until then and fails right after, and tokens it
/// minted turn inactive: expiry is checked per request, not by a background job.
async fn an_expired_secret_is_refused_right_after_its_expiration(backend: Backend) {
    let server = start(backend).await;
    let cred = setup(&server).await;
    let watcher = cc_client(&server, &cred.tenant, &[]).await;
    let at = Utc::now().trunc_subsecs(0) + Duration::seconds(4);
    let wire = at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let soon = add_secret(&server, &cred, json!({"Expiration": wire})).await;
    let token = access_token(&server, &soon).await;
    assert_eq!(claims(&token)["secret_id"], json!(soon.secret_id));
    assert_eq!(introspect(&server, &watcher, &token).await["active"], true);

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while Utc::now() <= at + Duration::milliseconds(100) {
        assert!(
            std::time::Instant::now() < deadline,
            "the clock passes {at}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    refused(&server, &soon).await;
    assert_eq!(
        introspect(&server, &watcher, &token).await,
        json!({"active": false})
    );
    let path = format!(
        "{}/{}",
        secrets_path(&cred.tenant, CC, &cred.id),
        soon.secret_id
    );
    let got = call(server.get(&path), 200).await;
    assert_eq!(
        (&got["Status"], time(&got["Expiration"])),
        (&json!("Expired"), at)
    );
    access_token(&server, &cred).await;
}

async fn a_revoked_secret_fails_on_the_very_next_request(backend: Backend) {
    let server = start(backend).await;
    let cred = setup(&server).await;
    let second = add_secret(&server, &cred, json!({})).await;
    access_token(&server, &second).await;
    let path = format!(
        "{}/{}",
        secrets_path(&cred.tenant, CC, &cred.id),
        second.secret_id
    );
    call(server.delete(&path), 204).await;
    refused(&server, &second).await;
    access_token(&server, &cred).await;
}

/// Renewing replaces the value at once; with a grace period the old value works until
/// the grace ends (here: EndGrace), then fails.
async fn a_renewed_secret_value_fails_at_once_or_after_its_grace(backend: Backend) {
    let server = start(backend).await;
    let cred = setup(&server).await;
    let one = format!(
        "{}/{}",
        secrets_path(&cred.tenant, CC, &cred.id),
        cred.secret_id
    );
    let renew = |body| server.post(&format!("{one}/Renew")).json(&body);

    access_token(&server, &cred).await;
    let renewed = call(renew(json!({})), 200).await;
    let new = Cred {
        secret: renewed["Secret"].as_str().expect("a value").to_owned(),
        ..cred.clone()
    };
    refused(&server, &cred).await;
    let token = access_token(&server, &new).await;
    assert_eq!(
        claims(&token)["secret_id"],
        json!(cred.secret_id),
        "the id is kept"
    );

    let graced = call(renew(json!({"GracePeriodSeconds": 3600})), 200).await;
    let newest = Cred {
        secret: graced["Secret"].as_str().expect("a value").to_owned(),
        ..cred.clone()
    };
    access_token(&server, &new).await;
    access_token(&server, &newest).await;
    access_token(&server, &new).await;
    call(server.post(&format!("{one}/EndGrace")), 200).await;
    refused(&server, &new).await;
    access_token(&server, &newest).await;
}

/// Waits (at most 10 s) until the clock is past `at`.
async fn wait_past(at: chrono::DateTime<Utc>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while Utc::now() <= at + Duration::milliseconds(100) {
        assert!(
            std::time::Instant::now() < deadline,
            "the clock passes {at}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Renews `cred`'s secret with `body`; returns the new value's credentials and the answer.
async fn renewed(
    server: &TestServer,
    cred: &Cred,
    body: serde_json::Value,
) -> (Cred, serde_json::Value) {
    let path = secrets_path(&cred.tenant, CC, &cred.id);
    let answer = call(
        server
            .post(&format!("{path}/{}/Renew", cred.secret_id))
            .json(&body),
        200,
    )
    .await;
    let secret = answer["Secret"].as_str().expect("a value").to_owned();
    (
        Cred {
            secret,
            ..cred.clone()
        },
        answer,
    )
}

/// Without EndGrace, the old value stops working as soon as `GraceUntil` passes.
async fn a_grace_period_ends_by_itself(backend: Backend) {
    let server = start(backend).await;
    let cred = setup(&server).await;
    let (new, answer) = renewed(&server, &cred, json!({"GracePeriodSeconds": 3})).await;
    access_token(&server, &cred).await;
    access_token(&server, &new).await;
    wait_past(time(&answer["GraceUntil"])).await;
    refused(&server, &cred).await;
    access_token(&server, &new).await;
}

/// A secret that expires during its grace period: neither value works afterwards.
async fn a_secret_expiring_during_its_grace_refuses_both_values(backend: Backend) {
    let server = start(backend).await;
    let cred = setup(&server).await;
    let at = Utc::now().trunc_subsecs(0) + Duration::seconds(4);
    let wire = at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let body = json!({"Expiration": wire, "GracePeriodSeconds": 3600});
    let (new, _) = renewed(&server, &cred, body).await;
    access_token(&server, &cred).await;
    access_token(&server, &new).await;
    wait_past(at).await;
    refused(&server, &new).await;
    refused(&server, &cred).await;
}

async fn a_disabled_client_is_refused_until_enabled(backend: Backend) {
    let server = start(backend).await;
    let cred = setup(&server).await;
    let client = format!("/api/v1/Tenants/{}/{CC}/{}", cred.tenant, cred.id);
    access_token(&server, &cred).await;
    call(server.put(&client).json(&json!({"Enabled": false})), 200).await;
    refused(&server, &cred).await;
    call(server.put(&client).json(&json!({"Enabled": true})), 200).await;
    access_token(&server, &cred).await;
}

async fn a_deleted_client_is_refused(backend: Backend) {
    let server = start(backend).await;
    let cred = setup(&server).await;
    access_token(&server, &cred).await;
    let client = format!("/api/v1/Tenants/{}/{CC}/{}", cred.tenant, cred.id);
    call(server.delete(&client), 204).await;
    refused(&server, &cred).await;
}

/// A hybrid client that authenticates correctly may not use `client_credentials`; with a
/// wrong secret it is `invalid_client` like any other.
async fn a_hybrid_client_is_unauthorized_client(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let body = json!({"RoleIds": ["tenant-member"]});
    let hybrid = client_in(&server, &tenant, "HybridClients", body).await;
    oauth_error(
        token_request(&server, &hybrid, &[]),
        400,
        "unauthorized_client",
    )
    .await;
    let wrong = Cred {
        secret: "wrong secret, wrong secret, wrong!".to_owned(),
        ..hybrid
    };
    refused(&server, &wrong).await;
}

both_backends!(
    a_wrong_secret_is_invalid_client,
    an_unknown_client_is_invalid_client,
    a_client_of_another_tenant_is_invalid_client,
    an_expired_secret_is_refused_right_after_its_expiration,
    a_revoked_secret_fails_on_the_very_next_request,
    a_renewed_secret_value_fails_at_once_or_after_its_grace,
    a_grace_period_ends_by_itself,
    a_secret_expiring_during_its_grace_refuses_both_values,
    a_disabled_client_is_refused_until_enabled,
    a_deleted_client_is_refused,
    a_hybrid_client_is_unauthorized_client,
);
