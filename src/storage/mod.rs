//! Storage: one interface, [`Storage`], with a SQLite and a PostgreSQL
//! implementation. Only this module writes SQL.
//!
//! Invariants every implementation keeps, each inside one transaction:
//! - a tenant holds at most `clients_max` clients and a client at most
//!   `secrets_max` non-revoked secrets, also under concurrent inserts (counters on
//!   the parent row, incremented by a conditional `UPDATE … WHERE count < max`,
//!   which locks that row on both databases); likewise a tenant holds at most
//!   `webhooks_max` webhook subscriptions (`webhook_count`);
//! - secret ids are per client, start at 1 and are never reused (`next_secret_id`);
//! - a revoked secret keeps its row and hash (so a later attempt with it can be
//!   reported as "revoked") but is invisible to every read except
//!   [`Storage::load_credentials`], and cannot be updated or come back;
//! - deleting a client deletes its secrets; deleting a tenant, its clients.
//!
//! The same conformance tests ([`conformance`]) run against both implementations.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::audit::{AuditEntry, AuditFilter, RefusalFold};
use crate::domain::client::ClientSettings;
use crate::domain::events::SecretSubject;
use crate::domain::ids::{ClientId, ClientKind, CredentialId, SecretId, TenantId};
use crate::domain::leaks::{KeyEntry, LeakPolicy};
use crate::domain::policy::{ClientPolicy, TenantPolicy, TenantPolicyChange};
use crate::domain::secret_hash::StoredHash;
use crate::domain::summary::{SecretSummary, SummaryWindows};
use crate::domain::verification::Candidate;

mod breaker;
mod cached;
pub mod console;
mod delegate;
pub mod failures;
mod filters;
mod journal;
mod notify;
pub mod postgres;
pub(crate) mod rows;
pub mod sqlite;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tenant_names_migration;
pub mod test_database;

pub use journal::{
    FoundSecret, Journal, LeakRecord, SecretFilter, SecretStatusFilter, TenantSecret,
};
pub use notify::{
    AttemptOutcome, AttemptRecord, Channel, ClaimedDelivery, DeliveryRecord, DeliveryState,
    DueSecret, NextStep, NotifyStore, PendingDeliveries, WebhookRecord,
};

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod conformance;

/// How [`Storage::record_refusal`] kept a refused attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKept {
    /// A new entry.
    Stored,
    /// Counted in the identical refusal of the minute.
    Folded,
    /// Counted in the overflow entry of the tenant's minute (the cap was reached).
    Overflowed,
    /// Not written: the tenant does not exist.
    UnknownTenant,
}

/// Failures at the storage seam, in the caller's terms.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("not found")]
    NotFound,
    #[error("a client with this id already exists in the tenant")]
    Duplicate,
    #[error("limit of {0} reached")]
    LimitReached(u32),
    /// The row changed since it was read (its revision moved on): read it again.
    #[error("changed concurrently")]
    Conflict,
    /// The database cannot be reached (connection refused or lost, pool timed
    /// out, server shutting down): the caller should answer "retry later".
    #[error("database unreachable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The database cannot be opened as configured: held by another process, or a bad setting.
    #[error("{0}")]
    CannotOpen(String),
}

/// Tells "the database is unreachable" apart from every other database error.
impl From<sqlx::Error> for StorageError {
    fn from(e: sqlx::Error) -> Self {
        let unreachable = match &e {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            // PostgreSQL's connection_exception class (08) and operator_intervention
            // shutdowns (57P01 admin, 57P02 crash, 57P03 cannot connect now).
            sqlx::Error::Database(db) => db
                .code()
                .is_some_and(|code| code.starts_with("08") || code.starts_with("57P0")),
            _ => false,
        };
        if unreachable {
            Self::Unavailable(e.to_string())
        } else {
            Self::Database(e)
        }
    }
}

/// A page of a list: `skip` rows, then at most `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub skip: u32,
    pub count: u32,
}

/// A page of rows and the total number of rows.
#[derive(Debug, Clone)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRecord {
    pub id: TenantId,
    pub name: String,
    pub policy: TenantPolicy,
    pub created_at: DateTime<Utc>,
}

/// A stored client. `pk` is the internal key secrets hang from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRecord {
    pub pk: i64,
    pub tenant_id: TenantId,
    pub id: ClientId,
    pub kind: ClientKind,
    pub settings: ClientSettings,
    pub policy: ClientPolicy,
    /// Salt of the Argon2id hashes of this client's supplied secrets.
    pub argon_salt: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A client to insert.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub tenant_id: TenantId,
    pub id: ClientId,
    pub kind: ClientKind,
    pub settings: ClientSettings,
    pub argon_salt: Vec<u8>,
    pub now: DateTime<Utc>,
}

/// A stored, non-revoked secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRecord {
    pub id: SecretId,
    pub description: String,
    pub expiration: Option<DateTime<Utc>>,
    pub hash: StoredHash,
    pub hint: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// The value replaced by the last Renew, while its grace lasts.
    pub previous_hash: Option<StoredHash>,
    pub grace_until: Option<DateTime<Utc>>,
    /// Grows with every change; [`Storage::update_secret`] applies only to the
    /// revision it was read at.
    pub revision: i64,
    /// The last use of the value in grace since the Renew that replaced it.
    pub previous_last_used_at: Option<DateTime<Utc>>,
    /// Presentations of values of this secret that worked once and no longer do.
    pub refused: RefusedPresentations,
}

/// How often values of a secret that no longer work were presented: replaced
/// (after any grace), revoked or expired. Written by the token path's coalesced
/// flush ([`Storage::record_refused_uses`]), never by a management change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefusedPresentations {
    pub count: i64,
    pub last_at: Option<DateTime<Utc>>,
    /// The source address of the last one.
    pub last_from: Option<String>,
}

impl SecretRecord {
    /// How events describe this secret of client `client_id` (never its value).
    pub fn subject(&self, tenant: TenantId, kind: ClientKind, client_id: &str) -> SecretSubject {
        SecretSubject {
            tenant,
            client_kind: kind,
            client_id: client_id.to_owned(),
            secret_id: self.id,
            description: self.description.clone(),
            hint: self.hint.clone(),
            expiration: self.expiration,
        }
    }
}

/// A secret to insert (its id is assigned by storage).
#[derive(Debug, Clone)]
pub struct NewSecret {
    pub description: String,
    pub expiration: Option<DateTime<Utc>>,
    pub hash: StoredHash,
    pub hint: String,
    pub created_at: DateTime<Utc>,
}

impl NewSecret {
    /// The record this secret becomes once inserted with `id`.
    pub fn record(&self, id: SecretId) -> SecretRecord {
        rows::inserted_secret(id, self)
    }
}

/// What verification and token issuance need of a client: one read.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    pub pk: i64,
    pub kind: ClientKind,
    pub role_ids: Vec<String>,
    pub access_token_lifetime: u32,
    pub enabled: bool,
    pub argon_salt: Vec<u8>,
    /// Every non-revoked secret and the most recently revoked ones.
    pub candidates: Vec<Candidate>,
}

/// A successful use of a secret, to be written as its `LastUsedAt` (and, when
/// `credential` is the value in grace, as that value's last use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretUse {
    pub client_pk: i64,
    pub secret_id: SecretId,
    pub credential: CredentialId,
    pub at: DateTime<Utc>,
}

/// Refused presentations of one secret's former values, coalesced: how many
/// since the last flush, the latest, and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedUse {
    pub client_pk: i64,
    pub secret_id: SecretId,
    pub count: u32,
    pub at: DateTime<Utc>,
    pub from: Option<String>,
}

/// A secret whose `secret.refused-use` event may be due: what the event says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedSecret {
    pub client_pk: i64,
    pub subject: SecretSubject,
    pub refused: RefusedPresentations,
}

/// A token-signing key. The private key is sealed (encrypted) under the master
/// key before it reaches storage; storage never sees it in the clear.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    pub kid: String,
    pub algorithm: String,
    pub private_key_sealed: Vec<u8>,
    /// The public key as a JWK (JSON text).
    pub public_jwk: String,
    pub created_at: DateTime<Utc>,
    /// Numbers the keys in creation order; unique.
    pub generation: i64,
    /// When it starts signing.
    pub activates_at: DateTime<Utc>,
    /// When an emergency rotation withdrew it.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SigningKeyRecord({}, {}, generation {})",
            self.kid, self.algorithm, self.generation
        )
    }
}

/// How many revoked secrets [`Storage::load_credentials`] returns at most, so a
/// long history cannot make verification slower.
pub const RECENTLY_REVOKED: u32 = 16;

/// The storage interface every front end reaches through the services.
///
/// Every write that changes management state takes a [`Journal`]: its audit
/// entry (and event, if any) is written in the same transaction as the change.
#[async_trait]
pub trait Storage: NotifyStore + console::ConsoleStore + Send + Sync + 'static {
    /// Answers when the database is reachable.
    async fn ping(&self) -> Result<(), StorageError>;

    async fn insert_tenant(
        &self,
        tenant: &TenantRecord,
        journal: &Journal,
    ) -> Result<(), StorageError>;
    async fn list_tenants(&self, page: Page) -> Result<Paged<TenantRecord>, StorageError>;
    async fn get_tenant(&self, id: &TenantId) -> Result<Option<TenantRecord>, StorageError>;
    /// Deletes the tenant, its clients and their secrets. `NotFound` when absent.
    async fn delete_tenant(&self, id: &TenantId, journal: &Journal) -> Result<(), StorageError>;
    /// Renames the tenant. `NotFound` when it does not exist, `Duplicate` when
    /// another tenant has the name (tenant names are unique).
    async fn rename_tenant(
        &self,
        id: &TenantId,
        name: &str,
        journal: &Journal,
    ) -> Result<TenantRecord, StorageError>;
    /// Changes the tenant's secret policy (the parts `change` names, in one
    /// statement, so concurrent changes of different parts all hold); returns the
    /// policy after it. `NotFound` when absent.
    async fn update_tenant_policy(
        &self,
        id: &TenantId,
        change: &TenantPolicyChange,
        journal: &Journal,
    ) -> Result<TenantPolicy, StorageError>;

    /// Inserts a client and its first secret (id 1) atomically. `NotFound` (tenant),
    /// `Duplicate` (client id taken in the tenant, any kind), `LimitReached(clients_max)`.
    async fn insert_client_with_secret(
        &self,
        client: &NewClient,
        first_secret: &NewSecret,
        clients_max: u32,
        journal: &Journal,
    ) -> Result<(ClientRecord, SecretRecord), StorageError>;
    async fn list_clients(
        &self,
        tenant: &TenantId,
        kind: ClientKind,
        page: Page,
    ) -> Result<Paged<ClientRecord>, StorageError>;
    async fn get_client(
        &self,
        tenant: &TenantId,
        kind: ClientKind,
        id: &ClientId,
    ) -> Result<Option<ClientRecord>, StorageError>;
    /// Writes the client's settings. `NotFound` when it no longer exists.
    async fn update_client(
        &self,
        pk: i64,
        settings: &ClientSettings,
        now: DateTime<Utc>,
        journal: &Journal,
    ) -> Result<ClientRecord, StorageError>;
    /// Writes the client's secret policy. `NotFound` when it no longer exists.
    async fn update_client_policy(
        &self,
        pk: i64,
        policy: &ClientPolicy,
        now: DateTime<Utc>,
        journal: &Journal,
    ) -> Result<ClientRecord, StorageError>;
    /// Deletes the client and its secrets. `NotFound` when absent.
    async fn delete_client(
        &self,
        tenant: &TenantId,
        kind: ClientKind,
        id: &ClientId,
        journal: &Journal,
    ) -> Result<(), StorageError>;

    /// Inserts a secret unless the client already has `secrets_max` non-revoked
    /// ones (`LimitReached`); `NotFound` when the client is gone.
    async fn insert_secret_within_limit(
        &self,
        client_pk: i64,
        secret: &NewSecret,
        secrets_max: u32,
        journal: &Journal,
    ) -> Result<SecretRecord, StorageError>;
    async fn list_secrets(
        &self,
        client_pk: i64,
        filter: &SecretFilter,
        page: Page,
    ) -> Result<Paged<SecretRecord>, StorageError>;
    /// The inventory: non-revoked secrets of every client of the tenant.
    async fn list_tenant_secrets(
        &self,
        tenant: &TenantId,
        filter: &SecretFilter,
        page: Page,
    ) -> Result<Paged<TenantSecret>, StorageError>;
    async fn get_secret(
        &self,
        client_pk: i64,
        id: SecretId,
    ) -> Result<Option<SecretRecord>, StorageError>;
    /// Counts of the tenant's live secrets by state and expirations per week,
    /// at the instants of `windows` (one statement).
    async fn secret_summary(
        &self,
        tenant: &TenantId,
        windows: &SummaryWindows,
    ) -> Result<SecretSummary, StorageError>;
    /// The non-revoked secrets of every tenant whose current value, or value replaced
    /// by a Renew, is a generated value with SHA-256 `digest` (found by index).
    async fn find_secrets_by_digest(&self, digest: &[u8])
    -> Result<Vec<FoundSecret>, StorageError>;
    /// The tenant's leak policy; `None` when the tenant does not exist.
    async fn get_leak_policy(&self, tenant: &TenantId) -> Result<Option<LeakPolicy>, StorageError>;
    /// Sets the tenant's leak policy. `NotFound` when absent.
    async fn set_leak_policy(
        &self,
        tenant: &TenantId,
        policy: LeakPolicy,
        journal: &Journal,
    ) -> Result<(), StorageError>;
    /// Records a reported value once (by its digest) and, in the same transaction,
    /// revokes the secret when `leak.policy` says so and writes `journal`. `Ok(false)`
    /// when the value was reported before, or the secret was revoked meanwhile:
    /// nothing changed. Exact under concurrent identical reports.
    async fn record_leak(&self, leak: &LeakRecord, journal: &Journal)
    -> Result<bool, StorageError>;
    /// The scanner keys a platform administrator stored (none: the configured file's).
    async fn scanner_keys(&self) -> Result<Vec<KeyEntry>, StorageError>;
    /// Replaces the stored scanner keys with `keys`, with its audit entry.
    async fn replace_scanner_keys(
        &self,
        keys: &[KeyEntry],
        audit: &AuditEntry,
    ) -> Result<(), StorageError>;
    /// Writes the management fields of a non-revoked secret (description, expiration,
    /// hashes and their credential ids, hint, grace; not `last_used_at`, which only the
    /// token path writes) if it is still at `secret.revision`, and moves the revision
    /// on. `Conflict` when another change came first (read again and re-apply),
    /// `NotFound` when the secret is gone or revoked.
    async fn update_secret(
        &self,
        client_pk: i64,
        secret: &SecretRecord,
        journal: &Journal,
    ) -> Result<(), StorageError>;
    /// Revokes a secret for good. `NotFound` when absent or already revoked.
    async fn revoke_secret(
        &self,
        client_pk: i64,
        id: SecretId,
        now: DateTime<Utc>,
        journal: &Journal,
    ) -> Result<(), StorageError>;

    /// Writes an audit entry on its own.
    async fn insert_audit(&self, entry: &AuditEntry) -> Result<(), StorageError>;
    /// Records a refused attempt, bounded as `fold` says, in one transaction:
    /// folded into the identical refusal of the minute when there is one; else a
    /// new entry while the tenant's minute holds fewer than `fold.cap` refusal
    /// entries; else counted in the minute's overflow entry. Nothing is written
    /// for a tenant that does not exist. Exact under concurrent calls.
    async fn record_refusal(
        &self,
        entry: &AuditEntry,
        fold: &RefusalFold,
    ) -> Result<RefusalKept, StorageError>;
    /// The tenant's audit trail, newest first.
    async fn list_audit(
        &self,
        tenant: &TenantId,
        filter: &AuditFilter,
        page: Page,
    ) -> Result<Paged<AuditEntry>, StorageError>;

    /// Writes `LastUsedAt` of each secret (never moving it backwards); secrets that
    /// are gone are skipped. One call per flush, not per token.
    async fn record_last_used(&self, uses: &[SecretUse]) -> Result<(), StorageError>;
    /// Adds refused presentations to their secrets' counters (`RefusedCount`,
    /// `LastRefusedAt`/`From`, never moving the time backwards; secrets that are
    /// gone are skipped) and returns those of them whose last `secret.refused-use`
    /// event was raised before `event_before` (or never), with their new totals.
    async fn record_refused_uses(
        &self,
        uses: &[RefusedUse],
        event_before: DateTime<Utc>,
    ) -> Result<Vec<RefusedSecret>, StorageError>;
    /// Marks the secret's `secret.refused-use` event raised at `now` and writes
    /// `journal` in the same transaction, only if no event was raised since
    /// `event_before` (by any node). True when this call raised it.
    async fn raise_refused_use(
        &self,
        client_pk: i64,
        id: SecretId,
        event_before: DateTime<Utc>,
        now: DateTime<Utc>,
        journal: &Journal,
    ) -> Result<bool, StorageError>;

    /// Stores `key` unless a key of its generation exists already, and revokes
    /// the key `revoke` names (kid, at; its sealed private half is erased) in the
    /// same transaction, only when `key` was stored. True when it was: of concurrent inserts of one generation (two
    /// nodes starting on an empty database, two rotations at once) exactly one is.
    async fn insert_signing_key(
        &self,
        key: &SigningKeyRecord,
        revoke: Option<(&str, DateTime<Utc>)>,
    ) -> Result<bool, StorageError>;
    /// Every signing key, in generation order; which are published is for
    /// [`crate::domain::signing_keys`] to say.
    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StorageError>;

    /// Everything verification needs of one client, or `None` when it does not exist
    /// (shared, so a cache can hand it out without copying).
    async fn load_credentials(
        &self,
        tenant: &TenantId,
        client: &ClientId,
    ) -> Result<Option<Arc<ClientCredentials>>, StorageError>;

    /// [`Self::load_credentials`], with the failures of `failure_key` that every
    /// node shares (see [`failures`]) when the storage reads them in the same
    /// round trip (PostgreSQL read from the database, known client); otherwise
    /// `None` and no extra read.
    async fn load_credentials_and_failures(
        &self,
        tenant: &TenantId,
        client: &ClientId,
        failure_key: &str,
    ) -> Result<
        (
            Option<Arc<ClientCredentials>>,
            Option<failures::KeyFailures>,
        ),
        StorageError,
    > {
        let _ = failure_key;
        Ok((self.load_credentials(tenant, client).await?, None))
    }

    /// Counts one failed client authentication against `limits`, shared by every
    /// node on the database, atomically per key (see [`failures`]); names go
    /// before addresses. `None`: the database has one process (SQLite), whose
    /// own limiter is the whole count.
    async fn record_failure(
        &self,
        limits: &[failures::FailureLimit],
        window: std::time::Duration,
    ) -> Result<Option<failures::FailureVerdict>, StorageError>;

    /// The failures every node counts, as announced (`None` on SQLite).
    fn failure_feed(&self) -> Option<tokio::sync::broadcast::Receiver<failures::KeyFailures>>;
}

/// Where a PostgreSQL node reads the token path's credentials from
/// (`database.credentialCache`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CredentialCache {
    /// From the database at every request: a change acknowledged to its caller
    /// holds on every node for the next request.
    #[default]
    Strict,
    /// From memory, emptied when any node announces a change (PostgreSQL
    /// `LISTEN/NOTIFY`): another node may accept the old state until the
    /// announcement arrives, at most [`postgres::listen::WINDOW`] later.
    Cached,
}

impl std::str::FromStr for CredentialCache {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "strict" => Ok(Self::Strict),
            "cached" => Ok(Self::Cached),
            other => Err(format!("must be strict or cached (got {other:?})")),
        }
    }
}

/// Opens the storage a URL names (`sqlite://…` or `postgres://…`) and applies
/// the embedded migrations; PostgreSQL in [`CredentialCache::Strict`] mode.
pub async fn open(url: &str) -> Result<std::sync::Arc<dyn Storage>, StorageError> {
    open_with(url, CredentialCache::Strict).await
}

/// [`open`], with the credentials mode. SQLite, owned by this process alone,
/// always gets the credentials cache of `cached`; PostgreSQL gets it in
/// [`CredentialCache::Cached`] mode, fed by a listener for the other nodes' changes.
pub async fn open_with(
    url: &str,
    credentials: CredentialCache,
) -> Result<std::sync::Arc<dyn Storage>, StorageError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = postgres::PostgresStorage::connect(url).await?;
        if credentials == CredentialCache::Strict {
            return Ok(std::sync::Arc::new(store));
        }
        let (store, invalidations) =
            cached::CachedStorage::confirmed(store, postgres::listen::WINDOW);
        postgres::listen::spawn(url, invalidations)?;
        Ok(std::sync::Arc::new(store))
    } else {
        // One process owns an embedded database, so its credentials can be cached.
        let store = sqlite::SqliteStorage::connect(url).await?;
        Ok(std::sync::Arc::new(cached::CachedStorage::new(store)))
    }
}

/// The file of a SQLite database URL; `None` for PostgreSQL or an in-memory database.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    if is_postgres(url) {
        return None;
    }
    sqlite::database_file(url)
}

/// True for a PostgreSQL URL.
fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// A consistent copy of the database at `url` in the new file `dest`, taken
/// while a server may be running ([`sqlite::copies`]). PostgreSQL has its own
/// tools: the error says to use `pg_dump`.
pub async fn backup(url: &str, dest: &std::path::Path) -> Result<(), StorageError> {
    if is_postgres(url) {
        return Err(StorageError::CannotOpen(
            "a PostgreSQL database is backed up with its own tools: \
             pg_dump --format=custom --file=FILE DATABASE_URL"
                .into(),
        ));
    }
    sqlite::copies::backup(url, dest).await
}

/// Replaces the database at `url` with the backup in `source`, while no server
/// holds it ([`sqlite::copies`]). PostgreSQL: the error says to use `pg_restore`.
pub async fn restore(url: &str, source: &std::path::Path) -> Result<(), StorageError> {
    if is_postgres(url) {
        return Err(StorageError::CannotOpen(
            "a PostgreSQL database is restored with its own tools: \
             pg_restore --clean --dbname=DATABASE_URL FILE"
                .into(),
        ));
    }
    sqlite::copies::restore(url, source).await
}
