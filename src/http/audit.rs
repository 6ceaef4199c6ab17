//! `/api/v1/Tenants/{tenantId}/AuditEvents`: the tenant's audit trail, for
//! tenant administrators and auditors. Read-only: no route changes or deletes
//! an entry.

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Listed;
use super::enums::{ActorType, ClientType, Outcome};
use super::extract::{Authenticated, Paging, Resource};
use super::filters::AuditFilters;
use crate::domain::audit::AuditEntry;
use crate::web::AppState;
use crate::web::error::{ApiError, ErrorResponse};

/// One audit entry: never a secret value.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct AuditEvent {
    /// Position in the trail (increasing).
    pub sequence: i64,
    pub time: DateTime<Utc>,
    #[schema(value_type = ActorType)]
    pub actor_type: String,
    pub actor: String,
    /// `resource.verb`, e.g. `secret.create`, `secret.revoke`, `token.request`.
    pub action: String,
    #[schema(value_type = Outcome)]
    pub outcome: String,
    /// Why an attempt was refused (null when it was done).
    #[schema(required = true)]
    pub reason: Option<String>,
    #[schema(required = true)]
    pub tenant_id: Option<String>,
    /// The kind of the client the entry is about (null: not about a client).
    #[schema(value_type = Option<ClientType>, required = true)]
    pub client_type: Option<String>,
    #[schema(required = true)]
    pub client_id: Option<String>,
    #[schema(required = true)]
    pub secret_id: Option<i32>,
    /// The caller's IP address.
    #[schema(required = true)]
    pub source_address: Option<String>,
    #[schema(required = true)]
    pub operation_id: Option<String>,
    /// How many attempts the entry stands for: 1, except for refused attempts,
    /// which are folded (identical refusals of one minute are one entry) and,
    /// past `audit.refusalsPerTenantPerMinute`, counted in one `audit.overflow`
    /// entry per tenant per minute.
    #[schema(minimum = 1)]
    pub count: i64,
}

impl From<AuditEntry> for AuditEvent {
    fn from(e: AuditEntry) -> Self {
        Self {
            sequence: e.seq,
            time: e.at,
            actor_type: e.actor_type,
            actor: e.actor,
            action: e.action,
            outcome: e.outcome.as_str().to_owned(),
            reason: e.reason,
            tenant_id: e.tenant.map(|t| t.to_string()),
            client_type: e.client_kind.map(|k| k.route_segment().to_owned()),
            client_id: e.client_id,
            secret_id: e.secret_id.map(|s| s.0),
            source_address: e.source,
            operation_id: e.operation_id.map(|o| o.to_string()),
            count: e.count,
        }
    }
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit, count_audit))
}

/// The tenant's audit trail, newest first (like the delivery log).
#[utoipa::path(get, path = "/api/v1/Tenants/{tenantId}/AuditEvents", tag = "Audit",
    params(("tenantId" = String, Path),
           ("clientId" = Option<String>, Query, description = "Only entries about this client"),
           ("action" = Option<String>, Query, description = "Only this action, e.g. secret.revoke"),
           ("from" = Option<DateTime<Utc>>, Query, description = "From this instant (inclusive)"),
           ("to" = Option<DateTime<Utc>>, Query, description = "Until this instant (exclusive)"),
           ("skip" = Option<u32>, Query), ("count" = Option<u32>, Query, description = "0–1000, default 100")),
    responses((status = 200, body = [AuditEvent], headers(("Total-Count" = u64))),
              (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
              (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn list_audit(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
    Paging(page): Paging,
    AuditFilters(filter): AuditFilters,
) -> Result<Listed<AuditEvent>, ApiError> {
    let paged = app
        .services
        .audit
        .list(&caller, &at.tenant, &filter, page)
        .await?;
    Ok(Listed::new(
        paged.total,
        paged.items.into_iter().map(AuditEvent::from).collect(),
    ))
}

/// Count the tenant's audit entries: `Total-Count` only.
#[utoipa::path(head, path = "/api/v1/Tenants/{tenantId}/AuditEvents", tag = "Audit",
    params(("tenantId" = String, Path)),
    responses((status = 200, headers(("Total-Count" = u64))), (status = 401), (status = 403), (status = 404)))]
async fn count_audit(
    State(app): State<AppState>,
    caller: Authenticated,
    at: Resource,
    paging: Paging,
    filters: AuditFilters,
) -> Result<Response, ApiError> {
    Ok(list_audit(State(app), caller, at, paging, filters)
        .await?
        .head())
}
