//! Settings: command-line flags, the YAML file and `LATCHKEY_*` environment
//! overrides, validated once into typed values. The only module that reads the
//! environment.
//!
//! Precedence, lowest first: built-in defaults, the YAML file (`--config`,
//! `LATCHKEY_CONFIG`, or `latchkey.yml` when present), environment variables
//! `LATCHKEY_<SECTION>__<KEY>` (case-insensitive: `LATCHKEY_APPLICATIONS__SECRETSMAX`),
//! then the flags and their own variables (`--listen` / `LATCHKEY_LISTEN`, …).
//! A bad value stops start-up with a message naming the key and the problem.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use figment::Figment;
use figment::providers::{Env, Format, Serialized};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::domain::expiry::ExpiryPolicy;
use crate::domain::forwarded::TrustedProxies;
use crate::domain::webhook_target::TargetPolicy;
use crate::notify::email::EmailSettings;
use crate::notify::settings::NotificationSettings;

mod notifications;
mod serving;
use notifications::{
    EMAIL_KEYS, NotificationsSection, email_settings, smtp_password_from_environment,
};
use serving::LoggingSection;
pub use serving::ServerSettings;

/// `latchkey` command line.
#[derive(Debug, Parser)]
#[command(
    name = "latchkey",
    version,
    about = "Self-hosted authority for OAuth 2.0 client secrets"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the management API (and, in later releases, the token endpoint and console).
    Serve(ServeArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "LATCHKEY_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// `sqlite://PATH` (created when missing) or `postgres://…` [default: sqlite://latchkey.db]
    #[arg(long, env = "LATCHKEY_DATABASE_URL")]
    pub database: Option<String>,
    /// YAML configuration file [default: latchkey.yml when present]
    #[arg(long, env = "LATCHKEY_CONFIG")]
    pub config: Option<PathBuf>,
    /// The URL clients reach this server at [default: http://<listen address>]
    #[arg(long, env = "LATCHKEY_PUBLIC_URL")]
    pub public_url: Option<String>,
}

/// The configuration file's shape (camelCase keys, as in seed 002's `secretsMax`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct FileConfig {
    server: ServerSection,
    database: DatabaseSection,
    applications: ApplicationsSection,
    tenants: TenantsSection,
    secrets: SecretsSection,
    tokens: TokensSection,
    console: ConsoleSection,
    notifications: NotificationsSection,
    audit: AuditSection,
    argon2: Argon2Section,
    logging: LoggingSection,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct ServerSection {
    listen: Option<String>,
    public_url: Option<String>,
    /// Networks (CIDR) of reverse proxies whose forwarding headers are believed.
    trusted_proxies: Vec<String>,
    /// Seconds (default 10).
    header_read_timeout: Option<u64>,
    /// Seconds (default 20).
    shutdown_timeout: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct DatabaseSection {
    url: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct ApplicationsSection {
    secrets_max: u32,
}

impl Default for ApplicationsSection {
    fn default() -> Self {
        Self { secrets_max: 10 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct TenantsSection {
    clients_max: u32,
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
struct SecretsSection {
    default_expiry: String,
    /// Seconds.
    max_grace_period: u64,
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
struct TokensSection {
    /// Seconds between LastUsedAt flushes.
    last_used_interval: u64,
    /// Failed client authentications per minute before 429.
    failed_attempts_per_client: u32,
    failed_attempts_per_address: u32,
}

impl Default for TokensSection {
    fn default() -> Self {
        Self {
            last_used_interval: 60,
            failed_attempts_per_client: 10,
            failed_attempts_per_address: 100,
        }
    }
}

/// How many Argon2id checks of presented values (supplied client secrets,
/// console passwords) run at once, and how many may wait for a run; a check
/// beyond both is refused at once (503 with `Retry-After`). Absent: derived
/// from the CPU count ([`Argon2Bound::default`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct Argon2Section {
    concurrency: Option<u32>,
    queue: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct ConsoleSection {
    /// Seconds without a request after which a console session ends.
    idle_timeout: u64,
}

impl Default for ConsoleSection {
    fn default() -> Self {
        Self { idle_timeout: 1800 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct AuditSection {
    /// Refusal entries a tenant's trail takes per minute; more are only counted.
    refusals_per_tenant_per_minute: u32,
}

impl Default for AuditSection {
    fn default() -> Self {
        Self {
            refusals_per_tenant_per_minute: 100,
        }
    }
}

/// Every configuration key, for case-insensitive environment overrides.
const KEYS: [&str; 36] = [
    "server.listen",
    "server.publicUrl",
    "server.trustedProxies",
    "server.headerReadTimeout",
    "server.shutdownTimeout",
    "logging",
    "logging.tokenSuccessLevel",
    "database.url",
    "applications.secretsMax",
    "tenants.clientsMax",
    "secrets.defaultExpiry",
    "secrets.maxGracePeriod",
    "tokens.lastUsedInterval",
    "tokens.failedAttemptsPerClient",
    "tokens.failedAttemptsPerAddress",
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
];

/// A bearer token from the environment: redacted, compared in constant time.
#[derive(Clone)]
pub struct BootstrapToken(Zeroizing<String>);

impl fmt::Debug for BootstrapToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BootstrapToken(..)")
    }
}

impl BootstrapToken {
    /// Constant-time equality; hashing first hides the length as well.
    pub fn matches(&self, presented: &str) -> bool {
        let want = Sha256::digest(self.0.as_bytes());
        let got = Sha256::digest(presented.as_bytes());
        want.as_slice().ct_eq(got.as_slice()).into()
    }
}

/// Where the master key (which seals token-signing keys at rest) comes from.
#[derive(Clone)]
pub enum MasterKeySource {
    /// `LATCHKEY_MASTER_KEY`, as given (parsed when the keys are loaded).
    Environment(Zeroizing<String>),
    /// A key file beside the SQLite database, created with mode 0600 when missing.
    File(PathBuf),
}

impl fmt::Debug for MasterKeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Environment(_) => f.write_str("Environment(..)"),
            Self::File(path) => write!(f, "File({})", path.display()),
        }
    }
}

/// Token endpoint settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenSettings {
    pub last_used_interval: Duration,
    pub failed_attempts_per_client: u32,
    pub failed_attempts_per_address: u32,
    /// `logging.tokenSuccessLevel: info`: successful token requests are logged at
    /// `info` (by default at `debug`, so the log does not grow with the traffic).
    pub successes_at_info: bool,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            last_used_interval: Duration::from_secs(60),
            failed_attempts_per_client: 10,
            failed_attempts_per_address: 100,
            successes_at_info: false,
        }
    }
}

/// Web console settings.
#[derive(Clone)]
pub struct ConsoleSettings {
    /// A session unused for this long ends (`console.idleTimeout`, seconds).
    pub idle_timeout: Duration,
    /// `LATCHKEY_ADMIN_PASSWORD`: the password of the `admin` user created on
    /// first start (generated and printed once when unset).
    pub admin_password: Option<Zeroizing<String>>,
}

impl fmt::Debug for ConsoleSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleSettings")
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

/// Validated settings for `serve`.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    /// Header read and shutdown timeouts.
    pub server: ServerSettings,
    pub database_url: String,
    /// Given explicitly; otherwise [`Settings::public_url_for`] derives it from
    /// the bound address (so `--listen 127.0.0.1:0` gets the real port).
    pub public_url: Option<String>,
    /// `server.trustedProxies`: peers whose `X-Forwarded-For` / `Forwarded` name the client.
    pub trusted_proxies: TrustedProxies,
    pub bootstrap_token: Option<BootstrapToken>,
    pub master_key: MasterKeySource,
    pub limits: Limits,
    pub tokens: TokenSettings,
    pub console: ConsoleSettings,
    pub notifications: NotificationSettings,
    /// `notifications.email`; `None` when no SMTP host is configured.
    pub email: Option<EmailSettings>,
}

impl Settings {
    /// The public URL: as configured, or `http://<bound address>`.
    pub fn public_url_for(&self, bound: SocketAddr) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"))
    }
}

/// The key file beside a SQLite database (`sqlite://dir/latchkey.db` → `dir/latchkey.key`).
fn key_file_beside(database_url: &str) -> Option<PathBuf> {
    let path = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path.contains(":memory:") {
        return None;
    }
    Some(Path::new(path).with_extension("key"))
}

/// Limits and policies the services enforce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub secrets_max: u32,
    pub clients_max: u32,
    pub default_expiry: ExpiryPolicy,
    pub max_grace_period: Duration,
    /// Which webhook URLs subscriptions may name.
    pub webhook_targets: TargetPolicy,
    /// `audit.refusalsPerTenantPerMinute`: distinct refusal entries a tenant's
    /// trail takes per minute (identical ones fold); more are only counted.
    pub refusals_per_tenant_per_minute: u32,
    /// Webhook subscriptions a tenant may hold.
    pub webhooks_max: u32,
    /// How much Argon2id work presented values may cause at once.
    pub argon2: Argon2Bound,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            secrets_max: 10,
            clients_max: 50_000,
            default_expiry: ExpiryPolicy::ONE_YEAR,
            max_grace_period: Duration::from_secs(7 * 24 * 3600),
            webhook_targets: TargetPolicy::default(),
            refusals_per_tenant_per_minute: 100,
            webhooks_max: crate::notify::settings::DEFAULT_WEBHOOKS_MAX,
            argon2: Argon2Bound::default(),
        }
    }
}

/// Argon2id checks of presented values: at most `concurrency` run at once
/// (19 MiB each), at most `queue` more wait for a run; beyond that a check is
/// refused at once instead of queueing without bound (`argon2.concurrency`,
/// `argon2.queue`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Bound {
    pub concurrency: u32,
    pub queue: u32,
}

impl Default for Argon2Bound {
    /// One run per CPU (more adds memory, not throughput) and four waiting per CPU.
    fn default() -> Self {
        let cpus = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .clamp(1, 1024);
        let cpus = u32::try_from(cpus).unwrap_or(1);
        Self {
            concurrency: cpus,
            queue: 4 * cpus,
        }
    }
}

/// Secrets read from the environment, kept apart from the file's values.
#[derive(Default)]
struct Secrets {
    bootstrap: Option<String>,
    master_key: Option<String>,
    admin_password: Option<String>,
    smtp_password: Option<String>,
}

/// A configuration problem, naming the key.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(String);

fn bad(key: &str, problem: impl fmt::Display) -> ConfigError {
    ConfigError(format!("{key}: {problem}"))
}

/// YAML through serde-saphyr (figment's own YAML provider is on an unmaintained crate).
struct Yaml;

impl Format for Yaml {
    type Error = serde_saphyr::Error;
    const NAME: &'static str = "YAML";

    fn from_str<T: DeserializeOwned>(s: &str) -> Result<T, Self::Error> {
        serde_saphyr::from_str(s)
    }
}

/// Maps an environment key (`APPLICATIONS.SECRETSMAX`) to its canonical spelling.
fn canonical_key(key: &str) -> String {
    KEYS.iter()
        .chain(EMAIL_KEYS.iter())
        .find(|k| k.eq_ignore_ascii_case(key))
        .map_or_else(|| key.to_owned(), |k| (*k).to_owned())
}

/// Names the canonical key (`applications.secretsMax`) and where the value came from.
fn describe(errors: figment::Error) -> ConfigError {
    let lines: Vec<String> = errors
        .into_iter()
        .map(|e| {
            let key = if e.path.is_empty() {
                "configuration".to_owned()
            } else {
                e.path.join(".")
            };
            let source = e
                .metadata
                .as_ref()
                .map(|m| format!(" (from {})", m.name))
                .unwrap_or_default();
            format!("{key}: {}{source}", e.kind)
        })
        .collect();
    ConfigError(lines.join("; "))
}

impl Settings {
    /// Builds and validates the settings for `serve`.
    pub fn load(args: &ServeArgs) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(FileConfig::default()));
        let file = match &args.config {
            Some(path) if !path.exists() => {
                return Err(bad(
                    "--config",
                    format!("{} does not exist", path.display()),
                ));
            }
            Some(path) => Some(path.clone()),
            None => Some(PathBuf::from("latchkey.yml")).filter(|p| Path::new(p).exists()),
        };
        if let Some(path) = file {
            figment = figment.merge(Yaml::file_exact(path));
        }
        figment = figment.merge(
            Env::prefixed("LATCHKEY_")
                .filter(|k| k.as_str().contains("__") && k != "notifications__email__password")
                .split("__")
                .map(|k| canonical_key(k.as_str()).into())
                .lowercase(false),
        );
        let file: FileConfig = figment.extract().map_err(describe)?;
        let secrets = Secrets {
            bootstrap: std::env::var("LATCHKEY_BOOTSTRAP_TOKEN").ok(),
            master_key: std::env::var("LATCHKEY_MASTER_KEY").ok(),
            admin_password: std::env::var("LATCHKEY_ADMIN_PASSWORD").ok(),
            smtp_password: smtp_password_from_environment(),
        };
        Self::validate(args, file, secrets)
    }

    fn validate(args: &ServeArgs, file: FileConfig, secrets: Secrets) -> Result<Self, ConfigError> {
        let bootstrap = secrets.bootstrap;
        let listen = match (&args.listen, &file.server.listen) {
            (Some(addr), _) => *addr,
            (None, Some(text)) => text
                .parse()
                .map_err(|e| bad("server.listen", format!("{text:?} is not an address: {e}")))?,
            (None, None) => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };
        let server = serving::server_settings(
            file.server.header_read_timeout,
            file.server.shutdown_timeout,
        )?;
        let successes_at_info = file.logging.token_successes_at_info()?;
        let database_url = args
            .database
            .clone()
            .or(file.database.url)
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
            Some(t) => Some(BootstrapToken(Zeroizing::new(t))),
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
            master_key,
            notifications,
            tokens: TokenSettings {
                last_used_interval: Duration::from_secs(t.last_used_interval),
                failed_attempts_per_client: t.failed_attempts_per_client,
                failed_attempts_per_address: t.failed_attempts_per_address,
                successes_at_info,
            },
            public_url: public_url.map(|u| u.trim_end_matches('/').to_owned()),
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn bootstrap_tokens_compare_exactly() {
        let t = BootstrapToken(Zeroizing::new("0123456789abcdef".into()));
        assert!(t.matches("0123456789abcdef"));
        assert!(!t.matches("0123456789abcdeF"));
        assert!(!t.matches(""));
        assert_eq!(format!("{t:?}"), "BootstrapToken(..)");
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
