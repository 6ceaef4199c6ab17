//! Self-rotation (`POST …/Secrets/Self/Renew`): a client renews its own secret with a
//! token that secret's value issued, without an administrator role, where the tenant's
//! policy and the client both allow it (each off by default). The new value works, the
//! replaced one and its tokens stop at once or when the grace ends, the audit entry and
//! the `secret.renewed` event name the client, another client's or tenant's token is
//! refused, and 32 concurrent renews with one token settle on exactly one value. On
//! PostgreSQL the racing requests go to two nodes sharing the database.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{Value, json};
use tokio::time::sleep;

use crate::audit::audit_path;
use crate::harness::*;
use crate::lifecycle::{call, exchange, expect_error, expect_invalid, secrets_path, time};
use crate::oauth::{Cred, access_token, client_in, options, token_request};
use crate::policies::tenant_policy;
use crate::receiver::WebhookReceiver;
use crate::webhooks::{PUBLIC_URL, notify_yaml, start_notifying, subscribe};

const CC: &str = "ClientCredentialClients";
/// Replaced values are tried on purpose: lift the failure limiter out of the way.
const YAML: &str =
    "tokens:\n  failedAttemptsPerClient: 100000\n  failedAttemptsPerAddress: 100000\n";

async fn start(backend: Backend) -> TestServer {
    TestServer::start_with(backend, options(backend, Some(YAML))).await
}

fn self_renew_path(tenant: &str, kind: &str, client: &str) -> String {
    format!("{}/Self/Renew", secrets_path(tenant, kind, client))
}

/// `POST …/Secrets/Self/Renew` of `cred`'s own client with `token` and `body`.
fn self_renew(
    server: &TestServer,
    cred: &Cred,
    token: &str,
    body: Value,
) -> reqwest::RequestBuilder {
    let path = self_renew_path(&cred.tenant, CC, &cred.id);
    server
        .http
        .post(server.url(&path))
        .bearer_auth(token)
        .json(&body)
}

/// Sets the tenant's `AllowSelfRotation` (and nothing else).
async fn allow_in_tenant(server: &TestServer, tenant: &str, on: bool) -> Value {
    let body = json!({"AllowSelfRotation": on});
    call(server.put(&tenant_policy(tenant)).json(&body), 200).await
}

/// A client-credentials client with `roles` and its own `AllowSelfRotation`.
async fn rotating_client(server: &TestServer, tenant: &str, roles: &[&str], allow: bool) -> Cred {
    let body = json!({"RoleIds": roles, "AllowSelfRotation": allow});
    client_in(server, tenant, CC, body).await
}

/// The status the token endpoint answers for `secret` of `cred`'s client.
async fn token_status(server: &TestServer, cred: &Cred, secret: &str) -> u16 {
    let probe = Cred {
        secret: secret.to_owned(),
        ..cred.clone()
    };
    let res = token_request(server, &probe, &[]).send().await.unwrap();
    res.status().as_u16()
}

/// `GET …/ClientCredentialClients` with `token` (the client is a tenant member): 200
/// while the token lives, 401 once it is dead.
async fn api_status(server: &TestServer, tenant: &str, token: &str) -> u16 {
    let url = server.url(&format!("/api/v1/Tenants/{tenant}/{CC}"));
    let res = server
        .http
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    res.status().as_u16()
}

fn value_of(body: &Value) -> String {
    body["Secret"].as_str().expect("a Secret").to_owned()
}

/// The secret's metadata, as an administrator reads it.
async fn secret_of(server: &TestServer, cred: &Cred) -> Value {
    let path = format!(
        "{}/{}",
        secrets_path(&cred.tenant, CC, &cred.id),
        cred.secret_id
    );
    call(server.get(&path), 200).await
}

/// The tenant's audit entries of action `secret.renew` with `outcome`.
async fn renew_entries(server: &TestServer, tenant: &str, outcome: &str) -> Vec<Value> {
    let path = format!("{}?action=secret.renew", audit_path(tenant));
    let entries = call(server.get(&path), 200).await;
    let entries = entries.as_array().expect("a list").clone();
    entries
        .into_iter()
        .filter(|e| e["Outcome"] == outcome)
        .collect()
}

/// A 403 whose `Reason` is exactly `reason`.
async fn expect_refused(req: reqwest::RequestBuilder, reason: &str) {
    let body = expect_error(req, 403, "Forbidden").await;
    assert_eq!(body["Reason"], reason, "{body}");
}

const TENANT_OFF: &str = "self-rotation is not allowed by the tenant's policy";
const CLIENT_OFF: &str = "self-rotation is not allowed for this client";
const NOT_ITS_OWN: &str = "a client may renew only its own secret, in its own tenant";
const REPLACED: &str = "the value that issued this token has been replaced; only a token \
                        issued by the secret's current value may renew it";

/// Nothing allows it by default: the tenant's policy and a new client both say false,
/// and a renew is refused naming the tenant's policy, then (tenant on) the client.
/// Refusals change nothing and are audited.
async fn self_rotation_is_off_by_default(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let policy = call(server.get(&tenant_policy(&tenant)), 200).await;
    assert_eq!(policy["AllowSelfRotation"], false, "{policy}");
    let cred = client_in(&server, &tenant, CC, json!({})).await;
    let client = call(
        server.get(&format!("/api/v1/Tenants/{tenant}/{CC}/{}", cred.id)),
        200,
    )
    .await;
    assert_eq!(client["AllowSelfRotation"], false, "{client}");
    let before = secret_of(&server, &cred).await;

    let token = access_token(&server, &cred).await;
    expect_refused(self_renew(&server, &cred, &token, json!({})), TENANT_OFF).await;
    // The client alone cannot switch it on.
    let willing = rotating_client(&server, &tenant, &[], true).await;
    let willing_token = access_token(&server, &willing).await;
    expect_refused(
        self_renew(&server, &willing, &willing_token, json!({})),
        TENANT_OFF,
    )
    .await;

    // The tenant alone does not either.
    allow_in_tenant(&server, &tenant, true).await;
    expect_refused(self_renew(&server, &cred, &token, json!({})), CLIENT_OFF).await;

    // Nothing changed: the value and the token still work, the hint is the same.
    assert_eq!(token_status(&server, &cred, &cred.secret).await, 200);
    assert_eq!(secret_of(&server, &cred).await["Hint"], before["Hint"]);
    let refused = renew_entries(&server, &tenant, "refused").await;
    let reasons: Vec<&str> = refused
        .iter()
        .map(|e| e["Reason"].as_str().unwrap_or_default())
        .collect();
    assert!(reasons.contains(&TENANT_OFF), "{refused:?}");
    assert!(reasons.contains(&CLIENT_OFF), "{refused:?}");
    assert!(renew_entries(&server, &tenant, "success").await.is_empty());
}

/// Both on: a client without any administrator role renews the secret its token came
/// from. The answer is the Renew's (same Id, the new value once, no-store); the new value
/// works, the old value and the old token stop at once; the audit entry names the client.
async fn a_client_renews_its_own_secret(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    allow_in_tenant(&server, &tenant, true).await;
    let cred = rotating_client(&server, &tenant, &["tenant-member"], true).await;
    // A second secret of the client stays as it is.
    let other = call(
        server
            .post(&secrets_path(&tenant, CC, &cred.id))
            .json(&json!({"Description": "other"})),
        201,
    )
    .await;
    let token = access_token(&server, &cred).await;
    assert_eq!(api_status(&server, &tenant, &token).await, 200);

    let (status, headers, renewed) = exchange(self_renew(&server, &cred, &token, json!({}))).await;
    assert_eq!(status, 200, "{renewed}");
    assert_eq!(
        headers.get("Cache-Control").map(|v| v.to_str().unwrap()),
        Some("no-store")
    );
    assert_eq!(renewed["Id"], cred.secret_id, "the token's own secret");
    assert_eq!(renewed["GraceUntil"], Value::Null, "{renewed}");
    let value = value_of(&renewed);
    assert_ne!(value, cred.secret);
    assert_eq!(secret_of(&server, &cred).await["Hint"], renewed["Hint"]);

    assert_eq!(
        token_status(&server, &cred, &value).await,
        200,
        "the new value"
    );
    assert_eq!(
        token_status(&server, &cred, &cred.secret).await,
        401,
        "the old value"
    );
    assert_eq!(
        api_status(&server, &tenant, &token).await,
        401,
        "the old token"
    );
    let renewed_again = self_renew(&server, &cred, &token, json!({}));
    expect_error(renewed_again, 401, "Unauthorized").await;
    let second = Cred {
        secret: value.clone(),
        ..cred.clone()
    };
    let new_token = access_token(&server, &second).await;
    assert_eq!(api_status(&server, &tenant, &new_token).await, 200);
    let other_value = Cred {
        secret: other["Secret"].as_str().unwrap().to_owned(),
        ..cred.clone()
    };
    assert_eq!(
        token_status(&server, &other_value, &other_value.secret).await,
        200
    );

    let entries = renew_entries(&server, &tenant, "success").await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    assert_eq!(
        (&entry["ActorType"], &entry["Actor"], &entry["ClientId"]),
        (&json!("client"), &json!(cred.id), &json!(cred.id)),
        "{entry}"
    );
    assert_eq!(entry["SecretId"], cred.secret_id, "{entry}");
    let text = entries.iter().map(Value::to_string).collect::<String>();
    assert!(
        !text.contains(&value) && !text.contains(&cred.secret),
        "no value in the trail"
    );
}

/// With a grace period the replaced value and its tokens keep working until it ends,
/// then stop; the token of the replaced value renews nothing meanwhile. The grace is
/// bounded as for an administrator's Renew, and only a grace may be asked for.
async fn a_grace_keeps_the_old_value_until_it_ends(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    allow_in_tenant(&server, &tenant, true).await;
    let cred = rotating_client(&server, &tenant, &["tenant-member"], true).await;
    let token = access_token(&server, &cred).await;

    let too_long = self_renew(
        &server,
        &cred,
        &token,
        json!({"GracePeriodSeconds": 604_801}),
    );
    expect_invalid(too_long, "GracePeriodSeconds").await;
    for body in [
        json!({"Expires": false}),
        json!({"Expiration": "2099-01-01T00:00:00Z"}),
    ] {
        let res = expect_error(
            self_renew(&server, &cred, &token, body.clone()),
            400,
            "InvalidInput",
        )
        .await;
        assert!(
            res["Reason"].as_str().unwrap().contains("not a field"),
            "{body}: {res}"
        );
    }
    assert_eq!(
        token_status(&server, &cred, &cred.secret).await,
        200,
        "nothing changed"
    );

    let renewed = call(
        self_renew(&server, &cred, &token, json!({"GracePeriodSeconds": 3})),
        200,
    )
    .await;
    let until = time(&renewed["GraceUntil"]);
    let value = value_of(&renewed);
    assert_eq!(
        token_status(&server, &cred, &value).await,
        200,
        "the new value"
    );
    assert_eq!(
        token_status(&server, &cred, &cred.secret).await,
        200,
        "in grace"
    );
    assert_eq!(
        api_status(&server, &tenant, &token).await,
        200,
        "its token, in grace"
    );
    // The replaced value's token renews nothing, not even in its grace.
    expect_refused(self_renew(&server, &cred, &token, json!({})), REPLACED).await;
    let current = secret_of(&server, &cred).await;
    assert_eq!(
        current["Hint"], renewed["Hint"],
        "the refusal changed nothing"
    );

    let wait = (until - chrono::Utc::now()).to_std().unwrap_or_default();
    sleep(wait + Duration::from_millis(500)).await;
    assert_eq!(
        token_status(&server, &cred, &cred.secret).await,
        401,
        "after the grace"
    );
    assert_eq!(
        api_status(&server, &tenant, &token).await,
        401,
        "its token, after"
    );
    assert_eq!(
        token_status(&server, &cred, &value).await,
        200,
        "the new value"
    );
}

/// The `secret.renewed` webhook names the client as the actor.
async fn the_renewed_event_names_the_client(backend: Backend) {
    let server = start_notifying(backend, &notify_yaml(&["1s"], None), None).await;
    let tenant = server.create_tenant().await;
    allow_in_tenant(&server, &tenant, true).await;
    let receiver = WebhookReceiver::start(None).await;
    subscribe(&server, &tenant, &receiver, &["secret.renewed"]).await;
    let cred = rotating_client(&server, &tenant, &[], true).await;
    let token = access_token(&server, &cred).await;
    let renewed = call(self_renew(&server, &cred, &token, json!({})), 200).await;

    let got = receiver.wait_for(1, Duration::from_secs(15)).await;
    assert_eq!(got.len(), 1);
    let body = got[0].json();
    assert_eq!(body["type"], "secret.renewed", "{body}");
    let data = &body["data"];
    assert_eq!(
        (&data["actorType"], &data["actor"]),
        (&json!("client"), &json!(cred.id)),
        "{body}"
    );
    assert_eq!(
        (
            &data["tenantId"],
            &data["clientId"],
            &data["secretId"],
            &data["hint"]
        ),
        (
            &json!(tenant),
            &json!(cred.id),
            &json!(cred.secret_id),
            &renewed["Hint"]
        ),
        "{body}"
    );
    let text = String::from_utf8_lossy(&got[0].body).into_owned();
    assert!(!text.contains(&value_of(&renewed)), "no value in the event");

    // An administrator's Renew names the administrator.
    let admin_renew = format!(
        "{}/{}/Renew",
        secrets_path(&tenant, CC, &cred.id),
        cred.secret_id
    );
    call(server.post(&admin_renew).json(&json!({})), 200).await;
    let got = receiver.wait_for(2, Duration::from_secs(15)).await;
    let data = &got[1].json()["data"];
    assert_eq!(
        (&data["actorType"], &data["actor"]),
        (&json!("platform"), &json!("bootstrap-token")),
        "{data}"
    );
}

/// A token renews only its own client's secret: another client's token (even a tenant
/// administrator's), a token of another tenant (for a client with the same id), the
/// bootstrap token and the other kind's route are refused, and nothing changes.
async fn only_the_clients_own_token_renews(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    allow_in_tenant(&server, &tenant, true).await;
    let body = json!({"Id": "svc", "AllowSelfRotation": true});
    let cred = client_in(&server, &tenant, CC, body.clone()).await;
    let admin = rotating_client(&server, &tenant, &["tenant-administrator"], true).await;
    let admin_token = access_token(&server, &admin).await;
    expect_refused(
        self_renew(&server, &cred, &admin_token, json!({})),
        NOT_ITS_OWN,
    )
    .await;

    let elsewhere = server.create_tenant().await;
    allow_in_tenant(&server, &elsewhere, true).await;
    let twin = client_in(&server, &elsewhere, CC, body).await;
    let twin_token = access_token(&server, &twin).await;
    expect_refused(
        self_renew(&server, &cred, &twin_token, json!({})),
        NOT_ITS_OWN,
    )
    .await;
    // Another tenant that does not exist: refused the same way, nothing revealed.
    let missing = Cred {
        tenant: uuid::Uuid::new_v4().to_string(),
        ..cred.clone()
    };
    let own_token = access_token(&server, &cred).await;
    expect_refused(
        self_renew(&server, &missing, &own_token, json!({})),
        NOT_ITS_OWN,
    )
    .await;

    let bootstrap = self_renew(&server, &cred, &server.token, json!({}));
    expect_refused(
        bootstrap,
        "only a client, with an access token its own secret issued, may renew its own secret",
    )
    .await;
    let hybrid = server
        .http
        .post(server.url(&self_renew_path(&tenant, "HybridClients", &cred.id)))
        .bearer_auth(&own_token)
        .json(&json!({}));
    expect_error(hybrid, 404, "NotFound").await;
    let anonymous = server
        .http
        .post(server.url(&self_renew_path(&tenant, CC, &cred.id)));
    expect_error(anonymous, 401, "Unauthorized").await;

    for (who, secret) in [
        (&cred, &cred.secret),
        (&twin, &twin.secret),
        (&admin, &admin.secret),
    ] {
        assert_eq!(
            token_status(&server, who, secret).await,
            200,
            "{} unchanged",
            who.id
        );
    }
    // Its own token still can.
    call(self_renew(&server, &cred, &own_token, json!({})), 200).await;
}

/// Omitting the switches keeps them: the tenant's `AllowSelfRotation` survives a change
/// of its expiry rules (and the other way round), a client's survives a PUT without it.
async fn the_switches_are_kept_when_a_change_omits_them(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let path = tenant_policy(&tenant);
    let on = allow_in_tenant(&server, &tenant, true).await;
    assert_eq!(
        on,
        json!({"Unit": "YEARS", "Duration": 1, "MaximumLifetime": null,
               "UsesConfiguredDefault": true, "AllowSelfRotation": true})
    );
    let monthly = json!({"Unit": "MONTHS", "Duration": 3});
    let set = call(server.put(&path).json(&monthly), 200).await;
    assert_eq!(
        set,
        json!({"Unit": "MONTHS", "Duration": 3, "MaximumLifetime": null,
               "UsesConfiguredDefault": false, "AllowSelfRotation": true})
    );
    let off = allow_in_tenant(&server, &tenant, false).await;
    assert_eq!(
        (&off["Unit"], &off["AllowSelfRotation"]),
        (&json!("MONTHS"), &json!(false))
    );
    assert_eq!(call(server.get(&path), 200).await, off);
    expect_invalid(
        server.put(&path).json(&json!({"AllowSelfRotation": "yes"})),
        "AllowSelfRotation",
    )
    .await;

    let cred = rotating_client(&server, &tenant, &[], true).await;
    let client = format!("/api/v1/Tenants/{tenant}/{CC}/{}", cred.id);
    let renamed = call(server.put(&client).json(&json!({"Name": "renamed"})), 200).await;
    assert_eq!(
        (&renamed["Name"], &renamed["AllowSelfRotation"]),
        (&json!("renamed"), &json!(true))
    );
    let off = call(
        server
            .put(&client)
            .json(&json!({"AllowSelfRotation": false})),
        200,
    )
    .await;
    assert_eq!(off["AllowSelfRotation"], false);
    assert_eq!(
        call(server.get(&client), 200).await["AllowSelfRotation"],
        false
    );
}

/// One node, or on PostgreSQL two nodes on one database (requests alternate).
/// Both nodes are one issuer: tokens of either work on both.
async fn nodes(backend: Backend) -> Vec<TestServer> {
    let node = |database_url: Option<String>| {
        let mut opts = options(backend, Some(YAML));
        opts.extra_args = vec!["--public-url".to_owned(), PUBLIC_URL.to_owned()];
        opts.database_url = database_url;
        TestServer::start_with(backend, opts)
    };
    let first = node(None).await;
    if backend == Backend::Sqlite {
        return vec![first];
    }
    let second = node(Some(first.database_url.clone())).await;
    vec![first, second]
}

/// 32 concurrent self-renews with one token, without and then with a grace period:
/// exactly one succeeds, every other fails cleanly (401: the token died with its value;
/// 403 while it lives in grace), and exactly the winner's value works beside the one
/// in grace.
async fn concurrent_self_renews_with_one_token_settle_on_one_value(backend: Backend) {
    let nodes = nodes(backend).await;
    let server = &nodes[0];
    let tenant = server.create_tenant().await;
    allow_in_tenant(server, &tenant, true).await;
    let first = rotating_client(server, &tenant, &["tenant-member"], true).await;
    let mut cred = first.clone();
    for (grace, loser) in [(0, 401), (600, 403)] {
        let token = access_token(server, &cred).await;
        for node in &nodes {
            assert_eq!(api_status(node, &tenant, &token).await, 200, "a live token");
        }
        let body = json!({"GracePeriodSeconds": grace});
        let answers = join_all((0..32).map(|i| {
            let node = &nodes[i % nodes.len()];
            exchange(self_renew(node, &cred, &token, body.clone()))
        }))
        .await;
        let mut winners = Vec::new();
        for (status, _, answer) in &answers {
            match status {
                200 => winners.push(value_of(answer)),
                s => assert_eq!(*s, loser, "grace {grace}: {answer}"),
            }
        }
        assert_eq!(winners.len(), 1, "grace {grace}: one renew wins");
        let value = winners.remove(0);
        for node in &nodes {
            assert_eq!(
                token_status(node, &cred, &value).await,
                200,
                "the winner's value"
            );
            let old = if grace == 0 { 401 } else { 200 };
            assert_eq!(
                token_status(node, &cred, &cred.secret).await,
                old,
                "grace {grace}"
            );
            assert_eq!(
                api_status(node, &tenant, &token).await,
                old,
                "grace {grace}: the token"
            );
        }
        let listed = call(server.get(&secrets_path(&tenant, CC, &cred.id)), 200).await;
        assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
        cred.secret = value;
    }
    // Serially, each renew with the current value's token wins again.
    for _ in 0..3 {
        let token = access_token(server, &cred).await;
        let renewed = call(self_renew(server, &cred, &token, json!({})), 200).await;
        cred.secret = value_of(&renewed);
    }
    assert_eq!(token_status(server, &cred, &first.secret).await, 401);
    assert_eq!(token_status(server, &cred, &cred.secret).await, 200);
}

both_backends!(
    self_rotation_is_off_by_default,
    a_client_renews_its_own_secret,
    a_grace_keeps_the_old_value_until_it_ends,
    the_renewed_event_names_the_client,
    only_the_clients_own_token_renews,
    the_switches_are_kept_when_a_change_omits_them,
    concurrent_self_renews_with_one_token_settle_on_one_value,
);
