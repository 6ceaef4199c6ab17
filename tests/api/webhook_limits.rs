//! Webhooks under attack: deliveries never go through a proxy from the
//! environment (which would resolve and reach internal names past the target
//! rule), addresses outside the globally reachable space are refused however they
//! are written, and a tenant holds at most `notifications.webhooks.maxPerTenant`
//! subscriptions, also under concurrent creates.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::harness::*;
use crate::lifecycle::{call, count, expect_error, expect_invalid};
use crate::webhooks::{CC, notify_yaml, wait_for_log, webhooks_path};

/// A proxy on loopback that counts the connections it gets and answers each
/// request `200 OK` (a `CONNECT` too), as a permissive forward proxy would.
struct FakeProxy {
    url: String,
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeProxy {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = stream.read(&mut buf).await;
                    let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
                    let _ = stream.write_all(ok).await;
                });
            }
        });
        Self {
            url,
            connections,
            task,
        }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for FakeProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// With every proxy variable of the environment pointing at a proxy that would
/// deliver anything, subscriptions to `localhost` (which the default rule refuses)
/// fail with the rule's reason, and the proxy gets no connection at all.
async fn environment_proxies_do_not_bypass_the_target_rule(backend: Backend) {
    let proxy = FakeProxy::start().await;
    let mut env = vec![("NO_PROXY".to_owned(), String::new())];
    env.push(("no_proxy".to_owned(), String::new()));
    for name in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
        env.push((name.to_owned(), proxy.url.clone()));
        env.push((name.to_lowercase(), proxy.url.clone()));
    }
    let yaml =
        notify_yaml(&[], None).replace("allowPrivateNetworks: true", "allowPrivateNetworks: false");
    let opts = ServerOptions {
        env,
        config_yaml: Some(yaml),
        ..ServerOptions::default()
    };
    let server = TestServer::start_with(backend, opts).await;
    let tenant = server.create_tenant().await;
    let mut hooks = Vec::new();
    for url in ["http://localhost:9/hook", "https://localhost:9/hook"] {
        let created = call(
            server
                .post(&webhooks_path(&tenant))
                .json(&json!({"Url": url})),
            201,
        )
        .await;
        hooks.push(created["Id"].as_str().unwrap().to_owned());
    }
    server
        .create_client(&tenant, CC, json!({"Name": "app"}))
        .await;
    for hook in &hooks {
        let log = wait_for_log(&server, &tenant, hook, Duration::from_secs(20), |log| {
            log.first().is_some_and(|d| d["State"] != "pending")
        })
        .await;
        assert_eq!(log[0]["State"], "failed", "{log:#?}");
        let one = format!(
            "{}/{hook}/Deliveries/{}",
            webhooks_path(&tenant),
            log[0]["Id"]
        );
        let full = call(server.get(&one), 200).await;
        let error = full["AttemptLog"][0]["Error"].as_str().unwrap_or_default();
        assert!(error.contains("allowPrivateNetworks"), "{full:#}");
    }
    assert_eq!(proxy.connections(), 0, "nothing went through the proxy");
}

/// Addresses the registries mark not globally reachable, in every spelling, are
/// refused when the subscription is made.
async fn special_purpose_addresses_are_refused(backend: Backend) {
    let server = TestServer::start(backend).await;
    let tenant = server.create_tenant().await;
    for host in [
        "198.18.0.1",
        "240.0.0.1",
        "192.0.0.170",
        "[::a00:1]",
        "[64:ff9b::a9fe:a9fe]",
        "[2002:7f00:1::1]",
        "[::ffff:0:a00:1]",
        "[fec0::1]",
        "[2001:0:4136:e378:8000:63bf:80ff:fffe]",
    ] {
        let body = json!({"Url": format!("http://{host}/hook")});
        let refused = expect_invalid(server.post(&webhooks_path(&tenant)).json(&body), "Url").await;
        let reason = refused["Reason"].as_str().unwrap_or_default();
        assert!(reason.contains("allowPrivateNetworks"), "{host}: {refused}");
    }
    let public = json!({"Url": "http://[2002:808:808::1]/hook"});
    call(server.post(&webhooks_path(&tenant)).json(&public), 201).await;
}

/// 40 concurrent creates with `maxPerTenant: 5`: exactly 5 are made, the rest are
/// refused with a reason naming the setting; a deletion frees one slot.
async fn concurrent_creates_respect_max_per_tenant(backend: Backend) {
    let yaml = "notifications:\n  webhooks:\n    maxPerTenant: 5\n".to_owned();
    let opts = ServerOptions {
        config_yaml: Some(yaml),
        ..ServerOptions::default()
    };
    let server = TestServer::start_with(backend, opts).await;
    let tenant = server.create_tenant().await;
    let path = webhooks_path(&tenant);
    let sends = (0..40).map(|i| {
        let body = json!({"Url": format!("https://hooks.example.com/{i}")});
        server.post(&path).json(&body).send()
    });
    let mut created = Vec::new();
    for res in futures_util::future::join_all(sends).await {
        let res = res.expect("the server answers");
        let status = res.status().as_u16();
        let body: serde_json::Value = res.json().await.expect("a JSON body");
        match status {
            201 => created.push(body["Id"].as_str().unwrap().to_owned()),
            400 => {
                assert_eq!(body["Error"], "LimitReached", "{body}");
                let reason = body["Reason"].as_str().unwrap_or_default();
                assert!(
                    reason.contains("notifications.webhooks.maxPerTenant"),
                    "{body}"
                );
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(created.len(), 5, "exactly the limit was created");
    assert_eq!(count(server.get(&path)).await, 5);
    let one = json!({"Url": "https://hooks.example.com/one-more"});
    expect_error(server.post(&path).json(&one), 400, "LimitReached").await;
    call(server.delete(&format!("{path}/{}", created[0])), 204).await;
    call(server.post(&path).json(&one), 201).await;
    expect_error(server.post(&path).json(&one), 400, "LimitReached").await;
}

/// Without the setting a tenant holds 20 subscriptions; another tenant has its own 20.
async fn twenty_webhooks_per_tenant_by_default(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (a, b) = (server.create_tenant().await, server.create_tenant().await);
    let body = json!({"Url": "https://hooks.example.com/x"});
    for _ in 0..20 {
        call(server.post(&webhooks_path(&a)).json(&body), 201).await;
    }
    let refused = expect_error(
        server.post(&webhooks_path(&a)).json(&body),
        400,
        "LimitReached",
    )
    .await;
    assert!(
        refused["Reason"]
            .as_str()
            .unwrap_or_default()
            .contains("20"),
        "{refused}"
    );
    call(server.post(&webhooks_path(&b)).json(&body), 201).await;
}

/// `maxPerTenant: 0` stops start-up, naming the key.
#[tokio::test]
async fn a_zero_limit_stops_start_up() {
    let opts = ServerOptions {
        config_yaml: Some("notifications:\n  webhooks:\n    maxPerTenant: 0\n".to_owned()),
        ..ServerOptions::default()
    };
    let (status, logs) = run_to_exit(Backend::Sqlite, opts).await;
    assert!(!status.success(), "{logs}");
    assert!(
        logs.contains("notifications.webhooks.maxPerTenant"),
        "{logs}"
    );
}

both_backends!(
    environment_proxies_do_not_bypass_the_target_rule,
    special_purpose_addresses_are_refused,
    concurrent_creates_respect_max_per_tenant,
    twenty_webhooks_per_tenant_by_default,
);
