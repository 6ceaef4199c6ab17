//! A PostgreSQL outage while serving: the readiness probe, the token
//! endpoint and the management API answer 503 with `Retry-After` at once (not a 500 after
//! the pool's acquire timeout), and everything answers 200 again, without a restart, as
//! soon as the database is back. PostgreSQL only.
//!
//! The shared cluster cannot be stopped, so the server reaches it through a TCP forwarder
//! in this test that can be cut (existing connections dropped, new ones refused) and
//! restored on the same port.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::RequestBuilder;
use reqwest::header::HeaderMap;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep};

use crate::harness::*;
use crate::lifecycle::{assert_error_shape, call, exchange};
use crate::oauth::{Cred, access_token, cc_client, token_request};

/// Forwards `127.0.0.1:port` to `upstream`, until cut.
struct Forwarder {
    port: u16,
    upstream: String,
    accept: Option<JoinHandle<()>>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Forwarder {
    async fn start(upstream: String) -> Forwarder {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("local address").port();
        let mut forwarder = Forwarder {
            port,
            upstream,
            accept: None,
            connections: Arc::default(),
        };
        forwarder.serve(listener);
        forwarder
    }

    fn serve(&mut self, listener: TcpListener) {
        let (upstream, connections) = (self.upstream.clone(), self.connections.clone());
        self.accept = Some(tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                connections.lock().unwrap().push(task);
            }
        }));
    }

    /// The outage: open connections are dropped and new ones refused (nothing listens).
    fn cut(&mut self) {
        if let Some(accept) = self.accept.take() {
            accept.abort();
        }
        for task in self.connections.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    /// The database is back, on the same port.
    async fn restore(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(listener) => break listener,
                Err(e) => assert!(Instant::now() < deadline, "rebind {}: {e}", self.port),
            }
            sleep(Duration::from_millis(50)).await;
        };
        self.serve(listener);
    }
}

/// Sends `req`; asserts 503 with `Retry-After` within 2 s; returns the headers and body.
async fn unavailable_at_once(what: &str, req: RequestBuilder) -> (HeaderMap, Value) {
    let started = Instant::now();
    let (status, headers, body) = exchange(req).await;
    let took = started.elapsed();
    assert_eq!(status, 503, "{what}: {body}");
    assert!(
        headers.get("Retry-After").is_some(),
        "{what}: no Retry-After"
    );
    assert!(
        took < Duration::from_secs(2),
        "{what} took {took:?} to answer 503"
    );
    (headers, body)
}

/// Polls until `req()` answers 200 (bounded).
async fn answers_200_again(what: &str, req: impl Fn() -> RequestBuilder) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _, body) = exchange(req()).await;
        if status == 200 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what} still answers {status} 30 s after the database came back: {body}"
        );
        sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn database_outage_answers_503_at_once_and_recovers_without_restart() {
    let real = create_postgres_database().await;
    let mut url = reqwest::Url::parse(&real).expect("a database URL");
    let upstream = format!(
        "{}:{}",
        url.host_str().expect("a host"),
        url.port().unwrap_or(5432)
    );
    let mut forwarder = Forwarder::start(upstream).await;
    url.set_port(Some(forwarder.port)).expect("set the port");
    let opts = ServerOptions {
        database_url: Some(url.to_string()),
        ..ServerOptions::default()
    };
    let server = TestServer::start_with(Backend::Postgres, opts).await;
    let tenant = server.create_tenant().await;
    let cred: Cred = cc_client(&server, &tenant, &[]).await;
    access_token(&server, &cred).await;
    let tenant_path = format!("/api/v1/Tenants/{tenant}");
    call(server.get(&tenant_path), 200).await;

    forwarder.cut();
    // The first request learns of the outage (at most the pool's acquire timeout).
    let (status, _, body) = exchange(server.get(&tenant_path)).await;
    assert_eq!(status, 503, "{body}");

    let readyz = server.http.get(server.url("/readyz"));
    unavailable_at_once("readyz", readyz).await;
    let (_, body) = unavailable_at_once("token", token_request(&server, &cred, &[])).await;
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    let (headers, body) = unavailable_at_once("management", server.get(&tenant_path)).await;
    assert_error_shape(503, &headers, &body);
    assert_eq!(body["Error"], "Unavailable", "{body}");

    forwarder.restore().await;
    answers_200_again("readyz", || server.http.get(server.url("/readyz"))).await;
    answers_200_again("token", || token_request(&server, &cred, &[])).await;
    answers_200_again("management", || server.get(&tenant_path)).await;
}
