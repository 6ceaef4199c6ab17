//! The `notifications` section of the configuration: when expiry warnings are
//! checked and how far ahead, how soon "expired" is noticed, and how webhook
//! deliveries are retried.
//!
//! ```yaml
//! notifications:
//!   expiring:
//!     cron: "0 0 * * * *"          # every hour, on the hour (seconds field optional)
//!     leadTimes: [30d, 7d, 1d]     # warn this long before a secret expires
//!   expired:
//!     checkInterval: 15s           # "expired" is raised at most this long after the instant
//!   webhooks:
//!     timeout: 10s
//!     retrySchedule: [5s, 5m, 30m, 2h, 5h, 10h, 10h]   # about a day in total
//!     allowPrivateNetworks: false  # true: receivers on loopback/private/link-local addresses
//!     maxPerTenant: 20             # webhook subscriptions a tenant may hold
//! ```

use std::time::Duration;

use croner::Cron;
use serde::{Deserialize, Serialize};

use crate::domain::webhook_target::TargetPolicy;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ExpiringSection {
    pub cron: String,
    pub lead_times: Vec<String>,
}

impl Default for ExpiringSection {
    fn default() -> Self {
        Self {
            cron: "0 0 * * * *".into(),
            lead_times: vec!["30d".into(), "7d".into(), "1d".into()],
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ExpiredSection {
    pub check_interval: String,
}

impl Default for ExpiredSection {
    fn default() -> Self {
        Self {
            check_interval: "15s".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct WebhooksSection {
    pub timeout: String,
    pub retry_schedule: Vec<String>,
    pub allow_private_networks: bool,
    pub max_per_tenant: u32,
}

impl Default for WebhooksSection {
    fn default() -> Self {
        Self {
            timeout: "10s".into(),
            retry_schedule: ["5s", "5m", "30m", "2h", "5h", "10h", "10h"]
                .map(String::from)
                .to_vec(),
            allow_private_networks: false,
            max_per_tenant: DEFAULT_WEBHOOKS_MAX,
        }
    }
}

/// Webhook subscriptions a tenant may hold by default
/// (`notifications.webhooks.maxPerTenant`): each event fans out to all of them.
pub const DEFAULT_WEBHOOKS_MAX: u32 = 20;
/// The highest `notifications.webhooks.maxPerTenant` accepted.
const WEBHOOKS_MAX_LIMIT: u32 = 1000;

/// Validated notification settings.
#[derive(Debug, Clone)]
pub struct NotificationSettings {
    pub expiring_cron: Cron,
    /// Longest first.
    pub lead_times: Vec<Duration>,
    pub expired_check_interval: Duration,
    pub webhook_timeout: Duration,
    /// The wait before each retry; its length is the number of retries.
    pub retry_schedule: Vec<Duration>,
    /// Which addresses deliveries may connect to.
    pub webhook_targets: TargetPolicy,
    /// Webhook subscriptions a tenant may hold.
    pub webhooks_max: u32,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        validate_schedule(
            &ExpiringSection::default(),
            &ExpiredSection::default(),
            &WebhooksSection::default(),
        )
        .unwrap_or_else(|(key, e)| unreachable!("the defaults are valid ({key}: {e})"))
    }
}

/// Checks every key of the schedule sections; an error names the key and the problem.
pub fn validate_schedule(
    expiring: &ExpiringSection,
    expired: &ExpiredSection,
    webhooks: &WebhooksSection,
) -> Result<NotificationSettings, (&'static str, String)> {
    let expiring_cron: Cron = expiring
        .cron
        .parse()
        .map_err(|e| ("notifications.expiring.cron", format!("{e}")))?;
    let mut lead_times = durations("notifications.expiring.leadTimes", &expiring.lead_times)?;
    if lead_times.is_empty() || lead_times.len() > 10 {
        return Err((
            "notifications.expiring.leadTimes",
            "give 1 to 10 lead times".into(),
        ));
    }
    if lead_times
        .iter()
        .any(|d| d.is_zero() || *d > Duration::from_secs(400 * 86_400))
    {
        return Err((
            "notifications.expiring.leadTimes",
            "each must be more than 0 and at most 400d".into(),
        ));
    }
    lead_times.sort_unstable_by(|a, b| b.cmp(a));
    lead_times.dedup();
    let expired_check_interval = duration(
        "notifications.expired.checkInterval",
        &expired.check_interval,
    )?;
    if expired_check_interval.is_zero() || expired_check_interval > Duration::from_secs(60) {
        return Err((
            "notifications.expired.checkInterval",
            "must be more than 0 and at most 60s (expired events are due within 60 s)".into(),
        ));
    }
    let webhook_timeout = duration("notifications.webhooks.timeout", &webhooks.timeout)?;
    if webhook_timeout.is_zero() || webhook_timeout > Duration::from_secs(60) {
        return Err((
            "notifications.webhooks.timeout",
            "must be more than 0 and at most 60s".into(),
        ));
    }
    let retry_schedule = durations(
        "notifications.webhooks.retrySchedule",
        &webhooks.retry_schedule,
    )?;
    if retry_schedule.len() > 20
        || retry_schedule
            .iter()
            .any(|d| *d > Duration::from_secs(7 * 86_400))
    {
        return Err((
            "notifications.webhooks.retrySchedule",
            "at most 20 retries, each at most 7d".into(),
        ));
    }
    let webhooks_max = webhooks.max_per_tenant;
    if !(1..=WEBHOOKS_MAX_LIMIT).contains(&webhooks_max) {
        return Err((
            "notifications.webhooks.maxPerTenant",
            format!("must be 1 to {WEBHOOKS_MAX_LIMIT} (got {webhooks_max})"),
        ));
    }
    Ok(NotificationSettings {
        expiring_cron,
        lead_times,
        expired_check_interval,
        webhook_timeout,
        retry_schedule,
        webhook_targets: TargetPolicy {
            allow_private_networks: webhooks.allow_private_networks,
        },
        webhooks_max,
    })
}

fn duration(key: &'static str, text: &str) -> Result<Duration, (&'static str, String)> {
    humantime::parse_duration(text.trim()).map_err(|e| {
        (
            key,
            format!("{text:?} is not a duration like 30d, 2h, 15s ({e})"),
        )
    })
}

fn durations(key: &'static str, texts: &[String]) -> Result<Vec<Duration>, (&'static str, String)> {
    texts.iter().map(|t| duration(key, t)).collect()
}

/// A lead time as a notice kind (`expiring:<seconds>`), the key of its once-only record.
pub fn expiring_kind(lead: Duration) -> String {
    format!("expiring:{}", lead.as_secs())
}

/// The notice kind of "expired".
pub const EXPIRED_KIND: &str = "expired";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_warn_30_7_and_1_days_ahead_and_retry_for_about_a_day() {
        let s = NotificationSettings::default();
        let days: Vec<u64> = s.lead_times.iter().map(|d| d.as_secs() / 86_400).collect();
        assert_eq!(days, [30, 7, 1]);
        let total: Duration = s.retry_schedule.iter().sum();
        assert!(total > Duration::from_secs(20 * 3600) && total < Duration::from_secs(36 * 3600));
        assert_eq!(s.expired_check_interval, Duration::from_secs(15));
        assert_eq!(s.webhooks_max, 20);
    }

    #[test]
    fn webhooks_per_tenant_are_1_to_1000() {
        let (e, x) = (ExpiringSection::default(), ExpiredSection::default());
        for (max, ok) in [
            (0, false),
            (1, true),
            (5, true),
            (1000, true),
            (1001, false),
        ] {
            let w = WebhooksSection {
                max_per_tenant: max,
                ..WebhooksSection::default()
            };
            match validate_schedule(&e, &x, &w) {
                Ok(s) => assert!(ok && s.webhooks_max == max, "{max} accepted"),
                Err((key, reason)) => {
                    assert!(!ok, "{max} refused: {reason}");
                    assert_eq!(key, "notifications.webhooks.maxPerTenant");
                }
            }
        }
    }

    #[test]
    fn bad_values_name_their_key() {
        let (e, x, w) = (
            ExpiringSection::default(),
            ExpiredSection::default(),
            WebhooksSection::default(),
        );
        let cron = ExpiringSection {
            cron: "every tuesday".into(),
            ..e.clone()
        };
        let key = |r: Result<NotificationSettings, (&'static str, String)>| r.unwrap_err().0;
        assert_eq!(
            key(validate_schedule(&cron, &x, &w)),
            "notifications.expiring.cron"
        );
        let leads = ExpiringSection {
            lead_times: vec!["soon".into()],
            ..e.clone()
        };
        assert_eq!(
            key(validate_schedule(&leads, &x, &w)),
            "notifications.expiring.leadTimes"
        );
        let slow = ExpiredSection {
            check_interval: "5m".into(),
        };
        assert_eq!(
            key(validate_schedule(&e, &slow, &w)),
            "notifications.expired.checkInterval"
        );
        let retries = WebhooksSection {
            retry_schedule: vec!["8d".into()],
            ..w.clone()
        };
        assert_eq!(
            key(validate_schedule(&e, &x, &retries)),
            "notifications.webhooks.retrySchedule"
        );
    }

    #[test]
    fn lead_times_are_sorted_longest_first() {
        let leads = ExpiringSection {
            lead_times: vec!["1h".into(), "3d".into(), "1h".into()],
            ..ExpiringSection::default()
        };
        let s = validate_schedule(
            &leads,
            &ExpiredSection::default(),
            &WebhooksSection::default(),
        )
        .unwrap();
        assert_eq!(
            s.lead_times,
            [Duration::from_secs(3 * 86_400), Duration::from_secs(3600)]
        );
    }
}
