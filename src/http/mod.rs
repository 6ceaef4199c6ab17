//! The management API over HTTP: its routes and OpenAPI document, the health probes,
//! and small response helpers. Handlers extract, call one service method, and map the
//! result; the layers every request passes are the composition root's ([`crate::app`]).
use axum::Json;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::web::AppState;

mod audit;
mod clients;
mod enums;
mod extract;
mod filters;
mod health;
mod inventory;
mod leak_reports;
pub mod metrics;
pub mod openapi;
mod patch;
mod policies;
mod secret_lookup;
mod secrets;
mod signing_keys;
mod summary;
mod tenants;
mod webhooks;

/// The header that carries a list's total length.
pub const TOTAL_COUNT: &str = "Total-Count";

/// The management API's routes and its OpenAPI document, and the health probes.
pub fn routes() -> (Router<AppState>, serde_json::Value) {
    let (api, doc) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(tenants::routes())
        .merge(clients::routes())
        .merge(secrets::routes())
        .merge(secret_lookup::routes())
        .merge(leak_reports::routes())
        .merge(inventory::routes())
        .merge(summary::routes())
        .merge(policies::routes())
        .merge(audit::routes())
        .merge(webhooks::routes())
        .merge(signing_keys::routes())
        .split_for_parts();
    (api.merge(health::routes()), openapi::finish(doc))
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
