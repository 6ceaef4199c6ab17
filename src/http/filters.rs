//! Query-string filters of the secret lists and the audit trail. Unknown keys
//! are ignored (as `skip`/`count` are read by [`super::extract::Paging`]);
//! a known key with a bad value is a 400 naming it.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use chrono::{DateTime, Utc};

use crate::domain::audit::AuditFilter;
use crate::domain::audit_actions::AuditAction;
use crate::service::secrets::SecretQuery;
use crate::storage::SecretStatusFilter;
use crate::web::error::ApiError;

/// The most days a filter may count (about 100 years).
const MAX_DAYS: u32 = 36_500;

fn pairs(parts: &Parts) -> Result<Vec<(String, String)>, ApiError> {
    let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
        .map_err(|e| ApiError::invalid("query", e.body_text()))?;
    Ok(pairs)
}

/// `status=active|expired|leaked`, `neverUsed=true`, `unusedForDays=N`,
/// `expiringWithinDays=N`, `refusedSince=<RFC 3339>`, `query=text` (in the
/// description).
pub struct SecretFilters(pub SecretQuery);

impl<S: Send + Sync> FromRequestParts<S> for SecretFilters {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let mut q = SecretQuery::default();
        for (key, value) in pairs(parts)? {
            let value = value.trim();
            match key.to_ascii_lowercase().as_str() {
                "status" => {
                    q.status = Some(match value.to_ascii_lowercase().as_str() {
                        "active" => SecretStatusFilter::Active,
                        "expired" => SecretStatusFilter::Expired,
                        "leaked" => SecretStatusFilter::Leaked,
                        _ => {
                            return Err(ApiError::invalid(
                                "status",
                                "must be active, expired or leaked",
                            ));
                        }
                    })
                }
                "neverused" => q.never_used = boolean("neverUsed", value)?,
                "unusedfordays" => q.unused_for_days = Some(days("unusedForDays", value)?),
                "refusedsince" => q.refused_since = Some(instant("refusedSince", value)?),
                "expiringwithindays" => {
                    q.expiring_within_days = Some(days("expiringWithinDays", value)?)
                }
                "query" if !value.is_empty() => {
                    if value.chars().count() > 256 {
                        return Err(ApiError::invalid("query", "at most 256 characters"));
                    }
                    q.text = Some(value.to_owned());
                }
                _ => {}
            }
        }
        Ok(Self(q))
    }
}

/// `clientId=…`, `action=…`, `from=<RFC 3339>`, `to=<RFC 3339>` (exclusive).
pub struct AuditFilters(pub AuditFilter);

impl<S: Send + Sync> FromRequestParts<S> for AuditFilters {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let mut f = AuditFilter::default();
        for (key, value) in pairs(parts)? {
            let value = value.trim();
            match key.to_ascii_lowercase().as_str() {
                "clientid" if !value.is_empty() => f.client_id = Some(value.to_owned()),
                "action" if !value.is_empty() => f.action = Some(action(value)?),
                "from" => f.from = Some(instant("from", value)?),
                "to" => f.to = Some(instant("to", value)?),
                _ => {}
            }
        }
        if let (Some(from), Some(to)) = (f.from, f.to)
            && to < from
        {
            return Err(ApiError::invalid("to", "must not be before from"));
        }
        Ok(Self(f))
    }
}

/// An audited action's name (any case), as entries store it; an unknown one is a
/// 400 listing every action, so a typo is not an empty page.
fn action(value: &str) -> Result<String, ApiError> {
    AuditAction::parse(value)
        .map(|a| a.as_str().to_owned())
        .ok_or_else(|| {
            ApiError::invalid(
                "action",
                format!("is not an audited action; one of: {}", AuditAction::names()),
            )
        })
}

fn boolean(field: &'static str, value: &str) -> Result<bool, ApiError> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(ApiError::invalid(field, "must be true or false")),
    }
}

fn days(field: &'static str, value: &str) -> Result<u32, ApiError> {
    value
        .parse::<u32>()
        .ok()
        .filter(|n| *n <= MAX_DAYS)
        .ok_or_else(|| {
            ApiError::invalid(
                field,
                format!("must be a whole number of days from 0 to {MAX_DAYS}"),
            )
        })
}

fn instant(field: &'static str, value: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            ApiError::invalid(
                field,
                "must be an RFC 3339 date-time, e.g. 2026-01-31T00:00:00Z",
            )
        })
}
