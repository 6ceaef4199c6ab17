//! Signed webhooks against a real receiver on loopback
//! (`tests/support/receiver.rs`, which checks signatures with the `standardwebhooks`
//! crate): the subscription API and its validation, each lifecycle change delivered
//! signed with the right payload and never a secret value, event-type filters and
//! disabled subscriptions, retries on the configured schedule, the delivery log,
//! re-sends, and a SIGKILL between a change and its delivery (nothing lost, nothing
//! delivered twice).
//!
//! Also the vocabulary `notifications.rs` shares: a fast notifications config, starting
//! and restarting a server on one database, subscribing a receiver, reading the log.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::time::{Instant, sleep};

use crate::harness::*;
use crate::lifecycle::{call, exchange, expect_error, expect_invalid, secrets_path, time};
use crate::policies::{as_caller, token_with};
use crate::receiver::{ReceivedRequest, Reply, WebhookReceiver};

pub(crate) const CC: &str = "ClientCredentialClients";
/// Both servers of a restart, and both nodes, sit behind one public URL.
pub(crate) const PUBLIC_URL: &str = "http://latchkey.test";

/// Notifications sped up for tests: the expiring check every second with a one-day
/// lead time, the expired check every second, webhooks retried after 1 s per `retries`,
/// and email through `smtp_port` when given.
pub(crate) fn notify_yaml(retries: &[&str], smtp_port: Option<u16>) -> String {
    let retries: Vec<String> = retries.iter().map(|r| format!("\"{r}\"")).collect();
    let mut yaml = format!(
        "notifications:\n  expiring:\n    cron: \"* * * * * *\"\n    leadTimes: [\"1d\"]\n  \
         expired:\n    checkInterval: \"1s\"\n  webhooks:\n    timeout: \"2s\"\n    \
         allowPrivateNetworks: true\n    retrySchedule: [{}]\n",
        retries.join(", ")
    );
    if let Some(port) = smtp_port {
        yaml.push_str(&format!(
            "  email:\n    host: 127.0.0.1\n    port: {port}\n    tls: none\n    \
             from: latchkey@example.com\n"
        ));
    }
    yaml
}

/// A server with `yaml` as its config and [`PUBLIC_URL`]; on `database_url` when given
/// (a restart, or a second node).
pub(crate) async fn start_notifying(
    backend: Backend,
    yaml: &str,
    database_url: Option<String>,
) -> TestServer {
    let opts = ServerOptions {
        config_yaml: Some(yaml.to_owned()),
        extra_args: vec!["--public-url".to_owned(), PUBLIC_URL.to_owned()],
        database_url,
        ..ServerOptions::default()
    };
    TestServer::start_with(backend, opts).await
}

/// SIGKILLs `server` and starts another on its database with the same config; the
/// killed one is returned too, since its temporary directory holds a SQLite database.
pub(crate) async fn crash_and_restart(
    mut server: TestServer,
    yaml: &str,
) -> (TestServer, TestServer) {
    server.kill().await;
    let restarted = start_notifying(server.backend, yaml, Some(server.database_url.clone())).await;
    (restarted, server)
}

pub(crate) fn webhooks_path(tenant: &str) -> String {
    format!("/api/v1/Tenants/{tenant}/Webhooks")
}

/// Subscribes `receiver` to `types` of `tenant` (empty: all) and hands it the signing
/// secret; returns the subscription's id.
pub(crate) async fn subscribe(
    server: &TestServer,
    tenant: &str,
    receiver: &WebhookReceiver,
    types: &[&str],
) -> String {
    let body = json!({"Url": receiver.url(), "Description": "test", "EventTypes": types});
    let created = call(server.post(&webhooks_path(tenant)).json(&body), 201).await;
    let secret = created["SigningSecret"].as_str().expect("a SigningSecret");
    receiver.set_signing_secret(secret);
    created["Id"].as_str().expect("an Id").to_owned()
}

/// The subscription's delivery log (newest first) and its `Total-Count`.
pub(crate) async fn deliveries(server: &TestServer, tenant: &str, hook: &str) -> (Vec<Value>, u64) {
    let path = format!("{}/{hook}/Deliveries", webhooks_path(tenant));
    let (status, headers, body) = exchange(server.get(&path)).await;
    assert_eq!(status, 200, "{body}");
    let total = crate::lifecycle::total_count(&headers);
    (body.as_array().expect("a list").clone(), total)
}

/// Polls the delivery log until `done` holds for it; panics after `limit`.
pub(crate) async fn wait_for_log(
    server: &TestServer,
    tenant: &str,
    hook: &str,
    limit: Duration,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + limit;
    loop {
        let (log, _) = deliveries(server, tenant, hook).await;
        if done(&log) {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "the delivery log did not get there within {limit:?}: {log:#?}"
        );
        sleep(Duration::from_millis(200)).await;
    }
}

/// The requests per `webhook-id`, in order of arrival.
pub(crate) fn by_webhook_id(
    requests: &[ReceivedRequest],
) -> BTreeMap<String, Vec<ReceivedRequest>> {
    let mut map: BTreeMap<String, Vec<ReceivedRequest>> = BTreeMap::new();
    for r in requests {
        let id = r.webhook_id().expect("a webhook-id header").to_owned();
        map.entry(id).or_default().push(r.clone());
    }
    map
}

/// `(type, secretId)` of each valid delivery, sorted.
pub(crate) fn kinds(requests: &[ReceivedRequest]) -> Vec<(String, i64)> {
    let mut kinds: Vec<(String, i64)> = requests
        .iter()
        .map(|r| {
            let body = r.json();
            let kind = body["type"].as_str().expect("a type").to_owned();
            (kind, body["data"]["secretId"].as_i64().expect("a secretId"))
        })
        .collect();
    kinds.sort();
    kinds
}

/// A body's whole text never contains any of `values`.
pub(crate) fn assert_none_of(text: &str, values: &[String]) {
    for value in values {
        assert!(
            !text.contains(value.as_str()),
            "a secret value leaked: {text}"
        );
    }
}

async fn subscriptions_are_managed_and_validated(backend: Backend) {
    let server = TestServer::start(backend).await;
    let tenant = server.create_tenant().await;
    let hooks = webhooks_path(&tenant);

    let body = json!({"Url": "https://hooks.example.com/latchkey", "Description": "ops",
                      "EventTypes": ["secret.revoked", "secret.expiring"]});
    let (status, headers, created) = exchange(server.post(&hooks).json(&body)).await;
    assert_eq!(status, 201, "{created}");
    let cache = headers.get("Cache-Control").map(|v| v.to_str().unwrap());
    assert!(cache.is_some_and(|c| c.contains("no-store")), "{headers:?}");
    let secret = created["SigningSecret"].as_str().unwrap().to_owned();
    assert!(
        secret.starts_with("whsec_") && secret.len() > 20,
        "{secret}"
    );
    let id = created["Id"].as_str().unwrap().to_owned();
    uuid::Uuid::parse_str(&id).unwrap();
    assert_eq!(
        (
            &created["Url"],
            &created["Description"],
            &created["Enabled"]
        ),
        (
            &json!("https://hooks.example.com/latchkey"),
            &json!("ops"),
            &json!(true)
        )
    );
    assert_eq!(
        created["EventTypes"],
        json!(["secret.expiring", "secret.revoked"])
    );
    let one = format!("{hooks}/{id}");
    let got = call(server.get(&one), 200).await;
    let mut shown = created.clone();
    shown.as_object_mut().unwrap().remove("SigningSecret");
    assert_eq!(got, shown, "GET shows everything but the signing secret");

    let all = call(
        server
            .post(&hooks)
            .json(&json!({"Url": "http://hooks.example.net:9/x"})),
        201,
    )
    .await;
    assert_eq!(
        (&all["EventTypes"], &all["Enabled"], &all["Description"]),
        (&json!([]), &json!(true), &json!(""))
    );
    assert_ne!(all["SigningSecret"], created["SigningSecret"]);
    let (status, headers, list) = exchange(server.get(&hooks)).await;
    assert_eq!(status, 200);
    assert_eq!(crate::lifecycle::total_count(&headers), 2);
    assert_eq!(list.as_array().unwrap().len(), 2);
    let text = list.to_string();
    assert!(
        !text.contains("SigningSecret") && !text.contains(&secret),
        "{text}"
    );
    let paged = call(server.get(&format!("{hooks}?skip=1&count=1")), 200).await;
    assert_eq!(paged.as_array().unwrap().len(), 1);

    let changed = call(
        server
            .put(&one)
            .json(&json!({"Enabled": false, "EventTypes": [], "Description": "paused"})),
        200,
    )
    .await;
    assert_eq!(
        (
            &changed["Enabled"],
            &changed["EventTypes"],
            &changed["Description"]
        ),
        (&json!(false), &json!([]), &json!("paused"))
    );
    assert_eq!(changed["Url"], created["Url"], "absent fields stay");
    assert_eq!(changed["CreatedAt"], created["CreatedAt"]);
    assert_eq!(call(server.get(&one), 200).await, changed);
    let moved = json!({"Url": "https://other.example.com/h"});
    let moved = call(server.put(&one).json(&moved), 200).await;
    assert_eq!(moved["Url"], "https://other.example.com/h");

    for url in [
        "ftp://x.example/h",
        "/relative/path",
        "hooks.example.com/h",
        "https://user:pass@x.example/h",
        "",
    ] {
        expect_invalid(server.post(&hooks).json(&json!({"Url": url})), "Url").await;
        expect_invalid(server.put(&one).json(&json!({"Url": url})), "Url").await;
    }
    expect_invalid(
        server.post(&hooks).json(&json!({"Description": "x"})),
        "Url",
    )
    .await;
    // By default no subscription may name an internal address (cloud metadata,
    // loopback, private networks): the reason names the setting that allows it.
    for url in [
        "http://127.0.0.1:9/x",
        "http://169.254.169.254/latest/meta-data",
        "https://10.1.2.3/hook",
        "http://[::1]:8080/",
    ] {
        for req in [server.post(&hooks), server.put(&one)] {
            let (status, _, body) = exchange(req.json(&json!({"Url": url}))).await;
            assert_eq!(status, 400, "{url}: {body}");
            let text = body.to_string();
            assert!(
                text.contains("Url") && text.contains("allowPrivateNetworks"),
                "{text}"
            );
        }
    }
    let unknown = json!({"Url": "https://x.example/h", "EventTypes": ["secret.lost"]});
    expect_invalid(server.post(&hooks).json(&unknown), "EventTypes").await;
    let unknown = json!({"EventTypes": ["secret.created", "nope"]});
    expect_invalid(server.put(&one).json(&unknown), "EventTypes").await;
    assert_eq!(crate::lifecycle::count(server.get(&hooks)).await, 2);

    // Members may not subscribe; auditors read but do not write.
    let member = token_with(&server, &tenant, "tenant-member").await;
    let auditor = token_with(&server, &tenant, "tenant-auditor").await;
    let new = json!({"Url": "https://x.example/h"});
    for token in [&member, &auditor] {
        let create = as_caller(&server, Method::POST, &hooks, token).json(&new);
        expect_error(create, 403, "Forbidden").await;
    }
    expect_error(
        as_caller(&server, Method::DELETE, &one, &auditor),
        403,
        "Forbidden",
    )
    .await;
    let read = call(as_caller(&server, Method::GET, &one, &auditor), 200).await;
    assert_eq!(read["Id"], json!(id));
    call(as_caller(&server, Method::GET, &hooks, &auditor), 200).await;
    let log = format!("{one}/Deliveries");
    call(as_caller(&server, Method::GET, &log, &auditor), 200).await;

    // Unknown tenants and subscriptions are 404.
    let gone = server.create_tenant().await;
    call(server.delete(&format!("/api/v1/Tenants/{gone}")), 204).await;
    expect_error(server.get(&webhooks_path(&gone)), 404, "NotFound").await;
    expect_error(
        server.post(&webhooks_path(&gone)).json(&new),
        404,
        "NotFound",
    )
    .await;
    let missing = format!("{hooks}/{}", uuid::Uuid::new_v4());
    expect_error(server.get(&missing), 404, "NotFound").await;
    expect_error(server.put(&missing).json(&new), 404, "NotFound").await;
    expect_error(server.get(&format!("{hooks}/not-a-uuid")), 404, "NotFound").await;
    expect_error(
        server.get(&format!("{one}/Deliveries/999")),
        404,
        "NotFound",
    )
    .await;
    expect_error(
        server.post(&format!("{one}/Deliveries/999/Resend")),
        404,
        "NotFound",
    )
    .await;

    assert_eq!(call(server.delete(&one), 204).await, Value::Null);
    expect_error(server.get(&one), 404, "NotFound").await;
    expect_error(server.delete(&one), 404, "NotFound").await;
    expect_error(server.get(&log), 404, "NotFound").await;
    assert_eq!(crate::lifecycle::count(server.get(&hooks)).await, 1);
}

async fn each_change_arrives_signed_and_filtered(backend: Backend) {
    let yaml = notify_yaml(&["1s", "1s"], None);
    let server = start_notifying(backend, &yaml, None).await;
    let tenant = server.create_tenant().await;
    let everything = WebhookReceiver::start(None).await;
    let revocations = WebhookReceiver::start(None).await;
    let disabled = WebhookReceiver::start(None).await;
    let all_hook = subscribe(&server, &tenant, &everything, &[]).await;
    let revoked_hook = subscribe(&server, &tenant, &revocations, &["secret.revoked"]).await;
    let off_hook = subscribe(&server, &tenant, &disabled, &[]).await;
    let off = format!("{}/{off_hook}", webhooks_path(&tenant));
    call(server.put(&off).json(&json!({"Enabled": false})), 200).await;

    let body = json!({"Id": "billing", "Name": "Billing", "SecretDescription": "bootstrap"});
    let client = server.create_client(&tenant, CC, body).await;
    let secrets = secrets_path(&tenant, CC, "billing");
    let added = json!({"Description": "deploy key"});
    let added = call(server.post(&secrets).json(&added), 201).await;
    let two = format!("{secrets}/2");
    let renamed = json!({"Description": "deploy key (prod)"});
    let renamed = call(server.put(&two).json(&renamed), 200).await;
    let renew = server.post(&format!("{two}/Renew")).json(&json!({}));
    let renewed = call(renew, 200).await;
    call(server.delete(&two), 204).await;
    let values: Vec<String> = [&client, &added, &renewed]
        .iter()
        .map(|v| v["Secret"].as_str().expect("a value").to_owned())
        .collect();

    let got = everything.wait_for(5, Duration::from_secs(20)).await;
    let want = [
        ("secret.created", 1),
        ("secret.created", 2),
        ("secret.renewed", 2),
        ("secret.revoked", 2),
        ("secret.updated", 2),
    ];
    let want: Vec<(String, i64)> = want.iter().map(|(k, s)| ((*k).to_owned(), *s)).collect();
    assert_eq!(kinds(&got), want);
    let mut ids = Vec::new();
    for r in &got {
        assert_eq!(r.method, "POST");
        assert_eq!(r.header("content-type"), Some("application/json"));
        let text = String::from_utf8_lossy(&r.body).into_owned();
        assert_none_of(&text, &values);
        let body = r.json();
        assert_eq!(
            r.webhook_id(),
            body["id"].as_str(),
            "webhook-id is the event id"
        );
        ids.push(body["id"].as_str().unwrap().to_owned());
        let data = &body["data"];
        assert_eq!(
            (&data["tenantId"], &data["clientType"], &data["clientId"]),
            (&json!(tenant), &json!(CC), &json!("billing"))
        );
        let received = r.received_at;
        let stamped = time(&body["timestamp"]);
        assert!((received - stamped).num_seconds().abs() < 30, "{body}");
        let (kind, secret) = (body["type"].as_str().unwrap(), data["secretId"].as_i64());
        let expect = match (kind, secret) {
            ("secret.created", Some(1)) => (json!("bootstrap"), &client),
            ("secret.created", _) => (json!("deploy key"), &added),
            ("secret.updated", _) => (json!("deploy key (prod)"), &renamed),
            _ => (json!("deploy key (prod)"), &renewed),
        };
        assert_eq!(data["description"], expect.0, "{body}");
        let hint = if kind == "secret.created" && secret == Some(1) {
            // The creation response of a client carries no hint: the value's first 9.
            json!(&values[0][..9])
        } else {
            expect.1["Hint"].clone()
        };
        assert_eq!(data["hint"], hint, "{body}");
        let expiration = time(&data["expiration"]);
        let shown = time(&expect.1["Expiration"]);
        assert!(
            (expiration - shown).num_seconds().abs() <= 1,
            "{body} vs {}",
            expect.1
        );
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "one event id per change");

    let only = revocations.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(only[0].json()["type"], "secret.revoked");
    let (log, total) = deliveries(&server, &tenant, &revoked_hook).await;
    assert_eq!(total, 1, "{log:?}");
    assert_eq!(log[0]["EventType"], "secret.revoked");
    assert_eq!(log[0]["EventId"], only[0].json()["id"]);
    let (log, total) = deliveries(&server, &tenant, &off_hook).await;
    assert_eq!((total, log.len()), (0, 0));
    // The receiver may see the last request before the worker records its outcome.
    let log = wait_for_log(
        &server,
        &tenant,
        &all_hook,
        Duration::from_secs(10),
        |log| log.len() == 5 && log.iter().all(|d| d["State"] == "delivered"),
    )
    .await;
    let page = format!(
        "{}/{all_hook}/Deliveries?skip=1&count=2",
        webhooks_path(&tenant)
    );
    let (status, headers, paged) = exchange(server.get(&page)).await;
    assert_eq!(status, 200, "{paged}");
    assert_eq!(crate::lifecycle::total_count(&headers), 5);
    assert_eq!(paged.as_array().unwrap()[..], log[1..3]);
    let newest_first: Vec<i64> = log.iter().map(|d| d["Id"].as_i64().unwrap()).collect();
    let mut sorted = newest_first.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(newest_first, sorted, "newest first");
    sleep(Duration::from_secs(2)).await;
    assert!(
        disabled.requests().is_empty(),
        "a disabled subscription gets nothing"
    );
    assert_eq!(revocations.requests().len(), 1);
    assert_eq!(everything.requests().len(), 5, "nothing is sent twice");
}

async fn failures_are_retried_then_logged(backend: Backend) {
    let yaml = notify_yaml(&["1s", "1s"], None);
    let server = start_notifying(backend, &yaml, None).await;
    let tenant = server.create_tenant().await;
    let receiver = WebhookReceiver::start(None).await;
    let hook = subscribe(&server, &tenant, &receiver, &[]).await;
    receiver.fail_next(2);
    server
        .create_client(&tenant, CC, json!({"Name": "app"}))
        .await;

    let delivered = receiver.wait_for(1, Duration::from_secs(20)).await;
    let requests = receiver.requests();
    let statuses: Vec<u16> = requests.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 500, 200]);
    let event_id = delivered[0].webhook_id().unwrap().to_owned();
    assert!(
        requests
            .iter()
            .all(|r| r.webhook_id() == Some(event_id.as_str())),
        "the same webhook-id on every attempt"
    );
    assert!(
        requests.iter().all(|r| r.body == requests[0].body),
        "the same body"
    );
    let gaps: Vec<i64> = requests
        .windows(2)
        .map(|w| (w[1].received_at - w[0].received_at).num_milliseconds())
        .collect();
    assert!(
        gaps.iter().all(|ms| *ms >= 900),
        "retried after the 1 s wait: {gaps:?}"
    );

    let log = wait_for_log(&server, &tenant, &hook, Duration::from_secs(15), |log| {
        log.first().is_some_and(|d| d["State"] == "delivered")
    })
    .await;
    assert_eq!(log.len(), 1);
    let d = &log[0];
    assert_eq!(
        (
            &d["EventId"],
            &d["EventType"],
            &d["Attempts"],
            &d["LastStatusCode"]
        ),
        (
            &json!(event_id),
            &json!("secret.created"),
            &json!(3),
            &json!(200)
        )
    );
    assert!(
        d.get("AttemptLog").is_none(),
        "the list leaves the attempt log out"
    );
    assert!(!d["DeliveredAt"].is_null());
    let one = format!("{}/{hook}/Deliveries/{}", webhooks_path(&tenant), d["Id"]);
    let full = call(server.get(&one), 200).await;
    let attempts = full["AttemptLog"].as_array().expect("an AttemptLog");
    let summary: Vec<(i64, Option<i64>, bool)> = attempts
        .iter()
        .map(|a| {
            let attempt = a["Attempt"].as_i64().unwrap();
            (attempt, a["StatusCode"].as_i64(), a["Error"].is_null())
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1, Some(500), false),
            (2, Some(500), false),
            (3, Some(200), true)
        ],
        "{full:#}"
    );
    let auditor = token_with(&server, &tenant, "tenant-auditor").await;
    let resend = format!("{one}/Resend");
    expect_error(
        as_caller(&server, Method::POST, &resend, &auditor),
        403,
        "Forbidden",
    )
    .await;
}

/// A receiver slower than `notifications.webhooks.timeout`, then a redirect (not
/// followed), then success: three attempts, each logged with what went wrong.
async fn timeouts_and_redirects_are_failures(backend: Backend) {
    let yaml = notify_yaml(&["1s", "1s"], None);
    let server = start_notifying(backend, &yaml, None).await;
    let tenant = server.create_tenant().await;
    let receiver = WebhookReceiver::start(None).await;
    let hook = subscribe(&server, &tenant, &receiver, &[]).await;
    // Scripted per request, not switched in time: the first answer comes after the
    // sender's 2 s timeout, the second is a redirect, the third (default) a 200.
    receiver.script([
        Reply::after(Duration::from_secs(10), 504),
        Reply::status(307),
    ]);
    server
        .create_client(&tenant, CC, json!({"Name": "app"}))
        .await;
    receiver.wait_for(1, Duration::from_secs(30)).await;

    let log = wait_for_log(&server, &tenant, &hook, Duration::from_secs(10), |log| {
        log[0]["State"] == "delivered"
    })
    .await;
    let one = format!(
        "{}/{hook}/Deliveries/{}",
        webhooks_path(&tenant),
        log[0]["Id"]
    );
    let full = call(server.get(&one), 200).await;
    let attempts = full["AttemptLog"].as_array().unwrap();
    assert_eq!(attempts.len(), 3, "{full:#}");
    assert!(attempts[0]["StatusCode"].is_null(), "{full:#}");
    let error = attempts[0]["Error"].as_str().unwrap_or_default();
    assert!(error.contains("timed out"), "{full:#}");
    assert!(
        attempts[0]["DurationMs"].as_i64().unwrap() < 8_000,
        "{full:#}"
    );
    assert_eq!(attempts[1]["StatusCode"], 307, "{full:#}");
    assert_eq!(attempts[2]["StatusCode"], 200, "{full:#}");
    assert_eq!(
        receiver.requests().len(),
        3,
        "the redirect was not followed"
    );
}

async fn spent_retries_fail_and_a_resend_delivers(backend: Backend) {
    let yaml = notify_yaml(&["1s"], None);
    let server = start_notifying(backend, &yaml, None).await;
    let tenant = server.create_tenant().await;
    let receiver = WebhookReceiver::start(None).await;
    let hook = subscribe(&server, &tenant, &receiver, &[]).await;
    receiver.set_status(500);
    server
        .create_client(&tenant, CC, json!({"Name": "app"}))
        .await;

    let log = wait_for_log(&server, &tenant, &hook, Duration::from_secs(20), |log| {
        log.first().is_some_and(|d| d["State"] == "failed")
    })
    .await;
    let d = &log[0];
    assert_eq!(
        (&d["Attempts"], &d["LastStatusCode"]),
        (&json!(2), &json!(500))
    );
    assert!(
        d["NextAttemptAt"].is_null() && d["DeliveredAt"].is_null(),
        "{d}"
    );
    sleep(Duration::from_secs(3)).await;
    let requests = receiver.requests();
    assert_eq!(requests.len(), 2, "no attempt once failed");
    let event_id = requests[0].webhook_id().unwrap().to_owned();
    assert_eq!(requests[1].webhook_id(), Some(event_id.as_str()));

    receiver.set_status(200);
    let one = format!("{}/{hook}/Deliveries/{}", webhooks_path(&tenant), d["Id"]);
    let resent = call(server.post(&format!("{one}/Resend")), 202).await;
    assert_eq!(
        (&resent["Id"], &resent["State"]),
        (&d["Id"], &json!("pending"))
    );
    let got = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(
        got[0].webhook_id(),
        Some(event_id.as_str()),
        "the same webhook-id"
    );
    assert_eq!(got[0].body, requests[0].body, "the same event");
    let log = wait_for_log(&server, &tenant, &hook, Duration::from_secs(15), |log| {
        log[0]["State"] == "delivered"
    })
    .await;
    assert_eq!(log.len(), 1, "a re-send is the same delivery");
    let full = call(server.get(&one), 200).await;
    let statuses: Vec<Option<i64>> = full["AttemptLog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["StatusCode"].as_i64())
        .collect();
    // A re-send starts a fresh retry budget and keeps the log of the earlier attempts
    // (numbered on).
    assert_eq!(statuses, [Some(500), Some(500), Some(200)], "{full:#}");
    let numbers: Vec<i64> = full["AttemptLog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["Attempt"].as_i64().unwrap_or_default())
        .collect();
    assert_eq!(numbers, [1, 2, 3], "{full:#}");
    assert_eq!(full["Attempts"], 3);

    // A delivered one may be re-sent too: the receiver dedups by webhook-id.
    call(server.post(&format!("{one}/Resend")), 202).await;
    let again = receiver.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(again[1].webhook_id(), Some(event_id.as_str()));
}

async fn a_crash_loses_nothing_and_sends_nothing_twice(backend: Backend) {
    // About 33 s of retries: room for a slow restart before any event gives up.
    let yaml = notify_yaml(&["1s", "1s", "1s", "2s", "3s", "5s", "10s", "10s"], None);
    let server = start_notifying(backend, &yaml, None).await;
    let tenant = server.create_tenant().await;
    let receiver = WebhookReceiver::start(None).await;
    let hook = subscribe(&server, &tenant, &receiver, &[]).await;
    receiver.set_status(503);

    let client = server
        .create_client(&tenant, CC, json!({"Id": "app", "Name": "app"}))
        .await;
    let secrets = secrets_path(&tenant, CC, "app");
    let added = call(server.post(&secrets).json(&json!({})), 201).await;
    call(server.delete(&format!("{secrets}/2")), 204).await;
    let (server, _killed) = crash_and_restart(server, &yaml).await;
    let before = receiver.requests().len();
    receiver.set_status(200);

    let got = receiver.wait_for(3, Duration::from_secs(30)).await;
    let want: Vec<(String, i64)> = [
        ("secret.created", 1),
        ("secret.created", 2),
        ("secret.revoked", 2),
    ]
    .iter()
    .map(|(k, s)| ((*k).to_owned(), *s))
    .collect();
    assert_eq!(kinds(&got), want);
    // Long enough for any duplicate to show up: several retry steps and polls.
    sleep(Duration::from_secs(4)).await;
    let all = receiver.requests();
    let by_id = by_webhook_id(&all);
    assert_eq!(by_id.len(), 3, "{} requests before the restart", before);
    for (id, requests) in &by_id {
        let ok = requests.iter().filter(|r| r.is_valid_delivery()).count();
        assert_eq!(ok, 1, "event {id}: exactly one successful delivery");
        let last = requests.last().unwrap();
        assert!(
            last.is_valid_delivery(),
            "nothing after the success for {id}"
        );
    }
    let values = [&client, &added].map(|v| v["Secret"].as_str().unwrap().to_owned());
    for r in &all {
        assert_none_of(&String::from_utf8_lossy(&r.body), &values);
    }
    let (log, total) = deliveries(&server, &tenant, &hook).await;
    assert_eq!(total, 3);
    assert!(log.iter().all(|d| d["State"] == "delivered"), "{log:#?}");
}

/// Deleting a tenant whose deliveries are still being retried takes them along: the
/// worker neither fails nor sends anything more.
async fn deleting_a_tenant_drops_its_pending_deliveries(backend: Backend) {
    let yaml = notify_yaml(&["1s", "1s", "1s", "1s", "1s", "1s"], None);
    let server = start_notifying(backend, &yaml, None).await;
    let tenant = server.create_tenant().await;
    let receiver = WebhookReceiver::start(None).await;
    subscribe(&server, &tenant, &receiver, &[]).await;
    receiver.set_status(500);
    server
        .create_client(&tenant, CC, json!({"Id": "app", "Name": "app"}))
        .await;
    receiver.wait_for_requests(1, Duration::from_secs(10)).await;
    call(
        server.delete(&format!("/api/v1/Tenants/{tenant}/{CC}/app")),
        204,
    )
    .await;
    call(server.delete(&format!("/api/v1/Tenants/{tenant}")), 204).await;
    sleep(Duration::from_secs(2)).await;
    let seen = receiver.requests().len();
    sleep(Duration::from_secs(3)).await;
    assert_eq!(
        receiver.requests().len(),
        seen,
        "nothing after the tenant went"
    );
    let logs = server.logs();
    assert!(!logs.contains("delivery round failed"), "{logs}");
    assert!(
        !logs.contains("could not record a delivery attempt"),
        "{logs}"
    );
}

/// Deleting a client takes its secrets along: each one not yet revoked is announced
/// as `secret.revoked` (naming the client), an already revoked one is not again.
async fn deleting_a_client_announces_its_secrets_revoked(backend: Backend) {
    let yaml = notify_yaml(&["1s"], None);
    let server = start_notifying(backend, &yaml, None).await;
    let tenant = server.create_tenant().await;
    let receiver = WebhookReceiver::start(None).await;
    subscribe(&server, &tenant, &receiver, &["secret.revoked"]).await;
    let first = server
        .create_client(&tenant, CC, json!({"Id": "app", "Name": "app"}))
        .await;
    let secrets = secrets_path(&tenant, CC, "app");
    let second = call(
        server
            .post(&secrets)
            .json(&json!({"Description": "second"})),
        201,
    )
    .await;
    call(server.post(&secrets).json(&json!({})), 201).await;
    call(server.delete(&format!("{secrets}/3")), 204).await;
    let revoked_by_hand = receiver.wait_for(1, Duration::from_secs(15)).await;
    assert_eq!(kinds(&revoked_by_hand), [("secret.revoked".to_owned(), 3)]);

    call(
        server.delete(&format!("/api/v1/Tenants/{tenant}/{CC}/app")),
        204,
    )
    .await;
    let got = receiver.wait_for(3, Duration::from_secs(15)).await;
    let want: Vec<(String, i64)> = [1, 2, 3]
        .iter()
        .map(|id| ("secret.revoked".to_owned(), *id))
        .collect();
    assert_eq!(kinds(&got), want);
    let by_client: Vec<Value> = got[1..].iter().map(|r| r.json()["data"].clone()).collect();
    for data in &by_client {
        assert_eq!(
            (&data["tenantId"], &data["clientId"], &data["clientType"]),
            (&json!(tenant), &json!("app"), &json!(CC)),
            "{data}"
        );
    }
    let second_event = by_client
        .iter()
        .find(|d| d["secretId"] == 2)
        .expect("secret 2 announced");
    assert_eq!(second_event["description"], "second");
    assert_eq!(second_event["hint"], second["Hint"]);
    sleep(Duration::from_secs(2)).await;
    assert_eq!(
        receiver.requests().len(),
        3,
        "secret 3 is not revoked twice"
    );
    let values = [&first, &second].map(|v| v["Secret"].as_str().unwrap().to_owned());
    for r in receiver.requests() {
        assert_none_of(&String::from_utf8_lossy(&r.body), &values);
    }
}

/// With the default `allowPrivateNetworks: false`, a host name that resolves only to
/// loopback is refused when the delivery connects: nothing reaches the receiver and
/// the attempt log says why.
async fn a_name_resolving_to_an_internal_address_is_not_delivered_to(backend: Backend) {
    let yaml =
        notify_yaml(&[], None).replace("allowPrivateNetworks: true", "allowPrivateNetworks: false");
    let server = start_notifying(backend, &yaml, None).await;
    let tenant = server.create_tenant().await;
    let receiver = WebhookReceiver::start(None).await;
    let url = receiver.url().replace("127.0.0.1", "localhost");
    let body = json!({"Url": url});
    let created = call(server.post(&webhooks_path(&tenant)).json(&body), 201).await;
    let hook = created["Id"].as_str().unwrap().to_owned();
    server
        .create_client(&tenant, CC, json!({"Name": "app"}))
        .await;
    let log = wait_for_log(&server, &tenant, &hook, Duration::from_secs(15), |log| {
        log.first().is_some_and(|d| d["State"] == "failed")
    })
    .await;
    let one = format!(
        "{}/{hook}/Deliveries/{}",
        webhooks_path(&tenant),
        log[0]["Id"]
    );
    let full = call(server.get(&one), 200).await;
    let error = full["AttemptLog"][0]["Error"].as_str().unwrap_or_default();
    assert!(error.contains("allowPrivateNetworks"), "{full:#}");
    assert!(
        receiver.requests().is_empty(),
        "nothing reached the receiver"
    );
}

both_backends!(
    a_name_resolving_to_an_internal_address_is_not_delivered_to,
    deleting_a_client_announces_its_secrets_revoked,
    deleting_a_tenant_drops_its_pending_deliveries,
    subscriptions_are_managed_and_validated,
    each_change_arrives_signed_and_filtered,
    failures_are_retried_then_logged,
    timeouts_and_redirects_are_failures,
    spent_retries_fail_and_a_resend_delivers,
    a_crash_loses_nothing_and_sends_nothing_twice,
);
