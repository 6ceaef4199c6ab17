//! `/api/v1/Tenants/{tenantId}/Secrets`: the inventory, every secret of every
//! client of the tenant (read-only), filtered to find the forgotten ones.

use axum::extract::State;
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Listed;
use super::enums::{ClientType, SecretStatusFilter};
use super::extract::{Authenticated, Paging, Resource};
use super::filters::SecretFilters;
use super::secrets::Secret;
use crate::web::AppState;
use crate::web::error::{ApiError, ErrorResponse};

/// A secret with the client it belongs to.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct InventorySecret {
    #[schema(value_type = ClientType)]
    pub client_type: String,
    pub client_id: String,
    #[serde(flatten)]
    pub secret: Secret,
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_inventory, count_inventory))
}

/// Every secret of the tenant's clients, with filters to find unused and expiring ones.
#[utoipa::path(get, path = "/api/v1/Tenants/{tenantId}/Secrets", tag = "Secrets",
    params(("tenantId" = String, Path),
           ("query" = Option<String>, Query, description = "Text the description contains (case-insensitive)"),
           ("status" = Option<SecretStatusFilter>, Query, description = "active, expired, or leaked (reported by a secret scanner under the alert policy and not rotated since)"),
           ("neverUsed" = Option<bool>, Query, description = "Only secrets never used at the token endpoint"),
           ("unusedForDays" = Option<u32>, Query, description = "Only secrets not used (or, never used, created) in the last N days"),
           ("expiringWithinDays" = Option<u32>, Query, description = "Only secrets expiring in the next N days"),
           ("refusedSince" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Date-time with an offset (2026-01-31T00:00:00Z): only secrets a former value of which (replaced, revoked, expired) was presented since then"),
           ("skip" = Option<u32>, Query), ("count" = Option<u32>, Query, description = "0–1000, default 100")),
    responses((status = 200, body = [InventorySecret], headers(("Total-Count" = u64))),
              (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
              (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn list_inventory(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
    Paging(page): Paging,
    SecretFilters(query): SecretFilters,
) -> Result<Listed<InventorySecret>, ApiError> {
    let paged = app
        .services
        .secrets
        .inventory(&caller, &at.tenant, query, page)
        .await?;
    let now = app.services.now();
    Ok(Listed::new(
        paged.total,
        paged
            .items
            .into_iter()
            .map(|s| InventorySecret {
                client_type: s.client_kind.route_segment().to_owned(),
                client_id: s.client_id,
                secret: Secret::from_record(s.secret, now),
            })
            .collect(),
    ))
}

/// Count the inventory: `Total-Count` only.
#[utoipa::path(head, path = "/api/v1/Tenants/{tenantId}/Secrets", tag = "Secrets",
    params(("tenantId" = String, Path)),
    responses((status = 200, headers(("Total-Count" = u64))), (status = 401), (status = 403), (status = 404)))]
async fn count_inventory(
    State(app): State<AppState>,
    caller: Authenticated,
    at: Resource,
    paging: Paging,
    filters: SecretFilters,
) -> Result<Response, ApiError> {
    Ok(list_inventory(State(app), caller, at, paging, filters)
        .await?
        .head())
}
