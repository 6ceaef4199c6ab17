//! Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the
//! database answers too).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::web::AppState;
use crate::web::error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz() -> Json<Value> {
    Json(json!({ "Status": "Healthy" }))
}

async fn readyz(State(app): State<AppState>) -> Result<(StatusCode, Json<Value>), ApiError> {
    if app.services.ready().await {
        Ok((StatusCode::OK, Json(json!({ "Status": "Ready" }))))
    } else {
        Err(ApiError::Unavailable)
    }
}
