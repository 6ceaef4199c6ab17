//! "Which secret is this?": the tenant's lookup form. The value is posted,
//! checked through `services.lookups` (the use case of the API's SecretLookup)
//! and never written back into the page: the answer names the secret only.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::form::FormData;
use super::frame::frame;
use super::respond::{failure, render};
use super::session::Signed;
use super::view::{Layout, SecretRow, kind_label, kind_slug, service_message};
use crate::domain::ids::ClientKind;
use crate::domain::secret_value::SecretValue;
use crate::service::ServiceError;
use crate::service::secret_lookup::{LookupRequest, LookupScope, NamedClient};
use crate::web::AppState;

/// The secret a looked-up value belongs to.
pub struct Found {
    pub client: String,
    pub client_href: String,
    pub kind: &'static str,
    pub replaced: bool,
    pub secret: SecretRow,
}

#[derive(Template)]
#[template(path = "console/lookup.html")]
struct LookupPage {
    layout: Layout,
    tenant_id: String,
    /// Only the client fields are kept after a post, never the value.
    client_kind: String,
    client_id: String,
    /// `None` before a lookup; `Some(None)` when nothing matched.
    result: Option<Option<Found>>,
    errors: Vec<String>,
}

pub async fn form(
    State(state): State<AppState>,
    s: Signed,
    Path(tenant): Path<String>,
) -> Response {
    let (t, layout) = match frame(&state, &s, &tenant, "Which secret is this?", "lookup").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    render(
        StatusCode::OK,
        &LookupPage {
            layout,
            tenant_id: t.id.to_string(),
            client_kind: String::new(),
            client_id: String::new(),
            result: None,
            errors: Vec::new(),
        },
    )
}

pub async fn lookup(
    State(state): State<AppState>,
    s: Signed,
    Path(tenant): Path<String>,
    form: FormData,
) -> Response {
    let (t, layout) = match frame(&state, &s, &tenant, "Which secret is this?", "lookup").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let value = zeroize::Zeroizing::new(form.text("value"));
    let client_kind = form.text("client_kind");
    let client_id = form.text("client_id").trim().to_owned();
    let mut page = LookupPage {
        layout,
        tenant_id: t.id.to_string(),
        client_kind: client_kind.clone(),
        client_id: client_id.clone(),
        result: None,
        errors: Vec::new(),
    };
    if value.is_empty() {
        page.errors
            .push("Value: paste the value to look up.".into());
        return render(StatusCode::BAD_REQUEST, &page);
    }
    let kind = match client_kind.as_str() {
        "client-credentials" => Some(ClientKind::ClientCredentials),
        "hybrid" => Some(ClientKind::Hybrid),
        _ => None,
    };
    let client = match (kind, client_id.is_empty()) {
        (Some(kind), false) => Some(NamedClient {
            tenant: None,
            kind,
            id: client_id,
        }),
        _ => None,
    };
    let req = LookupRequest {
        value: SecretValue::presented(&value),
        client,
    };
    let found = state
        .services
        .lookups
        .lookup(&s.0.caller(), LookupScope::Tenant(&t.id), req)
        .await;
    let now = state.services.now();
    match found {
        Ok(found) => {
            page.result = Some(found.map(|m| Found {
                client_href: format!(
                    "/console/tenants/{}/{}/{}/secrets",
                    t.id,
                    kind_slug(m.client_kind),
                    m.client_id
                ),
                client: m.client_id,
                kind: kind_label(m.client_kind),
                replaced: m.previous,
                secret: SecretRow::new(&m.secret, now),
            }));
            render(StatusCode::OK, &page)
        }
        Err(e @ (ServiceError::Forbidden | ServiceError::TenantNotFound)) => {
            failure(e, page.layout)
        }
        Err(e) => {
            let status = match e {
                ServiceError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::BAD_REQUEST,
            };
            page.errors.push(service_message(&e));
            render(status, &page)
        }
    }
}
