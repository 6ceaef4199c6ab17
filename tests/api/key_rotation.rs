//! Signing-key rotation (`GET /api/v1/SigningKeys`, `POST /api/v1/SigningKeys/Rotate`):
//! the JWKS at every stage (one key; current + next; new current + retired; the new
//! one alone), a token of the old key accepted until the old key is removed and
//! refused after, an emergency rotation withdrawing the key and its tokens at once,
//! platform administrators only. On PostgreSQL with two nodes: the other node drops
//! an emergency-rotated key within the stated bound (2 s), and 32 rotations racing on
//! both nodes add exactly one key.
//!
//! `tokens.signingKeyOverlap: 3` makes a key published 3 s before it signs and 3 s
//! after it stops, so every stage is reached in seconds (tokens live at least 60 s,
//! which is why the old token is refused by removal here, not by its expiry).

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{Value, json};
use tokio::time::{Instant, sleep};

use crate::harness::*;
use crate::lifecycle::{call, exchange, expect_error, expect_invalid};
use crate::nodes::node_options;
use crate::oauth::{Cred, access_token, cc_client, introspect, jwks, jwt_part, options, signed_by};

const KEYS: &str = "/api/v1/SigningKeys";
const ROTATE: &str = "/api/v1/SigningKeys/Rotate";
const OVERLAP_YAML: &str = "tokens:\n  signingKeyOverlap: 3\n";
/// README: every node drops an emergency-rotated key within 2 s.
const BOUND: Duration = Duration::from_secs(2);

async fn start(backend: Backend) -> TestServer {
    TestServer::start_with(backend, options(backend, Some(OVERLAP_YAML))).await
}

async fn kids(server: &TestServer, tenant: &str) -> Vec<String> {
    jwks(server, tenant)
        .await
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

fn kid_of(token: &str) -> String {
    jwt_part(token, 0)["kid"].as_str().unwrap().to_owned()
}

/// `(Kid, State)` of every key, oldest first.
async fn states(server: &TestServer) -> Vec<(String, String)> {
    states_on(server, &server.token).await
}

/// [`states`] from `node` with `token` (nodes share the first one's bootstrap token).
async fn states_on(node: &TestServer, token: &str) -> Vec<(String, String)> {
    let listed = call(node.http.get(node.url(KEYS)).bearer_auth(token), 200).await;
    listed
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["Kid"].as_str().unwrap().to_owned(),
                k["State"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Polls `check` every 50 ms until it holds; panics after `deadline`.
async fn until<F, Fut>(deadline: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(
            started.elapsed() < deadline,
            "{what}: not within {deadline:?}"
        );
        sleep(Duration::from_millis(50)).await;
    }
}

/// The status of a management call made with `token`.
async fn api_status(server: &TestServer, tenant: &str, token: &str) -> u16 {
    let path = format!("/api/v1/Tenants/{tenant}/ClientCredentialClients");
    exchange(server.http.get(server.url(&path)).bearer_auth(token))
        .await
        .0
}

/// Whether `token` is active at introspection and accepted by the management API
/// (asserting both agree).
async fn accepted(server: &TestServer, watcher: &Cred, token: &str) -> bool {
    let active = introspect(server, watcher, token).await["active"] == json!(true);
    let status = api_status(server, &watcher.tenant, token).await;
    assert_eq!(status, if active { 200 } else { 401 }, "active {active}");
    active
}

async fn keys_move_through_every_stage(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let admin = cc_client(&server, &tenant, &["tenant-administrator"]).await;
    let watcher = cc_client(&server, &tenant, &[]).await;
    let first = kids(&server, &tenant).await;
    assert_eq!(first.len(), 1);
    let old = first[0].clone();
    let listed = call(server.get(KEYS), 200).await;
    let mut fields: Vec<&String> = listed[0].as_object().unwrap().keys().collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "ActivatesAt",
            "CreatedAt",
            "Generation",
            "Kid",
            "RemovedAt",
            "RetiresAt",
            "RevokedAt",
            "State"
        ],
        "never private material: {listed}"
    );
    assert_eq!(states(&server).await, [(old.clone(), "current".into())]);
    let old_token = access_token(&server, &admin).await;
    assert_eq!(kid_of(&old_token), old);

    let rotated = call(server.post(ROTATE).json(&json!({})), 200).await;
    let new = rotated["Kid"].as_str().unwrap().to_owned();
    assert_eq!(
        (&rotated["State"], &rotated["Generation"]),
        (&json!("next"), &json!(2))
    );
    // Published before it signs: current + next.
    assert_eq!(kids(&server, &tenant).await, [old.clone(), new.clone()]);
    assert_eq!(kid_of(&access_token(&server, &admin).await), old);
    let pending = expect_error(server.post(ROTATE).json(&json!({})), 409, "Conflict").await;
    assert!(
        pending.to_string().contains("already under way"),
        "{pending}"
    );

    // Activation: the new key signs, the old one is retired but still published.
    until(Duration::from_secs(6), "activation", || async {
        kids(&server, &tenant).await.first() == Some(&new)
    })
    .await;
    assert_eq!(kids(&server, &tenant).await, [new.clone(), old.clone()]);
    assert_eq!(
        states(&server).await,
        [
            (old.clone(), "retired".into()),
            (new.clone(), "current".into())
        ]
    );
    let new_token = access_token(&server, &admin).await;
    assert_eq!(kid_of(&new_token), new);
    let keys = jwks(&server, &tenant).await;
    assert!(signed_by(&keys[0], &new_token) && signed_by(&keys[1], &old_token));
    assert!(
        accepted(&server, &watcher, &old_token).await,
        "retired: still valid"
    );
    assert!(accepted(&server, &watcher, &new_token).await);

    // Removal, the overlap after retirement: the old key and its tokens are gone.
    until(Duration::from_secs(6), "removal", || async {
        kids(&server, &tenant).await.len() == 1
    })
    .await;
    assert_eq!(kids(&server, &tenant).await, [new.as_str()]);
    assert!(!accepted(&server, &watcher, &old_token).await);
    assert!(accepted(&server, &watcher, &new_token).await);
    assert_eq!(
        states(&server).await,
        [(old, "removed".into()), (new, "current".into())]
    );
}

async fn an_emergency_rotation_withdraws_the_key_at_once(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let admin = cc_client(&server, &tenant, &["tenant-administrator"]).await;
    let watcher = cc_client(&server, &tenant, &[]).await;
    let old_token = access_token(&server, &admin).await;
    let old = kid_of(&old_token);
    assert!(accepted(&server, &watcher, &old_token).await);

    let rotated = call(server.post(ROTATE).json(&json!({"Emergency": true})), 200).await;
    let new = rotated["Kid"].as_str().unwrap().to_owned();
    assert_eq!(rotated["State"], "current");
    // At once, on the node that rotated: no sleep before these.
    assert_eq!(kids(&server, &tenant).await, [new.as_str()]);
    assert!(!accepted(&server, &watcher, &old_token).await);
    let new_token = access_token(&server, &admin).await;
    assert_eq!(kid_of(&new_token), new);
    assert!(accepted(&server, &watcher, &new_token).await);
    let listed = call(server.get(KEYS), 200).await;
    assert_eq!(listed[0]["Kid"], json!(old));
    assert_eq!(listed[0]["State"], "revoked");
    assert!(listed[0]["RevokedAt"].is_string(), "{listed}");
    // Replacing the withdrawn key again changes nothing; a manual rotation of the
    // new key may follow at once (nothing is pending).
    let again = json!({"Emergency": true, "Kid": old});
    let refused = expect_error(server.post(ROTATE).json(&again), 409, "Conflict").await;
    assert!(
        refused.to_string().contains("not the current signing key"),
        "{refused}"
    );
    call(
        server
            .post(ROTATE)
            .json(&json!({"emergency": false, "kid": new})),
        200,
    )
    .await;
    assert_eq!(states(&server).await.len(), 3);
}

async fn only_platform_administrators_see_and_rotate_keys(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let admin = cc_client(&server, &tenant, &["tenant-administrator"]).await;
    let token = access_token(&server, &admin).await;
    let as_tenant_admin = |req: reqwest::RequestBuilder| req.bearer_auth(&token);
    expect_error(
        as_tenant_admin(server.http.get(server.url(KEYS))),
        403,
        "Forbidden",
    )
    .await;
    let rotate = server.http.post(server.url(ROTATE)).json(&json!({}));
    expect_error(as_tenant_admin(rotate), 403, "Forbidden").await;
    let anonymous = server.http.post(server.url(ROTATE)).json(&json!({}));
    expect_error(anonymous, 401, "Unauthorized").await;
    expect_invalid(
        server.post(ROTATE).json(&json!({"Emergency": "yes"})),
        "Emergency",
    )
    .await;
    assert_eq!(states(&server).await.len(), 1, "nothing rotated");
}

both_backends!(
    keys_move_through_every_stage,
    an_emergency_rotation_withdraws_the_key_at_once,
    only_platform_administrators_see_and_rotate_keys,
);

/// Two nodes on one PostgreSQL database, with the default overlap (a day), so a
/// `next` key stays `next` throughout a test.
async fn two_nodes() -> (TestServer, TestServer) {
    let opts = node_options(None, None);
    let one = TestServer::start_with(Backend::Postgres, opts).await;
    let opts = node_options(Some(&one.token), Some(one.database_url.clone()));
    let two = TestServer::start_with(Backend::Postgres, opts).await;
    (one, two)
}

#[tokio::test]
async fn an_emergency_rotation_holds_on_the_other_node_within_the_bound() {
    let (one, two) = two_nodes().await;
    let tenant = one.create_tenant().await;
    let admin = cc_client(&one, &tenant, &["tenant-administrator"]).await;
    let watcher = cc_client(&one, &tenant, &[]).await;
    let old_token = access_token(&two, &admin).await;
    let old = kid_of(&old_token);
    assert!(accepted(&two, &watcher, &old_token).await);

    call(one.post(ROTATE).json(&json!({"Emergency": true})), 200).await;
    let rotated = Instant::now();
    let mut refused_after = None;
    while rotated.elapsed() < BOUND + Duration::from_millis(500) {
        if !kids(&two, &tenant).await.contains(&old) && !accepted(&two, &watcher, &old_token).await
        {
            refused_after = Some(rotated.elapsed());
            break;
        }
        sleep(Duration::from_millis(50)).await;
    }
    let refused_after = refused_after.expect("node two still accepts the withdrawn key");
    // Polling adds its own requests: allow them half a second over the bound.
    assert!(
        refused_after <= BOUND + Duration::from_millis(500),
        "{refused_after:?}"
    );
    let new_token = access_token(&two, &admin).await;
    assert_ne!(kid_of(&new_token), old);
    assert!(accepted(&one, &watcher, &new_token).await);
}

/// 32 rotations with `body`, alternately on each node; returns the one new key.
async fn race(one: &TestServer, two: &TestServer, body: Value) -> Value {
    let requests = (0..32).map(|i| {
        let node = if i % 2 == 0 { one } else { two };
        exchange(
            node.http
                .post(node.url(ROTATE))
                .bearer_auth(&one.token)
                .json(&body),
        )
    });
    let answers: Vec<(u16, Value)> = join_all(requests)
        .await
        .into_iter()
        .map(|(status, _, body)| (status, body))
        .collect();
    let mut won: Vec<Value> = answers
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, b)| b.clone())
        .collect();
    assert_eq!(won.len(), 1, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|(s, b)| *s == 200 || (*s == 409 && b["Error"] == "Conflict")),
        "{answers:?}"
    );
    won.remove(0)
}

#[tokio::test]
async fn rotations_racing_on_two_nodes_add_exactly_one_key() {
    let (one, two) = two_nodes().await;
    let first = states_on(&one, &one.token).await.remove(0).0;
    // Manual: the winner's key is pending, so every other request is refused.
    let next = race(&one, &two, json!({})).await;
    assert_eq!(next["State"], "next");
    // Emergency, each naming the key it replaces: one replaces it, the others find
    // it replaced (or lose the insert) whatever order they run in.
    let emergency = race(&one, &two, json!({"Emergency": true, "Kid": first})).await;
    assert_eq!(emergency["State"], "current");
    for node in [&one, &two] {
        let listed = states_on(node, &one.token).await;
        let expected = [
            (first.clone(), "revoked".to_owned()),
            (next["Kid"].as_str().unwrap().to_owned(), "next".to_owned()),
            (
                emergency["Kid"].as_str().unwrap().to_owned(),
                "current".to_owned(),
            ),
        ];
        assert_eq!(listed, expected);
    }
}
