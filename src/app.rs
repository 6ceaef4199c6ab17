//! The composition root of the HTTP side: assembles the front ends (management API,
//! issuers, console) into one router over one [`AppState`], with the layers every
//! request passes: OperationId and client address, body limit, panic guard, timeout.
//! Only this module (and `server.rs`, which builds the state) knows every front end.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Router, middleware};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

use crate::clock::Clock;
use crate::web::{AppState, BODY_LIMIT, operation};

/// The whole HTTP application; with `metrics`, `GET /metrics` for the platform
/// administrator (off when the exposition has its own listener, [`metrics_router`]).
pub fn router(state: AppState, metrics: bool) -> Router {
    let (mut api, doc) = crate::http::routes();
    if metrics {
        api = api.merge(crate::http::metrics::routes());
    }
    let trusted_proxies = state.trusted_proxies.clone();
    // The document at /api/openapi.json and the interactive reference (Swagger UI,
    // served from the binary) at /api/docs.
    let reference = utoipa_swagger_ui::SwaggerUi::new("/api/docs")
        .external_url_unchecked("/api/openapi.json", doc);
    Router::new()
        .merge(api)
        .merge(crate::oauth::routes())
        .merge(crate::console::routes())
        .with_state(state)
        .merge(reference)
        .fallback(crate::web::error::unknown_route)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(CatchPanicLayer::custom(|_| {
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(middleware::from_fn_with_state(
            trusted_proxies,
            operation::scope,
        ))
}

/// `GET /metrics` alone, without authentication, for the separate listener of
/// `metrics.listen`.
pub fn metrics_router(clock: Arc<dyn Clock>) -> Router {
    Router::new()
        .route(
            "/metrics",
            axum::routing::get(move || {
                let now = clock.now();
                async move { crate::http::metrics::exposition(now) }
            }),
        )
        .fallback(|| async { StatusCode::NOT_FOUND })
}
