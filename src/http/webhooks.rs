//! `/api/v1/Tenants/{tenantId}/Webhooks`: signed-webhook subscriptions, their
//! delivery logs and re-sends; and `/NotificationRecipients`, the tenant's email
//! recipients of expiry notices. The signing secret appears once, in the
//! creation response (`Cache-Control: no-store`).

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::enums::{DeliveryState, EventType};
use super::extract::{Authenticated, JsonBody, Paging, Resource};
use super::patch::Patch;
use super::{Listed, no_store};
use crate::domain::ValidationError;
use crate::domain::ids::TenantId;
use crate::service::webhooks::WebhookRequest;
use crate::storage::{AttemptRecord, DeliveryRecord, WebhookRecord};
use crate::web::AppState;
use crate::web::error::{ApiError, ErrorResponse};

/// A subscription to create (`null` reads as absent).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct WebhookCreate {
    /// Where to POST events: an absolute https:// (or http://) URL.
    #[schema(value_type = String, required = true)]
    pub url: Option<String>,
    pub description: Option<String>,
    /// The events to send; empty or absent: all of them.
    #[schema(value_type = Option<Vec<EventType>>)]
    pub event_types: Option<Vec<String>>,
    /// Default true.
    pub enabled: Option<bool>,
}

/// Changes to a subscription. An absent field stays as it is; `null` empties the
/// description or the event types (then: all of them), and is refused for `Url` and
/// `Enabled` (see README, "Changing a resource: PUT").
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct WebhookUpdate {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub url: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub description: Patch<String>,
    /// Empty or null: all event types.
    #[serde(default)]
    #[schema(value_type = Option<Vec<EventType>>)]
    pub event_types: Patch<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub enabled: Patch<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub description: String,
    /// Empty: every event type.
    #[schema(value_type = Vec<EventType>)]
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<WebhookRecord> for Webhook {
    fn from(w: WebhookRecord) -> Self {
        Self {
            id: w.id.to_string(),
            url: w.url,
            description: w.description,
            event_types: w
                .event_types
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            enabled: w.enabled,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// A new subscription with its signing secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct WebhookWithSecret {
    /// `whsec_<base64 key>`: each delivery's `webhook-signature` header is
    /// `v1,<base64 HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}")>`.
    pub signing_secret: String,
    #[serde(flatten)]
    pub webhook: Webhook,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct DeliveryAttempt {
    pub attempt: u32,
    pub time: DateTime<Utc>,
    /// The receiver's HTTP status (null: it did not answer).
    #[schema(required = true)]
    pub status_code: Option<u16>,
    /// Why the attempt failed (null: it succeeded).
    #[schema(required = true)]
    pub error: Option<String>,
    pub duration_ms: u32,
}

impl From<AttemptRecord> for DeliveryAttempt {
    fn from(a: AttemptRecord) -> Self {
        Self {
            attempt: a.attempt,
            time: a.at,
            status_code: a.status,
            error: a.error,
            duration_ms: a.duration_ms,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct Delivery {
    pub id: i64,
    /// The `webhook-id` header of every attempt.
    pub event_id: String,
    #[schema(value_type = EventType)]
    pub event_type: String,
    #[schema(value_type = DeliveryState)]
    pub state: String,
    pub attempts: u32,
    /// Null unless the delivery is pending.
    #[schema(required = true)]
    pub next_attempt_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub last_status_code: Option<u16>,
    #[schema(required = true)]
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    #[schema(required = true)]
    pub delivered_at: Option<DateTime<Utc>>,
    /// Every attempt (single-delivery reads only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt_log: Option<Vec<DeliveryAttempt>>,
}

impl Delivery {
    fn from_record(d: DeliveryRecord, with_log: bool) -> Self {
        let pending = d.state == crate::storage::DeliveryState::Pending;
        Self {
            id: d.id,
            event_id: d.event_id.to_string(),
            event_type: d.event_type,
            state: d.state.as_str().to_owned(),
            attempts: d.attempts,
            next_attempt_at: pending.then_some(d.next_attempt_at),
            last_status_code: d.last_status,
            last_error: d.last_error,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
            attempt_log: with_log.then(|| d.attempt_log.into_iter().map(Into::into).collect()),
        }
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct NotificationRecipients {
    /// Email addresses that receive expiry notices (at most 50): the whole list,
    /// `[]` for none.
    #[schema(required = true, nullable = false, max_items = 50)]
    pub recipients: Option<Vec<String>>,
    /// Only in the answer to PUT, and only while email is off on this server (no
    /// `notifications.email.host`): the recipients are saved, but get no email until
    /// the operator configures SMTP. Ignored in a request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(read_only)]
    pub warning: Option<String>,
}

/// Changes to the recipients: absent keeps them, null or `[]` removes them all.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct RecipientsUpdate {
    /// The whole list (at most 50); null or `[]`: none.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>, max_items = 50)]
    pub recipients: Patch<Vec<String>>,
    /// What a PUT answered (read-only); accepted and ignored, so that an answer
    /// can be sent back as it is.
    #[serde(default)]
    #[schema(value_type = Option<String>, read_only)]
    #[expect(dead_code, reason = "read only to be accepted, never used")]
    pub warning: Option<serde::de::IgnoredAny>,
}

/// `{tenantId}/Webhooks/{webhookId}[/Deliveries/{deliveryId}]`, unknown ids as 404.
pub struct WebhookPath {
    tenant: TenantId,
    webhook: Uuid,
    delivery: Option<i64>,
}

#[derive(Deserialize)]
struct RawWebhookPath {
    #[serde(rename = "tenantId")]
    tenant_id: String,
    #[serde(rename = "webhookId")]
    webhook_id: String,
    #[serde(rename = "deliveryId", default)]
    delivery_id: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for WebhookPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(p) = Path::<RawWebhookPath>::from_request_parts(parts, state).await?;
        Ok(Self {
            tenant: TenantId::parse(&p.tenant_id).ok_or(ApiError::NotFound("tenant"))?,
            webhook: Uuid::parse_str(&p.webhook_id).map_err(|_| ApiError::NotFound("webhook"))?,
            delivery: p
                .delivery_id
                .map(|d| d.parse().map_err(|_| ApiError::NotFound("delivery")))
                .transpose()?,
        })
    }
}

impl WebhookPath {
    fn delivery(&self) -> Result<i64, ApiError> {
        self.delivery.ok_or(ApiError::NotFound("delivery"))
    }
}

impl From<WebhookCreate> for WebhookRequest {
    fn from(b: WebhookCreate) -> Self {
        Self {
            url: b.url,
            description: b.description,
            event_types: b.event_types,
            enabled: b.enabled,
        }
    }
}

impl TryFrom<WebhookUpdate> for WebhookRequest {
    type Error = ValidationError;

    fn try_from(b: WebhookUpdate) -> Result<Self, Self::Error> {
        Ok(Self {
            url: b.url.not_null("Url")?,
            description: b.description.or_empty(String::new()),
            event_types: b.event_types.or_empty(Vec::new()),
            enabled: b.enabled.not_null("Enabled")?,
        })
    }
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(list_deliveries))
        .routes(routes!(get_delivery))
        .routes(routes!(resend_delivery))
        .routes(routes!(get_recipients, put_recipients))
}

/// List the tenant's webhook subscriptions.
#[utoipa::path(get, path = "/api/v1/Tenants/{tenantId}/Webhooks", tag = "Notifications",
    params(("tenantId" = String, Path), ("skip" = Option<u32>, Query), ("count" = Option<u32>, Query)),
    responses((status = 200, body = [Webhook], headers(("Total-Count" = u64))), (status = 401, body = ErrorResponse),
              (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn list_webhooks(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
    Paging(page): Paging,
) -> Result<Listed<Webhook>, ApiError> {
    let paged = app
        .services
        .webhooks
        .list(&caller, &at.tenant, page)
        .await?;
    Ok(Listed::new(
        paged.total,
        paged.items.into_iter().map(Webhook::from).collect(),
    ))
}

/// Subscribe a URL to the tenant's secret events; the signing secret is returned this once.
#[utoipa::path(post, path = "/api/v1/Tenants/{tenantId}/Webhooks", tag = "Notifications",
    params(("tenantId" = String, Path)), request_body = WebhookCreate,
    responses((status = 201, body = WebhookWithSecret), (status = 400, body = ErrorResponse),
              (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn create_webhook(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
    JsonBody(body): JsonBody<WebhookCreate>,
) -> Result<Response, ApiError> {
    let (record, secret) = app
        .services
        .webhooks
        .create(&caller, &at.tenant, body.into())
        .await?;
    let body = WebhookWithSecret {
        signing_secret: secret,
        webhook: record.into(),
    };
    Ok(no_store((StatusCode::CREATED, Json(body)).into_response()))
}

/// Get a webhook subscription.
#[utoipa::path(get, path = "/api/v1/Tenants/{tenantId}/Webhooks/{webhookId}", tag = "Notifications",
    params(("tenantId" = String, Path), ("webhookId" = String, Path)),
    responses((status = 200, body = Webhook), (status = 401, body = ErrorResponse),
              (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn get_webhook(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: WebhookPath,
) -> Result<Json<Webhook>, ApiError> {
    let record = app
        .services
        .webhooks
        .get(&caller, &at.tenant, at.webhook)
        .await?;
    Ok(Json(record.into()))
}

/// Change a webhook subscription (absent fields stay as they are).
#[utoipa::path(put, path = "/api/v1/Tenants/{tenantId}/Webhooks/{webhookId}", tag = "Notifications",
    params(("tenantId" = String, Path), ("webhookId" = String, Path)), request_body = WebhookUpdate,
    responses((status = 200, body = Webhook), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
              (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn update_webhook(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: WebhookPath,
    JsonBody(body): JsonBody<WebhookUpdate>,
) -> Result<Json<Webhook>, ApiError> {
    let record = app
        .services
        .webhooks
        .update(&caller, &at.tenant, at.webhook, body.try_into()?)
        .await?;
    Ok(Json(record.into()))
}

/// Delete a webhook subscription and its delivery log.
#[utoipa::path(delete, path = "/api/v1/Tenants/{tenantId}/Webhooks/{webhookId}", tag = "Notifications",
    params(("tenantId" = String, Path), ("webhookId" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
              (status = 404, body = ErrorResponse)))]
async fn delete_webhook(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: WebhookPath,
) -> Result<StatusCode, ApiError> {
    app.services
        .webhooks
        .delete(&caller, &at.tenant, at.webhook)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The subscription's delivery log, newest first.
#[utoipa::path(get, path = "/api/v1/Tenants/{tenantId}/Webhooks/{webhookId}/Deliveries", tag = "Notifications",
    params(("tenantId" = String, Path), ("webhookId" = String, Path), ("skip" = Option<u32>, Query), ("count" = Option<u32>, Query)),
    responses((status = 200, body = [Delivery], headers(("Total-Count" = u64))), (status = 401, body = ErrorResponse),
              (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn list_deliveries(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: WebhookPath,
    Paging(page): Paging,
) -> Result<Listed<Delivery>, ApiError> {
    let paged = app
        .services
        .webhooks
        .deliveries(&caller, &at.tenant, at.webhook, page)
        .await?;
    Ok(Listed::new(
        paged.total,
        paged
            .items
            .into_iter()
            .map(|d| Delivery::from_record(d, false))
            .collect(),
    ))
}

/// One delivery with every attempt.
#[utoipa::path(get, path = "/api/v1/Tenants/{tenantId}/Webhooks/{webhookId}/Deliveries/{deliveryId}", tag = "Notifications",
    params(("tenantId" = String, Path), ("webhookId" = String, Path), ("deliveryId" = i64, Path)),
    responses((status = 200, body = Delivery), (status = 401, body = ErrorResponse),
              (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn get_delivery(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: WebhookPath,
) -> Result<Json<Delivery>, ApiError> {
    let d = app
        .services
        .webhooks
        .delivery(&caller, &at.tenant, at.webhook, at.delivery()?)
        .await?;
    Ok(Json(Delivery::from_record(d, true)))
}

/// Send a delivery again now (same event, same `webhook-id`), with a fresh retry schedule.
#[utoipa::path(post, path = "/api/v1/Tenants/{tenantId}/Webhooks/{webhookId}/Deliveries/{deliveryId}/Resend", tag = "Notifications",
    params(("tenantId" = String, Path), ("webhookId" = String, Path), ("deliveryId" = i64, Path)),
    responses((status = 202, body = Delivery), (status = 401, body = ErrorResponse),
              (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn resend_delivery(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: WebhookPath,
) -> Result<(StatusCode, Json<Delivery>), ApiError> {
    let d = app
        .services
        .webhooks
        .resend(&caller, &at.tenant, at.webhook, at.delivery()?)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(Delivery::from_record(d, true))))
}

/// The tenant's email recipients of expiry notices.
#[utoipa::path(get, path = "/api/v1/Tenants/{tenantId}/NotificationRecipients", tag = "Notifications",
    params(("tenantId" = String, Path)),
    responses((status = 200, body = NotificationRecipients), (status = 401, body = ErrorResponse),
              (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn get_recipients(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
) -> Result<Json<NotificationRecipients>, ApiError> {
    let recipients = app
        .services
        .webhooks
        .recipients(&caller, &at.tenant)
        .await?;
    Ok(Json(NotificationRecipients {
        recipients: Some(recipients),
        warning: None,
    }))
}

/// Replace the tenant's email recipients of expiry notices.
///
/// While email is off on the server (no `notifications.email.host`), a non-empty
/// list is saved all the same and the answer carries `Warning` saying that the
/// recipients get no email until SMTP is configured.
#[utoipa::path(put, path = "/api/v1/Tenants/{tenantId}/NotificationRecipients", tag = "Notifications",
    params(("tenantId" = String, Path)), request_body = RecipientsUpdate,
    responses((status = 200, body = NotificationRecipients,
               description = "Saved; `Warning` is present when email is off on this server"),
              (status = 400, body = ErrorResponse),
              (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn put_recipients(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
    JsonBody(body): JsonBody<RecipientsUpdate>,
) -> Result<Json<NotificationRecipients>, ApiError> {
    let saving = !body.recipients.is_keep();
    let recipients = app
        .services
        .webhooks
        .set_recipients(&caller, &at.tenant, body.recipients.or_empty(Vec::new()))
        .await?;
    // Only a save is warned about (and logged): `{}` saved nothing.
    let warning = saving
        .then(|| app.recipients_warning(&at.tenant, &recipients))
        .flatten()
        .map(str::to_owned);
    Ok(Json(NotificationRecipients {
        recipients: Some(recipients),
        warning,
    }))
}
