//! `/api/v1/Tenants`: create, list, get, rename, delete (platform
//! administrators). Names are unique: a taken one is 409.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Listed;
use super::extract::{Authenticated, JsonBody, Paging, Resource};
use super::patch::Patch;
use crate::storage::TenantRecord;
use crate::web::AppState;
use crate::web::error::{ApiError, ErrorResponse};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct TenantCreate {
    /// Display name, 1–200 characters, unique among tenants.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub name: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct TenantUpdate {
    /// The new display name, 1–200 characters, unique among tenants; absent: kept.
    #[serde(default)]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200)]
    pub name: Patch<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

impl From<TenantRecord> for Tenant {
    fn from(t: TenantRecord) -> Self {
        Self {
            id: t.id.to_string(),
            name: t.name,
            created_at: t.created_at,
        }
    }
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tenants, create_tenant))
        .routes(routes!(get_tenant, rename_tenant, delete_tenant))
}

/// List tenants.
#[utoipa::path(get, path = "/api/v1/Tenants", tag = "Tenants",
    params(("skip" = Option<u32>, Query, description = "Tenants to skip (default 0)"),
           ("count" = Option<u32>, Query, description = "At most this many, 0–1000 (default 100)")),
    responses((status = 200, body = [Tenant], headers(("Total-Count" = u64, description = "All tenants"))),
              (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
async fn list_tenants(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    Paging(page): Paging,
) -> Result<Listed<Tenant>, ApiError> {
    let paged = app.services.tenants.list(&caller, page).await?;
    Ok(Listed::new(
        paged.total,
        paged.items.into_iter().map(Tenant::from).collect(),
    ))
}

/// Create a tenant. Its name must not be taken by another tenant (409).
#[utoipa::path(post, path = "/api/v1/Tenants", tag = "Tenants", request_body = TenantCreate,
    responses((status = 201, body = Tenant), (status = 400, body = ErrorResponse),
              (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
              (status = 409, body = ErrorResponse, description = "Another tenant has this name"),
              (status = 413, body = ErrorResponse)))]
async fn create_tenant(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonBody(body): JsonBody<TenantCreate>,
) -> Result<(StatusCode, Json<Tenant>), ApiError> {
    let tenant = app
        .services
        .tenants
        .create(&caller, body.name.as_deref().unwrap_or_default())
        .await?;
    Ok((StatusCode::CREATED, Json(tenant.into())))
}

/// Get a tenant.
#[utoipa::path(get, path = "/api/v1/Tenants/{tenantId}", tag = "Tenants",
    params(("tenantId" = String, Path, description = "Tenant GUID")),
    responses((status = 200, body = Tenant), (status = 401, body = ErrorResponse),
              (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn get_tenant(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
) -> Result<Json<Tenant>, ApiError> {
    Ok(Json(
        app.services.tenants.get(&caller, &at.tenant).await?.into(),
    ))
}

/// Rename a tenant (platform administrators; audited as `tenant.rename`).
#[utoipa::path(put, path = "/api/v1/Tenants/{tenantId}", tag = "Tenants", request_body = TenantUpdate,
    params(("tenantId" = String, Path, description = "Tenant GUID")),
    responses((status = 200, body = Tenant), (status = 400, body = ErrorResponse),
              (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
              (status = 404, body = ErrorResponse),
              (status = 409, body = ErrorResponse, description = "Another tenant has this name"),
              (status = 413, body = ErrorResponse)))]
async fn rename_tenant(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
    JsonBody(body): JsonBody<TenantUpdate>,
) -> Result<Json<Tenant>, ApiError> {
    let tenant = app
        .services
        .tenants
        .rename(&caller, &at.tenant, body.name.not_null("Name")?.as_deref())
        .await?;
    Ok(Json(tenant.into()))
}

/// Delete a tenant with all its clients and secrets.
#[utoipa::path(delete, path = "/api/v1/Tenants/{tenantId}", tag = "Tenants",
    params(("tenantId" = String, Path, description = "Tenant GUID")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorResponse),
              (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn delete_tenant(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
) -> Result<StatusCode, ApiError> {
    app.services.tenants.delete(&caller, &at.tenant).await?;
    Ok(StatusCode::NO_CONTENT)
}
