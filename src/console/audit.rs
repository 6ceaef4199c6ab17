//! A tenant's audit trail, over `services.audit`, the use case the
//! API's AuditEvents calls: filters by client and action, pages of 50.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::frame::frame;
use super::respond::{failure, render};
use super::session::Signed;
use super::view::{Layout, kind_slug};
use crate::domain::audit::AuditFilter;
use crate::service::Page;
use crate::web::AppState;

const AUDIT_PAGE: u32 = 50;

pub struct AuditRow {
    pub when: String,
    pub who: String,
    pub action: String,
    pub client: String,
    pub client_href: String,
    pub secret: String,
    pub outcome: String,
    pub source: String,
    pub operation_id: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    layout: Layout,
    tenant_id: String,
    rows: Vec<AuditRow>,
    total: u64,
    client: String,
    action: String,
    older_href: String,
    newer_href: String,
}

#[derive(Deserialize)]
pub struct AuditQuery {
    client: Option<String>,
    action: Option<String>,
    skip: Option<u32>,
}

pub async fn audit(
    State(state): State<AppState>,
    s: Signed,
    Path(tenant): Path<String>,
    Query(q): Query<AuditQuery>,
) -> Response {
    let (t, layout) = match frame(&state, &s, &tenant, "Audit trail", "audit").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let client = q.client.unwrap_or_default().trim().to_owned();
    let action = q.action.unwrap_or_default().trim().to_owned();
    let filter = AuditFilter {
        client_id: Some(client.clone()).filter(|c| !c.is_empty()),
        action: Some(action.clone()).filter(|a| !a.is_empty()),
        from: None,
        to: None,
    };
    let skip = q.skip.unwrap_or(0);
    let page = Page {
        skip,
        count: AUDIT_PAGE,
    };
    let found = match state
        .services
        .audit
        .list(&s.0.caller(), &t.id, &filter, page)
        .await
    {
        Ok(found) => found,
        Err(e) => return failure(e, layout),
    };
    let query = |skip: u32| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("client", &client)
            .append_pair("action", &action)
            .append_pair("skip", &skip.to_string());
        format!("/console/tenants/{}/audit?{}", t.id, q.finish())
    };
    let shown = u64::from(skip) + found.items.len() as u64;
    let rows = found
        .items
        .iter()
        .map(|e| AuditRow {
            when: e.at.format("%d/%m/%Y %H:%M:%S UTC").to_string(),
            who: format!("{} {}", e.actor_type, e.actor),
            action: e.action.clone(),
            client: e.client_id.clone().unwrap_or_default(),
            client_href: match (e.client_kind, &e.client_id) {
                (Some(kind), Some(id)) => {
                    format!("/console/tenants/{}/{}/{id}", t.id, kind_slug(kind))
                }
                _ => String::new(),
            },
            secret: e.secret_id.map(|s| s.to_string()).unwrap_or_default(),
            outcome: match (&e.reason, e.count) {
                (Some(reason), 1) => format!("{} ({reason})", e.outcome.as_str()),
                // A folded refusal: identical attempts of one minute.
                (Some(reason), n) => format!("{} ({reason}), {n} times", e.outcome.as_str()),
                (None, _) => e.outcome.as_str().to_owned(),
            },
            source: e.source.clone().unwrap_or_default(),
            operation_id: e.operation_id.map(|o| o.to_string()).unwrap_or_default(),
        })
        .collect();
    render(
        StatusCode::OK,
        &AuditPage {
            layout,
            tenant_id: t.id.to_string(),
            rows,
            total: found.total,
            older_href: if shown < found.total {
                query(skip + AUDIT_PAGE)
            } else {
                String::new()
            },
            newer_href: if skip > 0 {
                query(skip.saturating_sub(AUDIT_PAGE))
            } else {
                String::new()
            },
            client,
            action,
        },
    )
}
