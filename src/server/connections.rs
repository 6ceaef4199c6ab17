//! The accept loop and the connections it serves (HTTP/1.1 through hyper), built
//! so that shutdown cannot hang on a client:
//!
//! - a connection that has not sent a whole request head within
//!   `server.headerReadTimeout` is closed (a half-sent header holds nothing);
//! - [`Connections::drain`] asks every connection to finish its in-flight request
//!   and close, waits at most `server.shutdownTimeout`, then closes what is left
//!   (a stalled body, a slow client) and returns.
//!
//! It owns no state of the application; the caller decides what to flush before
//! and after the drain.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::config::ServerSettings;

/// The connections being served, and the signal that asks them to finish.
pub struct Connections {
    tasks: JoinSet<()>,
    finish: watch::Sender<bool>,
    settings: ServerSettings,
}

impl Connections {
    pub fn new(settings: ServerSettings) -> Self {
        Self {
            tasks: JoinSet::new(),
            finish: watch::Sender::new(false),
            settings,
        }
    }

    /// Accepts connections and serves `app` on each until `stop` completes; then
    /// stops accepting (the listener is closed) and returns.
    pub async fn accept_until(
        &mut self,
        listener: TcpListener,
        app: Router,
        stop: impl Future<Output = ()>,
    ) {
        tokio::pin!(stop);
        loop {
            tokio::select! {
                () = &mut stop => return,
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => self.serve(stream, peer, app.clone()),
                    Err(e) => accept_failed(e).await,
                },
                Some(_) = self.tasks.join_next(), if !self.tasks.is_empty() => {}
            }
        }
    }

    fn serve(&mut self, stream: TcpStream, peer: SocketAddr, app: Router) {
        let mut finish = self.finish.subscribe();
        let header_read_timeout = self.settings.header_read_timeout;
        self.tasks.spawn(async move {
            let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                app.clone().oneshot(req)
            });
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout);
            let conn = http.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = finish.wait_for(|finish| *finish) => {}
            }
            // Finish the request in flight (if any), then close.
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        });
    }

    /// Asks every connection to finish and close; after `server.shutdownTimeout`
    /// closes those still open. Returns how many had to be closed.
    pub async fn drain(mut self) -> usize {
        self.finish.send_replace(true);
        let deadline = tokio::time::sleep(self.settings.shutdown_timeout);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                next = self.tasks.join_next() => if next.is_none() { return 0 },
                () = &mut deadline => break,
            }
        }
        let left = self.tasks.len();
        self.tasks.shutdown().await;
        left
    }
}

/// A failed accept: the peer's problem is skipped; anything else (out of file
/// descriptors) is logged and waited out, so the loop does not spin.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::warn!(error = %e, "cannot accept a connection; retrying in 1 s: {e}");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
