//! A supplied value that a node has verified is remembered by that node (as a keyed
//! digest) so later requests skip Argon2id; every change acknowledged by any node
//! stops it at the very next request. On PostgreSQL the value is used on node B and
//! changed through node A (two nodes on one database); on SQLite one node does both.

use serde_json::json;

use crate::harness::*;
use crate::lifecycle::{add_secret, call, secrets_path};
use crate::oauth::{Cred, cc_client, options, token_request};

const CC: &str = "ClientCredentialClients";
/// Refused old values count as failed attempts: lift the limiter out of the way.
const YAML: &str =
    "tokens:\n  failedAttemptsPerClient: 100000\n  failedAttemptsPerAddress: 100000\n";

/// (node A, node B): two nodes on one PostgreSQL database, or one SQLite node twice.
async fn nodes(backend: Backend) -> (TestServer, Option<TestServer>) {
    let a = TestServer::start_with(backend, options(backend, Some(YAML))).await;
    if backend == Backend::Sqlite {
        return (a, None);
    }
    let mut opts = options(backend, Some(YAML));
    opts.database_url = Some(a.database_url.clone());
    let b = TestServer::start_with(backend, opts).await;
    (a, Some(b))
}

async fn token_status(server: &TestServer, cred: &Cred) -> u16 {
    let res = token_request(server, cred, &[]).send().await.unwrap();
    res.status().as_u16()
}

/// Adds a supplied secret through `a` and gets tokens with it through `b` until it
/// is remembered there; returns the credentials and the secret's path.
async fn in_use(a: &TestServer, b: &TestServer, client: &Cred, value: &str) -> (Cred, String) {
    let path = secrets_path(&client.tenant, CC, &client.id);
    let added = add_secret(a, &path, json!({"Value": value})).await;
    let id = added["Id"].as_i64().expect("a secret Id");
    let cred = Cred {
        secret: value.to_owned(),
        secret_id: id,
        ..client.clone()
    };
    for n in 0..5 {
        assert_eq!(token_status(b, &cred).await, 200, "request {n}");
    }
    (cred, format!("{path}/{id}"))
}

fn supplied(what: &str) -> String {
    format!("a supplied value, {what}, long enough to be accepted")
}

async fn a_remembered_supplied_value_stops_at_once_on_every_node(backend: Backend) {
    let (a, second) = nodes(backend).await;
    let b = second.as_ref().unwrap_or(&a);
    let tenant = a.create_tenant().await;
    let client = cc_client(&a, &tenant, &[]).await;

    // Renewed through A: B refuses the old value at its next request.
    let (cred, secret) = in_use(&a, b, &client, &supplied("renewed")).await;
    let renewed = call(a.post(&format!("{secret}/Renew")).json(&json!({})), 200).await;
    assert_eq!(token_status(b, &cred).await, 401, "renewed: old value");
    let new = Cred {
        secret: renewed["Secret"].as_str().expect("a Secret").to_owned(),
        ..cred.clone()
    };
    assert_eq!(token_status(b, &new).await, 200, "renewed: new value");

    // Revoked through A.
    let (cred, secret) = in_use(&a, b, &client, &supplied("revoked")).await;
    call(a.delete(&secret), 204).await;
    assert_eq!(token_status(b, &cred).await, 401, "revoked");

    // A new value set through A (PUT Value).
    let (cred, secret) = in_use(&a, b, &client, &supplied("replaced")).await;
    let replacement = supplied("the replacement");
    let put = a.put(&secret).json(&json!({"Value": replacement}));
    call(put, 200).await;
    assert_eq!(
        token_status(b, &cred).await,
        401,
        "value replaced: old value"
    );
    let replaced = Cred {
        secret: replacement,
        ..cred.clone()
    };
    assert_eq!(token_status(b, &replaced).await, 200, "value replaced: new");

    // Renewed with a grace period, then the grace ended through A.
    let (cred, secret) = in_use(&a, b, &client, &supplied("in grace")).await;
    let grace = json!({"GracePeriodSeconds": 3600});
    call(a.post(&format!("{secret}/Renew")).json(&grace), 200).await;
    assert_eq!(token_status(b, &cred).await, 200, "in grace");
    call(a.post(&format!("{secret}/EndGrace")), 200).await;
    assert_eq!(token_status(b, &cred).await, 401, "grace ended");

    // The client disabled through A.
    let (cred, _) = in_use(&a, b, &client, &supplied("disabled")).await;
    let at = format!("/api/v1/Tenants/{tenant}/{CC}/{}", client.id);
    call(a.put(&at).json(&json!({"Enabled": false})), 200).await;
    assert_eq!(token_status(b, &cred).await, 401, "client disabled");
}

both_backends!(a_remembered_supplied_value_stops_at_once_on_every_node);
