//! The management API over HTTP (SPEC §4, §8): routing, the middleware every request
//! passes (OperationId, body limit, panic guard, timeout), and small response
//! helpers. Handlers extract, call one service method, and map the result.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Router, middleware};
use serde::Serialize;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::config::BootstrapToken;
use crate::service::Services;
use crate::service::tokens::Tokens;

mod audit;
mod clients;
pub mod error;
mod extract;
mod filters;
mod health;
mod inventory;
pub mod openapi;
pub mod operation;
mod policies;
mod secrets;
mod tenants;
mod webhooks;

/// Bodies larger than this get 413.
pub const BODY_LIMIT: usize = 64 * 1024;
/// The header that carries a list's total length.
pub const TOTAL_COUNT: &str = "Total-Count";

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub tokens: Tokens,
    pub bootstrap_token: Option<BootstrapToken>,
    pub public_url: String,
    /// The web console's accounts and cookie settings.
    pub console: crate::console::Console,
    /// Peers whose forwarding headers name the client (see [`operation::ClientAddress`]).
    pub trusted_proxies: crate::domain::forwarded::TrustedProxies,
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let (api, doc) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(tenants::routes())
        .merge(clients::routes())
        .merge(secrets::routes())
        .merge(inventory::routes())
        .merge(policies::routes())
        .merge(audit::routes())
        .merge(webhooks::routes())
        .split_for_parts();
    let doc = Arc::new(openapi::finish(doc));
    let trusted_proxies = state.trusted_proxies.clone();
    Router::new()
        .merge(api)
        .merge(health::routes())
        .merge(crate::oauth::routes())
        .merge(crate::console::routes())
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
        .with_state(state)
        .fallback(|| async { StatusCode::NOT_FOUND })
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

/// A page of a list, with its total in the `Total-Count` header.
pub struct Listed<T> {
    total: u64,
    items: Vec<T>,
}

impl<T: Serialize> Listed<T> {
    pub fn new(total: u64, items: Vec<T>) -> Self {
        Self { total, items }
    }

    /// The answer to HEAD: the header, no body.
    pub fn head(self) -> Response {
        (StatusCode::OK, [(TOTAL_COUNT, self.total.to_string())]).into_response()
    }
}

impl<T: Serialize> IntoResponse for Listed<T> {
    fn into_response(self) -> Response {
        ([(TOTAL_COUNT, self.total.to_string())], Json(self.items)).into_response()
    }
}

/// Marks a response that carries a secret value as not to be stored by caches.
pub fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
