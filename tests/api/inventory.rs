//! Finding forgotten secrets: the tenant inventory
//! `GET/HEAD /api/v1/Tenants/{t}/Secrets` and the per-client secrets list, filtered by
//! `status`, `neverUsed`, `unusedForDays`, `expiringWithinDays` and `query`, paged with
//! `Total-Count`; bad values are a 400 naming the parameter; members may not look.

use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, SecondsFormat, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;
use crate::lifecycle::{
    KINDS, SECRET_FIELDS, call, count, exchange, expect_error, expect_invalid, secrets_path,
    total_count,
};
use crate::oauth::{Cred, access_token, client_in};
use crate::policies::{as_caller, token_with};

const CC: &str = KINDS[0];
const HY: &str = KINDS[1];

fn inventory_path(tenant: &str) -> String {
    format!("/api/v1/Tenants/{tenant}/Secrets")
}

/// `(ClientType, ClientId, Id)` of each item of a 200 list, checking its shape;
/// and `Total-Count`.
async fn listed(server: &TestServer, path: &str) -> (Vec<(String, String, i64)>, u64) {
    let (status, headers, body) = exchange(server.get(path)).await;
    assert_eq!(status, 200, "{path}: {body}");
    let items = body.as_array().expect("a JSON array");
    let found = items
        .iter()
        .map(|item| {
            let mut keys: Vec<&str> = item
                .as_object()
                .expect("an object")
                .keys()
                .map(String::as_str)
                .collect();
            keys.sort_unstable();
            let mut want: Vec<&str> = SECRET_FIELDS.to_vec();
            want.extend(["ClientId", "ClientType"]);
            want.sort_unstable();
            assert_eq!(keys, want, "{item}");
            (
                item["ClientType"].as_str().unwrap().to_owned(),
                item["ClientId"].as_str().unwrap().to_owned(),
                item["Id"].as_i64().unwrap(),
            )
        })
        .collect();
    (found, total_count(&headers))
}

/// The secret ids of a per-client list, and `Total-Count`.
async fn ids(server: &TestServer, path: &str) -> (Vec<i64>, u64) {
    let (status, headers, body) = exchange(server.get(path)).await;
    assert_eq!(status, 200, "{path}: {body}");
    let ids = body
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|s| s["Id"].as_i64().unwrap())
        .collect();
    (ids, total_count(&headers))
}

fn item(kind: &str, client: &str, id: i64) -> (String, String, i64) {
    (kind.to_owned(), client.to_owned(), id)
}

/// Polls `GET path` (a secret) every 100 ms until `done` holds, for at most 15 s.
async fn poll_secret(server: &TestServer, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + StdDuration::from_secs(15);
    loop {
        let got = call(server.get(path), 200).await;
        if done(&got) {
            return got;
        }
        assert!(Instant::now() < deadline, "{path} still {got} after 15 s");
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
}

async fn the_inventory_finds_forgotten_secrets(backend: Backend) {
    let options = ServerOptions {
        env: vec![(
            "LATCHKEY_TOKENS__LASTUSEDINTERVAL".to_owned(),
            "1".to_owned(),
        )],
        ..ServerOptions::default()
    };
    let server = TestServer::start_with(backend, options).await;
    let tenant = server.create_tenant().await;
    let inventory = inventory_path(&tenant);

    // cc-a: 1 used at the token endpoint, 2 never expires, 3 (below) expires in 5 s.
    let body = json!({"Id": "cc-a", "SecretDescription": "Payroll bootstrap"});
    let used: Cred = client_in(&server, &tenant, CC, body).await;
    let cc_a = secrets_path(&tenant, CC, "cc-a");
    let never = json!({"Description": "forever", "Expires": false});
    call(server.post(&cc_a).json(&never), 201).await;
    // cc-b: 1 default (a year), 2 expires in 5 days.
    client_in(
        &server,
        &tenant,
        CC,
        json!({"Id": "cc-b", "SecretDescription": "batch job"}),
    )
    .await;
    let cc_b = secrets_path(&tenant, CC, "cc-b");
    let in_five = (Utc::now() + Duration::days(5)).to_rfc3339();
    let body = json!({"Description": "Expiring soon", "Expiration": in_five});
    call(server.post(&cc_b).json(&body), 201).await;
    // hy-a: 1 and 2 (its description says payroll too); hy-b: 1.
    client_in(
        &server,
        &tenant,
        HY,
        json!({"Id": "hy-a", "SecretDescription": "web login"}),
    )
    .await;
    let hy_a = secrets_path(&tenant, HY, "hy-a");
    call(
        server
            .post(&hy_a)
            .json(&json!({"Description": "PAYROLL web"})),
        201,
    )
    .await;
    client_in(
        &server,
        &tenant,
        HY,
        json!({"Id": "hy-b", "SecretDescription": "50% off"}),
    )
    .await;
    let hy_b = secrets_path(&tenant, HY, "hy-b");
    // Another tenant's secret is never in this inventory.
    let other = server.create_tenant().await;
    client_in(
        &server,
        &other,
        CC,
        json!({"Id": "cc-a", "SecretDescription": "Payroll"}),
    )
    .await;
    let soon = (Utc::now() + Duration::seconds(5)).to_rfc3339_opts(SecondsFormat::Millis, true);
    let short = json!({"Description": "Short lived", "Expiration": soon});
    call(server.post(&cc_a).json(&short), 201).await;

    let all = vec![
        item(CC, "cc-a", 1),
        item(CC, "cc-a", 2),
        item(CC, "cc-a", 3),
        item(CC, "cc-b", 1),
        item(CC, "cc-b", 2),
        item(HY, "hy-a", 1),
        item(HY, "hy-a", 2),
        item(HY, "hy-b", 1),
    ];
    let list = |query: &str| format!("{inventory}{query}");
    assert_eq!(listed(&server, &inventory).await, (all.clone(), 8));
    assert_eq!(count(server.head(&inventory)).await, 8);
    // Not expired yet (it had 5 s to go).
    assert_eq!(listed(&server, &list("?status=expired")).await, (vec![], 0));

    // Each item is the client's own view of the secret, plus where it lives.
    let (_, _, body) = exchange(server.get(&inventory)).await;
    for entry in body.as_array().unwrap() {
        let kind = entry["ClientType"].as_str().unwrap();
        let client = entry["ClientId"].as_str().unwrap();
        let path = format!("{}/{}", secrets_path(&tenant, kind, client), entry["Id"]);
        let mut own = call(server.get(&path), 200).await;
        own["ClientType"] = json!(kind);
        own["ClientId"] = json!(client);
        assert_eq!(&own, entry);
    }

    // Paging.
    let (page, total) = listed(&server, &list("?skip=2&count=3")).await;
    assert_eq!((page, total), (all[2..5].to_vec(), 8));

    // Use cc-a's first secret; LastUsedAt is flushed within a second.
    access_token(&server, &used).await;
    poll_secret(&server, &format!("{cc_a}/1"), |s| {
        !s["LastUsedAt"].is_null()
    })
    .await;
    let unused: Vec<_> = all[1..].to_vec();
    assert_eq!(
        listed(&server, &list("?neverUsed=true")).await,
        (unused.clone(), 7)
    );
    assert_eq!(
        listed(&server, &list("?neverUsed=false")).await,
        (all.clone(), 8)
    );
    assert_eq!(count(server.head(&list("?neverUsed=true"))).await, 7);
    // Unused for 0 days: every secret (none is used after now); for 1 day: none yet.
    assert_eq!(
        listed(&server, &list("?unusedForDays=0")).await,
        (all.clone(), 8)
    );
    assert_eq!(
        listed(&server, &list("?unusedForDays=1")).await,
        (vec![], 0)
    );

    // Text in the description, case-insensitive, wildcards taken literally.
    let payroll = vec![item(CC, "cc-a", 1), item(HY, "hy-a", 2)];
    assert_eq!(listed(&server, &list("?query=payroll")).await, (payroll, 2));
    let off = vec![item(HY, "hy-b", 1)];
    assert_eq!(listed(&server, &list("?query=50%25")).await, (off, 1));
    assert_eq!(listed(&server, &list("?query=%25")).await.1, 1);
    assert_eq!(listed(&server, &list("?query=_")).await.1, 0);
    let combined = vec![item(HY, "hy-a", 2)];
    let got = listed(&server, &list("?query=PayRoll&neverUsed=true")).await;
    assert_eq!(got, (combined, 1));

    // The short-lived secret expires; status=expired finds it from then on.
    poll_secret(&server, &format!("{cc_a}/3"), |s| s["Status"] == "Expired").await;
    let expired = vec![item(CC, "cc-a", 3)];
    assert_eq!(
        listed(&server, &list("?status=expired")).await,
        (expired, 1)
    );
    assert_eq!(listed(&server, &list("?status=EXPIRED")).await.1, 1);
    let mut active = all.clone();
    active.remove(2);
    assert_eq!(listed(&server, &list("?status=active")).await, (active, 7));

    // Expiring within N days: not yet expired, and before now + N days.
    let week = vec![item(CC, "cc-b", 2)];
    assert_eq!(
        listed(&server, &list("?expiringWithinDays=7")).await,
        (week, 1)
    );
    assert_eq!(
        listed(&server, &list("?expiringWithinDays=4")).await,
        (vec![], 0)
    );
    let year = vec![
        item(CC, "cc-a", 1),
        item(CC, "cc-b", 1),
        item(CC, "cc-b", 2),
        item(HY, "hy-a", 1),
        item(HY, "hy-a", 2),
        item(HY, "hy-b", 1),
    ];
    assert_eq!(
        listed(&server, &list("?expiringWithinDays=400")).await,
        (year, 6)
    );
    let got = listed(
        &server,
        &list("?expiringWithinDays=7&status=active&neverUsed=true"),
    )
    .await;
    assert_eq!(got.1, 1);

    // The same filters on one client's list.
    let client = |path: &str, query: &str| format!("{path}{query}");
    assert_eq!(ids(&server, &client(&cc_a, "")).await, (vec![1, 2, 3], 3));
    assert_eq!(
        ids(&server, &client(&cc_a, "?status=expired")).await,
        (vec![3], 1)
    );
    assert_eq!(
        ids(&server, &client(&cc_a, "?status=active")).await,
        (vec![1, 2], 2)
    );
    assert_eq!(
        ids(&server, &client(&cc_a, "?neverUsed=true")).await,
        (vec![2, 3], 2)
    );
    assert_eq!(
        ids(&server, &client(&cc_a, "?unusedForDays=0")).await,
        (vec![1, 2, 3], 3)
    );
    assert_eq!(
        ids(&server, &client(&cc_a, "?unusedForDays=1")).await,
        (vec![], 0)
    );
    assert_eq!(
        ids(&server, &client(&cc_a, "?query=SHORT")).await,
        (vec![3], 1)
    );
    assert_eq!(
        ids(&server, &client(&cc_a, "?expiringWithinDays=7")).await,
        (vec![], 0)
    );
    assert_eq!(
        ids(&server, &client(&cc_b, "?expiringWithinDays=7")).await,
        (vec![2], 1)
    );
    assert_eq!(
        ids(&server, &client(&hy_a, "?query=payroll")).await,
        (vec![2], 1)
    );
    assert_eq!(
        ids(&server, &client(&hy_b, "?neverUsed=1")).await,
        (vec![1], 1)
    );
    assert_eq!(
        count(server.head(&client(&cc_a, "?status=expired"))).await,
        1
    );

    // A revoked secret leaves the inventory.
    call(server.delete(&format!("{cc_a}/3")), 204).await;
    assert_eq!(listed(&server, &list("?status=expired")).await, (vec![], 0));
    assert_eq!(count(server.head(&inventory)).await, 7);
    // So do the secrets of a deleted client.
    call(
        server.delete(&format!("/api/v1/Tenants/{tenant}/{HY}/hy-a")),
        204,
    )
    .await;
    let left = vec![
        item(CC, "cc-a", 1),
        item(CC, "cc-a", 2),
        item(CC, "cc-b", 1),
        item(CC, "cc-b", 2),
        item(HY, "hy-b", 1),
    ];
    assert_eq!(listed(&server, &inventory).await, (left, 5));
    assert_eq!(listed(&server, &list("?query=payroll")).await.1, 1);
}

async fn bad_filters_are_refused_naming_the_parameter(backend: Backend) {
    let server = TestServer::start(backend).await;
    let tenant = server.create_tenant().await;
    client_in(&server, &tenant, HY, json!({"Id": "web"})).await;
    let long = "x".repeat(257);
    let cases = [
        ("status=old", "status"),
        ("status=", "status"),
        ("neverUsed=maybe", "neverUsed"),
        ("unusedForDays=-1", "unusedForDays"),
        ("unusedForDays=ten", "unusedForDays"),
        ("unusedForDays=36501", "unusedForDays"),
        ("expiringWithinDays=1.5", "expiringWithinDays"),
        ("expiringWithinDays=", "expiringWithinDays"),
        ("query=LONG", "query"),
        ("count=1001", "count"),
        ("skip=x", "skip"),
    ];
    for path in [inventory_path(&tenant), secrets_path(&tenant, HY, "web")] {
        for (query, field) in cases {
            let query = query.replace("LONG", &long);
            let req = server.get(&format!("{path}?{query}"));
            expect_invalid(req, field).await;
            let (status, _, _) = exchange(server.head(&format!("{path}?{query}"))).await;
            assert_eq!(status, 400, "HEAD {path}?{query}");
        }
        // Good values on both lists.
        let good = format!("{path}?status=Active&neverUsed=TRUE&unusedForDays=36500&query=x");
        call(server.get(&good), 200).await;
    }
    let missing = inventory_path(&uuid::Uuid::new_v4().to_string());
    expect_error(server.get(&missing), 404, "NotFound").await;
}

async fn members_may_not_see_the_inventory(backend: Backend) {
    let server = TestServer::start(backend).await;
    let tenant = server.create_tenant().await;
    client_in(&server, &tenant, CC, json!({"Id": "svc"})).await;
    let member = token_with(&server, &tenant, "tenant-member").await;
    let auditor = token_with(&server, &tenant, "tenant-auditor").await;
    let admin = token_with(&server, &tenant, "tenant-administrator").await;
    let inventory = inventory_path(&tenant);
    let one = secrets_path(&tenant, CC, "svc");
    for path in [&inventory, &one] {
        let get = as_caller(&server, Method::GET, path, &member);
        expect_error(get, 403, "Forbidden").await;
        let head = as_caller(&server, Method::HEAD, path, &member);
        assert_eq!(exchange(head).await.0, 403);
    }
    // Auditors and administrators: the svc secret and the three callers' own.
    for token in [&auditor, &admin] {
        let get = as_caller(&server, Method::GET, &inventory, token);
        let (status, headers, body) = exchange(get).await;
        assert_eq!((status, total_count(&headers)), (200, 4), "{body}");
        let get = as_caller(
            &server,
            Method::GET,
            &format!("{one}?neverUsed=true"),
            token,
        );
        assert_eq!(call(get, 200).await.as_array().unwrap().len(), 1);
    }
    let other = server.create_tenant().await;
    let stranger = token_with(&server, &other, "tenant-administrator").await;
    let get = as_caller(&server, Method::GET, &inventory, &stranger);
    expect_error(get, 403, "Forbidden").await;
    // The inventory is read-only.
    let post = server.post(&inventory).json(&json!({}));
    expect_error(post, 405, "MethodNotAllowed").await;
}

both_backends!(
    the_inventory_finds_forgotten_secrets,
    bad_filters_are_refused_naming_the_parameter,
    members_may_not_see_the_inventory,
);
