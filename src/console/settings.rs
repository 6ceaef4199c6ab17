//! Expiry settings (SPEC §3): the tenant's Client Secrets settings (default
//! expiry and maximum lifetime) and a client's Secret settings ("Use tenant
//! rules", or its own policy, `NONE` included). Both go through
//! `services.policies`, as the API's SecretPolicy routes do.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::clients::{At, tenant_layout};
use super::form::FormData;
use super::session::Signed;
use super::view::{Layout, may, service_message};
use super::{failure, render, see_other};
use crate::domain::access::Action;
use crate::domain::expiry::{ExpiryPolicy, ExpiryUnit};
use crate::domain::ids::TenantId;
use crate::domain::policy::{ClientPolicy, TenantPolicy, parse_policy};
use crate::service::ServiceError;
use crate::web::AppState;

/// The units a policy may have, as the forms offer them.
pub const UNITS: [(&str, &str); 5] = [
    ("NONE", "Never expires (NONE)"),
    ("DAYS", "Days"),
    ("WEEKS", "Weeks"),
    ("MONTHS", "Months"),
    ("YEARS", "Years"),
];

/// A policy as a form shows it: a unit and a duration.
#[derive(Debug, Clone, Default)]
pub struct PolicyFields {
    pub unit: String,
    pub duration: String,
}

impl PolicyFields {
    pub fn of(p: Option<ExpiryPolicy>) -> Self {
        match p {
            None => Self::default(),
            Some(p) if p.unit() == ExpiryUnit::None => Self {
                unit: "NONE".into(),
                duration: String::new(),
            },
            Some(p) => Self {
                unit: p.unit().as_str().into(),
                duration: p.duration().to_string(),
            },
        }
    }

    fn from_form(form: &FormData, prefix: &str) -> Self {
        Self {
            unit: form.text(&format!("{prefix}_unit")),
            duration: form.text(&format!("{prefix}_duration")),
        }
    }

    /// The policy, or a sentence for the error box.
    fn parse(
        &self,
        unit_label: &'static str,
        duration_label: &'static str,
    ) -> Result<ExpiryPolicy, String> {
        let duration = match self.duration.as_str() {
            "" => None,
            d => Some(
                d.parse::<u32>()
                    .map_err(|_| format!("{duration_label}: enter a whole number"))?,
            ),
        };
        parse_policy(&self.unit, duration, unit_label, duration_label)
            .map_err(|e| format!("{}: {}", e.field, e.reason))
    }
}

/// How a policy reads in a sentence ("1 year", "30 days", "never").
pub fn describe(p: ExpiryPolicy) -> String {
    let n = p.duration();
    let unit = match p.unit() {
        ExpiryUnit::None => return "never expire".into(),
        ExpiryUnit::Days => "day",
        ExpiryUnit::Weeks => "week",
        ExpiryUnit::Months => "month",
        ExpiryUnit::Years => "year",
    };
    format!("expire after {n} {unit}{}", if n == 1 { "" } else { "s" })
}

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
    let configured = describe(state.services.ctx.limits.default_expiry);
    let mut page = TenantSettingsPage {
        layout,
        tenant_id: t.id.to_string(),
        may_write: may(&s.0, &t.id, Action::WriteSecrets),
        use_configured: view.configured_default,
        configured,
        default: PolicyFields::of(Some(view.default)),
        limit: view.max_lifetime.is_some(),
        max: PolicyFields::of(view.max_lifetime),
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
            let policy = TenantPolicy {
                default,
                max_lifetime,
            };
            state
                .services
                .policies
                .set_tenant(&s.0.caller(), &tenant_id, policy)
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

/// The client's Secret settings card on the Secrets tab.
#[derive(Debug, Clone, Default)]
pub struct ClientPolicyCard {
    pub use_tenant_rules: bool,
    pub own: PolicyFields,
    /// "New and renewed secrets expire after 1 year."
    pub effective: String,
    pub errors: Vec<String>,
    pub notice: String,
}

/// The card for `at`'s current policy, and the effective policy itself.
pub async fn client_card(
    state: &AppState,
    s: &Signed,
    at: &At,
) -> Result<(ClientPolicyCard, ExpiryPolicy), ServiceError> {
    let view = state
        .services
        .policies
        .client(&s.0.caller(), at.secrets_ref())
        .await?;
    let card = ClientPolicyCard {
        use_tenant_rules: view.policy.uses_tenant_rules(),
        own: PolicyFields::of(view.policy.own),
        effective: format!(
            "New and renewed secrets of this client {}.",
            describe(view.effective)
        ),
        errors: Vec::new(),
        notice: String::new(),
    };
    Ok((card, view.effective))
}

/// Saves the client's Secret settings; on bad input, the card with the error.
pub async fn save_client_policy(
    state: &AppState,
    s: &Signed,
    at: &At,
    form: &FormData,
) -> Result<(), Result<ClientPolicyCard, ServiceError>> {
    let use_tenant = form.checked("use_tenant_rules");
    let fields = PolicyFields::from_form(form, "own");
    let own = if use_tenant {
        Ok(None)
    } else {
        fields.parse("Unit", "Duration").map(Some)
    };
    let failed = |errors: Vec<String>| ClientPolicyCard {
        use_tenant_rules: use_tenant,
        own: fields.clone(),
        effective: String::new(),
        errors,
        notice: String::new(),
    };
    let own = own.map_err(|message| Ok(failed(vec![message])))?;
    state
        .services
        .policies
        .set_client(&s.0.caller(), at.secrets_ref(), ClientPolicy { own })
        .await
        .map(|_| ())
        .map_err(|e| match e {
            ServiceError::Invalid(_) => Ok(failed(vec![service_message(&e)])),
            e => Err(e),
        })
}
