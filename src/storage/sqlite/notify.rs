//! SQLite: webhook subscriptions, email recipients, the delivery queue (its SQL
//! in `queue.rs`) and the expiry notices ([`NotifyStore`]). One process owns the database, so a claim
//! needs no row locks: the lease only guards against a crash mid-attempt.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::SqliteStorage;
use super::journal::{write_event, write_journal};
use super::queue;
use crate::domain::events::Event;
use crate::domain::ids::TenantId;
use crate::storage::rows::{self, delivery_columns, due_columns, webhook_columns};
use crate::storage::{
    AttemptOutcome, ClaimedDelivery, DeliveryRecord, DueSecret, Journal, NotifyStore, Page, Paged,
    PendingDeliveries, StorageError, WebhookRecord,
};

#[async_trait]
impl NotifyStore for SqliteStorage {
    async fn insert_webhook(
        &self,
        w: &WebhookRecord,
        webhooks_max: u32,
        journal: &Journal,
    ) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
        let counted = sqlx::query(
            "UPDATE tenants SET webhook_count = webhook_count + 1 \
             WHERE id = ? AND webhook_count < ? RETURNING id",
        )
        .bind(w.tenant.to_string())
        .bind(webhooks_max)
        .fetch_optional(&mut *tx)
        .await?;
        if counted.is_none() {
            let exists = sqlx::query("SELECT 1 FROM tenants WHERE id = ?")
                .bind(w.tenant.to_string())
                .fetch_optional(&mut *tx)
                .await?;
            return Err(rows::limit_or_missing(exists.is_some(), webhooks_max));
        }
        sqlx::query(
            "INSERT INTO webhooks (id, tenant_id, url, description, event_types, enabled, \
             signing_secret_sealed, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(w.id.to_string())
        .bind(w.tenant.to_string())
        .bind(&w.url)
        .bind(&w.description)
        .bind(rows::event_types_column(&w.event_types))
        .bind(w.enabled)
        .bind(&w.signing_secret_sealed)
        .bind(w.created_at)
        .bind(w.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| match e.as_database_error() {
            Some(db) if db.is_foreign_key_violation() => StorageError::NotFound,
            _ => StorageError::from(e),
        })?;
        write_journal(&mut tx, journal).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_webhooks(
        &self,
        tenant: &TenantId,
        page: Page,
    ) -> Result<Paged<WebhookRecord>, StorageError> {
        let found = sqlx::query(concat!(
            "SELECT ",
            webhook_columns!(""),
            " FROM webhooks WHERE tenant_id = ? ORDER BY created_at, id LIMIT ? OFFSET ?"
        ))
        .bind(tenant.to_string())
        .bind(page.count)
        .bind(page.skip)
        .fetch_all(&self.pool)
        .await?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhooks WHERE tenant_id = ?")
            .bind(tenant.to_string())
            .fetch_one(&self.pool)
            .await?;
        Ok(Paged {
            items: found.iter().map(rows::webhook).collect::<Result<_, _>>()?,
            total: total.unsigned_abs(),
        })
    }

    async fn get_webhook(
        &self,
        tenant: &TenantId,
        id: Uuid,
    ) -> Result<Option<WebhookRecord>, StorageError> {
        sqlx::query(concat!(
            "SELECT ",
            webhook_columns!(""),
            " FROM webhooks WHERE tenant_id = ? AND id = ?"
        ))
        .bind(tenant.to_string())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(rows::webhook)
        .transpose()
    }

    async fn update_webhook(
        &self,
        w: &WebhookRecord,
        journal: &Journal,
    ) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE webhooks SET url = ?, description = ?, event_types = ?, enabled = ?, \
             updated_at = ? WHERE tenant_id = ? AND id = ?",
        )
        .bind(&w.url)
        .bind(&w.description)
        .bind(rows::event_types_column(&w.event_types))
        .bind(w.enabled)
        .bind(w.updated_at)
        .bind(w.tenant.to_string())
        .bind(w.id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound);
        }
        write_journal(&mut tx, journal).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_webhook(
        &self,
        tenant: &TenantId,
        id: Uuid,
        journal: &Journal,
    ) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
        // The tenant's counter first, as every writer locks the tenant before its rows.
        sqlx::query("UPDATE tenants SET webhook_count = webhook_count - 1 WHERE id = ?")
            .bind(tenant.to_string())
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM webhooks WHERE tenant_id = ? AND id = ?")
            .bind(tenant.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound);
        }
        write_journal(&mut tx, journal).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_deliveries(
        &self,
        tenant: &TenantId,
        webhook: Uuid,
        page: Page,
    ) -> Result<Paged<DeliveryRecord>, StorageError> {
        let found = sqlx::query(concat!(
            "SELECT ",
            delivery_columns!(""),
            " FROM deliveries d JOIN events e ON e.id = d.event_id \
             WHERE d.tenant_id = ? AND d.webhook_id = ? ORDER BY d.id DESC LIMIT ? OFFSET ?"
        ))
        .bind(tenant.to_string())
        .bind(webhook.to_string())
        .bind(page.count)
        .bind(page.skip)
        .fetch_all(&self.pool)
        .await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM deliveries WHERE tenant_id = ? AND webhook_id = ?",
        )
        .bind(tenant.to_string())
        .bind(webhook.to_string())
        .fetch_one(&self.pool)
        .await?;
        Ok(Paged {
            items: found.iter().map(rows::delivery).collect::<Result<_, _>>()?,
            total: total.unsigned_abs(),
        })
    }

    async fn get_delivery(
        &self,
        tenant: &TenantId,
        webhook: Uuid,
        id: i64,
    ) -> Result<Option<DeliveryRecord>, StorageError> {
        let Some(row) = sqlx::query(concat!(
            "SELECT ",
            delivery_columns!(""),
            " FROM deliveries d JOIN events e ON e.id = d.event_id \
             WHERE d.tenant_id = ? AND d.webhook_id = ? AND d.id = ?"
        ))
        .bind(tenant.to_string())
        .bind(webhook.to_string())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let mut delivery = rows::delivery(&row)?;
        delivery.attempt_log = sqlx::query(
            "SELECT attempt, at, status, error, duration_ms FROM delivery_attempts \
             WHERE delivery_id = ? ORDER BY attempt",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(rows::attempt)
        .collect::<Result<_, _>>()?;
        Ok(Some(delivery))
    }

    async fn resend_delivery(
        &self,
        tenant: &TenantId,
        webhook: Uuid,
        id: i64,
        now: DateTime<Utc>,
        journal: &Journal,
    ) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE deliveries SET state = 'pending', attempts_before_resend = attempts, next_attempt_at = ?, \
             lease_until = NULL, delivered_at = NULL, last_status = NULL, last_error = NULL \
             WHERE tenant_id = ? AND webhook_id = ? AND id = ? \
             AND (lease_until IS NULL OR lease_until <= ?)",
        )
        .bind(now)
        .bind(tenant.to_string())
        .bind(webhook.to_string())
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            // Not while a worker holds it (its attempt is being sent): a resend then
            // would send it twice and be overwritten by that attempt's outcome.
            let exists = sqlx::query(
                "SELECT 1 FROM deliveries WHERE tenant_id = ? AND webhook_id = ? AND id = ?",
            )
            .bind(tenant.to_string())
            .bind(webhook.to_string())
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
            return Err(if exists {
                StorageError::Conflict
            } else {
                StorageError::NotFound
            });
        }
        // A fresh retry budget (counted from the attempts made so far); the log
        // of the earlier attempts stays.
        write_journal(&mut tx, journal).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn recipients(&self, tenant: &TenantId) -> Result<Vec<String>, StorageError> {
        Ok(sqlx::query_scalar(
            "SELECT email FROM notification_recipients WHERE tenant_id = ? ORDER BY email",
        )
        .bind(tenant.to_string())
        .fetch_all(&self.pool)
        .await?)
    }

    async fn set_recipients(
        &self,
        tenant: &TenantId,
        emails: &[String],
        journal: &Journal,
    ) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
        // The write comes first, so this transaction takes the write lock at once
        // (a read first would have to upgrade, which fails under a concurrent writer).
        sqlx::query("DELETE FROM notification_recipients WHERE tenant_id = ?")
            .bind(tenant.to_string())
            .execute(&mut *tx)
            .await?;
        let exists = sqlx::query("SELECT 1 FROM tenants WHERE id = ?")
            .bind(tenant.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StorageError::NotFound);
        }
        for email in emails {
            sqlx::query(
                "INSERT INTO notification_recipients (tenant_id, email) VALUES (?, ?) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(tenant.to_string())
            .bind(email)
            .execute(&mut *tx)
            .await?;
        }
        write_journal(&mut tx, journal).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>, StorageError> {
        queue::claim_deliveries(&self.pool, now, lease_until, limit).await
    }

    async fn renew_leases(
        &self,
        ids: &[i64],
        lease_until: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        queue::renew_leases(&self.pool, ids, lease_until).await
    }

    async fn finish_attempt(
        &self,
        delivery_id: i64,
        outcome: &AttemptOutcome,
    ) -> Result<(), StorageError> {
        queue::finish_attempt(&self.pool, delivery_id, outcome).await
    }

    async fn pending_deliveries(&self) -> Result<PendingDeliveries, StorageError> {
        queue::pending_deliveries(&self.pool).await
    }

    async fn due_notices(
        &self,
        kind: &str,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueSecret>, StorageError> {
        sqlx::query(concat!(
            "SELECT ",
            due_columns!(""),
            " FROM secrets s JOIN clients c ON c.pk = s.client_pk JOIN tenants t ON t.id = c.tenant_id \
             WHERE s.revoked_at IS NULL AND s.expiration > ? AND s.expiration <= ? \
             AND NOT EXISTS (SELECT 1 FROM secret_notices n WHERE n.client_pk = s.client_pk \
             AND n.secret_id = s.id AND n.kind = ? AND n.expiration = s.expiration) \
             ORDER BY s.expiration LIMIT ?"
        ))
        .bind(after)
        .bind(until)
        .bind(kind)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(rows::due_secret)
        .collect()
    }

    async fn raise_notice(
        &self,
        due: &DueSecret,
        kinds: &[String],
        event: &Event,
    ) -> Result<bool, StorageError> {
        let Some(expiration) = due.subject.expiration else {
            return Ok(false);
        };
        let mut tx = self.pool.begin().await?;
        let mut raised = false;
        for (i, kind) in kinds.iter().enumerate() {
            // Only while the secret is live with the expiration it was found due
            // for: a secret revoked or renewed meanwhile gets no stale notice.
            let done = sqlx::query(
                "INSERT INTO secret_notices (client_pk, secret_id, kind, expiration) \
                 SELECT client_pk, id, ?, expiration FROM secrets \
                 WHERE client_pk = ? AND id = ? AND revoked_at IS NULL AND expiration = ? \
                 ON CONFLICT DO NOTHING",
            )
            .bind(kind)
            .bind(due.client_pk)
            .bind(due.subject.secret_id.0)
            .bind(expiration)
            .execute(&mut *tx)
            .await?;
            if i == 0 {
                raised = done.rows_affected() == 1;
            }
        }
        if raised {
            write_event(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(raised)
    }
}
