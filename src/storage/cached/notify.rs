//! [`NotifyStore`] through the cache: plain delegation, since nothing about
//! webhooks, recipients, deliveries or notices is part of the cached credentials.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::CachedStorage;
use crate::domain::events::Event;
use crate::domain::ids::TenantId;
use crate::storage::{
    AttemptOutcome, ClaimedDelivery, DeliveryRecord, DueSecret, Journal, NotifyStore, Page, Paged,
    PendingDeliveries, Storage, StorageError, WebhookRecord,
};

#[async_trait]
impl<S: Storage> NotifyStore for CachedStorage<S> {
    async fn insert_webhook(
        &self,
        w: &WebhookRecord,
        max: u32,
        j: &Journal,
    ) -> Result<(), StorageError> {
        self.inner.insert_webhook(w, max, j).await
    }

    async fn list_webhooks(
        &self,
        tenant: &TenantId,
        page: Page,
    ) -> Result<Paged<WebhookRecord>, StorageError> {
        self.inner.list_webhooks(tenant, page).await
    }

    async fn get_webhook(
        &self,
        tenant: &TenantId,
        id: Uuid,
    ) -> Result<Option<WebhookRecord>, StorageError> {
        self.inner.get_webhook(tenant, id).await
    }

    async fn update_webhook(&self, w: &WebhookRecord, j: &Journal) -> Result<(), StorageError> {
        self.inner.update_webhook(w, j).await
    }

    async fn delete_webhook(
        &self,
        tenant: &TenantId,
        id: Uuid,
        j: &Journal,
    ) -> Result<(), StorageError> {
        self.inner.delete_webhook(tenant, id, j).await
    }

    async fn list_deliveries(
        &self,
        tenant: &TenantId,
        webhook: Uuid,
        page: Page,
    ) -> Result<Paged<DeliveryRecord>, StorageError> {
        self.inner.list_deliveries(tenant, webhook, page).await
    }

    async fn get_delivery(
        &self,
        tenant: &TenantId,
        webhook: Uuid,
        id: i64,
    ) -> Result<Option<DeliveryRecord>, StorageError> {
        self.inner.get_delivery(tenant, webhook, id).await
    }

    async fn resend_delivery(
        &self,
        tenant: &TenantId,
        webhook: Uuid,
        id: i64,
        now: DateTime<Utc>,
        j: &Journal,
    ) -> Result<(), StorageError> {
        self.inner
            .resend_delivery(tenant, webhook, id, now, j)
            .await
    }

    async fn recipients(&self, tenant: &TenantId) -> Result<Vec<String>, StorageError> {
        self.inner.recipients(tenant).await
    }

    async fn set_recipients(
        &self,
        tenant: &TenantId,
        emails: &[String],
        j: &Journal,
    ) -> Result<(), StorageError> {
        self.inner.set_recipients(tenant, emails, j).await
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>, StorageError> {
        self.inner.claim_deliveries(now, lease_until, limit).await
    }

    async fn renew_leases(
        &self,
        ids: &[i64],
        lease_until: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.inner.renew_leases(ids, lease_until).await
    }

    async fn finish_attempt(
        &self,
        delivery_id: i64,
        outcome: &AttemptOutcome,
    ) -> Result<(), StorageError> {
        self.inner.finish_attempt(delivery_id, outcome).await
    }

    async fn pending_deliveries(&self) -> Result<PendingDeliveries, StorageError> {
        self.inner.pending_deliveries().await
    }

    async fn due_notices(
        &self,
        kind: &str,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueSecret>, StorageError> {
        self.inner.due_notices(kind, after, until, limit).await
    }

    async fn raise_notice(
        &self,
        due: &DueSecret,
        kinds: &[String],
        event: &Event,
    ) -> Result<bool, StorageError> {
        self.inner.raise_notice(due, kinds, event).await
    }
}
