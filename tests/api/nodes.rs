//! Several `latchkey serve` processes on one PostgreSQL database: they share the
//! signing keys (sealed under the one `LATCHKEY_MASTER_KEY`), a token minted by one
//! validates on the other, and a revocation or a disabled client through one node is
//! refused by the other on the very next request. Also: PostgreSQL without a master key
//! refuses to start. PostgreSQL only.

use serde_json::json;

use crate::harness::*;
use crate::lifecycle::{call, exchange, secrets_path};
use crate::oauth::{
    Cred, MASTER_KEY, access_token, cc_client, claims, introspect, oauth_error, token_request,
};

/// Both nodes sit behind one public URL, so they are one issuer.
const PUBLIC_URL: &str = "http://latchkey.test";
const CC: &str = "ClientCredentialClients";

pub(crate) fn node_options(bootstrap: Option<&str>, database_url: Option<String>) -> ServerOptions {
    let mut env = vec![("LATCHKEY_MASTER_KEY".to_owned(), MASTER_KEY.to_owned())];
    if let Some(token) = bootstrap {
        env.push(("LATCHKEY_BOOTSTRAP_TOKEN".to_owned(), token.to_owned()));
    }
    ServerOptions {
        env,
        extra_args: vec!["--public-url".to_owned(), PUBLIC_URL.to_owned()],
        database_url,
        ..ServerOptions::default()
    }
}

/// 401 `invalid_client` from `node`, with the shared issuer as realm.
async fn refused_by(node: &TestServer, cred: &Cred) {
    let (headers, _) = oauth_error(token_request(node, cred, &[]), 401, "invalid_client").await;
    let realm = format!("Basic realm=\"{PUBLIC_URL}/identity/{}\"", cred.tenant);
    let got = headers
        .get("WWW-Authenticate")
        .map(|v| v.to_str().unwrap_or("?"));
    assert_eq!(got, Some(realm.as_str()));
}

#[tokio::test]
async fn two_nodes_share_keys_and_see_each_others_revocations_at_once() {
    let one = TestServer::start_with(Backend::Postgres, node_options(None, None)).await;
    let opts = node_options(Some(&one.token), Some(one.database_url.clone()));
    let two = TestServer::start_with(Backend::Postgres, opts).await;
    let as_admin =
        |node: &TestServer, path: &str| node.http.get(node.url(path)).bearer_auth(&one.token);

    let tenant = one.create_tenant().await;
    call(as_admin(&two, &format!("/api/v1/Tenants/{tenant}")), 200).await;
    let keys = |node: &TestServer| {
        node.http
            .get(node.url(&format!("/identity/{tenant}/.well-known/jwks.json")))
    };
    assert_eq!(
        call(keys(&one), 200).await,
        call(keys(&two), 200).await,
        "one key set"
    );

    let cred = cc_client(&one, &tenant, &["tenant-administrator"]).await;
    let watcher = cc_client(&one, &tenant, &[]).await;
    let from_one = access_token(&one, &cred).await;
    let from_two = access_token(&two, &cred).await;
    assert_eq!(
        claims(&from_one)["iss"],
        format!("{PUBLIC_URL}/identity/{tenant}")
    );
    assert_eq!(claims(&from_one)["aud"], format!("{PUBLIC_URL}/api"));
    let clients = format!("/api/v1/Tenants/{tenant}/{CC}");
    for (node, token) in [(&two, &from_one), (&one, &from_two)] {
        let got = introspect(node, &watcher, token).await;
        assert_eq!(
            (&got["active"], &got["jti"]),
            (&json!(true), &claims(token)["jti"])
        );
        call(node.http.get(node.url(&clients)).bearer_auth(token), 200).await;
    }

    // Revoke through node 1: node 2 refuses the very next request and the token it minted.
    let path = secrets_path(&tenant, CC, &cred.id);
    let added = call(one.post(&path).json(&json!({})), 201).await;
    let second = Cred {
        secret: added["Secret"].as_str().expect("a value").to_owned(),
        secret_id: 2,
        ..cred.clone()
    };
    let minted = access_token(&two, &second).await;
    access_token(&two, &second).await;
    call(one.delete(&format!("{path}/2")), 204).await;
    refused_by(&two, &second).await;
    assert_eq!(
        introspect(&two, &watcher, &minted).await,
        json!({"active": false})
    );
    let (status, _, body) = exchange(two.http.get(two.url(&clients)).bearer_auth(&minted)).await;
    assert_eq!(status, 401, "{body}");
    access_token(&two, &cred).await;

    // The same for a client disabled through node 2, seen by node 1.
    let client = format!("{clients}/{}", cred.id);
    let disable = two.http.put(two.url(&client)).bearer_auth(&one.token);
    call(disable.json(&json!({"Enabled": false})), 200).await;
    refused_by(&one, &cred).await;
    assert_eq!(
        introspect(&one, &watcher, &from_two).await,
        json!({"active": false})
    );
}

/// The signing keys are sealed under the master key: PostgreSQL has no file to keep one.
#[tokio::test]
async fn postgres_without_a_master_key_refuses_to_start() {
    let opts = ServerOptions {
        env: vec![("LATCHKEY_MASTER_KEY".to_owned(), String::new())],
        ..ServerOptions::default()
    };
    let (status, output) = run_to_exit(Backend::Postgres, opts).await;
    assert_eq!(status.code(), Some(2), "{output}");
    assert!(output.contains("LATCHKEY_MASTER_KEY"), "{output}");
}
