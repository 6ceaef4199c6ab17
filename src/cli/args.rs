//! The operator commands that work against a running server's API: their
//! subcommands, flags and environment variables (`LATCHKEY_URL`,
//! `LATCHKEY_TOKEN`, `LATCHKEY_TENANT`). Parsing only; [`super::run`] carries
//! them out.

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand, ValueEnum};

/// Where the server is, who is asking, and how to print the answer.
#[derive(Debug, Clone, Args)]
pub struct Connection {
    /// The server's base URL, e.g. https://latchkey.example.com
    #[arg(long, env = "LATCHKEY_URL", global = true)]
    pub url: Option<String>,
    /// A bearer token (the bootstrap token or an access token). Prefer the
    /// environment variable: a flag shows in `ps`.
    #[arg(long, env = "LATCHKEY_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// `table` (readable, the default) or `json` (the API's JSON, for scripts)
    #[arg(long, short = 'o', value_enum, default_value_t = Output::Table, global = true)]
    pub output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

/// The commands that call the management API.
#[derive(Debug, Subcommand)]
pub enum RemoteCommand {
    /// Tenants: list, create (platform administrators)
    Tenants {
        #[command(flatten)]
        connection: Connection,
        #[command(subcommand)]
        command: TenantsCommand,
    },
    /// Clients of a tenant: list, create, show, disable, enable, delete
    Clients {
        #[command(flatten)]
        connection: Connection,
        #[command(subcommand)]
        command: ClientsCommand,
    },
    /// Secrets of a client: list, add, renew, end-grace, revoke; lookup of a value
    Secrets {
        #[command(flatten)]
        connection: Connection,
        #[command(subcommand)]
        command: SecretsCommand,
    },
    /// Every secret of a tenant, filtered to find the unused and expiring ones
    Inventory {
        #[command(flatten)]
        connection: Connection,
        #[command(flatten)]
        args: InventoryArgs,
    },
    /// The tenant's audit trail, filtered
    Audit {
        #[command(flatten)]
        connection: Connection,
        #[command(flatten)]
        args: AuditArgs,
    },
}

/// Which slice of a list to fetch.
#[derive(Debug, Clone, Args)]
pub struct PageArgs {
    /// Entries to skip
    #[arg(long, default_value_t = 0)]
    pub skip: u32,
    /// At most this many entries (0–1000)
    #[arg(long, default_value_t = 100)]
    pub count: u32,
}

#[derive(Debug, Subcommand)]
pub enum TenantsCommand {
    /// List the tenants
    List {
        #[command(flatten)]
        page: PageArgs,
    },
    /// Create a tenant; prints its id
    Create {
        /// Display name, 1–200 characters, unique among tenants
        name: String,
    },
    /// Rename a tenant (a name another tenant has is refused, exit code 5)
    Rename {
        /// The tenant's id
        id: String,
        /// The new display name, 1–200 characters
        name: String,
    },
}

/// The tenant a command works in.
#[derive(Debug, Clone, Args)]
pub struct TenantArg {
    /// The tenant's id
    #[arg(long, short = 't', env = "LATCHKEY_TENANT")]
    pub tenant: String,
}

/// The two kinds of clients, each with its own routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClientKind {
    /// `ClientCredentialClients` (machine to machine)
    ClientCredentials,
    /// `HybridClients`
    Hybrid,
}

impl ClientKind {
    /// The path segment of the kind.
    pub fn segment(self) -> &'static str {
        match self {
            Self::ClientCredentials => "ClientCredentialClients",
            Self::Hybrid => "HybridClients",
        }
    }
}

/// One client of a tenant.
#[derive(Debug, Clone, Args)]
pub struct ClientArg {
    #[command(flatten)]
    pub tenant: TenantArg,
    /// The client's kind
    #[arg(long, short = 'k', value_enum, default_value_t = ClientKind::ClientCredentials)]
    pub kind: ClientKind,
    /// The client's id
    pub client: String,
}

/// When a new value expires.
#[derive(Debug, Clone, Args)]
pub struct ExpiryArgs {
    /// Expiration instant, RFC 3339 (2027-01-31T00:00:00Z) [default: the policy's]
    #[arg(long, conflicts_with = "never_expires")]
    pub expiration: Option<DateTime<Utc>>,
    /// The value never expires (where the policy allows it)
    #[arg(long)]
    pub never_expires: bool,
}

#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// List the clients of one kind
    List {
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long, short = 'k', value_enum, default_value_t = ClientKind::ClientCredentials)]
        kind: ClientKind,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Create a client; prints its first secret's value (once) and nothing else
    Create {
        #[command(flatten)]
        client: ClientArg,
        /// Display name [default: the id]
        #[arg(long)]
        name: Option<String>,
        /// Tag (repeatable)
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// Role id (repeatable), e.g. tenant-administrator
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Create it disabled
        #[arg(long)]
        disabled: bool,
        /// The first secret's description
        #[arg(long)]
        secret_description: Option<String>,
        #[command(flatten)]
        expiry: ExpiryArgs,
    },
    /// Show one client
    Show {
        #[command(flatten)]
        client: ClientArg,
    },
    /// Disable a client: none of its secrets gets a token until it is enabled again
    Disable {
        #[command(flatten)]
        client: ClientArg,
    },
    /// Enable a disabled client
    Enable {
        #[command(flatten)]
        client: ClientArg,
    },
    /// Delete a client and all its secrets
    Delete {
        #[command(flatten)]
        client: ClientArg,
    },
}

/// One secret of a client.
#[derive(Debug, Clone, Args)]
pub struct SecretArg {
    #[command(flatten)]
    pub client: ClientArg,
    /// The secret's id (1, 2, …)
    pub secret: u32,
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// List a client's secrets (never values: a hint)
    List {
        #[command(flatten)]
        client: ClientArg,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Add a generated secret; prints the value (once) and nothing else
    Add {
        #[command(flatten)]
        client: ClientArg,
        /// What it is for
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        expiry: ExpiryArgs,
    },
    /// Renew in place: a new value, same id; prints the value (once) and nothing else
    Renew {
        #[command(flatten)]
        secret: SecretArg,
        /// Seconds the old value keeps working [default: the server's]
        #[arg(long)]
        grace: Option<u64>,
        #[command(flatten)]
        expiry: ExpiryArgs,
    },
    /// End a renewed secret's grace period now: the old value stops working
    EndGrace {
        #[command(flatten)]
        secret: SecretArg,
    },
    /// Revoke a secret: immediate and permanent
    Revoke {
        #[command(flatten)]
        secret: SecretArg,
    },
    /// Which secret is this value? Reads the value from standard input (never an argument)
    Lookup {
        /// Look in this tenant only [default: every tenant (platform administrators)]
        #[arg(long, short = 't', env = "LATCHKEY_TENANT")]
        tenant: Option<String>,
        /// For a supplied (not generated) value: the client it belongs to
        #[arg(long)]
        client: Option<String>,
        /// The kind of that client
        #[arg(long, short = 'k', value_enum, default_value_t = ClientKind::ClientCredentials)]
        kind: ClientKind,
    },
}

/// `status` filter of the inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFilter {
    Active,
    Expired,
    Leaked,
}

#[derive(Debug, Clone, Args)]
pub struct InventoryArgs {
    #[command(flatten)]
    pub tenant: TenantArg,
    /// Only secrets in this state
    #[arg(long, value_enum)]
    pub status: Option<StatusFilter>,
    /// Only secrets never used at the token endpoint
    #[arg(long)]
    pub never_used: bool,
    /// Only secrets not used (or, never used, created) in the last N days
    #[arg(long, value_name = "DAYS")]
    pub unused_for_days: Option<String>,
    /// Only secrets expiring in the next N days
    #[arg(long, value_name = "DAYS")]
    pub expiring_within_days: Option<String>,
    /// Only secrets a former value of which was presented since (RFC 3339)
    #[arg(long, value_name = "TIME")]
    pub refused_since: Option<String>,
    /// Text the description contains
    #[arg(long)]
    pub query: Option<String>,
    #[command(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub tenant: TenantArg,
    /// Only entries about this client
    #[arg(long)]
    pub client: Option<String>,
    /// Only this action, e.g. secret.revoke
    #[arg(long)]
    pub action: Option<String>,
    /// From this instant (RFC 3339)
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Before this instant (RFC 3339)
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    #[command(flatten)]
    pub page: PageArgs,
}
