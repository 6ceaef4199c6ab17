//! The frame of a page inside a tenant: the tenant looked up for the signed-in
//! user and the [`Layout`] framed in it (or the failure page), the client a
//! client page names, and the show-once page that frames a new secret value.

use askama::Template;
use axum::response::Response;

use super::extract::At;
use super::respond::failure;
use super::session::Signed;
use super::view::{Layout, ShownOnce};
use crate::domain::ids::TenantId;
use crate::service::{ClientRecord, ServiceError, TenantRecord};
use crate::web::AppState;

/// The show-once dialog as a page of its own (after a create or renew).
#[derive(Template)]
#[template(path = "console/shown.html")]
pub struct ShownPage {
    pub layout: Layout,
    pub shown: ShownOnce,
}

/// The tenant and a layout framed in it; fails as the services do.
pub async fn tenant_layout(
    state: &AppState,
    s: &Signed,
    tenant: &TenantId,
    title: &str,
) -> Result<(TenantRecord, Layout), (ServiceError, Layout)> {
    let layout = Layout::new(&s.0, title, "clients");
    match state.services.tenants.get(&s.0.caller(), tenant).await {
        Ok(t) => {
            let layout = layout.in_tenant(&t.id, &t.name);
            Ok((t, layout))
        }
        Err(e) => Err((e, layout)),
    }
}

/// The tenant and its framed layout for a tenant-level page, or the failure page.
pub async fn frame(
    state: &AppState,
    s: &Signed,
    tenant: &str,
    title: &str,
    section: &'static str,
) -> Result<(TenantRecord, Layout), Response> {
    let Some(id) = TenantId::parse(tenant) else {
        return Err(failure(
            ServiceError::TenantNotFound,
            Layout::new(&s.0, title, section),
        ));
    };
    match tenant_layout(state, s, &id, title).await {
        Ok((t, mut layout)) => {
            layout.section = section;
            Ok((t, layout))
        }
        Err((e, mut layout)) => {
            layout.section = section;
            Err(failure(e, layout))
        }
    }
}

/// The tenant frame and the client a path names.
pub async fn load(
    state: &AppState,
    s: &Signed,
    at: &At,
    title: &str,
) -> Result<(Layout, ClientRecord), Response> {
    let (_, layout) = match tenant_layout(state, s, &at.tenant, title).await {
        Ok(x) => x,
        Err((e, layout)) => return Err(failure(e, layout)),
    };
    match state
        .services
        .clients
        .get(&s.0.caller(), &at.tenant, at.kind, &at.client)
        .await
    {
        Ok(c) => Ok((layout, c)),
        Err(e) => Err(failure(e, layout)),
    }
}
