//! The `latchkey` command line: its subcommands and the flags of `serve`, each with
//! its own environment variable (`--listen` / `LATCHKEY_LISTEN`, …). The flags beat
//! the file and the `LATCHKEY_<SECTION>__<KEY>` variables. The remote operator
//! commands (`tenants`, `clients`, …) are declared by their front end,
//! [`crate::cli`]; the local ones (`migrate`, `keys`, `users`, `backup`, `restore`) take
//! the database flags of `serve` ([`DatabaseArgs`]).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// `latchkey` command line.
#[derive(Debug, Parser)]
#[command(
    name = "latchkey",
    version,
    about = "Self-hosted authority for OAuth 2.0 client secrets",
    after_help = crate::cli::EXIT_CODES_HELP
)]
pub struct Cli {
    /// Log lines as readable text or one JSON object per line
    #[arg(
        long,
        global = true,
        env = "LATCHKEY_LOG_FORMAT",
        value_enum,
        default_value_t
    )]
    pub log_format: crate::logging::LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: the management API, the tenants' OAuth issuers and the console.
    ///
    /// One process serves, on --listen: the management API (/api/v1; reference at
    /// /api/docs), each tenant's OAuth 2.0 issuer (/identity/{tenantId}: discovery,
    /// JWKS, the client_credentials token endpoint and introspection), the web console
    /// (/console), the probes /healthz and /readyz, and /metrics (unless metrics.listen
    /// moves it). At start it applies the database migrations; in the background it
    /// delivers expiry notifications (signed webhooks, and email when
    /// notifications.email is configured), rotates token-signing keys on schedule and
    /// records when each secret was last used. The banner on stdout says where each
    /// part is, which configuration file was loaded and whether email is on.
    #[command(after_help = SERVE_ENVIRONMENT)]
    Serve(ServeArgs),
    /// Commands against a running server's API (LATCHKEY_URL, LATCHKEY_TOKEN).
    #[command(flatten)]
    Remote(crate::cli::RemoteCommand),
    /// Token-signing keys, from the host.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Apply the database migrations (serve applies them at start too).
    Migrate(DatabaseArgs),
    /// Console users: reset a password from the host.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Write a consistent copy of the SQLite database to FILE while the server runs
    /// (PostgreSQL: use pg_dump).
    Backup {
        /// The new file (must not exist)
        file: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Replace the SQLite database with the backup FILE; refused while a server
    /// holds the database (PostgreSQL: use pg_restore).
    Restore {
        /// A file written by `latchkey backup`
        file: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Print a shell completion script: `latchkey completions bash > /etc/bash_completion.d/latchkey`.
    Completions { shell: clap_complete::Shell },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Publish a new signing key now; it starts signing after tokens.signingKeyOverlap.
    /// With --now (emergency): sign with a new key at once and withdraw the current one,
    /// whose tokens stop validating. On SQLite, stop the server first or use
    /// POST /api/v1/SigningKeys/Rotate.
    Rotate {
        /// Emergency: the current key may be compromised
        #[arg(long)]
        now: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Set a generated password for console user NAME (printed once) and end their sessions.
    ResetPassword {
        name: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// Which database a local command works on, resolved as `serve` resolves it.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// `sqlite://PATH` or `postgres://…` [default: database.url of the file, else sqlite://latchkey.db]
    #[arg(long, env = "LATCHKEY_DATABASE_URL")]
    pub database: Option<String>,
    /// YAML configuration file [default: latchkey.yml when present]
    #[arg(long, env = "LATCHKEY_CONFIG")]
    pub config: Option<PathBuf>,
}

/// The settings of `serve` that have no flag and no configuration key: secrets
/// (kept out of `ps` and of files) and the log filter.
const SERVE_ENVIRONMENT: &str = "\
Environment only (no flag, no configuration key):
  LATCHKEY_BOOTSTRAP_TOKEN   A platform administrator's bearer token for the API (16+
                             characters). Unset: the API takes only the access tokens
                             of clients with roles (create those in the console).
  LATCHKEY_ADMIN_PASSWORD    The console user `admin`'s password, used on the first start
                             only. Unset: a password is generated and printed once.
  LATCHKEY_MASTER_KEY        Seals the token-signing keys at rest: 32 bytes as 64 hex
                             characters or base64. Required on PostgreSQL (the same on
                             every node); on SQLite, unset means a key file beside the
                             database (latchkey.db -> latchkey.key), created at first start.
  LATCHKEY_NOTIFICATIONS__EMAIL__PASSWORD
                             The SMTP password (read verbatim).
  LATCHKEY_LOG               The log filter, such as info, debug or latchkey=debug,sqlx=warn
                             (RUST_LOG when unset) [default: info].
  LATCHKEY_SQLITE_MAX_PAGE_COUNT
                             Caps the SQLite database's size, in pages.

Every configuration key can also be set as LATCHKEY_<SECTION>__<KEY>, such as
LATCHKEY_TOKENS__LASTUSEDINTERVAL=30; it beats the file, and the flags beat both.";

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on: IP:PORT, HOST:PORT (localhost means 127.0.0.1) or :PORT
    /// (every IPv4 interface, 0.0.0.0:PORT) [default: 127.0.0.1:8080]
    #[arg(long, env = "LATCHKEY_LISTEN", value_parser = super::serving::parse_listen)]
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn remote_flags_go_before_or_after_the_subcommand() {
        let cli = Cli::try_parse_from([
            "latchkey",
            "secrets",
            "-o",
            "json",
            "add",
            "--tenant",
            "t1",
            "billing",
            "--url",
            "http://127.0.0.1:1",
        ])
        .map_err(|e| e.to_string());
        let Ok(Cli {
            command: Command::Remote(crate::cli::RemoteCommand::Secrets { connection, .. }),
            ..
        }) = cli
        else {
            panic!("not parsed as secrets add: {cli:?}");
        };
        assert_eq!(connection.output, crate::cli::Output::Json);
        assert_eq!(connection.url.as_deref(), Some("http://127.0.0.1:1"));
    }
}
