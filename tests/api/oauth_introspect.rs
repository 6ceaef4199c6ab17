//! Token introspection (RFC 7662): a fresh token is active with exactly its
//! claims; it turns inactive once the secret that minted it is revoked, its client is
//! disabled or deleted, or it expires; garbage and other tenants' tokens are inactive;
//! the caller authenticates as a client of the same tenant like at the token endpoint.

use serde_json::{Value, json};

use crate::harness::*;
use crate::lifecycle::{call, expect_error, secrets_path};
use crate::oauth::{
    Cred, access_token, basic, cc_client, claims, form, introspect, introspect_request,
    invalid_client, post_form, start,
};

const CC: &str = "ClientCredentialClients";

fn inactive() -> Value {
    json!({"active": false})
}

/// What introspection reports for an active token: its claims, `active` and `token_type`.
fn active(token: &str) -> Value {
    let mut want = claims(token);
    want["active"] = json!(true);
    want["token_type"] = json!("Bearer");
    want
}

async fn a_fresh_token_is_active_with_its_claims(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let minter = cc_client(&server, &tenant, &["tenant-auditor"]).await;
    let caller = cc_client(&server, &tenant, &[]).await;
    let token = access_token(&server, &minter).await;
    assert_eq!(introspect(&server, &caller, &token).await, active(&token));
    assert_eq!(
        introspect(&server, &minter, &token).await,
        active(&token),
        "itself"
    );

    let post = [
        ("token", token.as_str()),
        ("token_type_hint", "access_token"),
        ("client_id", caller.id.as_str()),
        ("client_secret", caller.secret.as_str()),
    ];
    let req = post_form(&server, &tenant, "connect/introspect", form(&post));
    assert_eq!(call(req, 200).await, active(&token), "client_secret_post");
}

/// Revoking the minting secret, disabling or deleting the client: each token turns
/// inactive at once; a token of an untouched client stays active.
async fn a_token_turns_inactive_with_its_secret_or_client(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let caller = cc_client(&server, &tenant, &[]).await;
    let mut minters = Vec::new();
    for _ in 0..4 {
        let cred = cc_client(&server, &tenant, &["tenant-member"]).await;
        let token = access_token(&server, &cred).await;
        assert_eq!(introspect(&server, &caller, &token).await["active"], true);
        minters.push((cred, token));
    }
    let client = |cred: &Cred| format!("/api/v1/Tenants/{tenant}/{CC}/{}", cred.id);
    let (revoked, disabled, deleted) = (&minters[0].0, &minters[1].0, &minters[2].0);
    let secret = format!(
        "{}/{}",
        secrets_path(&tenant, CC, &revoked.id),
        revoked.secret_id
    );
    call(server.delete(&secret), 204).await;
    call(
        server
            .put(&client(disabled))
            .json(&json!({"Enabled": false})),
        200,
    )
    .await;
    call(server.delete(&client(deleted)), 204).await;
    for (cred, token) in &minters[..3] {
        let got = introspect(&server, &caller, token).await;
        assert_eq!(got, inactive(), "client {}", cred.id);
    }
    let (_, kept) = &minters[3];
    assert_eq!(introspect(&server, &caller, kept).await, active(kept));
}

async fn garbage_and_foreign_tokens_are_inactive(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let caller = cc_client(&server, &tenant, &["tenant-member"]).await;
    let other = server.create_tenant().await;
    let foreign = access_token(
        &server,
        &cc_client(&server, &other, &["tenant-member"]).await,
    )
    .await;
    let own = access_token(&server, &caller).await;
    let (head, rest) = own.split_once('.').expect("a JWS");
    let mut flipped = own.clone().into_bytes();
    let last = flipped.len() - 2;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).expect("ASCII");
    for token in [
        "garbage".to_owned(),
        "a.b.c".to_owned(),
        format!("{head}x.{rest}"),
        flipped,
        foreign,
        server.token.clone(),
    ] {
        assert_eq!(
            introspect(&server, &caller, &token).await,
            inactive(),
            "{token}"
        );
    }
    assert_eq!(introspect(&server, &caller, &own).await, active(&own));
}

/// The caller authenticates like at the token endpoint: 401 `invalid_client` otherwise.
async fn introspection_callers_must_authenticate_in_the_tenant(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let caller = cc_client(&server, &tenant, &[]).await;
    let token = access_token(&server, &caller).await;
    let wrong = Cred {
        secret: "wrong, wrong, wrong, wrong, wrong!".to_owned(),
        ..caller.clone()
    };
    invalid_client(
        &server,
        &tenant,
        introspect_request(&server, &wrong, &token),
    )
    .await;
    let anonymous = post_form(
        &server,
        &tenant,
        "connect/introspect",
        form(&[("token", &token)]),
    );
    invalid_client(&server, &tenant, anonymous).await;
    let other = server.create_tenant().await;
    let outsider = cc_client(&server, &other, &[]).await;
    let req = post_form(
        &server,
        &tenant,
        "connect/introspect",
        form(&[("token", &token)]),
    );
    let req = req.header("Authorization", basic(&outsider.id, &outsider.secret));
    invalid_client(&server, &tenant, req).await;
    assert_eq!(introspect(&server, &caller, &token).await, active(&token));
}

/// The shortest lifetime is 60 s: after `exp` the token is inactive and the management
/// API refuses it. (Pure token logic, so SQLite only: it waits a minute.)
#[tokio::test]
async fn an_expired_token_is_inactive_and_refused() {
    let server = start(Backend::Sqlite).await;
    let tenant = server.create_tenant().await;
    let body = json!({"Name": "short", "RoleIds": ["tenant-member"], "AccessTokenLifetime": 60});
    let cred = crate::oauth::client_in(&server, &tenant, CC, body).await;
    let caller = cc_client(&server, &tenant, &[]).await;
    let token = access_token(&server, &cred).await;
    let exp = claims(&token)["exp"].as_i64().expect("exp");
    let clients = server.url(&format!("/api/v1/Tenants/{tenant}/{CC}"));
    call(server.http.get(&clients).bearer_auth(&token), 200).await;
    assert_eq!(introspect(&server, &caller, &token).await["active"], true);

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(70);
    while chrono::Utc::now().timestamp() <= exp {
        assert!(
            std::time::Instant::now() < deadline,
            "the clock passes exp {exp}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(introspect(&server, &caller, &token).await, inactive());
    expect_error(
        server.http.get(&clients).bearer_auth(&token),
        401,
        "Unauthorized",
    )
    .await;
    let fresh = access_token(&server, &cred).await;
    call(server.http.get(&clients).bearer_auth(&fresh), 200).await;
}

both_backends!(
    a_fresh_token_is_active_with_its_claims,
    a_token_turns_inactive_with_its_secret_or_client,
    garbage_and_foreign_tokens_are_inactive,
    introspection_callers_must_authenticate_in_the_tenant,
);
