//! A credentials cache in front of a [`Storage`]: `load_credentials`, the read
//! on every token request, is answered from memory.
//!
//! Two uses:
//! - SQLite, which one process owns alone ([`CachedStorage::new`]): every write
//!   goes through this process, so the cache may always answer;
//! - PostgreSQL in `cached` mode ([`CachedStorage::confirmed`]): other nodes write
//!   too, and announce each change through the database; the listener that
//!   receives the announcements drives the cache through [`Invalidations`], and
//!   the cache answers only while that listener is confirmed live (otherwise
//!   every read goes to the database, as in strict mode).
//!
//! Invariant: the cache never answers with data older than the last committed
//! write made through this process, nor (listener mode) older than the last
//! announcement received. Every write first goes to the inner store, then clears
//! the cache and bumps a generation counter; a read that began before that bump
//! does not store what it read ([`state`]). Writes are management actions (rare),
//! so clearing everything keeps the rule simple and obviously correct. Unknown
//! clients are cached too, so they cost what known ones do. Expiry needs no
//! invalidation: it is decided from the cached expiration at each request.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::console::{ConsoleStore, NewUser, SessionRecord, UserRecord};
use super::{
    ClientCredentials, ClientRecord, FoundSecret, Journal, LeakRecord, NewClient, NewSecret, Page,
    Paged, RefusedSecret, RefusedUse, SecretFilter, SecretRecord, SecretUse, SigningKeyRecord,
    Storage, StorageError, TenantRecord, TenantSecret,
};
use crate::domain::audit::{AuditEntry, AuditFilter};
use crate::domain::client::ClientSettings;
use crate::domain::ids::{ClientId, ClientKind, SecretId, TenantId};
use crate::domain::leaks::{KeyEntry, LeakPolicy};
use crate::domain::policy::{ClientPolicy, TenantPolicy, TenantPolicyChange};

mod notify;
mod state;

pub use state::Invalidations;
use state::{Freshness, Lookup, Shared};

pub struct CachedStorage<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S: Storage> CachedStorage<S> {
    /// A cache in front of a database only this process writes.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            shared: Shared::new(Freshness::Always),
        }
    }

    /// A cache in front of a database other processes write too: it answers only
    /// within `window` of the last confirmation through the returned handle, and
    /// reads through until the first one.
    pub fn confirmed(inner: S, window: Duration) -> (Self, Invalidations) {
        let shared = Shared::new(Freshness::Confirmed { window });
        let handle = Invalidations(Arc::downgrade(&shared));
        (Self { inner, shared }, handle)
    }

    /// Runs after every write: what was cached may be stale now.
    fn invalidate<T>(&self, result: Result<T, StorageError>) -> Result<T, StorageError> {
        self.shared.clear();
        result
    }
}

#[async_trait]
impl<S: Storage> Storage for CachedStorage<S> {
    async fn load_credentials(
        &self,
        tenant: &TenantId,
        client: &ClientId,
    ) -> Result<Option<Arc<ClientCredentials>>, StorageError> {
        let key = (*tenant, client.clone());
        let generation = match self.shared.lookup(&key) {
            Lookup::Hit(hit) => return Ok(hit),
            Lookup::Miss(generation) => generation,
            Lookup::Bypass => return self.inner.load_credentials(tenant, client).await,
        };
        let loaded = self.inner.load_credentials(tenant, client).await?;
        self.shared.offer(key, loaded.clone(), generation);
        Ok(loaded)
    }

    async fn ping(&self) -> Result<(), StorageError> {
        self.inner.ping().await
    }

    async fn insert_tenant(
        &self,
        tenant: &TenantRecord,
        journal: &Journal,
    ) -> Result<(), StorageError> {
        self.invalidate(self.inner.insert_tenant(tenant, journal).await)
    }

    async fn list_tenants(&self, page: Page) -> Result<Paged<TenantRecord>, StorageError> {
        self.inner.list_tenants(page).await
    }

    async fn get_tenant(&self, id: &TenantId) -> Result<Option<TenantRecord>, StorageError> {
        self.inner.get_tenant(id).await
    }

    async fn delete_tenant(&self, id: &TenantId, journal: &Journal) -> Result<(), StorageError> {
        self.invalidate(self.inner.delete_tenant(id, journal).await)
    }

    /// A name is not part of the credentials: no invalidation.
    async fn rename_tenant(
        &self,
        id: &TenantId,
        name: &str,
        journal: &Journal,
    ) -> Result<TenantRecord, StorageError> {
        self.inner.rename_tenant(id, name, journal).await
    }

    /// Policies are not part of the credentials: no invalidation.
    async fn update_tenant_policy(
        &self,
        id: &TenantId,
        change: &TenantPolicyChange,
        journal: &Journal,
    ) -> Result<TenantPolicy, StorageError> {
        self.inner.update_tenant_policy(id, change, journal).await
    }

    async fn insert_client_with_secret(
        &self,
        client: &NewClient,
        first_secret: &NewSecret,
        clients_max: u32,
        journal: &Journal,
    ) -> Result<(ClientRecord, SecretRecord), StorageError> {
        self.invalidate(
            self.inner
                .insert_client_with_secret(client, first_secret, clients_max, journal)
                .await,
        )
    }

    async fn list_clients(
        &self,
        tenant: &TenantId,
        kind: ClientKind,
        page: Page,
    ) -> Result<Paged<ClientRecord>, StorageError> {
        self.inner.list_clients(tenant, kind, page).await
    }

    async fn get_client(
        &self,
        tenant: &TenantId,
        kind: ClientKind,
        id: &ClientId,
    ) -> Result<Option<ClientRecord>, StorageError> {
        self.inner.get_client(tenant, kind, id).await
    }

    async fn update_client(
        &self,
        pk: i64,
        settings: &ClientSettings,
        now: DateTime<Utc>,
        journal: &Journal,
    ) -> Result<ClientRecord, StorageError> {
        self.invalidate(self.inner.update_client(pk, settings, now, journal).await)
    }

    /// Policies are not part of the credentials: no invalidation.
    async fn update_client_policy(
        &self,
        pk: i64,
        policy: &ClientPolicy,
        now: DateTime<Utc>,
        journal: &Journal,
    ) -> Result<ClientRecord, StorageError> {
        self.inner
            .update_client_policy(pk, policy, now, journal)
            .await
    }

    async fn delete_client(
        &self,
        tenant: &TenantId,
        kind: ClientKind,
        id: &ClientId,
        journal: &Journal,
    ) -> Result<(), StorageError> {
        self.invalidate(self.inner.delete_client(tenant, kind, id, journal).await)
    }

    async fn insert_secret_within_limit(
        &self,
        client_pk: i64,
        secret: &NewSecret,
        secrets_max: u32,
        journal: &Journal,
    ) -> Result<SecretRecord, StorageError> {
        self.invalidate(
            self.inner
                .insert_secret_within_limit(client_pk, secret, secrets_max, journal)
                .await,
        )
    }

    async fn list_secrets(
        &self,
        client_pk: i64,
        filter: &SecretFilter,
        page: Page,
    ) -> Result<Paged<SecretRecord>, StorageError> {
        self.inner.list_secrets(client_pk, filter, page).await
    }

    async fn list_tenant_secrets(
        &self,
        tenant: &TenantId,
        filter: &SecretFilter,
        page: Page,
    ) -> Result<Paged<TenantSecret>, StorageError> {
        self.inner.list_tenant_secrets(tenant, filter, page).await
    }

    async fn get_secret(
        &self,
        client_pk: i64,
        id: SecretId,
    ) -> Result<Option<SecretRecord>, StorageError> {
        self.inner.get_secret(client_pk, id).await
    }

    async fn find_secrets_by_digest(
        &self,
        digest: &[u8],
    ) -> Result<Vec<FoundSecret>, StorageError> {
        self.inner.find_secrets_by_digest(digest).await
    }

    async fn get_leak_policy(&self, tenant: &TenantId) -> Result<Option<LeakPolicy>, StorageError> {
        self.inner.get_leak_policy(tenant).await
    }

    async fn set_leak_policy(
        &self,
        tenant: &TenantId,
        policy: LeakPolicy,
        journal: &Journal,
    ) -> Result<(), StorageError> {
        self.inner.set_leak_policy(tenant, policy, journal).await
    }

    async fn record_leak(
        &self,
        leak: &LeakRecord,
        journal: &Journal,
    ) -> Result<bool, StorageError> {
        self.invalidate(self.inner.record_leak(leak, journal).await)
    }

    async fn scanner_keys(&self) -> Result<Vec<KeyEntry>, StorageError> {
        self.inner.scanner_keys().await
    }

    async fn replace_scanner_keys(
        &self,
        keys: &[KeyEntry],
        audit: &AuditEntry,
    ) -> Result<(), StorageError> {
        self.inner.replace_scanner_keys(keys, audit).await
    }

    async fn update_secret(
        &self,
        client_pk: i64,
        secret: &SecretRecord,
        journal: &Journal,
    ) -> Result<(), StorageError> {
        self.invalidate(self.inner.update_secret(client_pk, secret, journal).await)
    }

    async fn revoke_secret(
        &self,
        client_pk: i64,
        id: SecretId,
        now: DateTime<Utc>,
        journal: &Journal,
    ) -> Result<(), StorageError> {
        self.invalidate(self.inner.revoke_secret(client_pk, id, now, journal).await)
    }

    async fn insert_audit(&self, entry: &AuditEntry) -> Result<(), StorageError> {
        self.inner.insert_audit(entry).await
    }

    async fn record_refusal(
        &self,
        entry: &AuditEntry,
        fold: &crate::domain::audit::RefusalFold,
    ) -> Result<super::RefusalKept, StorageError> {
        self.inner.record_refusal(entry, fold).await
    }

    async fn list_audit(
        &self,
        tenant: &TenantId,
        filter: &AuditFilter,
        page: Page,
    ) -> Result<Paged<AuditEntry>, StorageError> {
        self.inner.list_audit(tenant, filter, page).await
    }

    /// LastUsedAt is not part of the credentials: no invalidation.
    async fn record_last_used(&self, uses: &[SecretUse]) -> Result<(), StorageError> {
        self.inner.record_last_used(uses).await
    }

    async fn secret_summary(
        &self,
        tenant: &TenantId,
        windows: &crate::domain::summary::SummaryWindows,
    ) -> Result<crate::domain::summary::SecretSummary, StorageError> {
        self.inner.secret_summary(tenant, windows).await
    }

    async fn record_refused_uses(
        &self,
        uses: &[RefusedUse],
        event_before: DateTime<Utc>,
    ) -> Result<Vec<RefusedSecret>, StorageError> {
        self.inner.record_refused_uses(uses, event_before).await
    }

    async fn raise_refused_use(
        &self,
        client_pk: i64,
        id: SecretId,
        event_before: DateTime<Utc>,
        now: DateTime<Utc>,
        journal: &Journal,
    ) -> Result<bool, StorageError> {
        self.inner
            .raise_refused_use(client_pk, id, event_before, now, journal)
            .await
    }

    async fn insert_signing_key(
        &self,
        key: &SigningKeyRecord,
        revoke: Option<(&str, DateTime<Utc>)>,
    ) -> Result<bool, StorageError> {
        self.inner.insert_signing_key(key, revoke).await
    }

    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StorageError> {
        self.inner.signing_keys().await
    }

    // Failures are not credentials: recorded and announced without invalidation.
    async fn record_failure(
        &self,
        limits: &[super::failures::FailureLimit],
        window: Duration,
    ) -> Result<Option<super::failures::FailureVerdict>, StorageError> {
        self.inner.record_failure(limits, window).await
    }

    fn failure_feed(
        &self,
    ) -> Option<tokio::sync::broadcast::Receiver<super::failures::KeyFailures>> {
        self.inner.failure_feed()
    }
}

/// Console users and sessions do not touch credentials: delegated without invalidation.
#[async_trait]
impl<S: Storage> ConsoleStore for CachedStorage<S> {
    async fn insert_user(&self, user: &NewUser) -> Result<(), StorageError> {
        self.inner.insert_user(user).await
    }
    async fn insert_first_user(&self, user: &NewUser) -> Result<bool, StorageError> {
        self.inner.insert_first_user(user).await
    }
    async fn get_user(&self, name: &str) -> Result<Option<UserRecord>, StorageError> {
        self.inner.get_user(name).await
    }
    async fn list_users(&self) -> Result<Vec<UserRecord>, StorageError> {
        self.inner.list_users().await
    }
    async fn update_user(
        &self,
        name: &str,
        password_hash: Option<&str>,
        platform_admin: Option<bool>,
    ) -> Result<(), StorageError> {
        self.inner
            .update_user(name, password_hash, platform_admin)
            .await
    }
    async fn set_user_roles(
        &self,
        name: &str,
        roles: &[(TenantId, String)],
    ) -> Result<(), StorageError> {
        self.inner.set_user_roles(name, roles).await
    }
    async fn delete_user(&self, name: &str) -> Result<(), StorageError> {
        self.inner.delete_user(name).await
    }
    async fn insert_session(
        &self,
        token_hash: &[u8],
        user_name: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.inner.insert_session(token_hash, user_name, now).await
    }
    async fn get_session(&self, token_hash: &[u8]) -> Result<Option<SessionRecord>, StorageError> {
        self.inner.get_session(token_hash).await
    }
    async fn touch_session(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.inner.touch_session(token_hash, now).await
    }
    async fn delete_session(&self, token_hash: &[u8]) -> Result<(), StorageError> {
        self.inner.delete_session(token_hash).await
    }
    async fn delete_user_sessions(&self, user_name: &str) -> Result<(), StorageError> {
        self.inner.delete_user_sessions(user_name).await
    }
    async fn delete_idle_sessions(&self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        self.inner.delete_idle_sessions(before).await
    }
    async fn insert_reveal(
        &self,
        id: &str,
        session_hash: &[u8],
        sealed: &[u8],
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.inner
            .insert_reveal(id, session_hash, sealed, expires_at, now)
            .await
    }
    async fn take_reveal(
        &self,
        id: &str,
        session_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.take_reveal(id, session_hash, now).await
    }
}
