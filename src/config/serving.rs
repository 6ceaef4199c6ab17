//! How the server treats connections (`server.headerReadTimeout`,
//! `server.shutdownTimeout`) and how loudly it logs successes
//! (`logging.tokenSuccessLevel`): the keys, their defaults and their checks, so
//! that config.rs only lists them.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ConfigError, bad};

/// Connection handling, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerSettings {
    /// A connection that has not sent a whole request head within this long is closed.
    pub header_read_timeout: Duration,
    /// After SIGTERM, in-flight requests get this long; then what is left is closed.
    pub shutdown_timeout: Duration,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            shutdown_timeout: Duration::from_secs(20),
        }
    }
}

/// `logging`: what the request log keeps at the default level.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct LoggingSection {
    /// `debug` (default: a successful token request writes no line at `info`) or `info`.
    token_success_level: String,
}

impl Default for LoggingSection {
    fn default() -> Self {
        Self {
            token_success_level: "debug".into(),
        }
    }
}

impl LoggingSection {
    /// True when successful token requests are logged at `info`.
    pub(super) fn token_successes_at_info(&self) -> Result<bool, ConfigError> {
        match self.token_success_level.to_ascii_lowercase().as_str() {
            "debug" => Ok(false),
            "info" => Ok(true),
            other => Err(bad(
                "logging.tokenSuccessLevel",
                format!("must be debug or info (got {other:?})"),
            )),
        }
    }
}

/// Validates `server.headerReadTimeout` and `server.shutdownTimeout` (seconds; absent
/// means the default).
pub(super) fn server_settings(
    header_read_timeout: Option<u64>,
    shutdown_timeout: Option<u64>,
) -> Result<ServerSettings, ConfigError> {
    let defaults = ServerSettings::default();
    let header = header_read_timeout.unwrap_or(defaults.header_read_timeout.as_secs());
    if !(1..=300).contains(&header) {
        return Err(bad(
            "server.headerReadTimeout",
            format!("must be 1 to 300 seconds (got {header})"),
        ));
    }
    let shutdown = shutdown_timeout.unwrap_or(defaults.shutdown_timeout.as_secs());
    if shutdown > 3600 {
        return Err(bad(
            "server.shutdownTimeout",
            format!("must be 0 to 3600 seconds (got {shutdown})"),
        ));
    }
    Ok(ServerSettings {
        header_read_timeout: Duration::from_secs(header),
        shutdown_timeout: Duration::from_secs(shutdown),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bad_values_naming_their_key() {
        assert_eq!(
            server_settings(None, None).ok(),
            Some(ServerSettings::default())
        );
        let e = server_settings(Some(0), None).unwrap_err().to_string();
        assert!(e.contains("server.headerReadTimeout"), "{e}");
        let e = server_settings(None, Some(3601)).unwrap_err().to_string();
        assert!(e.contains("server.shutdownTimeout"), "{e}");
        assert_eq!(
            LoggingSection::default().token_successes_at_info().ok(),
            Some(false)
        );
        let loud = LoggingSection {
            token_success_level: "INFO".into(),
        };
        assert_eq!(loud.token_successes_at_info().ok(), Some(true));
        let bad = LoggingSection {
            token_success_level: "trace".into(),
        };
        let e = bad.token_successes_at_info().unwrap_err().to_string();
        assert!(e.contains("logging.tokenSuccessLevel"), "{e}");
    }
}
