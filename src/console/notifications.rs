//! A tenant's webhooks (with their delivery log) and notification email
//! recipients, over `services.webhooks`, the use cases the API's Webhooks and
//! NotificationRecipients call. A webhook's signing secret is shown once, in a
//! dialog of its own ([`WebhookSecretPage`]): unlike a client secret it is an
//! HMAC key the server keeps sealed (it must sign with it), not a hash, and it
//! has no description or expiration.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use super::form::FormData;
use super::frame::frame;
use super::respond::{failure, render, see_other};
use super::reveal::redirect_to_webhook_secret;
use super::session::Signed;
use super::view::{Layout, date_utc, first_field_in_error, may, service_message};
use crate::domain::access::Action;
use crate::domain::events::EventType;
use crate::domain::ids::TenantId;
use crate::service::webhooks::WebhookRequest;
use crate::service::{Page, ServiceError};
use crate::web::AppState;

pub struct WebhookRow {
    pub id: String,
    pub url: String,
    pub description: String,
    pub events: String,
    pub enabled: bool,
    pub created: String,
}

pub struct DeliveryRow {
    pub id: i64,
    pub event_type: String,
    pub state: String,
    pub attempts: u32,
    pub last: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "console/webhooks.html")]
struct WebhooksPage {
    layout: Layout,
    tenant_id: String,
    may_write: bool,
    webhooks: Vec<WebhookRow>,
    event_types: Vec<(&'static str, bool)>,
    url: String,
    description: String,
    errors: Vec<String>,
    /// The webhook whose deliveries are shown, if any.
    selected: String,
    deliveries: Vec<DeliveryRow>,
    /// Said after a delete (as after every delete in the console).
    notice: &'static str,
}

impl WebhooksPage {
    /// Whether field `id` gets the focus: the one the first error is about.
    fn autofocus(&self, id: &str) -> bool {
        let fields = [
            ("Url", "webhook-url"),
            ("Description", "webhook-description"),
        ];
        first_field_in_error(&self.errors, &fields) == Some(id)
    }
}

/// The show-once dialog of a new webhook's signing secret (after the redirect,
/// [`super::reveal`]).
#[derive(Template)]
#[template(path = "console/webhook_shown.html")]
pub(super) struct WebhookSecretPage {
    pub layout: Layout,
    pub value: zeroize::Zeroizing<String>,
    pub url: String,
    pub events: String,
    pub continue_href: String,
}

/// A new webhook's signing secret on its way to [`WebhookSecretPage`].
pub(super) struct WebhookSecret {
    pub value: zeroize::Zeroizing<String>,
    pub url: String,
    pub events: String,
    pub continue_href: String,
}

/// A webhook's event types as listed ("all" when it takes every event).
fn events_label(types: &[EventType]) -> String {
    if types.is_empty() {
        "all".to_owned()
    } else {
        types
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Deserialize)]
pub struct WebhooksQuery {
    deliveries: Option<String>,
    /// Set by the redirect after a delete.
    deleted: Option<String>,
    /// `gone`: a reload of the page that showed a signing secret once.
    reveal: Option<String>,
}

async fn webhooks_page(
    state: &AppState,
    s: &Signed,
    tenant: &str,
    selected: Option<Uuid>,
    form: Option<(&FormData, Vec<String>)>,
    notice: &'static str,
) -> Response {
    let (t, layout) = match frame(state, s, tenant, "Webhooks", "webhooks").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let caller = s.0.caller();
    let page = Page {
        skip: 0,
        count: 200,
    };
    let list = match state.services.webhooks.list(&caller, &t.id, page).await {
        Ok(l) => l.items,
        Err(e) => return failure(e, layout),
    };
    let deliveries = match selected {
        Some(id) => match state
            .services
            .webhooks
            .deliveries(&caller, &t.id, id, page)
            .await
        {
            Ok(d) => d
                .items
                .iter()
                .map(|d| DeliveryRow {
                    id: d.id,
                    event_type: d.event_type.clone(),
                    state: d.state.as_str().to_owned(),
                    attempts: d.attempts,
                    last: match (d.last_status, &d.last_error) {
                        (Some(status), _) => format!("HTTP {status}"),
                        (None, Some(e)) => e.clone(),
                        (None, None) => String::new(),
                    },
                    created: d.created_at.format("%d/%m/%Y %H:%M UTC").to_string(),
                })
                .collect(),
            Err(e) => return failure(e, layout),
        },
        None => Vec::new(),
    };
    let chosen: Vec<String> = form
        .as_ref()
        .map(|(f, _)| f.all("event"))
        .unwrap_or_default();
    let page = WebhooksPage {
        tenant_id: t.id.to_string(),
        may_write: may(&s.0, &t.id, Action::WriteSecrets),
        webhooks: list
            .iter()
            .map(|w| WebhookRow {
                id: w.id.to_string(),
                url: w.url.clone(),
                description: w.description.clone(),
                events: events_label(&w.event_types),
                enabled: w.enabled,
                created: date_utc(w.created_at),
            })
            .collect(),
        event_types: EventType::ALL
            .iter()
            .map(|e| (e.as_str(), chosen.iter().any(|c| c == e.as_str())))
            .collect(),
        url: form
            .as_ref()
            .map(|(f, _)| f.text("url"))
            .unwrap_or_default(),
        description: form
            .as_ref()
            .map(|(f, _)| f.text("description"))
            .unwrap_or_default(),
        errors: form.map(|(_, e)| e).unwrap_or_default(),
        selected: selected.map(|s| s.to_string()).unwrap_or_default(),
        deliveries,
        notice,
        layout,
    };
    let status = if page.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    render(status, &page)
}

pub async fn webhooks(
    State(state): State<AppState>,
    s: Signed,
    Path(tenant): Path<String>,
    Query(q): Query<WebhooksQuery>,
) -> Response {
    let selected = q
        .deliveries
        .as_deref()
        .and_then(|d| Uuid::parse_str(d).ok());
    let notice = match (q.deleted.as_deref(), q.reveal.as_deref()) {
        (Some(_), _) => "Webhook deleted: nothing more is delivered to it.",
        (_, Some("gone")) => "That signing secret was already shown once; it is never shown again.",
        _ => "",
    };
    webhooks_page(&state, &s, &tenant, selected, None, notice).await
}

pub async fn create_webhook(
    State(state): State<AppState>,
    s: Signed,
    Path(tenant): Path<String>,
    form: FormData,
) -> Response {
    let Some(tenant_id) = TenantId::parse(&tenant) else {
        return failure(
            ServiceError::TenantNotFound,
            Layout::new(&s.0, "Webhooks", "webhooks"),
        );
    };
    let req = WebhookRequest {
        url: Some(form.text("url")).filter(|u| !u.is_empty()),
        description: Some(form.text("description")),
        event_types: Some(form.all("event")),
        enabled: Some(true),
    };
    match state
        .services
        .webhooks
        .create(&s.0.caller(), &tenant_id, req)
        .await
    {
        Ok((record, secret)) => {
            let shown = WebhookSecret {
                value: zeroize::Zeroizing::new(secret),
                url: record.url.clone(),
                events: events_label(&record.event_types),
                continue_href: format!("/console/tenants/{tenant_id}/webhooks"),
            };
            redirect_to_webhook_secret(&state, &s, &tenant_id, shown).await
        }
        Err(e @ (ServiceError::Forbidden | ServiceError::TenantNotFound)) => {
            failure(e, Layout::new(&s.0, "Webhooks", "webhooks"))
        }
        Err(e) => {
            webhooks_page(
                &state,
                &s,
                &tenant,
                None,
                Some((&form, vec![service_message(&e)])),
                "",
            )
            .await
        }
    }
}

pub async fn delete_webhook(
    State(state): State<AppState>,
    s: Signed,
    Path((tenant, id)): Path<(String, String)>,
) -> Response {
    let (Some(tenant_id), Ok(id)) = (TenantId::parse(&tenant), Uuid::parse_str(&id)) else {
        return failure(
            ServiceError::NotFound("webhook"),
            Layout::new(&s.0, "Webhooks", "webhooks"),
        );
    };
    match state
        .services
        .webhooks
        .delete(&s.0.caller(), &tenant_id, id)
        .await
    {
        Ok(()) => see_other(&format!("/console/tenants/{tenant_id}/webhooks?deleted=1")),
        Err(e) => failure(e, Layout::new(&s.0, "Webhooks", "webhooks")),
    }
}

#[derive(Template)]
#[template(path = "console/recipients.html")]
struct RecipientsPage {
    layout: Layout,
    tenant_id: String,
    may_write: bool,
    recipients: String,
    errors: Vec<String>,
    notice: String,
}

#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
    /// Set after a save while email is off: the notice says so.
    warn: Option<String>,
}

async fn recipients_page(
    state: &AppState,
    s: &Signed,
    tenant: &str,
    typed: Option<(String, Vec<String>)>,
    notice: &str,
) -> Response {
    let (t, layout) = match frame(state, s, tenant, "Notification emails", "notifications").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let current = match state
        .services
        .webhooks
        .recipients(&s.0.caller(), &t.id)
        .await
    {
        Ok(r) => r,
        Err(e) => return failure(e, layout),
    };
    let (recipients, errors) = typed.unwrap_or_else(|| (current.join("\n"), Vec::new()));
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    render(
        status,
        &RecipientsPage {
            tenant_id: t.id.to_string(),
            may_write: may(&s.0, &t.id, Action::WriteSecrets),
            recipients,
            errors,
            notice: notice.to_owned(),
            layout,
        },
    )
}

pub async fn recipients(
    State(state): State<AppState>,
    s: Signed,
    Path(tenant): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Response {
    let notice = match q.saved {
        Some(_) if q.warn.is_some() && !state.email_enabled => crate::web::EMAIL_OFF_WARNING,
        Some(_) => "Saved.",
        None => "",
    };
    recipients_page(&state, &s, &tenant, None, notice).await
}

pub async fn save_recipients(
    State(state): State<AppState>,
    s: Signed,
    Path(tenant): Path<String>,
    form: FormData,
) -> Response {
    let Some(tenant_id) = TenantId::parse(&tenant) else {
        return failure(
            ServiceError::TenantNotFound,
            Layout::new(&s.0, "Notification emails", "notifications"),
        );
    };
    let typed = form.text("recipients");
    let emails: Vec<String> = typed
        .split(['\n', ','])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect();
    match state
        .services
        .webhooks
        .set_recipients(&s.0.caller(), &tenant_id, Some(emails))
        .await
    {
        Ok(saved) => {
            let warn = match state.recipients_warning(&tenant_id, &saved) {
                Some(_) => "&warn=email-off",
                None => "",
            };
            see_other(&format!(
                "/console/tenants/{tenant_id}/notifications?saved=1{warn}"
            ))
        }
        Err(e @ ServiceError::Invalid(_)) => {
            recipients_page(
                &state,
                &s,
                &tenant,
                Some((typed, vec![service_message(&e)])),
                "",
            )
            .await
        }
        Err(e) => failure(e, Layout::new(&s.0, "Notification emails", "notifications")),
    }
}
