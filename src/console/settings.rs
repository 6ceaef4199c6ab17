//! Expiry settings: the tenant's Client Secrets settings page (default
//! expiry, maximum lifetime and whether clients may renew their own secrets),
//! through `services.policies` as the API's SecretPolicy routes. A client's Secret settings card is `policy_form.rs`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::form::FormData;
use super::frame::tenant_layout;
use super::policy_form::{PolicyFields, UNITS, describe};
use super::respond::{failure, render, see_other};
use super::session::Signed;
use super::view::{Layout, may, service_message};
use crate::domain::access::Action;
use crate::domain::ids::TenantId;
use crate::domain::policy::{TenantPolicy, TenantPolicyChange};
use crate::service::ServiceError;
use crate::web::AppState;

#[derive(Template)]
#[template(path = "console/tenant_settings.html")]
struct TenantSettingsPage {
    layout: Layout,
    tenant_id: String,
    may_write: bool,
    use_configured: bool,
    configured: String,
    default: PolicyFields,
    limit: bool,
    max: PolicyFields,
    allow_self_rotation: bool,
    units: [(&'static str, &'static str); 5],
    errors: Vec<String>,
    notice: String,
}

#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

async fn tenant_page(
    state: &AppState,
    s: &Signed,
    tenant: &str,
    form: Option<(&FormData, Vec<String>)>,
    notice: String,
) -> Response {
    let Some(tenant) = TenantId::parse(tenant) else {
        return failure(
            ServiceError::TenantNotFound,
            Layout::new(&s.0, "Client Secrets", "settings"),
        );
    };
    let (t, layout) = match tenant_layout(state, s, &tenant, "Client Secrets").await {
        Ok(x) => x,
        Err((e, layout)) => return failure(e, layout),
    };
    let mut layout = layout;
    layout.section = "settings";
    let view = match state.services.policies.tenant(&s.0.caller(), &t.id).await {
        Ok(v) => v,
        Err(e) => return failure(e, layout),
    };
    let configured = describe(state.services.policies.configured_default());
    let mut page = TenantSettingsPage {
        layout,
        tenant_id: t.id.to_string(),
        may_write: may(&s.0, &t.id, Action::WriteSecrets),
        use_configured: view.configured_default,
        configured,
        default: PolicyFields::of(Some(view.default)),
        limit: view.max_lifetime.is_some(),
        max: PolicyFields::of(view.max_lifetime),
        allow_self_rotation: view.allow_self_rotation,
        units: UNITS,
        errors: Vec::new(),
        notice,
    };
    let status = match form {
        Some((form, errors)) => {
            page.use_configured = form.text("default_mode") == "configured";
            page.default = PolicyFields::from_form(form, "default");
            page.limit = form.checked("limit");
            page.max = PolicyFields::from_form(form, "max");
            page.allow_self_rotation = form.checked("allow_self_rotation");
            page.errors = errors;
            StatusCode::BAD_REQUEST
        }
        None => StatusCode::OK,
    };
    render(status, &page)
}

pub async fn tenant_settings(
    State(state): State<AppState>,
    s: Signed,
    Path(tenant): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Response {
    let notice = if q.saved.is_some() {
        "Saved. New and renewed secrets follow these rules; existing secrets keep their expiration."
    } else {
        ""
    };
    tenant_page(&state, &s, &tenant, None, notice.into()).await
}

pub async fn save_tenant_settings(
    State(state): State<AppState>,
    s: Signed,
    Path(tenant): Path<String>,
    form: FormData,
) -> Response {
    let Some(tenant_id) = TenantId::parse(&tenant) else {
        return failure(
            ServiceError::TenantNotFound,
            Layout::new(&s.0, "Client Secrets", "settings"),
        );
    };
    let default = if form.text("default_mode") == "configured" {
        Ok(None)
    } else {
        PolicyFields::from_form(&form, "default")
            .parse("Default expiry", "Default expiry duration")
            .map(Some)
    };
    let max = if form.checked("limit") {
        PolicyFields::from_form(&form, "max")
            .parse("Maximum lifetime", "Maximum lifetime duration")
            .map(Some)
    } else {
        Ok(None)
    };
    let result = match (default, max) {
        (Ok(default), Ok(max_lifetime)) => {
            let change = TenantPolicyChange::whole(TenantPolicy {
                default,
                max_lifetime,
                allow_self_rotation: form.checked("allow_self_rotation"),
            });
            state
                .services
                .policies
                .set_tenant(&s.0.caller(), &tenant_id, change)
                .await
                .map(|_| ())
                .map_err(|e| match e {
                    e @ (ServiceError::Forbidden | ServiceError::TenantNotFound) => Err(e),
                    e => Ok(vec![service_message(&e)]),
                })
        }
        (d, m) => Err(Ok([d.err(), m.err()].into_iter().flatten().collect())),
    };
    match result {
        Ok(()) => see_other(&format!("/console/tenants/{tenant_id}/settings?saved=1")),
        Err(Err(e)) => failure(e, Layout::new(&s.0, "Client Secrets", "settings")),
        Err(Ok(errors)) => {
            tenant_page(&state, &s, &tenant, Some((&form, errors)), String::new()).await
        }
    }
}
