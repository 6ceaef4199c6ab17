//! Clients of a tenant (seed 001): the list with its Client Type filter and the
//! create form (whose first secret is shown once); the path and tenant helpers
//! the client pages share. Edit Client is in `client_edit.rs`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::form::{FormData, ddmmyyyy};
use super::pages::ShownPage;
use super::secret_form::{SecretForm, expiry_from_form};
use super::session::Signed;
use super::view::{
    ClientRow, Layout, ShownOnce, kind_label, kind_slug, may, parse_kind, service_message,
};
use super::{failure, render, see_other};
use crate::domain::access::Action;
use crate::domain::ids::{ClientKind, TenantId};
use crate::service::ServiceError;
use crate::service::clients::{ClientPatch, NewClientRequest};
use crate::service::secrets::NewSecretRequest;
use crate::storage::{ClientRecord, Page, TenantRecord};
use crate::web::AppState;

/// A path's tenant, client kind and client id, checked.
pub struct At {
    pub tenant: TenantId,
    pub kind: ClientKind,
    pub client: String,
}

impl At {
    pub fn parse(tenant: &str, kind: &str, client: &str) -> Result<Self, ServiceError> {
        let tenant = TenantId::parse(tenant).ok_or(ServiceError::TenantNotFound)?;
        let kind = parse_kind(kind).ok_or(ServiceError::ClientNotFound)?;
        Ok(Self {
            tenant,
            kind,
            client: client.to_owned(),
        })
    }

    pub fn base(&self) -> String {
        format!(
            "/console/tenants/{}/{}/{}",
            self.tenant,
            kind_slug(self.kind),
            self.client
        )
    }

    pub fn secrets_ref(&self) -> crate::service::secrets::ClientRef<'_> {
        crate::service::secrets::ClientRef {
            tenant: &self.tenant,
            kind: self.kind,
            client: &self.client,
        }
    }
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

pub async fn tenant_home(Path(tenant): Path<String>) -> Response {
    see_other(&format!("/console/tenants/{tenant}/clients"))
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(rename = "type")]
    kind: Option<String>,
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
    let Some(tenant) = TenantId::parse(&tenant) else {
        return failure(
            ServiceError::TenantNotFound,
            Layout::new(&s.0, "Clients", "clients"),
        );
    };
    let (t, layout) = match tenant_layout(&state, &s, &tenant, "Clients").await {
        Ok(x) => x,
        Err((e, layout)) => return failure(e, layout),
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
    secret: SecretForm,
    errors: Vec<String>,
}

/// The first secret's fields, pre-filled from the tenant's default policy.
async fn default_secret_form(state: &AppState, s: &Signed, tenant: &TenantId) -> SecretForm {
    let policy = match state.services.policies.tenant(&s.0.caller(), tenant).await {
        Ok(view) => view.default,
        Err(_) => state.services.ctx.limits.default_expiry,
    };
    let now = state.services.now();
    SecretForm::for_add(policy.expiration_from(now).map(ddmmyyyy))
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
    let Some(tenant) = TenantId::parse(&tenant) else {
        return failure(
            ServiceError::TenantNotFound,
            Layout::new(&s.0, "New client", "clients"),
        );
    };
    let (t, layout) = match tenant_layout(&state, &s, &tenant, "New client").await {
        Ok(x) => x,
        Err((e, layout)) => return failure(e, layout),
    };
    render(
        StatusCode::OK,
        &NewClientPage {
            layout,
            tenant_id: t.id.to_string(),
            kind: kind_slug(kind),
            id: String::new(),
            name: String::new(),
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
    let Some(tenant) = TenantId::parse(&tenant) else {
        return failure(
            ServiceError::TenantNotFound,
            Layout::new(&s.0, "New client", "clients"),
        );
    };
    let (t, layout) = match tenant_layout(&state, &s, &tenant, "New client").await {
        Ok(x) => x,
        Err((e, layout)) => return failure(e, layout),
    };
    let id = form.text("id");
    let name = form.text("name");
    let mut secret = SecretForm::from_form(&form);
    let mut errors = Vec::new();
    if name.is_empty() {
        errors.push("Name: enter a name for the client.".to_owned());
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
                let layout =
                    Layout::new(&s.0, "Client created", "clients").in_tenant(&t.id, &t.name);
                return render(StatusCode::CREATED, &ShownPage { layout, shown });
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
            secret,
            errors,
        },
    )
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
