//! Webhook subscriptions of a tenant and their delivery logs, and the tenant's
//! email recipients for expiry notices.
//!
//! A subscription's signing secret (`whsec_…`) is generated here, returned once
//! at creation, and stored sealed under the master key so the delivery worker
//! can sign with it. Reading needs the audit role (administrators and auditors);
//! changing needs the administrator's.

use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use uuid::Uuid;

use super::journal;
use super::tenants::Tenants;
use super::{Caller, Context, ServiceError};
use crate::domain::ValidationError;
use crate::domain::access::Action;
use crate::domain::audit_actions::AuditAction;
use crate::domain::client::validate_description;
use crate::domain::events::EventType;
use crate::domain::ids::TenantId;
use crate::domain::jws::MasterKey;
use crate::domain::webhook_signature::SigningSecret;
use crate::domain::webhook_target::{self, TargetPolicy};
use crate::storage::{DeliveryRecord, Journal, Page, Paged, StorageError, WebhookRecord};

/// At most this many recipients per tenant.
pub const RECIPIENTS_MAX: usize = 50;
const URL_MAX_LEN: usize = 2048;

/// A subscription to create, or changes to one (`None`: unchanged).
#[derive(Debug, Clone, Default)]
pub struct WebhookRequest {
    pub url: Option<String>,
    pub description: Option<String>,
    /// Event type names; empty: every type.
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

/// The master key the signing secrets are sealed under, set once at start-up.
pub(crate) type Sealer = OnceLock<Arc<MasterKey>>;

#[derive(Clone)]
pub struct Webhooks {
    ctx: Arc<Context>,
}

impl Webhooks {
    pub(crate) fn new(ctx: Arc<Context>) -> Self {
        Self { ctx }
    }

    pub async fn create(
        &self,
        caller: &Caller,
        tenant: &TenantId,
        req: WebhookRequest,
    ) -> Result<(WebhookRecord, String), ServiceError> {
        Tenants::require(&self.ctx, caller, tenant, Action::WriteSecrets).await?;
        let url = validate_url(
            req.url.as_deref().ok_or_else(|| {
                ValidationError::new(
                    "Url",
                    "is required: the https:// (or http://) address to deliver to",
                )
            })?,
            self.ctx.limits.webhook_targets,
        )?;
        let description = req.description.unwrap_or_default();
        validate_description("Description", &description)?;
        let event_types = parse_event_types(&req.event_types.unwrap_or_default())?;
        let secret = SigningSecret::generate()
            .map_err(|e| ServiceError::Internal(format!("randomness unavailable: {e}")))?;
        let id = Uuid::new_v4();
        let sealed = self
            .master()?
            .seal(secret.as_bytes(), id.as_bytes())
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let now = self.ctx.clock.now();
        let record = WebhookRecord {
            id,
            tenant: *tenant,
            url,
            description,
            event_types,
            enabled: req.enabled.unwrap_or(true),
            signing_secret_sealed: sealed,
            created_at: now,
            updated_at: now,
        };
        let mut entry = journal::entry(caller, Some(*tenant), AuditAction::WebhookCreate, now);
        entry.reason = Some(format!("Url: {}", url_for_audit(&record.url)));
        let journal = Journal::new(entry);
        self.ctx
            .store
            .insert_webhook(&record, self.ctx.limits.webhooks_max, &journal)
            .await
            .map_err(|e| match e {
                StorageError::LimitReached(max) => ServiceError::WebhookLimitReached(max),
                e => tenant_not_found(e),
            })?;
        Ok((record, secret.expose()))
    }

    pub async fn list(
        &self,
        caller: &Caller,
        tenant: &TenantId,
        page: Page,
    ) -> Result<Paged<WebhookRecord>, ServiceError> {
        Tenants::require(&self.ctx, caller, tenant, Action::ReadAudit).await?;
        Ok(self.ctx.store.list_webhooks(tenant, page).await?)
    }

    pub async fn get(
        &self,
        caller: &Caller,
        tenant: &TenantId,
        id: Uuid,
    ) -> Result<WebhookRecord, ServiceError> {
        Tenants::require(&self.ctx, caller, tenant, Action::ReadAudit).await?;
        self.find(tenant, id).await
    }

    pub async fn update(
        &self,
        caller: &Caller,
        tenant: &TenantId,
        id: Uuid,
        req: WebhookRequest,
    ) -> Result<WebhookRecord, ServiceError> {
        Tenants::require(&self.ctx, caller, tenant, Action::WriteSecrets).await?;
        let mut record = self.find(tenant, id).await?;
        let old_url = record.url.clone();
        if let Some(url) = req.url {
            record.url = validate_url(&url, self.ctx.limits.webhook_targets)?;
        }
        if let Some(d) = req.description {
            validate_description("Description", &d)?;
            record.description = d;
        }
        if let Some(types) = req.event_types {
            record.event_types = parse_event_types(&types)?;
        }
        if let Some(enabled) = req.enabled {
            record.enabled = enabled;
        }
        record.updated_at = self.ctx.clock.now();
        let mut entry = journal::entry(
            caller,
            Some(*tenant),
            AuditAction::WebhookUpdate,
            record.updated_at,
        );
        entry.reason = Some(if old_url == record.url {
            format!("Url: {}", url_for_audit(&record.url))
        } else {
            format!(
                "Url: {} → {}",
                url_for_audit(&old_url),
                url_for_audit(&record.url)
            )
        });
        let journal = Journal::new(entry);
        self.ctx
            .store
            .update_webhook(&record, &journal)
            .await
            .map_err(webhook_not_found)?;
        Ok(record)
    }

    pub async fn delete(
        &self,
        caller: &Caller,
        tenant: &TenantId,
        id: Uuid,
    ) -> Result<(), ServiceError> {
        let url = self.find(tenant, id).await.ok().map(|r| r.url);
        Tenants::require(&self.ctx, caller, tenant, Action::WriteSecrets).await?;
        let mut entry = journal::entry(
            caller,
            Some(*tenant),
            AuditAction::WebhookDelete,
            self.ctx.clock.now(),
        );
        entry.reason = url.map(|u| format!("Url: {}", url_for_audit(&u)));
        let journal = Journal::new(entry);
        self.ctx
            .store
            .delete_webhook(tenant, id, &journal)
            .await
            .map_err(webhook_not_found)
    }

    /// The subscription's deliveries, newest first.
    pub async fn deliveries(
        &self,
        caller: &Caller,
        tenant: &TenantId,
        webhook: Uuid,
        page: Page,
    ) -> Result<Paged<DeliveryRecord>, ServiceError> {
        Tenants::require(&self.ctx, caller, tenant, Action::ReadAudit).await?;
        self.find(tenant, webhook).await?;
        Ok(self
            .ctx
            .store
            .list_deliveries(tenant, webhook, page)
            .await?)
    }

    /// One delivery with its attempt log.
    pub async fn delivery(
        &self,
        caller: &Caller,
        tenant: &TenantId,
        webhook: Uuid,
        id: i64,
    ) -> Result<DeliveryRecord, ServiceError> {
        Tenants::require(&self.ctx, caller, tenant, Action::ReadAudit).await?;
        self.ctx
            .store
            .get_delivery(tenant, webhook, id)
            .await?
            .ok_or(ServiceError::NotFound("delivery"))
    }

    /// Sends a delivery again (whatever its state), with a fresh retry budget.
    pub async fn resend(
        &self,
        caller: &Caller,
        tenant: &TenantId,
        webhook: Uuid,
        id: i64,
    ) -> Result<DeliveryRecord, ServiceError> {
        Tenants::require(&self.ctx, caller, tenant, Action::WriteSecrets).await?;
        let now = self.ctx.clock.now();
        let journal = Journal::new(journal::entry(
            caller,
            Some(*tenant),
            AuditAction::WebhookResend,
            now,
        ));
        self.ctx
            .store
            .resend_delivery(tenant, webhook, id, now, &journal)
            .await
            .map_err(|e| match e {
                StorageError::NotFound => ServiceError::NotFound("delivery"),
                StorageError::Conflict => ServiceError::DeliveryInFlight,
                e => e.into(),
            })?;
        self.ctx
            .store
            .get_delivery(tenant, webhook, id)
            .await?
            .ok_or(ServiceError::NotFound("delivery"))
    }

    pub async fn recipients(
        &self,
        caller: &Caller,
        tenant: &TenantId,
    ) -> Result<Vec<String>, ServiceError> {
        Tenants::require(&self.ctx, caller, tenant, Action::ReadAudit).await?;
        Ok(self.ctx.store.recipients(tenant).await?)
    }

    /// Replaces the tenant's email recipients of expiry notices; `None` keeps
    /// them (still checking that the caller may change them).
    pub async fn set_recipients(
        &self,
        caller: &Caller,
        tenant: &TenantId,
        emails: Option<Vec<String>>,
    ) -> Result<Vec<String>, ServiceError> {
        Tenants::require(&self.ctx, caller, tenant, Action::WriteSecrets).await?;
        let Some(emails) = emails else {
            return Ok(self.ctx.store.recipients(tenant).await?);
        };
        let mut emails = emails
            .iter()
            .map(|e| validate_email(e))
            .collect::<Result<Vec<_>, _>>()?;
        emails.sort();
        emails.dedup();
        if emails.len() > RECIPIENTS_MAX {
            return Err(ValidationError::new(
                "Recipients",
                format!("at most {RECIPIENTS_MAX} addresses"),
            )
            .into());
        }
        let journal = Journal::new(journal::entry(
            caller,
            Some(*tenant),
            AuditAction::RecipientsUpdate,
            self.ctx.clock.now(),
        ));
        self.ctx
            .store
            .set_recipients(tenant, &emails, &journal)
            .await
            .map_err(tenant_not_found)?;
        Ok(emails)
    }

    async fn find(&self, tenant: &TenantId, id: Uuid) -> Result<WebhookRecord, ServiceError> {
        self.ctx
            .store
            .get_webhook(tenant, id)
            .await?
            .ok_or(ServiceError::NotFound("webhook"))
    }

    fn master(&self) -> Result<&MasterKey, ServiceError> {
        self.ctx
            .sealer
            .get()
            .map(AsRef::as_ref)
            .ok_or_else(|| ServiceError::Internal("no master key loaded".into()))
    }
}

fn tenant_not_found(e: StorageError) -> ServiceError {
    match e {
        StorageError::NotFound => ServiceError::TenantNotFound,
        e => e.into(),
    }
}

fn webhook_not_found(e: StorageError) -> ServiceError {
    match e {
        StorageError::NotFound => ServiceError::NotFound("webhook"),
        e => e.into(),
    }
}

/// An absolute `http`/`https` URL with a host, without credentials or fragment.
/// An absolute http(s) URL without credentials or fragment. An IP address the
/// target policy refuses is refused here; a host name is checked when a delivery
/// resolves it (names can change what they point to).
fn validate_url(text: &str, targets: TargetPolicy) -> Result<String, ValidationError> {
    let text = text.trim();
    let bad = |reason: &str| ValidationError::new("Url", reason.to_owned());
    if text.len() > URL_MAX_LEN {
        return Err(bad("must be at most 2048 characters"));
    }
    let url = reqwest::Url::parse(text).map_err(|e| bad(&format!("is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("must start with https:// or http://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "must not carry credentials (use the signature to authenticate deliveries)",
        ));
    }
    if url.fragment().is_some() {
        return Err(bad("must not have a #fragment"));
    }
    if url.host_str().is_some_and(|h| !targets.permits_host(h)) {
        return Err(bad(webhook_target::REFUSED));
    }
    Ok(url.to_string())
}

fn parse_event_types(names: &[String]) -> Result<Vec<EventType>, ValidationError> {
    let mut types = names
        .iter()
        .map(|n| {
            EventType::parse(n.trim()).ok_or_else(|| {
                let known: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
                ValidationError::new(
                    "EventTypes",
                    format!("unknown event type {n:?}; known: {}", known.join(", ")),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    types.sort_by_key(|t| t.as_str());
    types.dedup();
    Ok(types)
}

/// A plain `local@domain` address (no display name) that the mailer (lettre)
/// accepts too, with a dotted domain, lower-cased.
fn validate_email(text: &str) -> Result<String, ValidationError> {
    let text = text.trim();
    let bad = || ValidationError::new("Recipients", format!("{text:?} is not an email address"));
    let address = lettre::Address::from_str(text).map_err(|_| bad())?;
    if text.len() > 254 || !address.domain().contains('.') {
        return Err(bad());
    }
    Ok(format!(
        "{}@{}",
        address.user(),
        address.domain().to_ascii_lowercase()
    ))
}

/// A webhook URL as the audit trail records it: without its query and
/// credentials, which may carry a receiver's token.
fn url_for_audit(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            let hidden = parsed.query().is_some();
            parsed.set_query(None);
            let _ = parsed.set_password(None);
            let _ = parsed.set_username("");
            let shown = parsed.to_string();
            if hidden {
                format!("{shown} (query omitted)")
            } else {
                shown
            }
        }
        Err(_) => "(not a URL)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_must_be_absolute_http_without_credentials() {
        let strict = TargetPolicy::default();
        let open = TargetPolicy {
            allow_private_networks: true,
        };
        assert!(validate_url("https://hooks.example.com/latchkey", strict).is_ok());
        assert!(validate_url("http://127.0.0.1:9000/x", open).is_ok());
        for internal in [
            "http://127.0.0.1:9000/x",
            "http://[::1]/x",
            "http://169.254.169.254/latest/meta-data",
            "https://10.0.0.7/hook",
            "http://[::ffff:192.168.0.1]/",
        ] {
            let e = validate_url(internal, strict).unwrap_err();
            assert_eq!(e.field, "Url", "{internal}");
            assert!(e.to_string().contains("allowPrivateNetworks"), "{e}");
        }
        for bad in [
            "",
            "hooks.example.com",
            "ftp://x.example/",
            "https://u:p@x.example/",
            "https://x.example/#f",
        ] {
            assert_eq!(validate_url(bad, open).unwrap_err().field, "Url", "{bad:?}");
        }
    }

    #[test]
    fn event_types_are_known_names_deduplicated() {
        let parsed = parse_event_types(&[
            "secret.revoked".into(),
            "secret.created".into(),
            "secret.revoked".into(),
        ])
        .unwrap();
        assert_eq!(parsed, [EventType::Created, EventType::Revoked]);
        assert_eq!(
            parse_event_types(&["secret.lost".into()])
                .unwrap_err()
                .field,
            "EventTypes"
        );
    }

    #[test]
    fn recipients_are_plain_addresses() {
        assert_eq!(
            validate_email(" Ops@Example.COM ").unwrap(),
            "Ops@example.com"
        );
        for bad in [
            "ops",
            "ops@localhost",
            "Ops <ops@example.com>",
            "a b@example.com",
            "ops@exa\r\nmple.com",
        ] {
            assert!(validate_email(bad).is_err(), "{bad:?}");
        }
    }
}
