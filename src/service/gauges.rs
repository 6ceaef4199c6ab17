//! The gauges of `GET /metrics` that need the database: each tenant's secrets by
//! status, the pending deliveries and the current signing key's age. A background
//! task reads them every `metrics.refreshInterval` into [`METRICS`], so a scrape
//! costs no query and a busy scraper cannot load the database.
//!
//! One refresh is one summary statement per tenant (the tenant overview's, see
//! [`Storage::secret_summary`]), run one after another on one connection, plus two
//! small reads. Tenants beyond `metrics.maxTenants` (in creation order) are summed
//! into one aggregate instead of getting their own series. A failed refresh keeps
//! the previous figures (their age is `latchkey_metrics_refreshed_timestamp_seconds`).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::clock::Clock;
use crate::domain::summary::{SecretSummary, SummaryWindows};
use crate::metrics::{METRICS, Refreshed, SecretCounts};
use crate::storage::{Page, Storage, StorageError};

/// Tenants read per page while refreshing.
const PAGE: u32 = 500;

/// Refreshes the gauges now, then every `interval`, until the task is dropped.
pub async fn refresh_every(
    store: Arc<dyn Storage>,
    clock: Arc<dyn Clock>,
    interval: Duration,
    max_tenants: u32,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match read(store.as_ref(), clock.now(), max_tenants).await {
            Ok(refreshed) => METRICS.set_refreshed(refreshed),
            Err(e) => tracing::warn!(
                error = %e,
                "the metrics' database gauges could not be refreshed; keeping the previous figures: {e}"
            ),
        }
    }
}

/// Reads the gauges at `now`.
pub async fn read(
    store: &dyn Storage,
    now: DateTime<Utc>,
    max_tenants: u32,
) -> Result<Refreshed, StorageError> {
    let windows = SummaryWindows::at(now);
    let cap = usize::try_from(max_tenants).unwrap_or(usize::MAX);
    let mut tenants = Vec::new();
    let mut other: Option<(u64, SecretCounts)> = None;
    let mut skip = 0u32;
    loop {
        let page = store.list_tenants(Page { skip, count: PAGE }).await?;
        for tenant in &page.items {
            let counts = counts_of(&store.secret_summary(&tenant.id, &windows).await?);
            if tenants.len() < cap {
                tenants.push((tenant.id.to_string(), counts));
            } else {
                let (n, sum) = other.get_or_insert_default();
                *n += 1;
                sum.add(&counts);
            }
        }
        let read = u32::try_from(page.items.len()).unwrap_or(PAGE);
        skip = skip.saturating_add(read);
        if read < PAGE || u64::from(skip) >= page.total {
            break;
        }
    }
    let pending = store.pending_deliveries().await?;
    let keys = store.signing_keys().await?;
    let key_created_at = super::keys::current_created_at(&keys, now);
    Ok(Refreshed {
        at: now.timestamp(),
        tenants,
        other,
        deliveries_pending: pending.count,
        oldest_pending_at: pending.oldest_created_at.map(|at| at.timestamp()),
        signing_key_created_at: key_created_at.map(|at| at.timestamp()),
    })
}

fn counts_of(s: &SecretSummary) -> SecretCounts {
    SecretCounts {
        active: s.active,
        expiring_7d: s.expiring_soon,
        expiring_30d: s.expiring_this_month,
        expired: s.expired,
        never_used: s.never_used,
    }
}
