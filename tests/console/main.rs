//! Browser tests of the web console: the real `latchkey serve` binary
//! on SQLite, driven through a real headless Chromium ([`browser::Browser`]);
//! what the console changed is checked through the management API with the
//! bootstrap token. Some checks (cookies, CSRF, throttling) speak HTTP directly.
//! The tests also take the README's screenshots: into `target/screenshots/`, or into
//! `docs/screenshots/` with `LATCHKEY_UPDATE_SCREENSHOTS=1` (to refresh the README's).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code, unused_macros, unused_imports)]
#[path = "../api/harness.rs"]
mod harness;

mod browser;
mod clients;
mod dialogs;
mod expiry_fields;
mod http_checks;
mod layout;
mod lookup;
mod overview;
mod paths;
mod recipients_warning;
mod refused;
mod reloads;
mod secrets;
mod settings;
mod signin;
mod signin_races;
mod tenants;
mod trusted_proxies;
mod users;

use harness::{Backend, ServerOptions, TestServer};
use serde_json::Value;

/// The password of `admin` in every test server.
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

/// A server whose `admin` has [`ADMIN_PASSWORD`], with `extra` environment.
pub async fn server_with(extra: &[(&str, &str)]) -> TestServer {
    let mut env = vec![(
        "LATCHKEY_ADMIN_PASSWORD".to_owned(),
        ADMIN_PASSWORD.to_owned(),
    )];
    env.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let opts = ServerOptions {
        env,
        ..ServerOptions::default()
    };
    TestServer::start_with(Backend::Sqlite, opts).await
}

pub async fn server() -> TestServer {
    server_with(&[]).await
}

/// GET `path` with the bootstrap token; asserts 200 and returns the JSON body.
pub async fn api_get(server: &TestServer, path: &str) -> Value {
    let res = server.get(path).send().await.expect("send");
    let status = res.status();
    let text = res.text().await.expect("body");
    assert_eq!(status, 200, "GET {path}: {text}");
    serde_json::from_str(&text).expect("JSON")
}

/// The status of GET `path` with the bootstrap token.
pub async fn api_status(server: &TestServer, path: &str) -> u16 {
    server
        .get(path)
        .send()
        .await
        .expect("send")
        .status()
        .as_u16()
}

/// A tenant and a client-credentials client `billing` (first secret "initial").
pub async fn tenant_with_client(server: &TestServer) -> String {
    let body = serde_json::json!({"Name": "Acme Corp"});
    let res = server
        .post("/api/v1/Tenants")
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.expect("JSON");
    let tenant = created["Id"].as_str().expect("tenant Id").to_owned();
    let body = serde_json::json!({"Id": "billing", "Name": "Billing service", "SecretDescription": "initial"});
    server
        .create_client(&tenant, "ClientCredentialClients", body)
        .await;
    tenant
}

/// The secrets of `client` as the API lists them.
pub async fn api_secrets(server: &TestServer, tenant: &str, client: &str) -> Vec<Value> {
    let path = format!("/api/v1/Tenants/{tenant}/ClientCredentialClients/{client}/Secrets");
    api_get(server, &path)
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// True when `secret` gets a token for `client` at the token endpoint.
pub async fn secret_works(server: &TestServer, tenant: &str, client: &str, secret: &str) -> bool {
    let body = form_body(&[
        ("grant_type", "client_credentials"),
        ("client_id", client),
        ("client_secret", secret),
    ]);
    let res = server
        .http
        .post(server.url(&format!("/identity/{tenant}/connect/token")))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("token request");
    res.status() == 200
}

/// An `application/x-www-form-urlencoded` body.
pub fn form_body(fields: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish()
}

/// A year that is always in the future for the tests: next year.
pub fn next_year() -> i32 {
    use chrono::Datelike;
    chrono::Utc::now().year() + 1
}
