//! The `latchkey` command line: its subcommands and the flags of `serve`, each with
//! its own environment variable (`--listen` / `LATCHKEY_LISTEN`, …). The flags beat
//! the file and the `LATCHKEY_<SECTION>__<KEY>` variables.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// `latchkey` command line.
#[derive(Debug, Parser)]
#[command(
    name = "latchkey",
    version,
    about = "Self-hosted authority for OAuth 2.0 client secrets"
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
