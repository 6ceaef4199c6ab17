//! One walk through a secret's whole life over HTTP, as an administrator
//! would do it: tenant, client, add, rename, renew with grace, end grace,
//! revoke, and clean-up, asserting every response on the way.
//!
//! Also the vocabulary every test file shares: sending a request and asserting
//! its status (`call`, `count`, `exchange`), the `ErrorResponse` shape
//! (`expect_error`, `expect_invalid`), the secret object and value format, and
//! times (`assert_near`, `days_from_now`).

use chrono::{DateTime, Duration, Months, SecondsFormat, SubsecRound, Utc};
use reqwest::RequestBuilder;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::harness::*;

/// The two client kinds; every client and secret route exists under both.
pub(crate) const KINDS: [&str; 2] = ["ClientCredentialClients", "HybridClients"];

/// Sends `req`: the status, the headers and the JSON body (`Null` when empty).
pub(crate) async fn exchange(req: RequestBuilder) -> (u16, HeaderMap, Value) {
    let res = req.send().await.expect("the server answers");
    let (status, headers) = (res.status().as_u16(), res.headers().clone());
    let bytes = res.bytes().await.expect("read the response body");
    if bytes.is_empty() {
        return (status, headers, Value::Null);
    }
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        let text = String::from_utf8_lossy(&bytes);
        panic!("status {status}: body is not JSON ({e}): {text}")
    });
    (status, headers, body)
}

/// Sends `req`, asserts the status, returns the JSON body (`Null` when empty).
pub(crate) async fn call(req: RequestBuilder, status: u16) -> Value {
    let (got, _, body) = exchange(req).await;
    assert_eq!(got, status, "{body}");
    body
}

/// Sends `req` (a list or HEAD), asserts 200, returns `Total-Count`.
pub(crate) async fn count(req: RequestBuilder) -> u64 {
    let (status, headers, body) = exchange(req).await;
    assert_eq!(status, 200, "{body}");
    total_count(&headers)
}

/// The `Total-Count` header as a number.
pub(crate) fn total_count(headers: &HeaderMap) -> u64 {
    let value = headers.get("Total-Count").expect("a Total-Count header");
    let text = value.to_str().expect("ASCII");
    text.parse().expect("Total-Count is a number")
}

/// Checks the `ErrorResponse` shape and that the `OperationId` header matches it.
pub(crate) fn assert_error_shape(status: u16, headers: &HeaderMap, body: &Value) {
    let op = body["OperationId"].as_str();
    let op = op.unwrap_or_else(|| panic!("{status}: no OperationId in {body}"));
    uuid::Uuid::parse_str(op).unwrap_or_else(|e| panic!("OperationId {op:?}: {e}"));
    let header = headers
        .get("OperationId")
        .map(|v| v.to_str().expect("ASCII"));
    assert_eq!(header, Some(op), "the OperationId header equals the body's");
    for field in ["Error", "Reason", "Resolution"] {
        let text = body[field].as_str();
        assert!(
            text.is_some_and(|s| !s.is_empty()),
            "{status} {field}: {body}"
        );
    }
}

/// Sends `req`, asserts the exact status, `Error` code and shape; returns the body.
pub(crate) async fn expect_error(req: RequestBuilder, status: u16, error: &str) -> Value {
    let (got, headers, body) = exchange(req).await;
    assert_eq!(got, status, "{body}");
    assert_error_shape(got, &headers, &body);
    assert_eq!(body["Error"], error, "{body}");
    body
}

/// A 400 `InvalidInput` whose `Field` is `field` and whose `Reason` names it.
pub(crate) async fn expect_invalid(req: RequestBuilder, field: &str) -> Value {
    let body = expect_error(req, 400, "InvalidInput").await;
    assert_eq!(body["Field"], field, "{body}");
    let reason = body["Reason"].as_str().unwrap_or_default().to_lowercase();
    let named = reason.contains(&field.to_lowercase());
    assert!(named, "Reason names {field}: {body}");
    body
}

/// The fields of a secret object, exactly (the value is never among them).
pub(crate) const SECRET_FIELDS: [&str; 13] = [
    "Id",
    "Description",
    "Expiration",
    "Expires",
    "Hint",
    "CreatedAt",
    "LastUsedAt",
    "Status",
    "GraceUntil",
    "PreviousValueLastUsedAt",
    "RefusedCount",
    "LastRefusedAt",
    "LastRefusedFrom",
];

pub(crate) fn secrets_path(tenant: &str, kind: &str, client: &str) -> String {
    format!("/api/v1/Tenants/{tenant}/{kind}/{client}/Secrets")
}

/// A new tenant with one client of `kind`: (tenant, client id, the creation body).
pub(crate) async fn client_of(server: &TestServer, kind: &str) -> (String, String, Value) {
    let tenant = server.create_tenant().await;
    let created = server
        .create_client(&tenant, kind, json!({"Name": "app"}))
        .await;
    let client = created["Client"]["Id"].as_str().expect("a client Id");
    (tenant, client.to_owned(), created)
}

/// POSTs `body` to `path`, asserts 201 and the created-secret shape; returns the body.
pub(crate) async fn add_secret(server: &TestServer, path: &str, body: Value) -> Value {
    let created = call(server.post(path).json(&body), 201).await;
    assert_secret_object(&created, true);
    created
}

/// GETs a secret, asserting 200 and the secret-object shape.
pub(crate) async fn get_secret(server: &TestServer, path: &str) -> Value {
    let got = call(server.get(path), 200).await;
    assert_secret_object(&got, false);
    got
}

/// The object has exactly the secret fields (plus `Secret` when `with_value`).
pub(crate) fn assert_secret_object(v: &Value, with_value: bool) {
    let mut keys: Vec<&str> = v
        .as_object()
        .expect("an object")
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort_unstable();
    let mut want: Vec<&str> = SECRET_FIELDS.to_vec();
    if with_value {
        want.push("Secret");
    }
    want.sort_unstable();
    assert_eq!(keys, want, "{v}");
}

/// `lkcs_` + 43 base62 characters (≥ 256 bits) + a 6-character checksum.
pub(crate) fn assert_generated(value: &str) {
    assert!(value.starts_with("lkcs_"), "{value}");
    assert_eq!(value.len(), 54, "{value}");
    let base62 = value[5..].bytes().all(|b| b.is_ascii_alphanumeric());
    assert!(base62, "{value}");
}

/// An RFC 3339 UTC time.
pub(crate) fn time(v: &Value) -> DateTime<Utc> {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("expected a time, got {v}"));
    assert!(s.ends_with('Z') || s.ends_with("+00:00"), "{s} is not UTC");
    let parsed = DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}"));
    parsed.with_timezone(&Utc)
}

/// `v` is a time within five minutes of `want`.
pub(crate) fn assert_near(v: &Value, want: DateTime<Utc>) {
    let got = time(v);
    assert!(
        (got - want).num_seconds().abs() <= 300,
        "{got} is not close to {want}"
    );
}

pub(crate) fn in_one_year() -> DateTime<Utc> {
    Utc::now()
        .checked_add_months(Months::new(12))
        .expect("a date")
}

/// A whole-second time `days` from now, and its wire form.
pub(crate) fn days_from_now(days: i64) -> (DateTime<Utc>, String) {
    let t = (Utc::now() + Duration::days(days)).trunc_subsecs(0);
    (t, t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// The body without its `Secret` field.
pub(crate) fn without_value(v: &Value) -> Value {
    let mut v = v.clone();
    v.as_object_mut().expect("an object").remove("Secret");
    v
}

async fn a_secret_lives_from_creation_to_revocation(backend: Backend) {
    let server = TestServer::start(backend).await;

    let tenant = call(
        server
            .post("/api/v1/Tenants")
            .json(&json!({"Name": "Acme"})),
        201,
    )
    .await;
    let tenant = tenant["Id"].as_str().unwrap().to_owned();
    let clients = format!("/api/v1/Tenants/{tenant}/ClientCredentialClients");
    let body = json!({"Id": "billing", "Name": "Billing", "SecretDescription": "bootstrap"});
    let created = call(server.post(&clients).json(&body), 201).await;
    assert_eq!(
        (&created["Id"], &created["Client"]["Id"]),
        (&json!(1), &json!("billing"))
    );
    let secrets = format!("{clients}/billing/Secrets");

    let added = call(
        server
            .post(&secrets)
            .json(&json!({"Description": "deploy key"})),
        201,
    )
    .await;
    assert_secret_object(&added, true);
    let first_value = added["Secret"].as_str().unwrap().to_owned();
    assert_generated(&first_value);
    assert_eq!(added["Id"], json!(2));
    assert_eq!(added["Status"], json!("Active"));
    let two = format!("{secrets}/2");

    let renamed = call(
        server
            .put(&two)
            .json(&json!({"Description": "deploy key (prod)"})),
        200,
    )
    .await;
    assert_secret_object(&renamed, false);
    assert_eq!(
        (&renamed["Description"], &renamed["Hint"]),
        (&json!("deploy key (prod)"), &added["Hint"])
    );
    assert_eq!(renamed["Expiration"], added["Expiration"]);

    assert_eq!(count(server.head(&secrets)).await, 2);
    let list = call(server.get(&secrets), 200).await;
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Id"] == 2)
        .expect("secret 2 listed");
    assert_eq!(listed, &renamed);

    let renewed = call(
        server
            .post(&format!("{two}/Renew"))
            .json(&json!({"GracePeriodSeconds": 3600})),
        200,
    )
    .await;
    assert_secret_object(&renewed, true);
    let second_value = renewed["Secret"].as_str().unwrap();
    assert_generated(second_value);
    assert_ne!(second_value, first_value);
    assert_eq!(
        (&renewed["Id"], &renewed["Description"]),
        (&json!(2), &json!("deploy key (prod)"))
    );
    assert_eq!(renewed["Hint"], second_value[..9]);
    assert_near(&renewed["GraceUntil"], Utc::now() + Duration::hours(1));
    assert_near(&renewed["Expiration"], in_one_year());

    let during = call(server.get(&two), 200).await;
    assert_eq!(
        (&during["Hint"], &during["GraceUntil"]),
        (&renewed["Hint"], &renewed["GraceUntil"])
    );

    let ended = call(server.post(&format!("{two}/EndGrace")), 200).await;
    assert_secret_object(&ended, false);
    assert_eq!(
        (&ended["GraceUntil"], &ended["Hint"]),
        (&Value::Null, &renewed["Hint"])
    );
    assert_eq!(call(server.get(&two), 200).await, ended);

    assert_eq!(call(server.delete(&two), 204).await, Value::Null);
    expect_error(server.get(&two), 404, "NotFound").await;
    assert_eq!(count(server.head(&secrets)).await, 1);
    assert_eq!(call(server.get(&secrets), 200).await[0]["Id"], 1);
    let next = call(server.post(&secrets).json(&json!({})), 201).await;
    assert_eq!(next["Id"], 3, "the revoked Id 2 is never reused");

    call(server.delete(&format!("{clients}/billing")), 204).await;
    expect_error(server.get(&secrets), 404, "NotFound").await;
    let tenant = format!("/api/v1/Tenants/{tenant}");
    call(server.delete(&tenant), 204).await;
    expect_error(server.get(&tenant), 404, "NotFound").await;
}

both_backends!(a_secret_lives_from_creation_to_revocation);
