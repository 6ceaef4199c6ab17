//! A supplied value that a node has verified is remembered by that node (as a keyed
//! digest) so later requests skip Argon2id; every change acknowledged by any node
//! stops it at the very next request. On PostgreSQL the value is used on node B and
//! changed through node A (two nodes on one database); on SQLite one node does both.
//! With one Argon2id run place and no queue, 32 concurrent requests would mostly be
//! refused as busy (503) if each needed a run: a remembered value serves them all.

use futures_util::future::join_all;
use serde_json::json;

use crate::harness::*;
use crate::lifecycle::{add_secret, call, secrets_path};
use crate::oauth::{Cred, cc_client, options, token_request};

const CC: &str = "ClientCredentialClients";
/// Refused old values count as failed attempts: lift the limiter out of the way. One
/// Argon2id run at a time and none waiting: checks beyond that are refused (503).
const YAML: &str = "tokens:\n  failedAttemptsPerClient: 100000\n  failedAttemptsPerAddress: 100000\n\
                    argon2:\n  concurrency: 1\n  queue: 0\n";

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

/// The statuses of 32 concurrent token requests with `cred`.
async fn burst(server: &TestServer, cred: &Cred) -> Vec<u16> {
    join_all((0..32).map(|_| token_status(server, cred))).await
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

    // Revoked through A; 32 concurrent requests before (all served without a run)
    // and after (none served).
    let (cred, secret) = in_use(&a, b, &client, &supplied("revoked")).await;
    assert_eq!(
        burst(b, &cred).await,
        [200; 32],
        "remembered: no run, no 503"
    );
    call(a.delete(&secret), 204).await;
    assert_eq!(token_status(b, &cred).await, 401, "revoked");
    let after = burst(b, &cred).await;
    assert!(
        after.iter().all(|s| [401, 503].contains(s)),
        "revoked: {after:?}"
    );

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
