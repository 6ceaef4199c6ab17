//! The tenant-wide inventory of secrets: every
//! secret of every client, filtered to find the forgotten ones (never used,
//! unused for N days, expired, expiring within N days), over
//! `services.secrets.inventory`, the use case of the API's tenant Secrets list.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::frame::frame;
use super::respond::{failure, render};
use super::session::Signed;
use super::view::{Layout, SecretRow, kind_label, kind_slug};
use crate::service::secrets::SecretQuery;
use crate::service::{Page, SecretStatusFilter};
use crate::web::AppState;

const PAGE: u32 = 100;

pub struct InventoryRow {
    pub client: String,
    pub client_href: String,
    pub kind: &'static str,
    pub secret: SecretRow,
}

#[derive(Template)]
#[template(path = "console/inventory.html")]
struct InventoryPage {
    layout: Layout,
    tenant_id: String,
    rows: Vec<InventoryRow>,
    total: u64,
    status: String,
    never_used: bool,
    unused_for: String,
    expiring_within: String,
    refused_within: String,
    errors: Vec<String>,
}

#[derive(Deserialize)]
pub struct InventoryQuery {
    status: Option<String>,
    never_used: Option<String>,
    unused_for: Option<String>,
    expiring_within: Option<String>,
    refused_within: Option<String>,
}

/// A number of days from a filter field: empty is none, anything else must be 0–36500.
fn days(text: &str, label: &str, errors: &mut Vec<String>) -> Option<u32> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    match text.parse::<u32>() {
        Ok(n) if n <= 36_500 => Some(n),
        _ => {
            errors.push(format!("{label}: enter a number of days (0 to 36500)."));
            None
        }
    }
}

pub async fn inventory(
    State(state): State<AppState>,
    s: Signed,
    Path(tenant): Path<String>,
    Query(q): Query<InventoryQuery>,
) -> Response {
    let (t, layout) = match frame(&state, &s, &tenant, "Inventory", "inventory").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut errors = Vec::new();
    let status = q.status.unwrap_or_default();
    let unused_for = q.unused_for.unwrap_or_default();
    let expiring_within = q.expiring_within.unwrap_or_default();
    let never_used = q.never_used.is_some();
    let refused_within = q.refused_within.unwrap_or_default();
    let query = SecretQuery {
        status: match status.as_str() {
            "active" => Some(SecretStatusFilter::Active),
            "expired" => Some(SecretStatusFilter::Expired),
            "leaked" => Some(SecretStatusFilter::Leaked),
            _ => None,
        },
        never_used,
        unused_for_days: days(&unused_for, "Unused for", &mut errors),
        expiring_within_days: days(&expiring_within, "Expiring within", &mut errors),
        text: None,
        refused_since: days(&refused_within, "Old value presented within", &mut errors)
            .map(|n| state.services.now() - chrono::Duration::days(i64::from(n))),
    };
    let page = Page {
        skip: 0,
        count: PAGE,
    };
    let found = match state
        .services
        .secrets
        .inventory(&s.0.caller(), &t.id, query, page)
        .await
    {
        Ok(found) => found,
        Err(e) => return failure(e, layout),
    };
    let now = state.services.now();
    let rows = found
        .items
        .iter()
        .map(|item| InventoryRow {
            client_href: format!(
                "/console/tenants/{}/{}/{}/secrets",
                t.id,
                kind_slug(item.client_kind),
                item.client_id
            ),
            client: item.client_id.clone(),
            kind: kind_label(item.client_kind),
            secret: SecretRow::new(&item.secret, now),
        })
        .collect();
    let status_code = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    render(
        status_code,
        &InventoryPage {
            layout,
            tenant_id: t.id.to_string(),
            rows,
            total: found.total,
            status,
            never_used,
            unused_for,
            expiring_within,
            refused_within,
            errors,
        },
    )
}
