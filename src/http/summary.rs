//! `GET /api/v1/Tenants/{tenantId}/SecretSummary`: the estate at a glance for
//! dashboards — the tenant's live secrets counted by state, and expirations per
//! week for the next 12 weeks (the figures of the console's overview).

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Authenticated, Resource};
use crate::domain::summary::{SecretSummary, SummaryWindows};
use crate::web::AppState;
use crate::web::error::{ApiError, ErrorResponse};

/// Counts of the tenant's live (non-revoked) secrets; a secret counts in every
/// line that describes it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
#[schema(as = SecretSummary)]
pub struct SecretSummaryBody {
    /// When the figures were counted.
    pub at: DateTime<Utc>,
    /// Not expired.
    pub active: i64,
    pub expiring_within7_days: i64,
    pub expiring_within30_days: i64,
    pub expired: i64,
    /// Never used at the token endpoint.
    pub never_used: i64,
    /// Reported by a secret scanner under the `alert` policy and not rotated since.
    pub leaked: i64,
    /// A former value (replaced, revoked, expired) presented in the last 7 days.
    pub presented_after_rotation: i64,
    /// The next 12 weeks, from `At`.
    pub expirations_per_week: Vec<WeekCount>,
}

/// Secrets expiring in the week `(From, To]`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct WeekCount {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub count: i64,
}

impl SecretSummaryBody {
    fn new(w: &SummaryWindows, s: SecretSummary) -> Self {
        Self {
            at: w.now,
            active: s.active,
            expiring_within7_days: s.expiring_soon,
            expiring_within30_days: s.expiring_this_month,
            expired: s.expired,
            never_used: s.never_used,
            leaked: s.leaked,
            presented_after_rotation: s.presented_after_rotation,
            expirations_per_week: w
                .weeks
                .windows(2)
                .zip(s.expirations_per_week)
                .map(|(week, count)| WeekCount {
                    from: week[0],
                    to: week[1],
                    count,
                })
                .collect(),
        }
    }
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(secret_summary))
}

/// The tenant's secrets at a glance (tenant administrators, members and auditors
/// who may read secrets).
#[utoipa::path(get, path = "/api/v1/Tenants/{tenantId}/SecretSummary", tag = "Secrets",
    params(("tenantId" = String, Path)),
    responses((status = 200, body = SecretSummaryBody),
              (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
              (status = 404, body = ErrorResponse)))]
async fn secret_summary(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
) -> Result<Json<SecretSummaryBody>, ApiError> {
    let (windows, summary) = app.services.secrets.summary(&caller, &at.tenant).await?;
    Ok(Json(SecretSummaryBody::new(&windows, summary)))
}
