//! Per-request OperationId: generated for every request, carried by the request's
//! tracing span and the services' [`Origin`] task-local (so error bodies can quote it), returned in the
//! `OperationId` header, and written in the one log line each request gets (at
//! `info`, or `debug` for a response marked [`QuietSuccess`]: successful tokens).
//!
//! It also turns any error response not written by [`ApiError`] (unknown route,
//! wrong method, body limit, panic) into the standard `ErrorResponse`.

use std::time::Instant;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;
use uuid::Uuid;

use super::error::{ApiError, ErrorBodyWritten};
use crate::service::origin::{self, Origin};

/// The response header that carries the OperationId.
pub const HEADER: &str = "OperationId";

/// The OperationId of the request being handled, if any.
pub fn current() -> Option<Uuid> {
    origin::current().map(|o| o.operation_id)
}

pub async fn scope(request: Request, next: Next) -> Response {
    let id = Uuid::new_v4();
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    let span = tracing::info_span!(
        "request",
        operation_id = %id,
        http.method = %request.method(),
        http.path = %request.uri().path(),
    );
    let started = Instant::now();
    let origin = Origin {
        operation_id: id,
        address,
    };
    let mut response = origin::scope(origin, async move {
        let response = next.run(request).await;
        let status = response.status();
        let is_error = status.is_client_error() || status.is_server_error();
        if is_error && response.extensions().get::<ErrorBodyWritten>().is_none() {
            ApiError::from_status(status).into_response()
        } else {
            response
        }
    })
    .instrument(span.clone())
    .await;
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        response.headers_mut().insert(HEADER, value);
    }
    let status = response.status().as_u16();
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    if response.extensions().get::<QuietSuccess>().is_some() && status < 400 {
        tracing::debug!(parent: &span, http.status = status, duration_ms, "answered {status}");
    } else {
        tracing::info!(parent: &span, http.status = status, duration_ms, "answered {status}");
    }
    response
}

/// Marks a success whose "answered" line goes to `debug`, not `info`: the token
/// endpoint's, which would otherwise write a line per token (hundreds of MB an hour
/// under load). Refusals and errors keep their `info` line.
#[derive(Clone, Copy)]
pub struct QuietSuccess;
