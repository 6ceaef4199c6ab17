//! Concurrent changes to one secret never undo each other. A PUT or an
//! EndGrace racing a Renew must not put the replaced hash back; concurrent Renews with a
//! grace period keep exactly the values a serial order keeps. On PostgreSQL the racing
//! requests also go to two nodes sharing the database.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::harness::*;
use crate::lifecycle::{call, secrets_path};
use crate::oauth::{Cred, cc_client, options, token_request};

const CC: &str = "ClientCredentialClients";
/// Checking replaced values counts as failed attempts: lift the limiter out of the way.
const YAML: &str =
    "tokens:\n  failedAttemptsPerClient: 100000\n  failedAttemptsPerAddress: 100000\n";

/// One node, or on PostgreSQL two nodes on one database (requests alternate).
async fn nodes(backend: Backend) -> Vec<TestServer> {
    let first = TestServer::start_with(backend, options(backend, Some(YAML))).await;
    if backend == Backend::Sqlite {
        return vec![first];
    }
    let mut second = options(backend, Some(YAML));
    second.database_url = Some(first.database_url.clone());
    let second = TestServer::start_with(backend, second).await;
    vec![first, second]
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

fn renewed_value(body: &Value) -> String {
    body["Secret"].as_str().expect("a Secret").to_owned()
}

/// 20 rounds of a PUT (description only) racing a Renew, then 20 of an EndGrace racing a
/// Renew: after each round the renewed value works and the replaced one is refused.
async fn a_change_racing_a_renew_never_brings_the_old_value_back(backend: Backend) {
    let nodes = nodes(backend).await;
    let (a, b) = (&nodes[0], nodes.last().unwrap());
    let tenant = a.create_tenant().await;
    let cred = cc_client(a, &tenant, &[]).await;
    let secret = format!("{}/{}", secrets_path(&tenant, CC, &cred.id), cred.secret_id);
    let mut current = cred.secret.clone();
    for round in 0..40 {
        let renew = call(b.post(&format!("{secret}/Renew")).json(&json!({})), 200);
        let other = if round < 20 {
            let body = json!({"Description": format!("round {round}")});
            a.put(&secret).json(&body)
        } else {
            a.post(&format!("{secret}/EndGrace"))
        };
        let (renewed, _) = tokio::join!(renew, call(other, 200));
        let replaced = std::mem::replace(&mut current, renewed_value(&renewed));
        for node in &nodes {
            assert_eq!(
                token_status(node, &cred, &current).await,
                200,
                "round {round}: the renewed value works"
            );
            assert_eq!(
                token_status(node, &cred, &replaced).await,
                401,
                "round {round}: the replaced value is refused"
            );
        }
        let shown = call(a.get(&secret), 200).await;
        if round < 20 {
            assert_eq!(
                shown["Description"],
                format!("round {round}"),
                "the PUT holds"
            );
        }
    }
    let trail = format!("/api/v1/Tenants/{tenant}/AuditEvents?action=secret.renew&count=1000");
    let renews = call(a.get(&trail), 200).await;
    assert_eq!(
        renews.as_array().map(Vec::len),
        Some(40),
        "every Renew is in the trail once"
    );
}

/// 40 concurrent Renews with a grace period: as in any serial order, exactly two of the
/// returned values work (the last one and the one in grace); the first value is refused.
async fn concurrent_renews_keep_the_values_a_serial_order_keeps(backend: Backend) {
    let nodes = nodes(backend).await;
    let tenant = nodes[0].create_tenant().await;
    let cred = cc_client(&nodes[0], &tenant, &[]).await;
    let secret = format!("{}/{}", secrets_path(&tenant, CC, &cred.id), cred.secret_id);
    let body = json!({"GracePeriodSeconds": 3600});
    let renews = (0..40).map(|n| {
        let node = &nodes[n % nodes.len()];
        call(node.post(&format!("{secret}/Renew")).json(&body), 200)
    });
    let values: Vec<String> = join_all(renews).await.iter().map(renewed_value).collect();
    let mut working = 0;
    for value in &values {
        match token_status(&nodes[0], &cred, value).await {
            200 => working += 1,
            401 => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(working, 2, "the current value and the one in grace");
    assert_eq!(token_status(&nodes[0], &cred, &cred.secret).await, 401);
    let shown = call(nodes[0].get(&secret), 200).await;
    assert!(shown["GraceUntil"].is_string(), "{shown}");
}

both_backends!(
    a_change_racing_a_renew_never_brings_the_old_value_back,
    concurrent_renews_keep_the_values_a_serial_order_keeps,
);
