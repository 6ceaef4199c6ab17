//! Clients of a tenant: the list with its Client Type filter (each name a link
//! to Edit Client) and the New client form: name, id, roles, access token
//! lifetime, redirect URIs (hybrid clients) and the first secret, whose value
//! the show-once page shows after the redirect (`reveal.rs`). Edit Client is
//! in `client_edit.rs`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::extract::At;
use super::form::{FormData, ddmmyyyy};
use super::frame::frame;
use super::respond::{failure, render};
use super::reveal::redirect_to_shown;
use super::secret_form::{SecretForm, expiry_from_form, proposed_expiration};
use super::session::Signed;
use super::view::{
    ClientRow, Layout, ROLES, ShownOnce, kind_label, kind_slug, may, parse_kind, service_message,
};
use crate::domain::access::Action;
use crate::domain::client::LIFETIME_DEFAULT;
use crate::domain::ids::{ClientId, ClientKind, TenantId};
use crate::domain::policy::capped;
use crate::service::clients::{ClientPatch, NewClientRequest};
use crate::service::secrets::NewSecretRequest;
use crate::service::{Page, ServiceError};
use crate::web::AppState;
#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(rename = "type")]
    kind: Option<String>,
    /// The id of the client just revoked (the notice says so).
    revoked: Option<String>,
}

#[derive(Template)]
#[template(path = "console/clients.html")]
struct ClientsPage {
    layout: Layout,
    tenant_id: String,
    kind: &'static str,
    kind_label: &'static str,
    clients: Vec<ClientRow>,
    total: u64,
    may_write: bool,
    notice: String,
}

pub async fn list(
    State(state): State<AppState>,
    s: Signed,
    Path(tenant): Path<String>,
    Query(q): Query<ListQuery>,
) -> Response {
    let kind = q
        .kind
        .as_deref()
        .and_then(parse_kind)
        .unwrap_or(ClientKind::ClientCredentials);
    let (t, layout) = match frame(&state, &s, &tenant, "Clients", "clients").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let page = Page {
        skip: 0,
        count: 500,
    };
    match state
        .services
        .clients
        .list(&s.0.caller(), &t.id, kind, page)
        .await
    {
        Ok(found) => render(
            StatusCode::OK,
            &ClientsPage {
                layout,
                tenant_id: t.id.to_string(),
                kind: kind_slug(kind),
                kind_label: kind_label(kind),
                clients: found.items.iter().map(ClientRow::from).collect(),
                total: found.total,
                may_write: may(&s.0, &t.id, Action::WriteClients),
                notice: q
                    .revoked
                    .as_deref()
                    .filter(|id| ClientId::parse(id).is_ok())
                    .map(|id| {
                        format!(
                            "Client {id} revoked, with all its secrets: they no longer get tokens."
                        )
                    })
                    .unwrap_or_default(),
            },
        ),
        Err(e) => failure(e, layout),
    }
}

#[derive(Template)]
#[template(path = "console/client_new.html")]
struct NewClientPage {
    layout: Layout,
    tenant_id: String,
    kind: &'static str,
    id: String,
    name: String,
    /// (role id, label, chosen)
    roles: Vec<(&'static str, &'static str, bool)>,
    lifetime: String,
    redirect_uris: String,
    secret: SecretForm,
    errors: Vec<String>,
}

/// The roles of the form, `chosen` ticked.
fn role_choices(chosen: &[String]) -> Vec<(&'static str, &'static str, bool)> {
    ROLES
        .iter()
        .map(|(id, label)| (*id, *label, chosen.iter().any(|c| c == id)))
        .collect()
}

/// Non-empty lines, trimmed.
fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The first secret's fields, pre-filled from the tenant's default policy under its
/// maximum lifetime, as the Add dialog proposes them (never a refused date).
async fn default_secret_form(state: &AppState, s: &Signed, tenant: &TenantId) -> SecretForm {
    let (policy, max_lifetime) = match state.services.policies.tenant(&s.0.caller(), tenant).await {
        Ok(view) => (view.default, view.max_lifetime),
        Err(_) => (state.services.policies.configured_default(), None),
    };
    let now = state.services.now();
    let (effective, capped) = capped(policy, max_lifetime, now);
    SecretForm::for_add(proposed_expiration(effective, capped, now))
}

pub async fn new_form(
    State(state): State<AppState>,
    s: Signed,
    Path(tenant): Path<String>,
    Query(q): Query<ListQuery>,
) -> Response {
    let kind = q
        .kind
        .as_deref()
        .and_then(parse_kind)
        .unwrap_or(ClientKind::ClientCredentials);
    let (t, layout) = match frame(&state, &s, &tenant, "New client", "clients").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    render(
        StatusCode::OK,
        &NewClientPage {
            layout,
            tenant_id: t.id.to_string(),
            kind: kind_slug(kind),
            id: String::new(),
            name: String::new(),
            roles: role_choices(&[]),
            lifetime: LIFETIME_DEFAULT.to_string(),
            redirect_uris: String::new(),
            secret: default_secret_form(&state, &s, &t.id).await,
            errors: Vec::new(),
        },
    )
}

pub async fn create(
    State(state): State<AppState>,
    s: Signed,
    Path(tenant): Path<String>,
    form: FormData,
) -> Response {
    let kind = parse_kind(&form.text("type")).unwrap_or(ClientKind::ClientCredentials);
    let (t, layout) = match frame(&state, &s, &tenant, "New client", "clients").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let id = form.text("id");
    let name = form.text("name");
    let role_ids = form.all("role");
    let lifetime = form.text("lifetime");
    let redirect_uris = form.text("redirect_uris");
    let mut secret = SecretForm::from_form(&form);
    let mut errors = Vec::new();
    if name.is_empty() {
        errors.push("Name: enter a name for the client.".to_owned());
    }
    let access_token_lifetime = match lifetime.as_str() {
        "" => None,
        text => match text.parse::<u32>() {
            Ok(seconds) => Some(seconds),
            Err(_) => {
                errors.push(
                    "Access token lifetime: enter a whole number of seconds (60 to 86400)."
                        .to_owned(),
                );
                None
            }
        },
    };
    let uris = lines(&redirect_uris);
    if kind != ClientKind::Hybrid && !uris.is_empty() {
        errors.push(
            "Redirect URIs: only hybrid clients have redirect URIs; choose Client Type Hybrid \
             or leave them empty."
                .to_owned(),
        );
    }
    let expiry = match expiry_from_form(&form, None) {
        Ok(e) => Some(e),
        Err(message) => {
            errors.push(message);
            None
        }
    };
    if let (true, Some(expiry)) = (errors.is_empty(), expiry) {
        let req = NewClientRequest {
            id: Some(id.clone()).filter(|i| !i.is_empty()),
            settings: ClientPatch {
                name: Some(name.clone()),
                access_token_lifetime,
                role_ids: Some(role_ids.clone()),
                redirect_uris: (kind == ClientKind::Hybrid).then(|| uris.clone()),
                ..ClientPatch::default()
            },
            first_secret: NewSecretRequest {
                description: Some(secret.description.clone()),
                expiry,
                value: None,
            },
        };
        match state
            .services
            .clients
            .create(&s.0.caller(), &t.id, kind, req)
            .await
        {
            Ok(created) => {
                let at = At {
                    tenant: t.id,
                    kind,
                    client: created.client.id.to_string(),
                };
                let shown = ShownOnce {
                    heading: format!("Client {} created", created.client.settings.name),
                    value: zeroize::Zeroizing::new(created.value.expose().to_owned()),
                    description: created.secret.description.clone(),
                    expiration: created.secret.expiration.map(ddmmyyyy).unwrap_or_default(),
                    expiration_iso: created
                        .secret
                        .expiration
                        .map(|e| e.to_rfc3339())
                        .unwrap_or_default(),
                    continue_href: format!("{}/secrets", at.base()),
                };
                return redirect_to_shown(&state, &s, &t.id, shown).await;
            }
            Err(e @ ServiceError::Forbidden) => return failure(e, layout),
            Err(e) => errors.push(service_message(&e)),
        }
    }
    secret.never = form.checked("never_expires");
    render(
        StatusCode::BAD_REQUEST,
        &NewClientPage {
            layout,
            tenant_id: t.id.to_string(),
            kind: kind_slug(kind),
            id,
            name,
            roles: role_choices(&role_ids),
            lifetime,
            redirect_uris,
            secret,
            errors,
        },
    )
}
