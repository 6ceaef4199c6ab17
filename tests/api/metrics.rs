//! `GET /metrics`: the Prometheus text exposition. It parses (a strict line parser
//! below), its counters move with issued, refused and throttled token requests and
//! with management requests (route template, method, status), the latency histogram
//! has its buckets, the per-tenant secret gauges match the tenant summary after a
//! refresh (beyond `metrics.maxTenants`, summed), and neither secret values nor
//! client ids appear. On the main listener only the platform administrator may read
//! it; `metrics.listen` serves it elsewhere without authentication.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{Value, json};

use crate::harness::*;
use crate::lifecycle::{call, secrets_path};
use crate::oauth::{
    Cred, access_token, cc_client, invalid_client, oauth_error, options, token_request,
};

const CC: &str = "ClientCredentialClients";

/// One sample line: name, labels, value.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

fn is_name(s: &str, colon: bool) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':'))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
}

/// Parses the text format strictly: `# HELP`/`# TYPE` lines, and samples whose family
/// was declared by a `# TYPE` line before them (histograms with `_bucket`, `_sum`,
/// `_count`); label values quoted with `\\`, `\"`, `\n` escapes; numeric values.
fn parse(text: &str) -> Vec<Sample> {
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let (kind, name, what) = (parts.next(), parts.next(), parts.next());
            let name = name.unwrap_or_else(|| panic!("a comment without a name: {line}"));
            assert!(is_name(name, true), "bad metric name in {line:?}");
            match kind {
                Some("TYPE") => {
                    let what = what.unwrap_or_default();
                    assert!(
                        ["counter", "gauge", "histogram", "summary", "untyped"].contains(&what),
                        "bad type in {line:?}"
                    );
                    assert!(
                        types.insert(name.to_owned(), what.to_owned()).is_none(),
                        "family {name} declared twice"
                    );
                }
                Some("HELP") => assert!(what.is_some_and(|h| !h.is_empty()), "{line:?}"),
                _ => panic!("unknown comment {line:?}"),
            }
            continue;
        }
        assert!(!line.is_empty(), "an empty line in the exposition");
        let (name_end, labels, rest) = match line.find('{') {
            Some(open) => {
                let (labels, rest) = parse_labels(&line[open + 1..], line);
                (open, labels, rest)
            }
            None => {
                let space = line
                    .find(' ')
                    .unwrap_or_else(|| panic!("no value: {line:?}"));
                (space, BTreeMap::new(), &line[space..])
            }
        };
        let name = &line[..name_end];
        assert!(is_name(name, true), "bad metric name in {line:?}");
        let value = rest.trim();
        let value = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("bad value in {line:?}")),
        };
        let family = types.get(name).map(|_| name).or_else(|| {
            ["_bucket", "_sum", "_count"]
                .iter()
                .filter_map(|s| name.strip_suffix(s))
                .find(|f| types.get(*f).map(String::as_str) == Some("histogram"))
        });
        assert!(family.is_some(), "sample {name} without a # TYPE before it");
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    samples
}

/// `name="value",…}` → the labels and what follows the `}`.
fn parse_labels<'a>(mut s: &'a str, line: &str) -> (BTreeMap<String, String>, &'a str) {
    let mut labels = BTreeMap::new();
    loop {
        if let Some(rest) = s.strip_prefix('}') {
            return (labels, rest);
        }
        let eq = s
            .find("=\"")
            .unwrap_or_else(|| panic!("bad label in {line:?}"));
        let name = &s[..eq];
        assert!(is_name(name, false), "bad label name {name:?} in {line:?}");
        let mut value = String::new();
        let mut chars = s[eq + 2..].char_indices();
        let end = loop {
            match chars.next() {
                Some((i, '"')) => break eq + 2 + i + 1,
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c @ ('\\' | '"'))) => value.push(c),
                    _ => panic!("bad escape in {line:?}"),
                },
                Some((_, c)) => value.push(c),
                None => panic!("unterminated label value in {line:?}"),
            }
        };
        assert!(
            labels.insert(name.to_owned(), value).is_none(),
            "label {name} twice in {line:?}"
        );
        s = &s[end..];
        s = s.strip_prefix(',').unwrap_or(s);
    }
}

/// The value of the sample `name` with exactly `labels`.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let want: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    samples
        .iter()
        .find(|s| s.name == name && s.labels == want)
        .map(|s| s.value)
}

/// `GET url` with `auth`, asserting 200 and the text format's media type; the body.
async fn scrape(req: reqwest::RequestBuilder) -> String {
    let res = req.send().await.expect("the server answers");
    assert_eq!(res.status(), 200);
    let media = res.headers().get("Content-Type").cloned();
    assert_eq!(
        media.as_ref().and_then(|v| v.to_str().ok()),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    res.text().await.expect("a text body")
}

async fn counters_move_with_token_and_management_requests(backend: Backend) {
    let yaml = "tokens:\n  failedAttemptsPerClient: 3\n";
    let server = TestServer::start_with(backend, options(backend, Some(yaml))).await;
    let tenant = server.create_tenant().await;
    let cred = cc_client(&server, &tenant, &["tenant-member"]).await;
    access_token(&server, &cred).await;
    access_token(&server, &cred).await;
    let nobody = Cred {
        id: uuid::Uuid::new_v4().to_string(),
        ..cred.clone()
    };
    invalid_client(&server, &tenant, token_request(&server, &nobody, &[])).await;
    let wrong = Cred {
        secret: "not the secret at all, but 32+ chars".to_owned(),
        ..cred.clone()
    };
    for _ in 0..3 {
        invalid_client(&server, &tenant, token_request(&server, &wrong, &[])).await;
    }
    oauth_error(
        token_request(&server, &wrong, &[]),
        429,
        "temporarily_unavailable",
    )
    .await;
    let no_grant = crate::oauth::post_form(&server, &tenant, "connect/token", String::new());
    oauth_error(no_grant, 400, "invalid_request").await;
    call(server.get(&format!("/api/v1/Tenants/{tenant}")), 200).await;
    let unknown = uuid::Uuid::new_v4();
    call(server.get(&format!("/api/v1/Tenants/{unknown}")), 404).await;

    let text = scrape(server.get("/metrics")).await;
    let samples = parse(&text);
    let tokens = |labels: &[(&str, &str)]| value(&samples, "latchkey_token_requests_total", labels);
    assert_eq!(tokens(&[("outcome", "issued")]), Some(2.0), "{text}");
    assert_eq!(
        tokens(&[("outcome", "refused"), ("reason", "unknown_client")]),
        Some(1.0)
    );
    assert_eq!(
        tokens(&[("outcome", "refused"), ("reason", "wrong_secret")]),
        Some(3.0)
    );
    assert_eq!(
        tokens(&[("outcome", "refused"), ("reason", "expired")]),
        Some(0.0)
    );
    assert_eq!(tokens(&[("outcome", "throttled")]), Some(1.0));
    assert_eq!(tokens(&[("outcome", "invalid_request")]), Some(1.0));
    let latency = "latchkey_token_request_duration_seconds";
    assert_eq!(value(&samples, &format!("{latency}_count"), &[]), Some(8.0));
    let bucket = |le| value(&samples, &format!("{latency}_bucket"), &[("le", le)]);
    assert_eq!(bucket("+Inf"), Some(8.0));
    assert!(
        bucket("0.001").is_some() && bucket("10").is_some(),
        "{text}"
    );
    let buckets: Vec<f64> = samples
        .iter()
        .filter(|s| s.name == format!("{latency}_bucket"))
        .map(|s| s.value)
        .collect();
    assert!(
        buckets.windows(2).all(|w| w[0] <= w[1]),
        "cumulative: {buckets:?}"
    );

    let management = |route: &str, method: &str, status: &str| {
        let labels = [("route", route), ("method", method), ("status", status)];
        value(&samples, "latchkey_management_requests_total", &labels)
    };
    assert_eq!(management("/api/v1/Tenants", "POST", "201"), Some(1.0));
    let client_route = "/api/v1/Tenants/{tenantId}/{clientKind}";
    assert_eq!(management(client_route, "POST", "201"), Some(1.0));
    assert_eq!(
        management("/api/v1/Tenants/{tenantId}", "GET", "200"),
        Some(1.0)
    );
    assert_eq!(
        management("/api/v1/Tenants/{tenantId}", "GET", "404"),
        Some(1.0)
    );
    assert!(
        samples
            .iter()
            .filter(|s| s.name == "latchkey_management_requests_total")
            .all(|s| !s.labels["route"].contains(&tenant)),
        "routes are templates: {text}"
    );
    assert!(value(&samples, "latchkey_argon2_queue_depth", &[]).is_some());
    assert!(value(&samples, "latchkey_argon2_wait_seconds_count", &[]).is_some());
    let attempts = "latchkey_delivery_attempts_total";
    assert_eq!(
        value(&samples, attempts, &[("outcome", "delivered")]),
        Some(0.0)
    );
    for leaked in [&cred.secret, &cred.id, &nobody.id, &wrong.secret] {
        assert!(!text.contains(leaked.as_str()), "{leaked} in {text}");
    }
}

/// Scrapes until `done` holds (the gauges refresh every second here), at most 15 s.
async fn scrape_until(server: &TestServer, done: impl Fn(&[Sample]) -> bool) -> Vec<Sample> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let samples = parse(&scrape(server.get("/metrics")).await);
        if done(&samples) || Instant::now() >= deadline {
            return samples;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn secret_gauges_match_the_tenant_summary_after_a_refresh(backend: Backend) {
    let yaml = "metrics:\n  refreshInterval: 1\n  maxTenants: 1\n";
    let server = TestServer::start_with(backend, options(backend, Some(yaml))).await;
    let first = server.create_tenant().await;
    let cred = cc_client(&server, &first, &[]).await;
    for days in [3, 20] {
        let expiration = (Utc::now() + chrono::Duration::days(days)).to_rfc3339();
        let body = json!({ "Expiration": expiration });
        call(
            server.post(&secrets_path(&first, CC, &cred.id)).json(&body),
            201,
        )
        .await;
    }
    let second = server.create_tenant().await;
    let other = cc_client(&server, &second, &[]).await;
    let secrets = |s: &[Sample], tenant: &str, status: &str| {
        value(
            s,
            "latchkey_secrets",
            &[("tenant", tenant), ("status", status)],
        )
    };
    let samples = scrape_until(&server, |s| {
        secrets(s, &first, "active") == Some(3.0) && secrets(s, "_other", "active") == Some(1.0)
    })
    .await;
    let summary = call(
        server.get(&format!("/api/v1/Tenants/{first}/SecretSummary")),
        200,
    )
    .await;
    let pairs = [
        ("active", "Active"),
        ("expiring_7d", "ExpiringWithin7Days"),
        ("expiring_30d", "ExpiringWithin30Days"),
        ("expired", "Expired"),
        ("never_used", "NeverUsed"),
    ];
    for (status, field) in pairs {
        let want = summary[field].as_f64();
        assert_eq!(
            secrets(&samples, &first, status),
            want,
            "{status}: {summary}"
        );
    }
    assert_eq!(secrets(&samples, &first, "active"), Some(3.0));
    assert_eq!(secrets(&samples, &first, "expiring_7d"), Some(1.0));
    assert_eq!(secrets(&samples, &first, "never_used"), Some(3.0));
    assert_eq!(
        value(&samples, "latchkey_secrets_tenants_aggregated", &[]),
        Some(1.0)
    );
    assert!(
        samples
            .iter()
            .all(|s| s.labels.get("tenant").map(String::as_str) != Some(second.as_str())),
        "the tenant beyond maxTenants has no series of its own"
    );
    assert_eq!(
        value(&samples, "latchkey_delivery_queue_depth", &[]),
        Some(0.0)
    );
    let age = value(&samples, "latchkey_signing_key_age_seconds", &[]);
    assert!(age.is_some_and(|a| (0.0..600.0).contains(&a)), "{age:?}");
    let text = scrape(server.get("/metrics")).await;
    for leaked in [&cred.secret, &cred.id, &other.secret, &other.id] {
        assert!(!text.contains(leaked.as_str()), "{leaked} in {text}");
    }
}

async fn only_the_platform_administrator_reads_metrics_on_the_main_listener(backend: Backend) {
    let server = TestServer::start_with(backend, options(backend, None)).await;
    let anonymous = server
        .http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let tenant = server.create_tenant().await;
    let admin = cc_client(&server, &tenant, &["tenant-administrator"]).await;
    let token = access_token(&server, &admin).await;
    let as_client = server.http.get(server.url("/metrics")).bearer_auth(token);
    let res = as_client.send().await.unwrap();
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["Error"], "Forbidden", "{body}");
    parse(&scrape(server.get("/metrics")).await);
}

async fn a_separate_listener_serves_metrics_without_authentication(backend: Backend) {
    let mut opts = options(backend, None);
    opts.env
        .push(("LATCHKEY_METRICS__LISTEN".into(), "127.0.0.1:0".into()));
    let server = TestServer::start_with(backend, opts).await;
    let logs = server.logs();
    let url = logs
        .lines()
        .find_map(|l| l.trim().strip_prefix("Metrics:"))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no Metrics: line in {logs}"))
        .to_owned();
    assert!(!url.starts_with(&server.base_url), "{url}");
    let tenant = server.create_tenant().await;
    let cred = cc_client(&server, &tenant, &[]).await;
    access_token(&server, &cred).await;
    let samples = parse(&scrape(server.http.get(&url)).await);
    let issued = [("outcome", "issued")];
    assert_eq!(
        value(&samples, "latchkey_token_requests_total", &issued),
        Some(1.0)
    );
    let main = server.get("/metrics").send().await.unwrap();
    assert_eq!(main.status(), 404, "not on the main listener");
}

async fn disabled_metrics_are_not_served(backend: Backend) {
    let mut opts = options(backend, None);
    opts.env
        .push(("LATCHKEY_METRICS__ENABLED".into(), "false".into()));
    let server = TestServer::start_with(backend, opts).await;
    let res = server.get("/metrics").send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert!(!server.logs().contains("Metrics:"), "{}", server.logs());
}

both_backends!(
    counters_move_with_token_and_management_requests,
    secret_gauges_match_the_tenant_summary_after_a_refresh,
    only_the_platform_administrator_reads_metrics_on_the_main_listener,
    a_separate_listener_serves_metrics_without_authentication,
    disabled_metrics_are_not_served,
);
