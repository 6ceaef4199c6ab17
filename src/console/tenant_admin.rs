//! Manage tenant (platform administrators): rename a tenant, and delete it
//! with everything it holds once the user typed its name. Through
//! `services.tenants`, as the API's `PUT`/`DELETE /api/v1/Tenants/{id}`;
//! names are unique, so a taken name is refused (409) with the form as typed.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::form::FormData;
use super::frame::frame;
use super::respond::{failure, render, see_other};
use super::session::Signed;
use super::view::{Layout, service_message};
use crate::service::{ServiceError, TenantRecord};
use crate::web::AppState;

#[derive(Template)]
#[template(path = "console/tenant_admin.html")]
struct TenantAdminPage {
    layout: Layout,
    tenant_id: String,
    tenant_name: String,
    /// The Name field (as typed, when refused).
    name: String,
    /// `delete` while the Delete tenant dialog is open.
    dialog: &'static str,
    confirmation: String,
    errors: Vec<String>,
    notice: String,
}

#[derive(Deserialize)]
pub struct AdminQuery {
    dialog: Option<String>,
    saved: Option<String>,
}

impl TenantAdminPage {
    fn new(layout: Layout, t: &TenantRecord) -> Self {
        Self {
            layout,
            tenant_id: t.id.to_string(),
            tenant_name: t.name.clone(),
            name: t.name.clone(),
            dialog: "",
            confirmation: String::new(),
            errors: Vec::new(),
            notice: String::new(),
        }
    }
}

/// The tenant framed for a platform administrator; anyone else gets 403.
async fn admin_frame(
    state: &AppState,
    s: &Signed,
    tenant: &str,
) -> Result<(TenantRecord, Layout), Response> {
    let (t, layout) = frame(state, s, tenant, "Manage tenant", "manage").await?;
    if !s.0.user.platform_admin {
        return Err(failure(ServiceError::Forbidden, layout));
    }
    Ok((t, layout))
}

pub async fn page(
    State(state): State<AppState>,
    s: Signed,
    Path(tenant): Path<String>,
    Query(q): Query<AdminQuery>,
) -> Response {
    let (t, layout) = match admin_frame(&state, &s, &tenant).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut page = TenantAdminPage::new(layout, &t);
    if q.dialog.as_deref() == Some("delete") {
        page.dialog = "delete";
    }
    if q.saved.is_some() {
        page.notice = "Renamed.".into();
    }
    render(StatusCode::OK, &page)
}

pub async fn rename(
    State(state): State<AppState>,
    s: Signed,
    Path(tenant): Path<String>,
    form: FormData,
) -> Response {
    let (t, layout) = match admin_frame(&state, &s, &tenant).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let name = form.text("name");
    match state
        .services
        .tenants
        .rename(&s.0.caller(), &t.id, Some(&name))
        .await
    {
        Ok(_) => see_other(&format!("/console/tenants/{}/manage?saved=1", t.id)),
        Err(e @ (ServiceError::DuplicateTenant | ServiceError::Invalid(_))) => {
            let status = match e {
                ServiceError::DuplicateTenant => StatusCode::CONFLICT,
                _ => StatusCode::BAD_REQUEST,
            };
            let mut page = TenantAdminPage::new(layout, &t);
            page.name = name;
            page.errors = vec![service_message(&e)];
            render(status, &page)
        }
        Err(e) => failure(e, layout),
    }
}

/// Deletes the tenant, its clients and their secrets once the user typed its
/// name; the tenants list then says so.
pub async fn delete(
    State(state): State<AppState>,
    s: Signed,
    Path(tenant): Path<String>,
    form: FormData,
) -> Response {
    let (t, layout) = match admin_frame(&state, &s, &tenant).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let typed = form.text("confirmation");
    if typed.trim() != t.name {
        let mut page = TenantAdminPage::new(layout, &t);
        page.dialog = "delete";
        page.confirmation = typed;
        page.errors = vec![
            "The text you typed is not the tenant's name. The tenant was not deleted.".to_owned(),
        ];
        return render(StatusCode::BAD_REQUEST, &page);
    }
    match state.services.tenants.delete(&s.0.caller(), &t.id).await {
        Ok(()) => see_other("/console/tenants?deleted=1"),
        Err(e) => failure(e, layout),
    }
}
