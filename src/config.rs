//! Settings: command-line flags, the YAML file and `LATCHKEY_*` environment
//! overrides, validated once into typed values. The only module that reads the
//! environment.
//!
//! Precedence, lowest first: built-in defaults, the YAML file (`--config`,
//! `LATCHKEY_CONFIG`, or `latchkey.yml` when present), environment variables
//! `LATCHKEY_<SECTION>__<KEY>` (case-insensitive: `LATCHKEY_APPLICATIONS__SECRETSMAX`),
//! then the flags and their own variables (`--listen` / `LATCHKEY_LISTEN`, …).
//! A bad value stops start-up with a message naming the key and the problem.
//!
//! The configuration sits above every part it configures: it builds the settings
//! types those parts own ([`crate::service::settings`], the bootstrap token of
//! [`crate::domain::bootstrap_token`], the notifier's schedule and SMTP settings)
//! and the composition root hands each part its own; no part reads the
//! configuration. Modules: `cli` (the command line), `file` (the YAML/environment
//! shape and its merge), `validate` (checks into typed settings), `notifications`,
//! `serving` and `metrics` (their sections, keys and checks).

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use zeroize::Zeroizing;

use crate::domain::bootstrap_token::BootstrapToken;
use crate::domain::forwarded::TrustedProxies;
use crate::notify::email::EmailSettings;
use crate::notify::settings::NotificationSettings;
use crate::service::settings::{ConsoleSettings, Limits, TokenSettings};
use crate::storage::CredentialCache;

mod cli;
mod file;
mod metrics;
mod notifications;
mod serving;
mod validate;

pub use cli::{Cli, Command, DatabaseArgs, KeysCommand, ServeArgs, UsersCommand};
pub use metrics::MetricsSettings;
pub use serving::{ServerSettings, parse_listen};

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

/// Validated settings for `serve`.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    /// Header read and shutdown timeouts.
    pub server: ServerSettings,
    pub database_url: String,
    /// `database.credentialCache`: strict (default) or cached (PostgreSQL).
    pub credential_cache: CredentialCache,
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
    /// `leaks.scannerKeys`: the keys trusted to sign leak reports, from the file.
    pub scanner_keys: Vec<crate::domain::leaks::ScannerKey>,
    /// `metrics`: `/metrics`, its listener and the refresh of its database gauges.
    pub metrics: MetricsSettings,
    /// The configuration file read (absolute when it can be resolved); `None`: only
    /// the defaults and the environment.
    pub config_file: Option<PathBuf>,
}

impl Settings {
    /// Builds and validates the settings for `serve`.
    pub fn load(args: &ServeArgs) -> Result<Self, ConfigError> {
        let file = file::read(args.config.as_deref())?;
        let mut settings = Self::validate(args, file, file::Secrets::from_environment())?;
        settings.config_file = file::chosen(args.config.as_deref())?
            .map(|path| std::fs::canonicalize(&path).unwrap_or(path));
        Ok(settings)
    }

    /// The public URL: as configured, or `http://<bound address>`.
    pub fn public_url_for(&self, bound: SocketAddr) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"))
    }
}

/// The database of a local command (`migrate`, `backup`, …): the flag or
/// `LATCHKEY_DATABASE_URL`, else `database.url` of the file or
/// `LATCHKEY_DATABASE__URL`, else `sqlite://latchkey.db`, as for `serve`.
pub fn database_url(args: &DatabaseArgs) -> Result<String, ConfigError> {
    let file = file::read(args.config.as_deref())?;
    validate::database_url(args.database.clone(), file.database.url)
}

/// The master key file of a SQLite database when `LATCHKEY_MASTER_KEY` is unset.
pub fn key_file_of(database_url: &str) -> Option<PathBuf> {
    let master = file::Secrets::from_environment().master_key;
    if master.is_some_and(|k| !k.trim().is_empty()) {
        return None;
    }
    validate::key_file_beside(database_url)
}

/// A configuration problem, naming the key.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(String);

fn bad(key: &str, problem: impl fmt::Display) -> ConfigError {
    ConfigError(format!("{key}: {problem}"))
}
