//! The webhook receiver of `tests/support/receiver.rs` checked on its own: requests
//! signed by hand here (HMAC-SHA256 from aws-lc-rs, not the receiver's crate) are
//! recognised as valid or invalid, and it fails on purpose when told to.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::receiver::{Reply, SignatureCheck, WebhookReceiver};

const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

fn secret_for(key: &[u8]) -> String {
    format!("whsec_{}", STANDARD.encode(key))
}

/// `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), as Standard Webhooks says.
fn sign(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    let tag = aws_lc_rs::hmac::sign(&key, format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(tag.as_ref()))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// POSTs `body` with the three webhook headers (any of them `None` is left out).
async fn post(
    url: &str,
    body: &str,
    id: Option<&str>,
    timestamp: Option<i64>,
    signature: Option<&str>,
) -> u16 {
    let mut req = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(id) = id {
        req = req.header("webhook-id", id);
    }
    if let Some(ts) = timestamp {
        req = req.header("webhook-timestamp", ts.to_string());
    }
    if let Some(sig) = signature {
        req = req.header("webhook-signature", sig);
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn a_correctly_signed_request_is_a_valid_delivery() {
    let receiver = WebhookReceiver::start(Some(secret_for(KEY))).await;
    let body = json!({"type": "secret.expiring", "data": {"secretId": 3}}).to_string();
    let ts = now();
    let sig = sign(KEY, "msg_1", ts, &body);
    assert_eq!(
        post(&receiver.url(), &body, Some("msg_1"), Some(ts), Some(&sig)).await,
        200
    );
    let got = receiver.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].signature, SignatureCheck::Valid);
    assert_eq!(got[0].webhook_id(), Some("msg_1"));
    assert_eq!(got[0].json()["data"]["secretId"], 3);
    assert_eq!(got[0].uri, "/webhook");
    assert_eq!(got[0].method, "POST");

    // Several signatures (key rotation): one valid one is enough.
    let both = format!(
        "v1,{} {}",
        STANDARD.encode([0u8; 32]),
        sign(KEY, "msg_2", ts, &body)
    );
    post(&receiver.url(), &body, Some("msg_2"), Some(ts), Some(&both)).await;
    assert_eq!(receiver.valid_deliveries().len(), 2);
}

#[tokio::test]
async fn wrong_signatures_are_recorded_but_not_valid() {
    let receiver = WebhookReceiver::start(Some(secret_for(KEY))).await;
    let body = r#"{"type":"secret.revoked"}"#;
    let ts = now();
    let other_key = sign(b"another key entirely, 32 bytes..", "m", ts, body);
    let good = sign(KEY, "m", ts, body);
    let old = now() - 600;
    let cases = [
        (other_key.as_str(), "m", ts, body),
        // The body was changed after signing.
        (good.as_str(), "m", ts, r#"{"type":"secret.created"}"#),
        // Signed for another id.
        (good.as_str(), "other", ts, body),
        // Ten minutes old.
        (&*sign(KEY, "m", old, body), "m", old, body),
        // Not the v1 scheme.
        (&*good.replacen("v1,", "v2,", 1), "m", ts, body),
    ];
    for (sig, id, ts, body) in cases {
        assert_eq!(
            post(&receiver.url(), body, Some(id), Some(ts), Some(sig)).await,
            200
        );
    }
    // Headers missing altogether.
    post(&receiver.url(), body, None, Some(ts), Some(&good)).await;
    post(&receiver.url(), body, Some("m"), None, Some(&good)).await;
    post(&receiver.url(), body, Some("m"), Some(ts), None).await;

    let requests = receiver.wait_for_requests(8, Duration::from_secs(5)).await;
    assert_eq!(requests.len(), 8);
    for r in &requests {
        assert!(
            matches!(r.signature, SignatureCheck::Invalid(_)),
            "{:?} {:?}",
            r.headers,
            r.signature
        );
        assert!(!r.is_valid_delivery());
    }
    assert!(receiver.valid_deliveries().is_empty());
}

#[tokio::test]
async fn a_script_answers_the_next_requests_in_order() {
    let receiver = WebhookReceiver::start(None).await;
    let url = receiver.url();
    receiver.set_status(202);
    receiver.script([
        Reply::after(Duration::from_millis(300), 504),
        Reply::status(307),
    ]);
    let started = Instant::now();
    assert_eq!(post(&url, "{}", None, None, None).await, 504);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "the delay was kept"
    );
    assert_eq!(post(&url, "{}", None, None, None).await, 307);
    assert_eq!(post(&url, "{}", None, None, None).await, 202);
    let statuses: Vec<u16> = receiver.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [504, 307, 202]);
}

#[tokio::test]
async fn fails_on_purpose_when_told() {
    let receiver = WebhookReceiver::start(Some(secret_for(KEY))).await;
    let body = "{}";
    let send = |id: &'static str| {
        let url = receiver.url();
        async move {
            let ts = now();
            let sig = sign(KEY, id, ts, body);
            post(&url, body, Some(id), Some(ts), Some(&sig)).await
        }
    };
    receiver.fail_next(2);
    assert_eq!(send("a").await, 500);
    assert_eq!(send("a").await, 500);
    assert_eq!(send("a").await, 200);
    receiver.set_status(410);
    assert_eq!(send("b").await, 410);
    receiver.fail_next(1);
    assert_eq!(send("c").await, 500);
    assert_eq!(send("c").await, 410);
    receiver.set_status(204);
    assert_eq!(send("d").await, 204);

    let statuses: Vec<u16> = receiver.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 500, 200, 410, 500, 410, 204]);
    let valid: Vec<String> = receiver
        .valid_deliveries()
        .iter()
        .map(|r| r.webhook_id().unwrap().to_owned())
        .collect();
    assert_eq!(valid, ["a", "d"], "only signed requests answered 2xx count");
}

#[tokio::test]
async fn the_secret_may_arrive_after_the_requests() {
    // The subscription's secret is shown only when it is created, after the URL was given.
    let receiver = WebhookReceiver::start(None).await;
    let ts = now();
    post(
        &receiver.url(),
        "{}",
        Some("x"),
        Some(ts),
        Some(&sign(KEY, "x", ts, "{}")),
    )
    .await;
    assert_eq!(receiver.requests()[0].signature, SignatureCheck::NoSecret);
    assert!(receiver.valid_deliveries().is_empty());
    receiver.set_signing_secret(secret_for(KEY));
    assert_eq!(receiver.requests()[0].signature, SignatureCheck::Valid);
    assert_eq!(receiver.valid_deliveries().len(), 1);
}

#[tokio::test]
#[should_panic(expected = "expected 1 valid deliveries within")]
async fn waiting_is_bounded() {
    let receiver = WebhookReceiver::start(Some(secret_for(KEY))).await;
    receiver.wait_for(1, Duration::from_millis(200)).await;
}
