//! The `metrics` section: whether `GET /metrics` is served and recorded
//! (`metrics.enabled`), on which address (`metrics.listen`: a separate listener
//! without authentication; otherwise the main one, for the platform
//! administrator), how often the gauges read from the database are refreshed
//! (`metrics.refreshInterval`) and for at most how many tenants
//! (`metrics.maxTenants`).

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ConfigError, bad};

/// `metrics`, as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct MetricsSection {
    enabled: bool,
    listen: Option<String>,
    /// Seconds.
    refresh_interval: u64,
    max_tenants: u32,
}

impl Default for MetricsSection {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: None,
            refresh_interval: 60,
            max_tenants: 1000,
        }
    }
}

/// The metrics settings, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsSettings {
    pub enabled: bool,
    /// A separate listener for `/metrics` (no authentication there, and none on the main one).
    pub listen: Option<SocketAddr>,
    pub refresh_interval: Duration,
    /// Tenants with their own secret gauges; the rest are summed.
    pub max_tenants: u32,
}

impl MetricsSection {
    pub(super) fn settings(&self) -> Result<MetricsSettings, ConfigError> {
        let listen = match self.listen.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => {
                Some(super::serving::parse_listen(text).map_err(|e| bad("metrics.listen", e))?)
            }
        };
        if !(1..=86_400).contains(&self.refresh_interval) {
            return Err(bad(
                "metrics.refreshInterval",
                format!("must be 1 to 86400 seconds (got {})", self.refresh_interval),
            ));
        }
        if self.max_tenants > 100_000 {
            return Err(bad(
                "metrics.maxTenants",
                format!("must be 0 to 100000 (got {})", self.max_tenants),
            ));
        }
        Ok(MetricsSettings {
            enabled: self.enabled,
            listen,
            refresh_interval: Duration::from_secs(self.refresh_interval),
            max_tenants: self.max_tenants,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bad_values_naming_their_key() {
        let defaults = MetricsSection::default().settings().unwrap();
        assert_eq!(
            defaults,
            MetricsSettings {
                enabled: true,
                listen: None,
                refresh_interval: Duration::from_secs(60),
                max_tenants: 1000,
            }
        );
        let separate = MetricsSection {
            listen: Some("127.0.0.1:9100".into()),
            ..MetricsSection::default()
        };
        assert_eq!(
            separate.settings().unwrap().listen,
            Some(SocketAddr::from(([127, 0, 0, 1], 9100)))
        );
        let cases = [
            (
                MetricsSection {
                    listen: Some("localhost".into()), // no port
                    ..MetricsSection::default()
                },
                "metrics.listen",
            ),
            (
                MetricsSection {
                    refresh_interval: 0,
                    ..MetricsSection::default()
                },
                "metrics.refreshInterval",
            ),
            (
                MetricsSection {
                    max_tenants: 100_001,
                    ..MetricsSection::default()
                },
                "metrics.maxTenants",
            ),
        ];
        for (section, key) in cases {
            let e = section.settings().unwrap_err().to_string();
            assert!(e.contains(key), "{e}");
        }
    }
}
