//! Each tenant as an OAuth 2.0 issuer: discovery at
//! `/.well-known/openid-configuration`, 404 for unknown tenants.
//!
//! Also the OAuth vocabulary the other token files share: form encoding
//! (RFC 6749 §2.3.1 for Basic credentials), token and introspection requests,
//! the RFC 6749 error shape, JWT parts, the JWKS and ES256 verification (aws-lc-rs).

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::RequestBuilder;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde_json::{Value, json};

use crate::harness::*;
use crate::lifecycle::exchange;

/// A master key (32 bytes, hex) for servers that need one: PostgreSQL always does.
pub(crate) const MASTER_KEY: &str =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// The options every token test starts with: the master key on PostgreSQL (SQLite keeps
/// its key file beside the database), and `yaml` as the config file.
pub(crate) fn options(backend: Backend, yaml: Option<&str>) -> ServerOptions {
    let mut env = Vec::new();
    if backend == Backend::Postgres {
        env.push(("LATCHKEY_MASTER_KEY".to_owned(), MASTER_KEY.to_owned()));
    }
    ServerOptions {
        env,
        config_yaml: yaml.map(str::to_owned),
        ..ServerOptions::default()
    }
}

pub(crate) async fn start(backend: Backend) -> TestServer {
    TestServer::start_with(backend, options(backend, None)).await
}

/// A client's credentials: what a token request needs.
#[derive(Clone, Debug)]
pub(crate) struct Cred {
    pub tenant: String,
    pub id: String,
    pub secret: String,
    pub secret_id: i64,
}

/// Creates a client of `kind` in `tenant` (`body` gets a `Name` when it has none).
pub(crate) async fn client_in(server: &TestServer, tenant: &str, kind: &str, body: Value) -> Cred {
    let mut body = body;
    if body.get("Name").is_none() {
        body["Name"] = json!("app");
    }
    let created = server.create_client(tenant, kind, body).await;
    Cred {
        tenant: tenant.to_owned(),
        id: created["Client"]["Id"]
            .as_str()
            .expect("a client Id")
            .to_owned(),
        secret: created["Secret"].as_str().expect("a Secret").to_owned(),
        secret_id: created["Id"].as_i64().expect("a secret Id"),
    }
}

/// A client-credential client with `roles` in `tenant`.
pub(crate) async fn cc_client(server: &TestServer, tenant: &str, roles: &[&str]) -> Cred {
    let body = json!({"RoleIds": roles});
    client_in(server, tenant, "ClientCredentialClients", body).await
}

/// `application/x-www-form-urlencoded` byte serialisation: space as `+`, everything but
/// `A-Za-z0-9*-._` percent-encoded (so `~` becomes `%7E`).
pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b' ' => out.push('+'),
            b if b.is_ascii_alphanumeric() || b"*-._".contains(&b) => out.push(char::from(b)),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A form body from pairs, each name and value encoded.
pub(crate) fn form(pairs: &[(&str, &str)]) -> String {
    let pairs: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect();
    pairs.join("&")
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1).
pub(crate) fn basic(id: &str, secret: &str) -> String {
    let pair = format!("{}:{}", urlencode(id), urlencode(secret));
    format!("Basic {}", STANDARD.encode(pair))
}

pub(crate) fn issuer(server: &TestServer, tenant: &str) -> String {
    server.url(&format!("/identity/{tenant}"))
}

/// The management API audience, every token's default `aud`.
pub(crate) fn api_audience(server: &TestServer) -> String {
    server.url("/api")
}

/// POSTs `body` as a form to `{issuer}/{endpoint}` (`connect/token`, `connect/introspect`).
pub(crate) fn post_form(
    server: &TestServer,
    tenant: &str,
    endpoint: &str,
    body: String,
) -> RequestBuilder {
    let url = format!("{}/{endpoint}", issuer(server, tenant));
    let req = server.http.post(url);
    req.header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
}

/// A `client_credentials` request authenticated with `client_secret_basic`, plus `extra`.
pub(crate) fn token_request(
    server: &TestServer,
    cred: &Cred,
    extra: &[(&str, &str)],
) -> RequestBuilder {
    let mut pairs = vec![("grant_type", "client_credentials")];
    pairs.extend_from_slice(extra);
    let req = post_form(server, &cred.tenant, "connect/token", form(&pairs));
    req.header("Authorization", basic(&cred.id, &cred.secret))
}

/// Asserts a successful token response (shape, headers); returns its body.
pub(crate) async fn token_response(req: RequestBuilder) -> Value {
    let (status, headers, body) = exchange(req).await;
    assert_eq!(status, 200, "{body}");
    assert_no_store(&headers);
    let keys = ["access_token", "expires_in", "scope", "token_type"];
    assert_eq!(sorted_keys(&body), keys, "{body}");
    assert_eq!(body["token_type"], "Bearer", "{body}");
    body
}

/// A fresh access token for `cred` (default scope and audience).
pub(crate) async fn access_token(server: &TestServer, cred: &Cred) -> String {
    let body = token_response(token_request(server, cred, &[])).await;
    body["access_token"]
        .as_str()
        .expect("a string token")
        .to_owned()
}

/// `Cache-Control: no-store` and `Pragma: no-cache`.
pub(crate) fn assert_no_store(headers: &HeaderMap) {
    let header = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().unwrap_or("?").to_owned())
    };
    assert_eq!(
        header("Cache-Control").as_deref(),
        Some("no-store"),
        "{headers:?}"
    );
    assert_eq!(header("Pragma").as_deref(), Some("no-cache"), "{headers:?}");
}

/// Sends `req`; asserts the status, an RFC 6749 error body `{error, error_description}`
/// with code `error`, and no-store headers. Returns the headers and the body.
pub(crate) async fn oauth_error(
    req: RequestBuilder,
    status: u16,
    error: &str,
) -> (HeaderMap, Value) {
    let (got, headers, body) = exchange(req).await;
    assert_eq!((got, &body["error"]), (status, &json!(error)), "{body}");
    let described = body["error_description"].as_str();
    assert!(described.is_some_and(|d| !d.is_empty()), "{body}");
    let keys = sorted_keys(&body);
    assert!(
        keys.iter()
            .all(|k| ["error", "error_description", "error_uri"].contains(&k.as_str())),
        "{body}"
    );
    assert_no_store(&headers);
    (headers, body)
}

/// 401 `invalid_client` with `WWW-Authenticate: Basic realm="<issuer>"`.
pub(crate) async fn invalid_client(
    server: &TestServer,
    tenant: &str,
    req: RequestBuilder,
) -> Value {
    let (headers, body) = oauth_error(req, 401, "invalid_client").await;
    let challenge = headers
        .get("WWW-Authenticate")
        .map(|v| v.to_str().unwrap_or("?"));
    let want = format!("Basic realm=\"{}\"", issuer(server, tenant));
    assert_eq!(challenge, Some(want.as_str()), "{body}");
    body
}

/// Introspects `token` at `caller`'s tenant, authenticated as `caller`; asserts 200.
pub(crate) async fn introspect(server: &TestServer, caller: &Cred, token: &str) -> Value {
    let (status, _, body) = exchange(introspect_request(server, caller, token)).await;
    assert_eq!(status, 200, "{body}");
    body
}

pub(crate) fn introspect_request(
    server: &TestServer,
    caller: &Cred,
    token: &str,
) -> RequestBuilder {
    let body = form(&[("token", token)]);
    let req = post_form(server, &caller.tenant, "connect/introspect", body);
    req.header("Authorization", basic(&caller.id, &caller.secret))
}

/// The keys of a JSON object, sorted.
pub(crate) fn sorted_keys(v: &Value) -> Vec<String> {
    let object = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"));
    let mut keys: Vec<String> = object.keys().cloned().collect();
    keys.sort_unstable();
    keys
}

/// Part `index` (0 header, 1 claims) of a compact JWS, decoded as JSON.
pub(crate) fn jwt_part(token: &str, index: usize) -> Value {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS has three parts: {token}");
    let bytes = URL_SAFE_NO_PAD
        .decode(parts[index])
        .expect("base64url without padding");
    serde_json::from_slice(&bytes).expect("a JSON part")
}

pub(crate) fn claims(token: &str) -> Value {
    jwt_part(token, 1)
}

/// The claims every access token carries, exactly.
pub(crate) const CLAIMS: [&str; 12] = [
    "aud",
    "cid",
    "client_id",
    "exp",
    "iat",
    "iss",
    "jti",
    "roles",
    "scope",
    "secret_id",
    "sub",
    "tid",
];

/// The `aud` claim as a single string (a one-element array is accepted too).
pub(crate) fn audience(claims: &Value) -> String {
    let aud = match &claims["aud"] {
        Value::Array(values) if values.len() == 1 => &values[0],
        aud => aud,
    };
    aud.as_str()
        .unwrap_or_else(|| panic!("aud is one string: {claims}"))
        .to_owned()
}

/// The sorted strings of a JSON array, or of a space-separated string.
pub(crate) fn words(v: &Value) -> Vec<String> {
    let mut words: Vec<String> = match v {
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().expect("strings").to_owned())
            .collect(),
        Value::String(s) => s.split_whitespace().map(str::to_owned).collect(),
        _ => panic!("neither an array nor a string: {v}"),
    };
    words.sort_unstable();
    words
}

pub(crate) async fn jwks(server: &TestServer, tenant: &str) -> Vec<Value> {
    let url = format!("{}/.well-known/jwks.json", issuer(server, tenant));
    let (status, _, body) = exchange(server.http.get(url)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(sorted_keys(&body), ["keys"], "{body}");
    let keys = body["keys"].as_array().expect("keys is an array").clone();
    assert!(!keys.is_empty(), "{body}");
    for key in &keys {
        assert_eq!(
            sorted_keys(key),
            ["alg", "crv", "kid", "kty", "use", "x", "y"],
            "{key}"
        );
        let fixed = (&key["kty"], &key["crv"], &key["use"], &key["alg"]);
        assert_eq!(
            fixed,
            (
                &json!("EC"),
                &json!("P-256"),
                &json!("sig"),
                &json!("ES256")
            )
        );
        assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()), "{key}");
    }
    keys
}

/// Whether `token`'s ES256 signature verifies under the P-256 JWK `key`.
pub(crate) fn signed_by(key: &Value, token: &str) -> bool {
    let coordinate = |name: &str| {
        let text = key[name].as_str().expect("a coordinate");
        let bytes = URL_SAFE_NO_PAD.decode(text).expect("base64url coordinate");
        assert_eq!(bytes.len(), 32, "{name} of {key}");
        bytes
    };
    let mut point = vec![0x04];
    point.extend(coordinate("x"));
    point.extend(coordinate("y"));
    let (input, signature) = token.rsplit_once('.').expect("a compact JWS");
    let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
        return false;
    };
    let key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point);
    key.verify(input.as_bytes(), &signature).is_ok()
}

async fn discovery_lists_the_tenant_endpoints(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let iss = issuer(&server, &tenant);
    let url = format!("{iss}/.well-known/openid-configuration");
    let (status, _, mut body) = exchange(server.http.get(&url)).await;
    assert_eq!(status, 200, "{body}");
    let scopes = words(&body["scopes_supported"]);
    let mut roles = [
        "account-administrator",
        "tenant-administrator",
        "tenant-auditor",
        "tenant-member",
    ];
    roles.sort_unstable();
    assert_eq!(scopes, roles, "{body}");
    body.as_object_mut()
        .expect("an object")
        .remove("scopes_supported");
    let methods = json!(["client_secret_basic", "client_secret_post"]);
    let want = json!({
        "issuer": iss,
        "token_endpoint": format!("{iss}/connect/token"),
        "introspection_endpoint": format!("{iss}/connect/introspect"),
        "jwks_uri": format!("{iss}/.well-known/jwks.json"),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": methods,
        "introspection_endpoint_auth_methods_supported": methods,
        "response_types_supported": [],
    });
    assert_eq!(body, want);
    let jwks_url = body["jwks_uri"].as_str().expect("a string");
    assert_eq!(exchange(server.http.get(jwks_url)).await.0, 200);

    let unknown = uuid::Uuid::new_v4();
    for t in [unknown.to_string(), "not-a-guid".to_owned()] {
        let url = server.url(&format!("/identity/{t}/.well-known/openid-configuration"));
        let res = server
            .http
            .get(url)
            .send()
            .await
            .expect("the server answers");
        assert_eq!(res.status(), 404, "unknown tenant {t}");
    }
}

both_backends!(discovery_lists_the_tenant_endpoints);
