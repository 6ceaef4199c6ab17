//! `GET /metrics` on the main listener: the Prometheus text exposition of
//! [`METRICS`], for the platform administrator only (the bootstrap token), since
//! it names tenants and shows traffic. With `metrics.listen` the exposition is
//! served on that separate (typically internal) address without authentication
//! instead ([`exposition`]), and this route is not mounted.

use axum::Router;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};

use super::extract::Authenticated;
use crate::metrics::METRICS;
use crate::web::AppState;
use crate::web::error::ApiError;

/// The media type of the Prometheus text format.
pub const CONTENT_TYPE_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `/metrics` on the main listener.
pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Response, ApiError> {
    if !caller.may_manage_tenants() {
        return Err(ApiError::Forbidden);
    }
    Ok(exposition(app.services.now()))
}

/// The exposition at `now`, as a response.
pub fn exposition(now: DateTime<Utc>) -> Response {
    (
        [(CONTENT_TYPE, CONTENT_TYPE_TEXT)],
        METRICS.render(now.timestamp()),
    )
        .into_response()
}
