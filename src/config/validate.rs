//! Validation: turns the merged file sections, the flags and the environment's
//! secrets into typed settings, each handed to the part that owns it (the
//! services' [`Limits`], [`TokenSettings`] and [`ConsoleSettings`], the
//! [`BootstrapToken`], the notifier's schedule and SMTP settings). Every check
//! names its key in the error, so a bad value stops start-up saying what to fix.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use zeroize::Zeroizing;

use super::file::{Argon2Section, FileConfig, Secrets};
use super::notifications::email_settings;
use super::{ConfigError, MasterKeySource, ServeArgs, Settings, bad, serving};
use crate::domain::bootstrap_token::BootstrapToken;
use crate::domain::expiry::ExpiryPolicy;
use crate::domain::forwarded::TrustedProxies;
use crate::domain::leaks::{KeysDocument, ScannerKey};
use crate::domain::signing_keys::KeySchedule;
use crate::service::settings::{Argon2Bound, ConsoleSettings, Limits, TokenSettings};
use crate::storage::CredentialCache;

impl Settings {
    pub(super) fn validate(
        args: &ServeArgs,
        file: FileConfig,
        secrets: Secrets,
    ) -> Result<Self, ConfigError> {
        let bootstrap = secrets.bootstrap;
        let listen = match (&args.listen, &file.server.listen) {
            (Some(addr), _) => *addr,
            (None, Some(text)) => {
                serving::parse_listen(text).map_err(|e| bad("server.listen", e))?
            }
            (None, None) => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };
        let server = serving::server_settings(
            file.server.header_read_timeout,
            file.server.shutdown_timeout,
        )?;
        let successes_at_info = file.logging.token_successes_at_info()?;
        let database_url = database_url(args.database.clone(), file.database.url.clone())?;
        let credential_cache = match file.database.credential_cache.as_deref() {
            None => CredentialCache::default(),
            Some(text) => text
                .parse()
                .map_err(|e| bad("database.credentialCache", e))?,
        };
        let public_url = args.public_url.clone().or(file.server.public_url);
        if let Some(public_url) = &public_url
            && !(public_url.starts_with("http://") || public_url.starts_with("https://"))
        {
            return Err(bad(
                "server.publicUrl",
                "must start with http:// or https://",
            ));
        }
        let trusted_proxies = TrustedProxies::parse(&file.server.trusted_proxies)
            .map_err(|(entry, why)| bad("server.trustedProxies", format!("{entry:?} {why}")))?;
        let secrets_max = file.applications.secrets_max;
        if !(1..=1000).contains(&secrets_max) {
            return Err(bad(
                "applications.secretsMax",
                format!("must be 1 to 1000 (got {secrets_max})"),
            ));
        }
        let clients_max = file.tenants.clients_max;
        if !(1..=10_000_000).contains(&clients_max) {
            return Err(bad(
                "tenants.clientsMax",
                format!("must be 1 to 10000000 (got {clients_max})"),
            ));
        }
        let default_expiry: ExpiryPolicy = file
            .secrets
            .default_expiry
            .parse()
            .map_err(|e| bad("secrets.defaultExpiry", e))?;
        let grace = file.secrets.max_grace_period;
        if grace > 90 * 24 * 3600 {
            return Err(bad(
                "secrets.maxGracePeriod",
                format!("must be at most 7776000 seconds (got {grace})"),
            ));
        }
        let bootstrap_token = match bootstrap.filter(|t| !t.is_empty()) {
            Some(t) if t.len() < 16 => {
                return Err(bad(
                    "LATCHKEY_BOOTSTRAP_TOKEN",
                    "must be at least 16 characters",
                ));
            }
            Some(t) => Some(BootstrapToken::new(t)),
            None => None,
        };
        let master_key = match secrets.master_key.filter(|k| !k.trim().is_empty()) {
            Some(text) => MasterKeySource::Environment(Zeroizing::new(text)),
            None => MasterKeySource::File(key_file_beside(&database_url).ok_or_else(|| {
                bad(
                    "LATCHKEY_MASTER_KEY",
                    "is required unless the database is a SQLite file (every node sharing a \
                     PostgreSQL database needs the same key: 32 bytes as 64 hex characters or base64)",
                )
            })?),
        };
        let scanner_keys = scanner_keys(file.leaks.scanner_keys.as_deref())?;
        let metrics = file.metrics.settings()?;
        let t = file.tokens;
        if !(1..=3600).contains(&t.last_used_interval) {
            return Err(bad(
                "tokens.lastUsedInterval",
                format!("must be 1 to 3600 seconds (got {})", t.last_used_interval),
            ));
        }
        for (key, value) in [
            (
                "tokens.failedAttemptsPerClient",
                t.failed_attempts_per_client,
            ),
            (
                "tokens.failedAttemptsPerAddress",
                t.failed_attempts_per_address,
            ),
        ] {
            if !(1..=100_000).contains(&value) {
                return Err(bad(
                    key,
                    format!("must be 1 to 100000 per minute (got {value})"),
                ));
            }
        }
        let key_schedule = key_schedule(t.signing_key_rotation, t.signing_key_overlap)?;
        let refusals = file.audit.refusals_per_tenant_per_minute;
        if !(1..=100_000).contains(&refusals) {
            return Err(bad(
                "audit.refusalsPerTenantPerMinute",
                format!("must be 1 to 100000 per minute (got {refusals})"),
            ));
        }
        let argon2 = argon2_bound(&file.argon2)?;
        let idle = file.console.idle_timeout;
        if !(1..=7 * 24 * 3600).contains(&idle) {
            return Err(bad(
                "console.idleTimeout",
                format!("must be 1 to 604800 seconds (got {idle})"),
            ));
        }
        let console = ConsoleSettings {
            idle_timeout: Duration::from_secs(idle),
            admin_password: secrets
                .admin_password
                .filter(|p| !p.is_empty())
                .map(Zeroizing::new),
        };
        let notifications = file
            .notifications
            .schedule()
            .map_err(|(key, reason)| bad(key, reason))?;
        let email = email_settings(file.notifications.email, secrets.smtp_password)?;
        let webhook_targets = notifications.webhook_targets;
        let webhooks_max = notifications.webhooks_max;
        Ok(Self {
            console,
            listen,
            server,
            email,
            database_url,
            credential_cache,
            master_key,
            notifications,
            tokens: TokenSettings {
                last_used_interval: Duration::from_secs(t.last_used_interval),
                failed_attempts_per_client: t.failed_attempts_per_client,
                failed_attempts_per_address: t.failed_attempts_per_address,
                successes_at_info,
                key_schedule,
            },
            public_url: public_url.map(|u| u.trim_end_matches('/').to_owned()),
            scanner_keys,
            metrics,
            config_file: None,
            trusted_proxies,
            bootstrap_token,
            limits: Limits {
                secrets_max,
                clients_max,
                default_expiry,
                max_grace_period: Duration::from_secs(grace),
                webhook_targets,
                refusals_per_tenant_per_minute: refusals,
                webhooks_max,
                argon2,
            },
        })
    }
}

/// The database URL: the flag, else the file's, else `sqlite://latchkey.db`.
pub(super) fn database_url(
    flag: Option<String>,
    file: Option<String>,
) -> Result<String, ConfigError> {
    let database_url = flag
        .or(file)
        .unwrap_or_else(|| "sqlite://latchkey.db".into());
    if !["sqlite:", "postgres://", "postgresql://"]
        .iter()
        .any(|p| database_url.starts_with(p))
    {
        return Err(bad(
            "database.url",
            "must start with sqlite:// or postgres://",
        ));
    }
    Ok(database_url)
}

/// The key file beside a SQLite database (`sqlite://dir/latchkey.db` → `dir/latchkey.key`).
pub(super) fn key_file_beside(database_url: &str) -> Option<PathBuf> {
    let path = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path.contains(":memory:") {
        return None;
    }
    Some(Path::new(path).with_extension("key"))
}

fn argon2_bound(section: &Argon2Section) -> Result<Argon2Bound, ConfigError> {
    let default = Argon2Bound::default();
    let concurrency = section.concurrency.unwrap_or(default.concurrency);
    if !(1..=1024).contains(&concurrency) {
        return Err(bad(
            "argon2.concurrency",
            format!("must be 1 to 1024 (got {concurrency})"),
        ));
    }
    let queue = section.queue.unwrap_or(default.queue);
    if queue > 100_000 {
        return Err(bad(
            "argon2.queue",
            format!("must be 0 to 100000 (got {queue})"),
        ));
    }
    Ok(Argon2Bound { concurrency, queue })
}

/// The scanner keys of the `leaks.scannerKeys` file (none without one).
fn scanner_keys(path: Option<&str>) -> Result<Vec<ScannerKey>, ConfigError> {
    let Some(path) = path.filter(|p| !p.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad("leaks.scannerKeys", format!("cannot read {path}: {e}")))?;
    let doc: KeysDocument = serde_json::from_str(&text).map_err(|e| {
        bad(
            "leaks.scannerKeys",
            format!("{path} is not a public_keys document: {e}"),
        )
    })?;
    doc.keys()
        .map_err(|e| bad("leaks.scannerKeys", format!("{path}: {}", e.reason)))
}

/// `tokens.signingKeyRotation` (days, 0: off) and `tokens.signingKeyOverlap` (seconds).
fn key_schedule(rotation_days: u32, overlap: u64) -> Result<KeySchedule, ConfigError> {
    if !(1..=MAX_OVERLAP).contains(&overlap) {
        return Err(bad(
            "tokens.signingKeyOverlap",
            format!("must be 1 to {MAX_OVERLAP} seconds (got {overlap})"),
        ));
    }
    if rotation_days > 3650 {
        return Err(bad(
            "tokens.signingKeyRotation",
            format!("must be 0 (off) to 3650 days (got {rotation_days})"),
        ));
    }
    let rotation =
        (rotation_days > 0).then(|| Duration::from_secs(u64::from(rotation_days) * 86_400));
    if rotation.is_some_and(|r| r.as_secs() < 2 * overlap) {
        return Err(bad(
            "tokens.signingKeyRotation",
            format!(
                "must be at least twice tokens.signingKeyOverlap ({overlap} seconds) so a key signs \
                 longer than it is published around its signing time (got {rotation_days} days)"
            ),
        ));
    }
    Ok(KeySchedule {
        rotation,
        overlap: Duration::from_secs(overlap),
    })
}

/// 30 days.
const MAX_OVERLAP: u64 = 30 * 86_400;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::file::canonical_key;

    fn args() -> ServeArgs {
        ServeArgs {
            listen: None,
            database: None,
            config: None,
            public_url: None,
        }
    }

    #[test]
    fn defaults_match_the_specification() {
        let s = Settings::validate(&args(), FileConfig::default(), Secrets::default()).unwrap();
        assert_eq!(s.limits, Limits::default());
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.database_url, "sqlite://latchkey.db");
        assert_eq!(s.public_url, None);
        assert!(s.trusted_proxies.networks().is_empty());
        assert_eq!(
            s.public_url_for("127.0.0.1:4321".parse().unwrap()),
            "http://127.0.0.1:4321"
        );
    }

    #[test]
    fn server_listen_takes_the_forms_of_the_flag() {
        let listen = |text: &str| {
            let mut f = FileConfig::default();
            f.server.listen = Some(text.into());
            Settings::validate(&args(), f, Secrets::default()).map(|s| s.listen.to_string())
        };
        assert_eq!(listen("localhost:9000").unwrap(), "127.0.0.1:9000");
        assert_eq!(listen(":9000").unwrap(), "0.0.0.0:9000");
        let e = listen("9000").unwrap_err().to_string();
        assert!(
            e.contains("server.listen") && e.contains("has no port"),
            "{e}"
        );
    }

    #[test]
    fn bad_values_name_their_key() {
        let mut f = FileConfig::default();
        f.applications.secrets_max = 0;
        let e = Settings::validate(&args(), f, Secrets::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("applications.secretsMax"), "{e}");
        let mut f = FileConfig::default();
        f.secrets.default_expiry = "7 FORTNIGHTS".into();
        let e = Settings::validate(&args(), f, Secrets::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("secrets.defaultExpiry"), "{e}");
        let mut f = FileConfig::default();
        f.argon2.concurrency = Some(0);
        let e = Settings::validate(&args(), f, Secrets::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("argon2.concurrency"), "{e}");
    }

    #[test]
    fn the_signing_key_schedule_is_checked_and_converted() {
        let s = Settings::validate(&args(), FileConfig::default(), Secrets::default()).unwrap();
        assert_eq!(s.tokens.key_schedule, KeySchedule::default());
        let with = |rotation: u32, overlap: u64| {
            let mut f = FileConfig::default();
            f.tokens.signing_key_rotation = rotation;
            f.tokens.signing_key_overlap = overlap;
            Settings::validate(&args(), f, Secrets::default()).map(|s| s.tokens.key_schedule)
        };
        assert_eq!(
            with(0, 3).unwrap(),
            KeySchedule {
                rotation: None,
                overlap: Duration::from_secs(3)
            }
        );
        assert_eq!(
            with(7, 60).unwrap().rotation,
            Some(Duration::from_secs(7 * 86_400))
        );
        for (rotation, overlap, key, reason) in [
            (
                90,
                0,
                "tokens.signingKeyOverlap",
                "must be 1 to 2592000 seconds (got 0)",
            ),
            (90, 2_592_001, "tokens.signingKeyOverlap", "(got 2592001)"),
            (
                3651,
                60,
                "tokens.signingKeyRotation",
                "must be 0 (off) to 3650 days (got 3651)",
            ),
            (
                1,
                86_400,
                "tokens.signingKeyRotation",
                "at least twice tokens.signingKeyOverlap",
            ),
        ] {
            let e = with(rotation, overlap).unwrap_err().to_string();
            assert!(e.contains(key) && e.contains(reason), "{e}");
        }
    }

    #[test]
    fn postgres_needs_a_master_key_and_sqlite_gets_a_key_file() {
        let pg = ServeArgs {
            database: Some("postgres://u@h/db".into()),
            ..args()
        };
        let e = Settings::validate(&pg, FileConfig::default(), Secrets::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("LATCHKEY_MASTER_KEY"), "{e}");
        let s = Settings::validate(&args(), FileConfig::default(), Secrets::default()).unwrap();
        assert!(
            matches!(s.master_key, MasterKeySource::File(ref p) if p == Path::new("latchkey.key"))
        );
        assert_eq!(
            key_file_beside("sqlite:///var/lib/lk/main.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/lk/main.key"))
        );
    }

    #[test]
    fn credential_cache_defaults_to_strict_and_names_its_key() {
        let s = Settings::validate(&args(), FileConfig::default(), Secrets::default()).unwrap();
        assert_eq!(s.credential_cache, CredentialCache::Strict);
        for (text, want) in [
            ("strict", CredentialCache::Strict),
            ("cached", CredentialCache::Cached),
        ] {
            let mut f = FileConfig::default();
            f.database.credential_cache = Some(text.into());
            let s = Settings::validate(&args(), f, Secrets::default()).unwrap();
            assert_eq!(s.credential_cache, want);
        }
        let mut f = FileConfig::default();
        f.database.credential_cache = Some("eventual".into());
        let e = Settings::validate(&args(), f, Secrets::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("database.credentialCache"), "{e}");
        assert!(e.contains("strict or cached"), "{e}");
        assert_eq!(
            canonical_key("DATABASE.CREDENTIALCACHE"),
            "database.credentialCache"
        );
    }

    #[test]
    fn a_bad_scanner_keys_file_stops_start_up_naming_the_key() {
        let s = Settings::validate(&args(), FileConfig::default(), Secrets::default()).unwrap();
        assert!(s.scanner_keys.is_empty());
        let dir = tempfile::tempdir().unwrap();
        let not_keys = dir.path().join("keys.json");
        std::fs::write(
            &not_keys,
            r#"{"public_keys":[{"key_identifier":"k","key":"nope"}]}"#,
        )
        .unwrap();
        for path in [dir.path().join("missing.json"), not_keys] {
            let mut f = FileConfig::default();
            f.leaks.scanner_keys = Some(path.display().to_string());
            let e = Settings::validate(&args(), f, Secrets::default())
                .unwrap_err()
                .to_string();
            assert!(e.contains("leaks.scannerKeys"), "{e}");
        }
        assert_eq!(canonical_key("LEAKS.SCANNERKEYS"), "leaks.scannerKeys");
    }

    #[test]
    fn refusals_per_tenant_per_minute_defaults_to_100_and_is_bounded() {
        let s = Settings::validate(&args(), FileConfig::default(), Secrets::default()).unwrap();
        assert_eq!(s.limits.refusals_per_tenant_per_minute, 100);
        for bad_value in [0, 100_001] {
            let mut f = FileConfig::default();
            f.audit.refusals_per_tenant_per_minute = bad_value;
            let e = Settings::validate(&args(), f, Secrets::default())
                .unwrap_err()
                .to_string();
            assert!(e.contains("audit.refusalsPerTenantPerMinute"), "{e}");
        }
        assert_eq!(
            canonical_key("AUDIT.REFUSALSPERTENANTPERMINUTE"),
            "audit.refusalsPerTenantPerMinute"
        );
    }
}
