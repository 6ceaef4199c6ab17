//! The client address behind reverse proxies (`server.trustedProxies`): without trusted
//! proxies the forwarding headers are ignored (the audit trail records the TCP peer, and
//! spoofed `X-Forwarded-For` values still count against the peer's failure limit); with the
//! proxy's network trusted, the forwarded client is the audit trail's `SourceAddress` and
//! the token endpoint's per-address limiter counts each client apart, so one attacker
//! behind the proxy cannot lock everyone out. A bad entry stops start-up.

use serde_json::{Value, json};

use crate::harness::*;
use crate::lifecycle::{call, exchange};
use crate::oauth::{Cred, cc_client, invalid_client, oauth_error, options, token_request};

const LIMITS: &str = "tokens:\n  failedAttemptsPerClient: 100\n  failedAttemptsPerAddress: 3\n";

async fn start_with_yaml(backend: Backend, yaml: &str) -> TestServer {
    TestServer::start_with(backend, options(backend, Some(yaml))).await
}

async fn trusting_loopback(backend: Backend) -> TestServer {
    let yaml = format!("server:\n  trustedProxies: [\"127.0.0.0/8\"]\n{LIMITS}");
    start_with_yaml(backend, &yaml).await
}

/// Creates a client in `tenant` sending `headers`; returns the `SourceAddress` of every
/// audit entry about it (at least one).
async fn source_of_create(
    server: &TestServer,
    tenant: &str,
    headers: &[(&str, &str)],
) -> Vec<String> {
    let id = format!("c-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let path = format!("/api/v1/Tenants/{tenant}/ClientCredentialClients");
    let mut req = server
        .post(&path)
        .json(&json!({"Id": id, "Name": "app", "RoleIds": ["tenant-member"]}));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    call(req, 201).await;
    let trail = format!("/api/v1/Tenants/{tenant}/AuditEvents?clientId={id}");
    let entries = call(server.get(&trail), 200).await;
    let entries = entries.as_array().expect("a JSON array").clone();
    assert!(!entries.is_empty(), "no audit entry for {id}");
    entries
        .iter()
        .map(|e| e["SourceAddress"].as_str().unwrap_or("<none>").to_owned())
        .collect()
}

/// A token request with a wrong secret under a client id nobody has.
fn stranger(cred: &Cred, i: usize) -> Cred {
    Cred {
        id: format!("nobody-{i}"),
        secret: "a wrong secret, long enough to look real".to_owned(),
        ..cred.clone()
    }
}

fn from(req: reqwest::RequestBuilder, forwarded_for: &str) -> reqwest::RequestBuilder {
    req.header("X-Forwarded-For", forwarded_for)
}

async fn forwarding_headers_are_ignored_without_trusted_proxies(backend: Backend) {
    let server = start_with_yaml(backend, LIMITS).await;
    let tenant = server.create_tenant().await;
    for headers in [
        &[("X-Forwarded-For", "203.0.113.7")][..],
        &[("Forwarded", "for=203.0.113.7")][..],
        &[("X-Forwarded-For", "203.0.113.7, 127.0.0.1")][..],
    ] {
        let sources = source_of_create(&server, &tenant, headers).await;
        assert!(sources.iter().all(|s| s == "127.0.0.1"), "{sources:?}");
    }

    // Rotating spoofed addresses all count against 127.0.0.1.
    let a = cc_client(&server, &tenant, &["tenant-member"]).await;
    for i in 0..3 {
        let spoofed = format!("203.0.113.{}", i + 1);
        let req = from(token_request(&server, &stranger(&a, i), &[]), &spoofed);
        invalid_client(&server, &tenant, req).await;
    }
    let req = from(token_request(&server, &a, &[]), "198.51.100.200");
    oauth_error(req, 429, "temporarily_unavailable").await;
}

async fn a_trusted_proxy_names_the_client_in_the_audit_trail(backend: Backend) {
    let server = trusting_loopback(backend).await;
    let tenant = server.create_tenant().await;
    let rows: [(&[(&str, &str)], &str); 7] = [
        (&[("X-Forwarded-For", "203.0.113.7")], "203.0.113.7"),
        (
            &[("Forwarded", "for=\"[2001:db8::1]:4711\"")],
            "2001:db8::1",
        ),
        (
            &[("X-Forwarded-For", "198.51.100.1, 127.0.0.1")],
            "198.51.100.1",
        ),
        // A client's own header on the left cannot move it: the proxy appended the right-most.
        (&[("X-Forwarded-For", "10.9.9.9, 192.0.2.5")], "192.0.2.5"),
        // No header, or a malformed one: the peer, and never a 500.
        (&[], "127.0.0.1"),
        (&[("X-Forwarded-For", "not an address")], "127.0.0.1"),
        (&[("Forwarded", "for=unknown;proto=\"https")], "127.0.0.1"),
    ];
    for (headers, want) in rows {
        let sources = source_of_create(&server, &tenant, headers).await;
        assert!(
            sources.iter().all(|s| s == want),
            "{headers:?}: {sources:?}"
        );
    }
}

async fn a_trusted_proxy_gets_a_failure_limit_per_forwarded_client(backend: Backend) {
    let server = trusting_loopback(backend).await;
    let tenant = server.create_tenant().await;
    let good = cc_client(&server, &tenant, &["tenant-member"]).await;
    let (attacker, victim) = ("203.0.113.66", "198.51.100.7");
    for i in 0..3 {
        let req = from(token_request(&server, &stranger(&good, i), &[]), attacker);
        invalid_client(&server, &tenant, req).await;
    }
    let req = from(token_request(&server, &good, &[]), attacker);
    oauth_error(req, 429, "temporarily_unavailable").await;
    // Another client behind the same proxy still gets through.
    let (status, _, body) = exchange(from(token_request(&server, &good, &[]), victim)).await;
    assert_eq!(status, 200, "{body}");
    // So does one that names itself through `Forwarded`.
    let req = token_request(&server, &good, &[]).header("Forwarded", "for=\"[2001:db8::1]:4711\"");
    let (status, _, body) = exchange(req).await;
    assert_eq!(status, 200, "{body}");

    // The refusals are audited with the attacker's address.
    let trail = format!("/api/v1/Tenants/{tenant}/AuditEvents?clientId=nobody-0");
    let entries: Value = call(server.get(&trail), 200).await;
    let sources: Vec<&Value> = entries
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|e| &e["SourceAddress"])
        .collect();
    assert!(
        !sources.is_empty() && sources.iter().all(|s| *s == attacker),
        "{entries}"
    );
}

/// 32 requests at once, each from its own forwarded client: no request gets another's.
async fn concurrent_requests_each_keep_their_own_address(backend: Backend) {
    let server = trusting_loopback(backend).await;
    let tenant = server.create_tenant().await;
    let path = format!("/api/v1/Tenants/{tenant}/ClientCredentialClients");
    let tasks: Vec<_> = (1..=32)
        .map(|i| {
            let body = json!({"Id": format!("c-{i}"), "Name": "app", "RoleIds": ["tenant-member"]});
            let req = server.post(&path).json(&body);
            let req = from(req, &format!("192.0.2.{i}"));
            tokio::spawn(exchange(req))
        })
        .collect();
    for task in tasks {
        let (status, _, body) = task.await.expect("the request task");
        assert_eq!(status, 201, "{body}");
    }
    for i in 1..=32 {
        let trail = format!("/api/v1/Tenants/{tenant}/AuditEvents?clientId=c-{i}");
        let entries = call(server.get(&trail), 200).await;
        let want = format!("192.0.2.{i}");
        let sources: Vec<&Value> = entries
            .as_array()
            .expect("an array")
            .iter()
            .map(|e| &e["SourceAddress"])
            .collect();
        assert!(
            !sources.is_empty() && sources.iter().all(|s| **s == *want),
            "{entries}"
        );
    }
}

both_backends!(
    forwarding_headers_are_ignored_without_trusted_proxies,
    a_trusted_proxy_names_the_client_in_the_audit_trail,
    concurrent_requests_each_keep_their_own_address,
    a_trusted_proxy_gets_a_failure_limit_per_forwarded_client,
);

/// Start-up checks read no database: they run once, on SQLite.
mod sqlite_start_up {
    use super::*;

    /// Start-up fails with exit code 2, before listening, naming the key and `entry`.
    async fn assert_refused(opts: ServerOptions, entry: &str) {
        let (status, output) = run_to_exit(Backend::Sqlite, opts).await;
        assert_eq!(status.code(), Some(2), "{output}");
        assert!(output.contains("server.trustedProxies"), "{output}");
        assert!(
            output.contains(entry),
            "the message names {entry}: {output}"
        );
        assert!(!output.contains("Latchkey listening"), "{output}");
    }

    #[tokio::test]
    async fn a_bad_trusted_proxy_in_yaml_stops_start_up() {
        for entry in [
            "10.0.0.0/33",
            "proxy.internal",
            "10.1.2.3/8",
            "2001:db8::/129",
        ] {
            let yaml = format!("server:\n  trustedProxies: [\"127.0.0.0/8\", \"{entry}\"]\n");
            assert_refused(options(Backend::Sqlite, Some(&yaml)), entry).await;
        }
    }

    #[tokio::test]
    async fn a_bad_trusted_proxy_in_the_environment_stops_start_up() {
        let mut opts = options(Backend::Sqlite, None);
        opts.env.push((
            "LATCHKEY_SERVER__TRUSTEDPROXIES".to_owned(),
            "[10.0.0.0/8, 300.1.1.0/24]".to_owned(),
        ));
        assert_refused(opts, "300.1.1.0/24").await;
    }

    #[tokio::test]
    async fn trusted_proxies_from_the_environment_apply() {
        let mut opts = options(Backend::Sqlite, None);
        opts.env.push((
            "LATCHKEY_SERVER__TRUSTEDPROXIES".to_owned(),
            "[\"::1\", 127.0.0.1]".to_owned(),
        ));
        let server = TestServer::start_with(Backend::Sqlite, opts).await;
        let tenant = server.create_tenant().await;
        let sources = source_of_create(&server, &tenant, &[("X-Forwarded-For", "192.0.2.9")]).await;
        assert!(sources.iter().all(|s| s == "192.0.2.9"), "{sources:?}");
    }
}
