//! Expiry settings: the tenant's Secret expiry page (default expiry, maximum
//! lifetime and whether clients may renew their own secrets), through
//! `services.policies` as the API's SecretPolicy routes. A client's Secret
//! settings card is `policy_form.rs`.
//!
//! Fields of an inactive choice (the own rule while the server's default is
//! chosen, the maximum while there is none) are disabled by the page's script,
//! so a browser does not send them: the save ignores them whether sent or not,
//! and a refused form shows the stored values in their place.

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
use super::view::{Layout, first_field_in_error, may, service_message};
use crate::domain::access::Action;
use crate::domain::ids::TenantId;
use crate::domain::policy::{TenantPolicy, TenantPolicyChange};
use crate::service::ServiceError;
use crate::web::AppState;

/// The page's name, in the sidebar and its title: what it sets.
const TITLE: &str = "Secret expiry";

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

impl TenantSettingsPage {
    /// Which field of the `prefix` rule (`unit`, `duration`) the first error is
    /// about, to take the focus; empty when none.
    fn focus(&self, prefix: &str) -> &'static str {
        let fields: &[(&str, &'static str)] = match prefix {
            "default" => &[
                ("Default expiry duration", "duration"),
                ("Default expiry", "unit"),
                ("DefaultExpiry", "unit"),
            ],
            _ => &[
                ("Maximum lifetime duration", "duration"),
                ("Maximum lifetime", "unit"),
                ("MaximumLifetime", "unit"),
            ],
        };
        first_field_in_error(&self.errors, fields).unwrap_or_default()
    }
}

/// The rule's fields as submitted; a field not sent (disabled) keeps `stored`.
fn submitted(form: &FormData, prefix: &str, stored: &PolicyFields) -> PolicyFields {
    let typed = PolicyFields::from_form(form, prefix);
    if form.get(&format!("{prefix}_unit")).is_none() {
        stored.clone()
    } else {
        typed
    }
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
            Layout::new(&s.0, TITLE, "settings"),
        );
    };
    let (t, layout) = match tenant_layout(state, s, &tenant, TITLE).await {
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
            page.default = submitted(form, "default", &page.default);
            page.limit = form.checked("limit");
            page.max = submitted(form, "max", &page.max);
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
            Layout::new(&s.0, TITLE, "settings"),
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
        Err(Err(e)) => failure(e, Layout::new(&s.0, TITLE, "settings")),
        Err(Ok(errors)) => {
            tenant_page(&state, &s, &tenant, Some((&form, errors)), String::new()).await
        }
    }
}
