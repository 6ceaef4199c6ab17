//! Per-request OperationId: generated for every request, carried by the request's
//! tracing span and the services' [`Origin`] task-local (so error bodies can quote it), returned in the
//! `OperationId` header, and written in the one log line each request gets (at
//! `info`, or `debug` for a response marked [`QuietSuccess`]: successful tokens).
//!
//! It also decides, once, which address the request comes from ([`ClientAddress`]): the TCP
//! peer, or the client a trusted reverse proxy forwards for (`server.trustedProxies`). The
//! audit trail's source, the token endpoint's per-address limiter and the console's sign-in
//! throttle all read that one value.
//!
//! The same line carries the request's `tenant.id` and `client.id` (path parameters of
//! the route, or the client the token endpoint authenticated) and its `outcome` (by
//! status, unless the handler recorded one: [`OutcomeRecorded`]); this layer also counts
//! each management API request in [`METRICS`] under its route template, method and
//! status (the token endpoint counts its own, with their outcome).
//!
//! It also turns any error response not written by [`ApiError`] (unknown route,
//! wrong method, body limit, panic) into the standard `ErrorResponse`.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;
use tracing::field::Empty;
use uuid::Uuid;

use super::error::{ApiError, ErrorBodyWritten};
use crate::domain::forwarded::TrustedProxies;
use crate::metrics::METRICS;
use crate::service::origin::{self, Origin};

/// The response header that carries the OperationId.
pub const HEADER: &str = "OperationId";

/// The OperationId of the request being handled, if any.
pub fn current() -> Option<Uuid> {
    origin::current().map(|o| o.operation_id)
}

/// The address the request comes from, as [`scope`] decided it (`None` without a TCP peer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = Infallible;

    async fn from_request_parts(_: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(origin::current().and_then(|o| o.address)))
    }
}

/// The client's address: the peer, or whom a trusted peer forwards for.
fn client_address(trusted: &TrustedProxies, request: &Request) -> Option<IpAddr> {
    let ConnectInfo(peer) = request.extensions().get::<ConnectInfo<SocketAddr>>()?;
    let headers = request.headers();
    let xff = joined(headers, "x-forwarded-for");
    let forwarded = joined(headers, "forwarded");
    Some(trusted.client_address(peer.ip(), xff.as_deref(), forwarded.as_deref()))
}

/// All lines of header `name` joined with commas (bytes that are not text make a hop unreadable).
fn joined(headers: &HeaderMap, name: &str) -> Option<String> {
    let lines: Vec<_> = headers
        .get_all(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()))
        .collect();
    (!lines.is_empty()).then(|| lines.join(","))
}

pub async fn scope(
    State(trusted): State<TrustedProxies>,
    request: Request,
    next: Next,
) -> Response {
    let id = Uuid::new_v4();
    let address = client_address(&trusted, &request);
    let path = request.uri().path();
    // A reference count, not a copy: the token path allocates nothing for its metrics.
    let route = request.extensions().get::<MatchedPath>().cloned();
    let method = request.method().clone();
    let span = tracing::info_span!(
        "request",
        operation_id = %id,
        http.method = %method,
        http.path = %path,
        tenant.id = Empty,
        client.id = Empty,
        outcome = Empty,
        reason = Empty,
    );
    if let Some(template) = route.as_ref().map(MatchedPath::as_str) {
        for (name, value) in path_parameters(template, path) {
            match name {
                "tenantId" => span.record("tenant.id", value),
                "clientId" => span.record("client.id", value),
                _ => &span,
            };
        }
    }
    let management = path.starts_with("/api/");
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
    let took = started.elapsed();
    if response.extensions().get::<OutcomeRecorded>().is_none() {
        span.record("outcome", outcome_of(status));
    }
    if management {
        let route = route.as_ref().map(MatchedPath::as_str);
        METRICS.management_request(route, method.as_str(), status);
    }
    // Hundredths of a millisecond: the clock's nanoseconds are noise in a log line.
    let duration_ms = (took.as_secs_f64() * 100_000.0).round() / 100.0;
    let took = crate::clock::Readable(took);
    if response.extensions().get::<QuietSuccess>().is_some() && status < 400 {
        tracing::debug!(parent: &span, http.status = status, duration_ms, "answered {status} in {took}");
    } else {
        tracing::info!(parent: &span, http.status = status, duration_ms, "answered {status} in {took}");
    }
    response
}

/// The `outcome` of a request other than a token request, by its status.
fn outcome_of(status: u16) -> &'static str {
    match status {
        ..400 => "succeeded",
        400..500 => "refused",
        _ => "failed",
    }
}

/// The values of `{name}` segments of the route `template` in `path`.
fn path_parameters<'a>(
    template: &'a str,
    path: &'a str,
) -> impl Iterator<Item = (&'a str, &'a str)> {
    template
        .split('/')
        .zip(path.split('/'))
        .filter_map(|(t, p)| Some((t.strip_prefix('{')?.strip_suffix('}')?, p)))
}

/// Marks a response whose handler recorded the request's `outcome` on its span (the
/// token endpoint, with its refusal reason); others get one from their status.
#[derive(Clone, Copy)]
pub struct OutcomeRecorded;

/// Marks a success whose "answered" line goes to `debug`, not `info`: the token
/// endpoint's, which would otherwise write a line per token (hundreds of MB an hour
/// under load). Refusals and errors keep their `info` line.
#[derive(Clone, Copy)]
pub struct QuietSuccess;
