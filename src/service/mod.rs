//! Use cases every front end calls (management API, token endpoint, console, and
//! a command line tomorrow): tenants, clients, secrets, policies, the audit trail,
//! webhooks, console accounts, verification and tokens.
//!
//! A service method takes the [`Caller`], checks what it may do, applies the
//! domain rules with the current time from the [`Clock`], and persists through
//! [`Storage`]. Front ends translate and delegate; they hold no rules.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::domain::ValidationError;
use crate::domain::access::{Action, any_allows};
use crate::domain::ids::{ClientId, CredentialId, SecretId, TenantId};
use crate::domain::self_rotation::{self, Bearer};
use crate::storage::{Storage, StorageError};

pub mod accounts;
pub mod audit;
pub mod clients;
pub mod gauges;
mod hashing;
mod journal;
pub mod keys;
pub mod leak_reports;
pub mod limiter;
mod lookup;
pub mod maintenance;
pub mod origin;
pub mod policies;
pub mod reveals;
pub mod secret_lookup;
mod secret_requests;
pub mod secrets;
pub mod settings;
mod shared_failures;
pub mod tenants;
pub mod tokens;
pub mod usage_log;
mod verified_cache;
pub mod verify;
pub mod webhooks;

pub use crate::clock::{Clock, SystemClock};
/// The records and paging the use cases take and return, as front ends name them.
pub use crate::storage::{ClientRecord, Page, SecretRecord, SecretStatusFilter, TenantRecord};
pub use hashing::Hasher;
use settings::Limits;

/// How long `/readyz` waits for the database (orchestrator probes often give up after 1 s).
pub const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(800);

/// Who is asking: the platform administrator (bootstrap token), a client of a
/// tenant acting through an access token with the roles it carries, or a
/// signed-in console user with its roles per tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    PlatformAdministrator,
    Client {
        tenant: TenantId,
        client: ClientId,
        roles: Vec<String>,
        /// The secret whose value issued the token, and that value's credential id
        /// (what a self-renew may renew).
        secret: SecretId,
        credential: CredentialId,
    },
    User {
        name: String,
        /// A platform administrator may do everything, in every tenant.
        platform_admin: bool,
        /// Role ids the user holds in each tenant.
        tenant_roles: Vec<(TenantId, Vec<String>)>,
    },
}

impl Caller {
    pub(crate) fn may_manage_tenants(&self) -> bool {
        matches!(
            self,
            Self::PlatformAdministrator
                | Self::User {
                    platform_admin: true,
                    ..
                }
        )
    }

    /// The client and the token's issuing value, when the caller is a client
    /// acting through an access token.
    pub(crate) fn bearer(&self) -> Option<Bearer<'_>> {
        match self {
            Self::Client {
                tenant,
                client,
                secret,
                credential,
                ..
            } => Some(Bearer {
                tenant,
                client,
                secret: *secret,
                credential: *credential,
            }),
            _ => None,
        }
    }

    /// The actor's type and name, as the audit trail records them.
    pub fn actor(&self) -> (&'static str, String) {
        match self {
            Self::PlatformAdministrator => ("platform", "bootstrap-token".to_owned()),
            Self::Client { client, .. } => ("client", client.to_string()),
            Self::User { name, .. } => ("user", name.clone()),
        }
    }

    /// Allowed to do `action` in `tenant`? Checked before the tenant is looked up,
    /// so another tenant is a 403 whether or not it exists.
    pub(crate) fn check(&self, tenant: &TenantId, action: Action) -> Result<(), ServiceError> {
        match self {
            Self::PlatformAdministrator => Ok(()),
            Self::Client {
                tenant: own, roles, ..
            } if own == tenant && any_allows(roles, action) => Ok(()),
            Self::Client { .. } => Err(ServiceError::Forbidden),
            Self::User {
                platform_admin: true,
                ..
            } => Ok(()),
            Self::User { tenant_roles, .. } => tenant_roles
                .iter()
                .find(|(own, _)| own == tenant)
                .filter(|(_, roles)| any_allows(roles, action))
                .map(|_| ())
                .ok_or(ServiceError::Forbidden),
        }
    }
}

/// Why a use case failed, in the caller's terms.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("tenant not found")]
    TenantNotFound,
    #[error("client not found")]
    ClientNotFound,
    #[error("secret not found")]
    SecretNotFound,
    #[error("a client with this id already exists in the tenant")]
    DuplicateClient,
    #[error("another tenant already has this name")]
    DuplicateTenant,
    #[error("the tenant already has the maximum of {0} clients")]
    ClientLimitReached(u32),
    #[error("the client already has the maximum of {0} secrets")]
    SecretLimitReached(u32),
    #[error("the tenant already has the maximum of {0} webhooks")]
    WebhookLimitReached(u32),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("not allowed")]
    Forbidden,
    /// A client may not renew its own secret (here and now).
    #[error(transparent)]
    SelfRotation(#[from] self_rotation::Refusal),
    /// The request's signature (or credentials) could not be verified.
    #[error("not authenticated")]
    Unauthenticated,
    /// A signing-key rotation was not done (one is under way, or another won).
    #[error("{0}")]
    RotationRefused(String),
    /// A delivery's attempt is being sent right now; a resend waits for its outcome.
    #[error("the delivery is being sent right now; resend it once this attempt has ended")]
    DeliveryInFlight,
    /// Other changes to the same resource kept winning; nothing was changed.
    #[error("changed concurrently by other requests")]
    Contended,
    /// Too many Argon2id checks are running and waiting (`argon2.queue`); retry shortly.
    #[error("too many checks in progress; retry shortly")]
    Busy,
    /// The database is unreachable; retry later.
    #[error("{0}")]
    Unavailable(String),
    /// Too many lookups by this caller found nothing; retry after the wait.
    #[error("too many lookups found nothing; retry later")]
    TooManyAttempts(std::time::Duration),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StorageError> for ServiceError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Unavailable(cause) => Self::Unavailable(cause),
            e => Self::Internal(e.to_string()),
        }
    }
}

impl From<crate::domain::secret_value::RandomnessUnavailable> for ServiceError {
    fn from(e: crate::domain::secret_value::RandomnessUnavailable) -> Self {
        Self::Internal(e.to_string())
    }
}

/// Everything the services share.
pub(crate) struct Context {
    pub store: Arc<dyn Storage>,
    pub limits: Limits,
    pub clock: Arc<dyn Clock>,
    pub hasher: Hasher,
    /// The master key webhook signing secrets are sealed under (set at start-up).
    pub sealer: webhooks::Sealer,
}

/// The services, built once and shared by every front end.
#[derive(Clone)]
pub struct Services {
    pub tenants: tenants::Tenants,
    pub clients: clients::Clients,
    pub secrets: secrets::Secrets,
    pub verifier: verify::Verifier,
    pub policies: policies::Policies,
    pub audit: audit::Audit,
    pub webhooks: webhooks::Webhooks,
    pub lookups: secret_lookup::SecretLookups,
    pub leaks: leak_reports::LeakReports,
    pub reveals: reveals::Reveals,
    pub(crate) ctx: Arc<Context>,
}

impl Services {
    pub fn new(store: Arc<dyn Storage>, limits: Limits, clock: Arc<dyn Clock>) -> Self {
        let ctx = Arc::new(Context {
            store,
            limits,
            clock,
            hasher: Hasher::new(limits.argon2),
            sealer: webhooks::Sealer::new(),
        });
        Self {
            tenants: tenants::Tenants::new(ctx.clone()),
            clients: clients::Clients::new(ctx.clone()),
            secrets: secrets::Secrets::new(ctx.clone()),
            verifier: verify::Verifier::new(ctx.clone()),
            policies: policies::Policies::new(ctx.clone()),
            audit: audit::Audit::new(ctx.clone()),
            webhooks: webhooks::Webhooks::new(ctx.clone()),
            lookups: secret_lookup::SecretLookups::new(
                ctx.clone(),
                settings::TokenSettings::default(),
            ),
            leaks: leak_reports::LeakReports::new(ctx.clone()),
            reveals: reveals::Reveals::new(ctx.clone()),
            ctx,
        }
    }

    /// Gives the services the master key that seals webhook signing secrets.
    pub fn set_master_key(&self, key: Arc<crate::domain::jws::MasterKey>) {
        // Set once at start-up; a second call keeps the first key.
        let _ = self.ctx.sealer.set(key);
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.ctx.clock.now()
    }

    /// Argon2id runs so far (see [`Hasher::argon2_runs`]).
    pub fn argon2_runs(&self) -> u64 {
        self.ctx.hasher.argon2_runs()
    }

    /// True when the database answers within [`READY_TIMEOUT`]. The ping runs on
    /// its own task, so one that outlives the timeout still tells the storage's
    /// breaker whether the database is reachable.
    pub async fn ready(&self) -> bool {
        let store = self.ctx.store.clone();
        let ping = tokio::spawn(async move { store.ping().await.is_ok() });
        matches!(
            tokio::time::timeout(READY_TIMEOUT, ping).await,
            Ok(Ok(true))
        )
    }
}
