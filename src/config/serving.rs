//! Where the server listens (`--listen`, `server.listen`, `metrics.listen`: one
//! parser for all three), how it treats connections (`server.headerReadTimeout`,
//! `server.shutdownTimeout`) and how loudly it logs successes
//! (`logging.tokenSuccessLevel`): the keys, their defaults and their checks, so
//! that config.rs only lists them.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ConfigError, bad};

/// An address to listen on: `IP:PORT` (`[IPv6]:PORT`), `HOST:PORT` (resolved once,
/// at start; `localhost` is 127.0.0.1 without asking the resolver, which may answer
/// `::1` first) or `:PORT` (every IPv4 interface: `0.0.0.0:PORT`; `[::]:PORT` adds
/// IPv6). The error says what to write instead.
pub fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let usage = "write IP:PORT, HOST:PORT or :PORT, such as 127.0.0.1:8080, localhost:8080 \
                 or :8080 (every interface)";
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err(format!("{text:?} has no port: {usage}"));
    };
    let Ok(port) = port.parse::<u16>() else {
        return Err(format!("{port:?} is not a port (0 to 65535): {usage}"));
    };
    if host.is_empty() {
        return Ok(SocketAddr::from(([0, 0, 0, 0], port)));
    }
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    let mut found = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host:?} ({e}): {usage}"))?;
    found
        .next()
        .ok_or_else(|| format!("{host:?} resolves to no address: {usage}"))
}

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
    fn listen_addresses_take_a_host_name_or_only_a_port() {
        let v4 = |a: [u8; 4], port| Ok(SocketAddr::from((a, port)));
        assert_eq!(parse_listen("127.0.0.1:8080"), v4([127, 0, 0, 1], 8080));
        assert_eq!(parse_listen("localhost:8080"), v4([127, 0, 0, 1], 8080));
        assert_eq!(parse_listen("LocalHost:0"), v4([127, 0, 0, 1], 0));
        assert_eq!(parse_listen(":8080"), v4([0, 0, 0, 0], 8080));
        assert_eq!(parse_listen(" :9100 "), v4([0, 0, 0, 0], 9100));
        assert_eq!(
            parse_listen("[::1]:8080"),
            Ok(SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 8080)))
        );
        for (bad, says) in [
            ("localhost", "has no port"),
            ("8080", "has no port"),
            (":http", "is not a port"),
            ("localhost:70000", "is not a port"),
            (
                "no-such-host.invalid:8080",
                "cannot resolve \"no-such-host.invalid\"",
            ),
        ] {
            let e = parse_listen(bad).unwrap_err();
            assert!(
                e.contains(says) && e.contains(":8080 (every interface)"),
                "{bad}: {e}"
            );
        }
    }

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
