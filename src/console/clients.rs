//! Clients of a tenant (seed 001): the list with its Client Type filter, the
//! create form (whose first secret is shown once), and Edit Client with its
//! Details tab (Save, Remove Client with confirmation).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::form::{FormData, ddmmyyyy};
use super::pages::ShownPage;
use super::secrets::{SecretForm, expiry_from_form};
use super::session::Signed;
use super::view::{
    ClientRow, Layout, ROLES, SecretRow, ShownOnce, kind_label, kind_slug, may, parse_kind,
    service_message,
};
use super::{failure, render, see_other};
use crate::domain::access::Action;
use crate::domain::ids::{ClientKind, TenantId};
use crate::http::AppState;
use crate::service::ServiceError;
use crate::service::clients::{ClientPatch, NewClientRequest};
use crate::service::secrets::NewSecretRequest;
use crate::storage::{ClientRecord, Page, TenantRecord};

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

fn default_secret_form(state: &AppState) -> SecretForm {
    let policy = state.services.ctx.limits.default_expiry;
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
            secret: default_secret_form(&state),
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

/// A client's settings as the Details tab edits them.
pub struct Details {
    pub name: String,
    pub enabled: bool,
    pub lifetime: String,
    pub tags: String,
    /// (role id, label, held)
    pub roles: Vec<(&'static str, &'static str, bool)>,
    pub hybrid: bool,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub client_uri: String,
    pub logo_uri: String,
    pub allow_offline_access: bool,
    pub allow_access_tokens_via_browser: bool,
}

impl Details {
    pub fn of(c: &ClientRecord) -> Self {
        let s = &c.settings;
        let h = s.hybrid.clone().unwrap_or_default();
        Self {
            name: s.name.clone(),
            enabled: s.enabled,
            lifetime: s.access_token_lifetime.to_string(),
            tags: s.tags.join(", "),
            roles: ROLES
                .iter()
                .map(|(id, label)| (*id, *label, s.role_ids.iter().any(|r| r == id)))
                .collect(),
            hybrid: s.hybrid.is_some(),
            redirect_uris: h.redirect_uris.join("\n"),
            post_logout_redirect_uris: h.post_logout_redirect_uris.join("\n"),
            client_uri: h.client_uri.unwrap_or_default(),
            logo_uri: h.logo_uri.unwrap_or_default(),
            allow_offline_access: h.allow_offline_access,
            allow_access_tokens_via_browser: h.allow_access_tokens_via_browser,
        }
    }

    /// The form as typed, so a refused Save shows what the user entered.
    fn from_form(form: &FormData, hybrid: bool) -> Self {
        let roles = form.all("role");
        Self {
            name: form.text("name"),
            enabled: form.checked("enabled"),
            lifetime: form.text("lifetime"),
            tags: form.text("tags"),
            roles: ROLES
                .iter()
                .map(|(id, label)| (*id, *label, roles.iter().any(|r| r == id)))
                .collect(),
            hybrid,
            redirect_uris: form.text("redirect_uris"),
            post_logout_redirect_uris: form.text("post_logout_redirect_uris"),
            client_uri: form.text("client_uri"),
            logo_uri: form.text("logo_uri"),
            allow_offline_access: form.checked("allow_offline_access"),
            allow_access_tokens_via_browser: form.checked("allow_access_tokens_via_browser"),
        }
    }

    fn patch(&self) -> Result<ClientPatch, String> {
        let lifetime: u32 = self.lifetime.parse().map_err(|_| {
            "Access token lifetime: enter a whole number of seconds (60 to 86400).".to_owned()
        })?;
        let lines = |text: &str| -> Vec<String> {
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let hybrid = self.hybrid;
        Ok(ClientPatch {
            name: Some(self.name.clone()),
            enabled: Some(self.enabled),
            access_token_lifetime: Some(lifetime),
            tags: Some(
                self.tags
                    .split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            role_ids: Some(
                self.roles
                    .iter()
                    .filter(|(_, _, held)| *held)
                    .map(|(id, _, _)| (*id).to_owned())
                    .collect(),
            ),
            redirect_uris: hybrid.then(|| lines(&self.redirect_uris)),
            post_logout_redirect_uris: hybrid.then(|| lines(&self.post_logout_redirect_uris)),
            client_uri: hybrid.then(|| self.client_uri.clone()),
            logo_uri: hybrid.then(|| self.logo_uri.clone()),
            allow_offline_access: hybrid.then_some(self.allow_offline_access),
            allow_access_tokens_via_browser: hybrid.then_some(self.allow_access_tokens_via_browser),
        })
    }
}

/// Edit Client: both tabs render this page.
#[derive(Template)]
#[template(path = "console/client.html")]
pub struct ClientPage {
    pub layout: Layout,
    pub base: String,
    pub list_href: String,
    pub client_id: String,
    pub kind_label: &'static str,
    pub tab: &'static str,
    pub dialog: &'static str,
    pub may_write: bool,
    pub may_read_secrets: bool,
    pub may_write_secrets: bool,
    pub details: Details,
    pub errors: Vec<String>,
    pub notice: String,
    pub secrets: Vec<SecretRow>,
    pub secrets_max: u32,
    pub secret: SecretForm,
}

impl ClientPage {
    pub fn new(
        s: &Signed,
        layout: Layout,
        at: &At,
        client: &ClientRecord,
        tab: &'static str,
    ) -> Self {
        Self {
            layout,
            base: at.base(),
            list_href: format!(
                "/console/tenants/{}/clients?type={}",
                at.tenant,
                kind_slug(at.kind)
            ),
            client_id: client.id.to_string(),
            kind_label: kind_label(at.kind),
            tab,
            dialog: "",
            may_write: may(&s.0, &at.tenant, Action::WriteClients),
            may_read_secrets: may(&s.0, &at.tenant, Action::ReadSecrets),
            may_write_secrets: may(&s.0, &at.tenant, Action::WriteSecrets),
            details: Details::of(client),
            errors: Vec::new(),
            notice: String::new(),
            secrets: Vec::new(),
            secrets_max: 0,
            secret: SecretForm::default(),
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

#[derive(Deserialize)]
pub struct DialogQuery {
    pub dialog: Option<String>,
    pub secret: Option<i32>,
    pub saved: Option<String>,
}

pub async fn edit(
    State(state): State<AppState>,
    s: Signed,
    Path((tenant, kind, client)): Path<(String, String, String)>,
    Query(q): Query<DialogQuery>,
) -> Response {
    let at = match At::parse(&tenant, &kind, &client) {
        Ok(at) => at,
        Err(e) => return failure(e, Layout::new(&s.0, "Edit Client", "clients")),
    };
    let (layout, c) = match load(&state, &s, &at, "Edit Client").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut page = ClientPage::new(&s, layout, &at, &c, "details");
    if q.dialog.as_deref() == Some("remove") && page.may_write {
        page.dialog = "remove";
    }
    if q.saved.is_some() {
        page.notice = "Saved.".into();
    }
    render(StatusCode::OK, &page)
}

pub async fn save(
    State(state): State<AppState>,
    s: Signed,
    Path((tenant, kind, client)): Path<(String, String, String)>,
    form: FormData,
) -> Response {
    let at = match At::parse(&tenant, &kind, &client) {
        Ok(at) => at,
        Err(e) => return failure(e, Layout::new(&s.0, "Edit Client", "clients")),
    };
    let (layout, c) = match load(&state, &s, &at, "Edit Client").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let details = Details::from_form(&form, c.settings.hybrid.is_some());
    let result = match details.patch() {
        Ok(patch) => state
            .services
            .clients
            .update(&s.0.caller(), &at.tenant, at.kind, &at.client, patch)
            .await
            .map_err(|e| match e {
                ServiceError::Forbidden => Err(e),
                e => Ok(service_message(&e)),
            }),
        Err(message) => Err(Ok(message)),
    };
    match result {
        Ok(_) => see_other(&format!("{}?saved=1", at.base())),
        Err(Err(e)) => failure(e, layout),
        Err(Ok(message)) => {
            let mut page = ClientPage::new(&s, layout, &at, &c, "details");
            page.details = details;
            page.errors = vec![message];
            render(StatusCode::BAD_REQUEST, &page)
        }
    }
}

pub async fn remove(
    State(state): State<AppState>,
    s: Signed,
    Path((tenant, kind, client)): Path<(String, String, String)>,
) -> Response {
    let at = match At::parse(&tenant, &kind, &client) {
        Ok(at) => at,
        Err(e) => return failure(e, Layout::new(&s.0, "Edit Client", "clients")),
    };
    match state
        .services
        .clients
        .delete(&s.0.caller(), &at.tenant, at.kind, &at.client)
        .await
    {
        Ok(()) => see_other(&format!(
            "/console/tenants/{}/clients?type={}",
            at.tenant,
            kind_slug(at.kind)
        )),
        Err(e) => failure(e, Layout::new(&s.0, "Edit Client", "clients")),
    }
}
