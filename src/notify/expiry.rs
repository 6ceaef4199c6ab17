//! The expiry scheduler: raises `secret.expired` within
//! `notifications.expired.checkInterval` of a secret's expiration, and
//! `secret.expiring` on the `notifications.expiring.cron` schedule for each
//! lead time. Each notice is recorded once per secret, threshold and expiration
//! (a unique row, so restarts and other nodes never raise it twice); a renewed
//! secret, having a new expiration, is warned about again.
//!
//! Lead times are checked shortest first, and raising one also records every
//! longer one: a secret created 5 days before it expires gets the 7-day warning,
//! not the 30-day one as well.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::settings::{EXPIRED_KIND, NotificationSettings, expiring_kind};
use crate::clock::Clock;
use crate::domain::events::{Event, EventType};
use crate::storage::{Storage, StorageError};

/// Secrets per query; a round repeats until fewer come back.
const BATCH: u32 = 100;
/// How far back "expired" is still raised (a node down longer than this skips it).
const EXPIRED_LOOKBACK: chrono::Duration = chrono::Duration::days(7);

pub struct ExpiryScheduler {
    store: Arc<dyn Storage>,
    clock: Arc<dyn Clock>,
    settings: NotificationSettings,
}

impl ExpiryScheduler {
    pub fn new(
        store: Arc<dyn Storage>,
        clock: Arc<dyn Clock>,
        settings: NotificationSettings,
    ) -> Self {
        Self {
            store,
            clock,
            settings,
        }
    }

    /// Checks for expired secrets every `checkInterval`, until dropped.
    pub async fn run_expired(self: Arc<Self>) {
        let mut tick = tokio::time::interval(self.settings.expired_check_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.raise_expired().await {
                tracing::warn!(error = %e, "expired-secret check failed; retrying: {e}");
            }
        }
    }

    /// Checks for expiring secrets at each cron occurrence, until dropped.
    pub async fn run_expiring(self: Arc<Self>) {
        loop {
            let now = Utc::now();
            let next = match self
                .settings
                .expiring_cron
                .find_next_occurrence(&now, false)
            {
                Ok(next) => next,
                Err(e) => {
                    tracing::error!(error = %e, "notifications.expiring.cron has no next occurrence; expiry warnings stop");
                    return;
                }
            };
            // Sleep in slices, so a wall-clock jump delays a check by at most a minute.
            let wait = (next - now).to_std().unwrap_or(Duration::ZERO);
            tokio::time::sleep(wait.min(Duration::from_secs(60))).await;
            if Utc::now() < next {
                continue;
            }
            if let Err(e) = self.raise_expiring().await {
                tracing::warn!(error = %e, "expiring-secret check failed; retrying at the next occurrence: {e}");
            }
        }
    }

    /// Raises `secret.expired` for every secret that expired since the lookback.
    /// Returns how many this call raised.
    pub async fn raise_expired(&self) -> Result<usize, StorageError> {
        let now = self.clock.now();
        self.raise(
            EventType::Expired,
            &[EXPIRED_KIND.to_owned()],
            now - EXPIRED_LOOKBACK,
            now,
            None,
        )
        .await
    }

    /// Raises `secret.expiring` for each lead time. Returns how many this call raised.
    pub async fn raise_expiring(&self) -> Result<usize, StorageError> {
        let now = self.clock.now();
        let mut leads = self.settings.lead_times.clone();
        leads.sort_unstable();
        let mut raised = 0;
        for (i, lead) in leads.iter().enumerate() {
            // This lead time first, then every longer one it makes redundant.
            let kinds: Vec<String> = leads[i..].iter().map(|l| expiring_kind(*l)).collect();
            let until =
                now + chrono::Duration::from_std(*lead).unwrap_or(chrono::Duration::days(400));
            raised += self
                .raise(
                    EventType::Expiring,
                    &kinds,
                    now,
                    until,
                    Some(lead.as_secs()),
                )
                .await?;
        }
        Ok(raised)
    }

    async fn raise(
        &self,
        kind: EventType,
        kinds: &[String],
        after: DateTime<Utc>,
        until: DateTime<Utc>,
        lead_seconds: Option<u64>,
    ) -> Result<usize, StorageError> {
        let mut raised = 0;
        loop {
            let due = self
                .store
                .due_notices(&kinds[0], after, until, BATCH)
                .await?;
            for secret in &due {
                let mut event = Event::new(kind, secret.subject.clone(), self.clock.now());
                event.lead_seconds = lead_seconds;
                if self.store.raise_notice(secret, kinds, &event).await? {
                    raised += 1;
                    tracing::info!(
                        tenant.id = %secret.subject.tenant, client.id = %secret.subject.client_id,
                        secret.id = %secret.subject.secret_id, event = kind.as_str(), "raised {}", kind.as_str()
                    );
                }
            }
            if due.len() < BATCH as usize {
                return Ok(raised);
            }
        }
    }
}
