//! Storage of notifications: webhook subscriptions, email recipients, the
//! delivery queue fed by the event outbox, and the once-only expiry notices.
//!
//! Deliveries are claimed with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL),
//! so on several nodes each attempt is made by one node; a delivery whose node
//! died mid-attempt is picked up again once its lease ends.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Journal, Page, Paged, StorageError};
use crate::domain::events::{Event, EventType, SecretSubject};
use crate::domain::ids::TenantId;

/// A tenant's webhook subscription. The signing secret is sealed under the
/// master key before it reaches storage.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookRecord {
    pub id: Uuid,
    pub tenant: TenantId,
    pub url: String,
    pub description: String,
    /// Empty: every event type.
    pub event_types: Vec<EventType>,
    pub enabled: bool,
    pub signing_secret_sealed: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl std::fmt::Debug for WebhookRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebhookRecord({}, {})", self.id, self.url)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Webhook,
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Email => "email",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "webhook" => Some(Self::Webhook),
            "email" => Some(Self::Email),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "delivered" => Some(Self::Delivered),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// One attempt to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    pub attempt: u32,
    pub at: DateTime<Utc>,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: u32,
}

/// A delivery of one event on one channel, with its attempts so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub id: i64,
    pub event_id: Uuid,
    pub event_type: String,
    pub channel: Channel,
    pub webhook_id: Option<Uuid>,
    pub state: DeliveryState,
    /// Attempts so far, re-sends included (the attempt log's numbers).
    pub attempts: u32,
    /// Attempts made before the last re-send: the retry budget counts from here.
    pub attempts_before_resend: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// Filled by [`NotifyStore::get_delivery`] only.
    pub attempt_log: Vec<AttemptRecord>,
}

/// A delivery claimed for one attempt, with what sending it needs.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub delivery: DeliveryRecord,
    pub tenant: TenantId,
    /// The event's JSON payload, exactly as it is to be sent.
    pub payload: String,
    /// URL and sealed signing secret, for webhook deliveries.
    pub webhook: Option<(String, Vec<u8>)>,
}

/// What happens after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    Delivered,
    RetryAt(DateTime<Utc>),
    GiveUp,
}

/// The result of one attempt, to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptOutcome {
    pub record: AttemptRecord,
    pub next: NextStep,
}

/// The pending part of the delivery queue (for the metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingDeliveries {
    /// Deliveries not yet delivered or given up (due, leased or waiting to retry).
    pub count: i64,
    /// When the oldest of them was created; `None` when there are none.
    pub oldest_created_at: Option<DateTime<Utc>>,
}

/// A secret due for an expiry notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueSecret {
    pub client_pk: i64,
    pub tenant_name: String,
    pub subject: SecretSubject,
}

#[async_trait]
pub trait NotifyStore: Send + Sync + 'static {
    /// Within the tenant's limit of `webhooks_max` subscriptions, also under
    /// concurrent inserts (a counter on the tenant row, like `clients_max`):
    /// `LimitReached(webhooks_max)` beyond it, `NotFound` when the tenant is absent.
    async fn insert_webhook(
        &self,
        webhook: &WebhookRecord,
        webhooks_max: u32,
        journal: &Journal,
    ) -> Result<(), StorageError>;
    async fn list_webhooks(
        &self,
        tenant: &TenantId,
        page: Page,
    ) -> Result<Paged<WebhookRecord>, StorageError>;
    async fn get_webhook(
        &self,
        tenant: &TenantId,
        id: Uuid,
    ) -> Result<Option<WebhookRecord>, StorageError>;
    /// Writes url, description, event types and enabled. `NotFound` when absent.
    async fn update_webhook(
        &self,
        webhook: &WebhookRecord,
        journal: &Journal,
    ) -> Result<(), StorageError>;
    /// Deletes the subscription and its deliveries. `NotFound` when absent.
    async fn delete_webhook(
        &self,
        tenant: &TenantId,
        id: Uuid,
        journal: &Journal,
    ) -> Result<(), StorageError>;

    /// The subscription's deliveries, newest first (without their attempt logs).
    async fn list_deliveries(
        &self,
        tenant: &TenantId,
        webhook: Uuid,
        page: Page,
    ) -> Result<Paged<DeliveryRecord>, StorageError>;
    /// One delivery with its attempt log.
    async fn get_delivery(
        &self,
        tenant: &TenantId,
        webhook: Uuid,
        id: i64,
    ) -> Result<Option<DeliveryRecord>, StorageError>;
    /// Queues a delivery again, now, with a fresh attempt budget. `NotFound` when absent.
    async fn resend_delivery(
        &self,
        tenant: &TenantId,
        webhook: Uuid,
        id: i64,
        now: DateTime<Utc>,
        journal: &Journal,
    ) -> Result<(), StorageError>;

    async fn recipients(&self, tenant: &TenantId) -> Result<Vec<String>, StorageError>;
    /// Replaces the tenant's email recipients. `NotFound` when the tenant is absent.
    async fn set_recipients(
        &self,
        tenant: &TenantId,
        emails: &[String],
        journal: &Journal,
    ) -> Result<(), StorageError>;

    /// Claims up to `limit` pending deliveries due at `now` for one attempt each,
    /// leased until `lease_until` (so no other node attempts them meanwhile).
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>, StorageError>;
    /// Extends to `lease_until` the leases of those of `ids` still claimed (pending
    /// with a lease): an attempt still under way keeps its claim, however long it takes.
    async fn renew_leases(
        &self,
        ids: &[i64],
        lease_until: DateTime<Utc>,
    ) -> Result<(), StorageError>;
    /// Records an attempt and what follows it; releases the lease.
    /// Nothing to do when the delivery was deleted meanwhile (with its subscription).
    async fn finish_attempt(
        &self,
        delivery_id: i64,
        outcome: &AttemptOutcome,
    ) -> Result<(), StorageError>;

    /// The number of pending deliveries and the creation of the oldest (one statement).
    async fn pending_deliveries(&self) -> Result<PendingDeliveries, StorageError>;

    /// Non-revoked secrets whose expiration lies in `(after, until]` and that have
    /// no notice `kind` for that expiration yet (at most `limit`).
    async fn due_notices(
        &self,
        kind: &str,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueSecret>, StorageError>;
    /// Records the notices `kinds` for the secret's current expiration and, only
    /// if the first was not recorded before (by this or another node), the event
    /// with them. The others are lesser warnings the first one makes redundant
    /// (a 30-day warning once the 7-day one is due). True when this call raised it.
    /// Nothing is recorded (false) when the secret has since been revoked, deleted
    /// or given another expiration than the one it was found due for.
    async fn raise_notice(
        &self,
        due: &DueSecret,
        kinds: &[String],
        event: &Event,
    ) -> Result<bool, StorageError>;
}
