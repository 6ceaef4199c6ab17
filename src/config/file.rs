//! The configuration file's shape and where its values come from: the YAML
//! sections with their defaults, the list of keys, and the merge of defaults, the
//! file and the `LATCHKEY_<SECTION>__<KEY>` environment variables (matched to a key
//! case-insensitively). Also the secrets read straight from the environment, kept
//! apart from the file's values. Nothing here checks a value: [`super::validate`]
//! turns these sections into typed settings.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::metrics::MetricsSection;
use super::notifications::{EMAIL_KEYS, NotificationsSection, smtp_password_from_environment};
use super::serving::LoggingSection;
use super::{ConfigError, bad};

/// The configuration file's shape (camelCase keys, such as `secretsMax`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct FileConfig {
    pub(super) server: ServerSection,
    pub(super) database: DatabaseSection,
    pub(super) applications: ApplicationsSection,
    pub(super) tenants: TenantsSection,
    pub(super) secrets: SecretsSection,
    pub(super) tokens: TokensSection,
    pub(super) console: ConsoleSection,
    pub(super) notifications: NotificationsSection,
    pub(super) audit: AuditSection,
    pub(super) argon2: Argon2Section,
    pub(super) logging: LoggingSection,
    pub(super) leaks: LeaksSection,
    pub(super) metrics: MetricsSection,
}

/// Leak reports from secret scanners.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct LeaksSection {
    /// Path of a file shaped like GitHub's `public_keys` document: the keys trusted
    /// to sign reports until a platform administrator stores others.
    pub(super) scanner_keys: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct ServerSection {
    pub(super) listen: Option<String>,
    pub(super) public_url: Option<String>,
    /// Networks (CIDR) of reverse proxies whose forwarding headers are believed.
    pub(super) trusted_proxies: Vec<String>,
    /// Seconds (default 10).
    pub(super) header_read_timeout: Option<u64>,
    /// Seconds (default 20).
    pub(super) shutdown_timeout: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct DatabaseSection {
    pub(super) url: Option<String>,
    /// `strict` (default) or `cached`: where PostgreSQL nodes read credentials from.
    pub(super) credential_cache: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct ApplicationsSection {
    pub(super) secrets_max: u32,
}

impl Default for ApplicationsSection {
    fn default() -> Self {
        Self { secrets_max: 10 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct TenantsSection {
    pub(super) clients_max: u32,
}

impl Default for TenantsSection {
    fn default() -> Self {
        Self {
            clients_max: 50_000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct SecretsSection {
    pub(super) default_expiry: String,
    /// Seconds.
    pub(super) max_grace_period: u64,
}

impl Default for SecretsSection {
    fn default() -> Self {
        Self {
            default_expiry: "1 YEARS".into(),
            max_grace_period: 7 * 24 * 3600,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct TokensSection {
    /// Seconds between LastUsedAt flushes.
    pub(super) last_used_interval: u64,
    /// Failed client authentications per minute before 429.
    pub(super) failed_attempts_per_client: u32,
    pub(super) failed_attempts_per_address: u32,
    /// Days a signing key signs before the scheduled rotation (0: off).
    pub(super) signing_key_rotation: u32,
    /// Seconds a signing key is published before it signs and after it stops.
    pub(super) signing_key_overlap: u64,
}

impl Default for TokensSection {
    fn default() -> Self {
        Self {
            last_used_interval: 60,
            failed_attempts_per_client: 10,
            failed_attempts_per_address: 100,
            signing_key_rotation: crate::domain::signing_keys::DEFAULT_ROTATION_DAYS,
            signing_key_overlap: crate::domain::signing_keys::DEFAULT_OVERLAP.as_secs(),
        }
    }
}

/// How many Argon2id checks of presented values (supplied client secrets,
/// console passwords) run at once, and how many may wait for a run; a check
/// beyond both is refused at once (503 with `Retry-After`). Absent: derived
/// from the CPU count ([`Argon2Bound::default`](crate::service::settings::Argon2Bound::default)).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Argon2Section {
    pub(super) concurrency: Option<u32>,
    pub(super) queue: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct ConsoleSection {
    /// Seconds without a request after which a console session ends.
    pub(super) idle_timeout: u64,
}

impl Default for ConsoleSection {
    fn default() -> Self {
        Self { idle_timeout: 1800 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct AuditSection {
    /// Refusal entries a tenant's trail takes per minute; more are only counted.
    pub(super) refusals_per_tenant_per_minute: u32,
}

impl Default for AuditSection {
    fn default() -> Self {
        Self {
            refusals_per_tenant_per_minute: 100,
        }
    }
}

/// Every configuration key, for case-insensitive environment overrides.
const KEYS: [&str; 46] = [
    "server.listen",
    "server.publicUrl",
    "server.trustedProxies",
    "server.headerReadTimeout",
    "server.shutdownTimeout",
    "logging",
    "logging.tokenSuccessLevel",
    "database.url",
    "database.credentialCache",
    "applications.secretsMax",
    "tenants.clientsMax",
    "secrets.defaultExpiry",
    "secrets.maxGracePeriod",
    "tokens.lastUsedInterval",
    "tokens.failedAttemptsPerClient",
    "tokens.failedAttemptsPerAddress",
    "tokens.signingKeyRotation",
    "tokens.signingKeyOverlap",
    "notifications.expiring.cron",
    "notifications.expiring.leadTimes",
    "notifications.expired.checkInterval",
    "notifications.webhooks.timeout",
    "notifications.webhooks.retrySchedule",
    "notifications.webhooks.allowPrivateNetworks",
    "notifications.webhooks.maxPerTenant",
    "notifications",
    "notifications.expiring",
    "notifications.expired",
    "notifications.webhooks",
    "server",
    "secrets",
    "tokens",
    "console",
    "console.idleTimeout",
    "audit",
    "audit.refusalsPerTenantPerMinute",
    "argon2",
    "argon2.concurrency",
    "argon2.queue",
    "leaks",
    "leaks.scannerKeys",
    "metrics",
    "metrics.enabled",
    "metrics.listen",
    "metrics.refreshInterval",
    "metrics.maxTenants",
];

/// Secrets read from the environment, kept apart from the file's values.
#[derive(Default)]
pub(super) struct Secrets {
    pub(super) bootstrap: Option<String>,
    pub(super) master_key: Option<String>,
    pub(super) admin_password: Option<String>,
    pub(super) smtp_password: Option<String>,
}

impl Secrets {
    /// `LATCHKEY_BOOTSTRAP_TOKEN`, `LATCHKEY_MASTER_KEY`, `LATCHKEY_ADMIN_PASSWORD` and the
    /// SMTP password, as given.
    pub(super) fn from_environment() -> Self {
        Self {
            bootstrap: std::env::var("LATCHKEY_BOOTSTRAP_TOKEN").ok(),
            master_key: std::env::var("LATCHKEY_MASTER_KEY").ok(),
            admin_password: std::env::var("LATCHKEY_ADMIN_PASSWORD").ok(),
            smtp_password: smtp_password_from_environment(),
        }
    }
}

/// Merges the defaults, the YAML file (`--config`, else `latchkey.yml` when present)
/// and the `LATCHKEY_<SECTION>__<KEY>` environment variables.
pub(super) fn read(config: Option<&Path>) -> Result<FileConfig, ConfigError> {
    let mut figment = Figment::from(Serialized::defaults(FileConfig::default()));
    if let Some(path) = chosen(config)? {
        figment = figment.merge(Yaml::file_exact(path));
    }
    figment = figment.merge(
        Env::prefixed("LATCHKEY_")
            .filter(|k| k.as_str().contains("__") && k != "notifications__email__password")
            .split("__")
            .map(|k| canonical_key(k.as_str()).into())
            .lowercase(false),
    );
    figment.extract().map_err(describe)
}

/// The file [`read`] reads: `--config` (which must exist), else `latchkey.yml` in
/// the working directory when present, else none.
pub(super) fn chosen(config: Option<&Path>) -> Result<Option<PathBuf>, ConfigError> {
    match config {
        Some(path) if !path.exists() => Err(bad(
            "--config",
            format!("{} does not exist", path.display()),
        )),
        Some(path) => Ok(Some(path.to_path_buf())),
        None => Ok(Some(PathBuf::from("latchkey.yml")).filter(|p| p.exists())),
    }
}

/// YAML through serde-saphyr (figment's own YAML provider is on an unmaintained crate).
pub(super) struct Yaml;

impl Format for Yaml {
    type Error = serde_saphyr::Error;
    const NAME: &'static str = "YAML";

    fn from_str<T: DeserializeOwned>(s: &str) -> Result<T, Self::Error> {
        serde_saphyr::from_str(s)
    }
}

/// Maps an environment key (`APPLICATIONS.SECRETSMAX`) to its canonical spelling.
pub(super) fn canonical_key(key: &str) -> String {
    KEYS.iter()
        .chain(EMAIL_KEYS.iter())
        .find(|k| k.eq_ignore_ascii_case(key))
        .map_or_else(|| key.to_owned(), |k| (*k).to_owned())
}

/// Names the canonical key (`applications.secretsMax`), the problem in plain words
/// (figment's own wording nests backticks: ``expected `one of `a`, `b```) and where
/// the value came from: the file's path, or the environment.
pub(super) fn describe(errors: figment::Error) -> ConfigError {
    let lines: Vec<String> = errors
        .into_iter()
        .map(|e| {
            let key = if e.path.is_empty() {
                "configuration".to_owned()
            } else {
                e.path.join(".")
            };
            let source = match e.metadata.as_ref() {
                Some(m) => match &m.source {
                    Some(figment::Source::File(path)) => format!(" (in {})", path.display()),
                    _ if m.name.contains("environment") => {
                        " (from a LATCHKEY_<SECTION>__<KEY> environment variable)".to_owned()
                    }
                    _ => format!(" (from {})", m.name.replace('`', "")),
                },
                None => String::new(),
            };
            format!("{key}: {}{source}", problem(&e.kind))
        })
        .collect();
    ConfigError(lines.join("; "))
}

/// One figment error in plain words.
fn problem(kind: &figment::error::Kind) -> String {
    use figment::error::Kind;
    match kind {
        Kind::UnknownField(found, []) => format!("{found:?} is not a key here"),
        Kind::UnknownField(found, expected) => format!(
            "{found:?} is not a key here; the keys are {}",
            expected.join(", ")
        ),
        Kind::UnknownVariant(found, expected) => {
            format!("{found:?} is not one of {}", expected.join(", "))
        }
        Kind::InvalidType(found, expected) => {
            format!("expected {}, found {found}", expected_words(expected))
        }
        Kind::InvalidValue(found, expected) => {
            format!("expected {}, found {found}", expected_words(expected))
        }
        Kind::MissingField(name) => format!("{name} is required"),
        other => other.to_string(),
    }
    .replace("``", "`")
}

/// serde's name of an expected type, in the words of someone writing YAML.
fn expected_words(expected: &str) -> &str {
    match expected {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number",
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "an integer",
        "f32" | "f64" => "a number",
        "a boolean" | "bool" => "true or false",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The file's errors as `read` reports them.
    fn errors_of(yaml: &str) -> String {
        figment::Figment::from(Serialized::defaults(FileConfig::default()))
            .merge(figment::providers::Data::<Yaml>::string(yaml))
            .extract::<FileConfig>()
            .map_err(describe)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn errors_read_plainly_without_nested_backticks() {
        let unknown = errors_of("server:\n  listne: x\n");
        assert!(
            unknown.contains(
                "server.listne: \"listne\" is not a key here; the keys are listen, publicUrl,"
            ),
            "{unknown}"
        );
        let variant =
            errors_of("notifications:\n  email:\n    host: h\n    from: a@b.c\n    tls: ssl\n");
        assert!(
            variant.contains("notifications.email.tls: \"ssl\" is not one of none, starttls, tls"),
            "{variant}"
        );
        let number = errors_of("applications:\n  secretsMax: abc\n");
        assert!(
            number
                .contains("applications.secretsMax: expected a whole number, found string \"abc\""),
            "{number}"
        );
        for text in [unknown, variant, number] {
            assert!(!text.contains('`'), "{text}");
        }
    }

    #[test]
    fn environment_keys_map_case_insensitively() {
        assert_eq!(
            canonical_key("APPLICATIONS.SECRETSMAX"),
            "applications.secretsMax"
        );
        assert_eq!(
            canonical_key("secrets.defaultexpiry"),
            "secrets.defaultExpiry"
        );
    }
}
