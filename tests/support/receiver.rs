//! A real webhook receiver for tests: an HTTP server on 127.0.0.1 and a port the kernel
//! picks, that records every request (method, path, headers, body, arrival time and the
//! status it answered) and checks Standard Webhooks signatures with the
//! `standardwebhooks` crate — an implementation independent of Latchkey's signer.
//!
//! Signatures are checked when read, against the signing secret known *then*: a test
//! starts the receiver, creates the subscription with [`WebhookReceiver::url`], and only
//! then learns the secret (shown once at creation) and hands it over with
//! [`WebhookReceiver::set_signing_secret`]. A check covers the HMAC and the timestamp
//! tolerance (five minutes), as a real receiver would.
//!
//! The answer never depends on the signature; it fails on purpose when told:
//! [`WebhookReceiver::script`] fixes the answers (status, delay) of the next requests
//! in order of arrival, [`WebhookReceiver::fail_next`] answers 500 to the next n, and
//! [`WebhookReceiver::set_status`] sets the status of every later one. A script is
//! counted in requests, not in time, so a test does not race the sender's retries.
//!
//! The server stops when the receiver is dropped. Included with `#[path]` from
//! `tests/api/main.rs`; it uses only crates the tests can see (axum, tokio, chrono,
//! serde_json, standardwebhooks).

#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use chrono::{DateTime, Utc};

/// The outcome of checking one request's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureCheck {
    /// No signing secret was given to the receiver yet.
    NoSecret,
    /// `webhook-signature` holds a `v1,` signature of `{id}.{timestamp}.{body}` under the
    /// secret, and the timestamp is within five minutes of now.
    Valid,
    /// Why not (from `standardwebhooks`: missing header, bad signature, old timestamp…).
    Invalid(String),
}

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct ReceivedRequest {
    pub method: Method,
    /// Path and query, e.g. `/hook?x=1`.
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub received_at: DateTime<Utc>,
    /// The status the receiver answered.
    pub status: u16,
    /// Checked when [`WebhookReceiver::requests`] was called.
    pub signature: SignatureCheck,
}

impl ReceivedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `webhook-id`: the same on every attempt of one delivery.
    pub fn webhook_id(&self) -> Option<&str> {
        self.header("webhook-id")
    }

    /// The body parsed as JSON; panics naming the body when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "webhook body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Signature valid and a 2xx answer: a delivery the sender may count as done.
    pub fn is_valid_delivery(&self) -> bool {
        self.signature == SignatureCheck::Valid && (200..300).contains(&self.status)
    }
}

/// How the receiver answers one request: `status` after `delay`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub delay: Duration,
}

impl Reply {
    /// Answers `status` at once.
    pub fn status(status: u16) -> Self {
        assert!((100..600).contains(&status), "not an HTTP status: {status}");
        Self {
            status,
            delay: Duration::ZERO,
        }
    }

    /// Answers `status` only after `delay` (to test sender time-outs).
    pub fn after(delay: Duration, status: u16) -> Self {
        Self {
            delay,
            ..Self::status(status)
        }
    }
}

#[derive(Default)]
struct Shared {
    requests: Vec<Recorded>,
    secret: Option<String>,
    scripted: VecDeque<Reply>,
    status: Option<u16>,
    delay: Duration,
}

struct Recorded {
    method: Method,
    uri: String,
    headers: HeaderMap,
    body: Bytes,
    received_at: DateTime<Utc>,
    status: u16,
}

type Handle = Arc<Mutex<Shared>>;

fn lock(shared: &Handle) -> MutexGuard<'_, Shared> {
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A running receiver; stops on drop.
pub struct WebhookReceiver {
    addr: SocketAddr,
    shared: Handle,
    server: tokio::task::JoinHandle<()>,
}

impl WebhookReceiver {
    /// Starts listening; `signing_secret` is `whsec_<base64 key>` (or set it later).
    pub async fn start(signing_secret: Option<String>) -> Self {
        let shared: Handle = Arc::new(Mutex::new(Shared {
            secret: signing_secret,
            ..Shared::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the webhook receiver on 127.0.0.1:0");
        let addr = listener.local_addr().expect("the receiver's address");
        let app = Router::new().fallback(record).with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            shared,
            server,
        }
    }

    /// `http://127.0.0.1:PORT/webhook`: give it to the subscription.
    pub fn url(&self) -> String {
        format!("http://{}/webhook", self.addr)
    }

    pub fn set_signing_secret(&self, secret: impl Into<String>) {
        lock(&self.shared).secret = Some(secret.into());
    }

    /// Answers the next requests with `replies`, one each in order (then back to the
    /// normal status and delay); replaces any script not yet used up.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        lock(&self.shared).scripted = replies.into_iter().collect();
    }

    /// Answers 500 to the next `n` requests (then back to the normal status).
    pub fn fail_next(&self, n: usize) {
        self.script(std::iter::repeat_n(Reply::status(500), n));
    }

    /// The status of every later request not failed by [`Self::fail_next`] (default 200).
    pub fn set_status(&self, status: u16) {
        assert!((100..600).contains(&status), "not an HTTP status: {status}");
        lock(&self.shared).status = Some(status);
    }

    /// Waits this long before answering each later request (to test sender time-outs).
    pub fn set_delay(&self, delay: Duration) {
        lock(&self.shared).delay = delay;
    }

    /// Every request so far, in order of arrival, signatures checked now.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        let shared = lock(&self.shared);
        let webhook = shared.secret.as_deref().map(standardwebhooks::Webhook::new);
        shared
            .requests
            .iter()
            .map(|r| ReceivedRequest {
                method: r.method.clone(),
                uri: r.uri.clone(),
                headers: r.headers.clone(),
                body: r.body.clone(),
                received_at: r.received_at,
                status: r.status,
                signature: match &webhook {
                    None => SignatureCheck::NoSecret,
                    Some(Err(e)) => {
                        SignatureCheck::Invalid(format!("unusable signing secret: {e}"))
                    }
                    Some(Ok(w)) => match w.verify(&r.body, &r.headers) {
                        Ok(()) => SignatureCheck::Valid,
                        Err(e) => SignatureCheck::Invalid(e.to_string()),
                    },
                },
            })
            .collect()
    }

    /// The requests with a valid signature that got a 2xx answer.
    pub fn valid_deliveries(&self) -> Vec<ReceivedRequest> {
        self.requests()
            .into_iter()
            .filter(ReceivedRequest::is_valid_delivery)
            .collect()
    }

    /// Waits until at least `n` valid deliveries arrived (polling); panics after
    /// `timeout`, listing what did arrive.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedRequest> {
        self.wait_until(timeout, &format!("{n} valid deliveries"), |r| {
            let valid: Vec<_> = r
                .iter()
                .filter(|r| r.is_valid_delivery())
                .cloned()
                .collect();
            (valid.len() >= n).then_some(valid)
        })
        .await
    }

    /// Waits until at least `n` requests arrived, valid or not.
    pub async fn wait_for_requests(&self, n: usize, timeout: Duration) -> Vec<ReceivedRequest> {
        self.wait_until(timeout, &format!("{n} requests"), |r| {
            (r.len() >= n).then(|| r.to_vec())
        })
        .await
    }

    async fn wait_until(
        &self,
        timeout: Duration,
        what: &str,
        done: impl Fn(&[ReceivedRequest]) -> Option<Vec<ReceivedRequest>>,
    ) -> Vec<ReceivedRequest> {
        let deadline = Instant::now() + timeout;
        loop {
            let requests = self.requests();
            if let Some(found) = done(&requests) {
                return found;
            }
            if Instant::now() >= deadline {
                let seen: Vec<String> = requests
                    .iter()
                    .map(|r| format!("{} {} -> {} ({:?})", r.method, r.uri, r.status, r.signature))
                    .collect();
                panic!("expected {what} within {timeout:?}; received: {seen:#?}");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn record(
    State(shared): State<Handle>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let received_at = Utc::now();
    let (status, delay) = {
        let mut s = lock(&shared);
        let reply = s.scripted.pop_front().unwrap_or(Reply {
            status: s.status.unwrap_or(200),
            delay: s.delay,
        });
        let status = reply.status;
        s.requests.push(Recorded {
            method,
            uri: uri.to_string(),
            headers,
            body,
            received_at,
            status,
        });
        (status, reply.delay)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}
