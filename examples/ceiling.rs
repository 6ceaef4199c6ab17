//! The benchmark ceiling, the ideal token endpoint: a minimal axum server whose
//! `POST /token` does the work any client-credentials endpoint must do and
//! nothing else: it parses `client_secret_basic` and the form body, finds the
//! client in memory, checks HMAC-SHA-256 of the presented secret in constant
//! time (an unknown client is checked against a dummy tag, so it costs the
//! same), and signs a fresh ES256 JWT access token per request. `bench/token.sh`
//! measures it beside Latchkey's token endpoint, so the ratio shows what
//! Latchkey's own work (storage, audit, policies, logs) costs over it.
//!
//! Usage: `ceiling 127.0.0.1:PORT`; the one client is `bench-client` with the
//! secret [`SECRET`].
#![allow(clippy::expect_used, reason = "a benchmark fixture fails loudly")]

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

const CLIENT_ID: &str = "bench-client";
const SECRET: &str = "lk_bench_7Qw3Zr9Xy2Lm5Np8Tv4Bc6Df1Gh0Jk3Mn7Pq9Rs2Uv5Wx8Yz";
const TENANT: &str = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f";

struct Ceiling {
    pepper: hmac::Key,
    tag: Vec<u8>,
    dummy: Vec<u8>,
    key: EcdsaKeyPair,
    rng: SystemRandom,
    header_b64: String,
    issuer: String,
}

fn refused(status: StatusCode, code: &str) -> Response {
    let mut response = (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        format!(r#"{{"error":"{code}"}}"#),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Basic realm=\"token\""),
        );
    }
    response
}

fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let decoded = STANDARD.decode(value.strip_prefix("Basic ")?).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

fn mint(c: &Ceiling, client_id: &str, scope: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let mut jti = [0u8; 16];
    c.rng.fill(&mut jti).expect("randomness");
    let claims = serde_json::json!({
        "iss": c.issuer, "sub": client_id, "client_id": client_id,
        "aud": "urn:latchkey:bench-api", "iat": now, "exp": now + 3600,
        "jti": URL_SAFE_NO_PAD.encode(jti), "tenant_id": TENANT,
        "roles": ["tenant-member"], "secret_id": 1, "scope": scope,
    });
    let mut token = String::with_capacity(600);
    token.push_str(&c.header_b64);
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("json")));
    let signature = c.key.sign(&c.rng, token.as_bytes()).expect("sign");
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(signature.as_ref()));
    serde_json::json!({
        "access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": scope,
    })
    .to_string()
}

async fn token(State(c): State<Arc<Ceiling>>, headers: HeaderMap, body: String) -> Response {
    let mut grant = None;
    let mut scope = None;
    for (k, v) in form_urlencoded::parse(body.as_bytes()) {
        match &*k {
            "grant_type" => grant = Some(v.into_owned()),
            "scope" => scope = Some(v.into_owned()),
            _ => {}
        }
    }
    let Some((client_id, secret)) = basic(&headers) else {
        return refused(StatusCode::UNAUTHORIZED, "invalid_client");
    };
    let known = client_id == CLIENT_ID;
    let tag = if known { &c.tag } else { &c.dummy };
    if hmac::verify(&c.pepper, secret.as_bytes(), tag).is_err() || !known {
        return refused(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    if grant.as_deref() != Some("client_credentials") {
        return refused(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let body = mint(&c, &client_id, scope.as_deref().unwrap_or("api"));
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        body,
    )
        .into_response()
}

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("key");
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .expect("key");
        let pepper = hmac::Key::generate(hmac::HMAC_SHA256, &rng).expect("pepper");
        let tag = hmac::sign(&pepper, SECRET.as_bytes()).as_ref().to_vec();
        let dummy = hmac::sign(&pepper, b"dummy-secret-for-unknown-clients")
            .as_ref()
            .to_vec();
        let header = r#"{"alg":"ES256","typ":"at+jwt","kid":"bench-key-1"}"#;
        let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
        let local = listener.local_addr().expect("addr");
        let state = Arc::new(Ceiling {
            pepper,
            tag,
            dummy,
            key,
            rng,
            header_b64: URL_SAFE_NO_PAD.encode(header),
            issuer: format!("http://{local}/identity/{TENANT}"),
        });
        let app = Router::new()
            .route("/token", post(token))
            .route("/healthz", get(|| async { "ok" }))
            .with_state(state);
        println!("ceiling listening on http://{local} with {threads} worker thread(s)");
        axum::serve(listener, app).await.expect("serve");
    });
}
