//! The `Storage` impl both dialects share: every method hands its pool to the
//! dialect's module of the same role (`tenants`, `clients`, `secrets`, `lists`,
//! `journal`, `credentials`), which holds that dialect's SQL. Only the SQL
//! differs between SQLite and PostgreSQL, so the delegation is written once.
//!
//! Invoked in each dialect's `mod.rs` as `storage_impl!(Type)`. The macro brings the
//! shared types it names itself (`$crate::` paths, in a block of its own), so the
//! invoking module imports nothing for it; only the dialect's resource modules
//! (`tenants`, `clients`, …) resolve there, where they are declared.

/// `impl Storage for $ty` (a struct with a `pool` and a `breaker` field and a
/// `read_credentials` method: the token path's read, which each dialect routes), delegating
/// per resource; every call goes through the [`super::breaker::Breaker`], so it fails
/// at once while the database is known to be unreachable.
macro_rules! storage_impl {
    ($ty:ty) => {
        // The names the methods use, from here rather than from the invoking module.
        const _: () = {
            use std::sync::Arc;

            use chrono::{DateTime, Utc};

            use $crate::domain::audit::{AuditEntry, AuditFilter, RefusalFold};
            use $crate::domain::client::ClientSettings;
            use $crate::domain::ids::{ClientId, ClientKind, SecretId, TenantId};
            use $crate::domain::leaks::{KeyEntry, LeakPolicy};
            use $crate::domain::policy::{ClientPolicy, TenantPolicy, TenantPolicyChange};
            use $crate::storage::{
                ClientCredentials, ClientRecord, FoundSecret, Journal, LeakRecord, NewClient,
                NewSecret, Page, Paged, RefusalKept, RefusedSecret, RefusedUse, SecretFilter, SecretRecord, SecretUse,
                SigningKeyRecord, Storage, StorageError, TenantRecord, TenantSecret,
            };

            #[async_trait::async_trait]
            impl Storage for $ty {
                async fn record_failure(
                    &self,
                    limits: &[$crate::storage::failures::FailureLimit],
                    window: std::time::Duration,
                ) -> Result<Option<$crate::storage::failures::FailureVerdict>, StorageError> {
                    self.breaker
                        .run(self.record_shared_failure(limits, window))
                        .await
                }

                fn failure_feed(
                    &self,
                ) -> Option<tokio::sync::broadcast::Receiver<$crate::storage::failures::KeyFailures>> {
                    self.shared_failure_feed()
                }

                async fn ping(&self) -> Result<(), StorageError> {
                    self.breaker
                        .run(async {
                            sqlx::query("SELECT 1").execute(&self.pool).await?;
                            Ok(())
                        })
                        .await
                }

                async fn insert_tenant(
                    &self,
                    t: &TenantRecord,
                    journal: &Journal,
                ) -> Result<(), StorageError> {
                    self.breaker
                        .run(tenants::insert_tenant(&self.pool, t, journal))
                        .await
                }

                async fn list_tenants(
                    &self,
                    page: Page,
                ) -> Result<Paged<TenantRecord>, StorageError> {
                    self.breaker
                        .run(tenants::list_tenants(&self.pool, page))
                        .await
                }

                async fn get_tenant(
                    &self,
                    id: &TenantId,
                ) -> Result<Option<TenantRecord>, StorageError> {
                    self.breaker.run(tenants::get_tenant(&self.pool, id)).await
                }

                async fn delete_tenant(
                    &self,
                    id: &TenantId,
                    journal: &Journal,
                ) -> Result<(), StorageError> {
                    self.breaker
                        .run(tenants::delete_tenant(&self.pool, id, journal))
                        .await
                }

                async fn rename_tenant(
                    &self,
                    id: &TenantId,
                    name: &str,
                    journal: &Journal,
                ) -> Result<TenantRecord, StorageError> {
                    self.breaker
                        .run(tenants::rename_tenant(&self.pool, id, name, journal))
                        .await
                }

                async fn update_tenant_policy(
                    &self,
                    id: &TenantId,
                    change: &TenantPolicyChange,
                    journal: &Journal,
                ) -> Result<TenantPolicy, StorageError> {
                    self.breaker
                        .run(tenants::update_tenant_policy(
                            &self.pool, id, change, journal,
                        ))
                        .await
                }

                async fn insert_client_with_secret(
                    &self,
                    c: &NewClient,
                    s: &NewSecret,
                    clients_max: u32,
                    journal: &Journal,
                ) -> Result<(ClientRecord, SecretRecord), StorageError> {
                    self.breaker
                        .run(clients::insert_client_with_secret(
                            &self.pool,
                            c,
                            s,
                            clients_max,
                            journal,
                        ))
                        .await
                }

                async fn list_clients(
                    &self,
                    tenant: &TenantId,
                    kind: ClientKind,
                    page: Page,
                ) -> Result<Paged<ClientRecord>, StorageError> {
                    self.breaker
                        .run(clients::list_clients(&self.pool, tenant, kind, page))
                        .await
                }

                async fn get_client(
                    &self,
                    tenant: &TenantId,
                    kind: ClientKind,
                    id: &ClientId,
                ) -> Result<Option<ClientRecord>, StorageError> {
                    self.breaker
                        .run(clients::get_client(&self.pool, tenant, kind, id))
                        .await
                }

                async fn update_client(
                    &self,
                    pk: i64,
                    st: &ClientSettings,
                    now: DateTime<Utc>,
                    journal: &Journal,
                ) -> Result<ClientRecord, StorageError> {
                    self.breaker
                        .run(clients::update_client(&self.pool, pk, st, now, journal))
                        .await
                }

                async fn update_client_policy(
                    &self,
                    pk: i64,
                    policy: &ClientPolicy,
                    now: DateTime<Utc>,
                    journal: &Journal,
                ) -> Result<ClientRecord, StorageError> {
                    self.breaker
                        .run(clients::update_client_policy(
                            &self.pool, pk, policy, now, journal,
                        ))
                        .await
                }

                async fn delete_client(
                    &self,
                    tenant: &TenantId,
                    kind: ClientKind,
                    id: &ClientId,
                    journal: &Journal,
                ) -> Result<(), StorageError> {
                    self.breaker
                        .run(clients::delete_client(
                            &self.pool, tenant, kind, id, journal,
                        ))
                        .await
                }

                async fn insert_secret_within_limit(
                    &self,
                    client_pk: i64,
                    s: &NewSecret,
                    secrets_max: u32,
                    journal: &Journal,
                ) -> Result<SecretRecord, StorageError> {
                    self.breaker
                        .run(secrets::insert_secret_within_limit(
                            &self.pool,
                            client_pk,
                            s,
                            secrets_max,
                            journal,
                        ))
                        .await
                }

                async fn list_secrets(
                    &self,
                    client_pk: i64,
                    filter: &SecretFilter,
                    page: Page,
                ) -> Result<Paged<SecretRecord>, StorageError> {
                    self.breaker
                        .run(lists::list_secrets(&self.pool, client_pk, filter, page))
                        .await
                }

                async fn list_tenant_secrets(
                    &self,
                    tenant: &TenantId,
                    filter: &SecretFilter,
                    page: Page,
                ) -> Result<Paged<TenantSecret>, StorageError> {
                    self.breaker
                        .run(lists::list_tenant_secrets(&self.pool, tenant, filter, page))
                        .await
                }

                async fn secret_summary(
                    &self,
                    tenant: &TenantId,
                    windows: &$crate::domain::summary::SummaryWindows,
                ) -> Result<$crate::domain::summary::SecretSummary, StorageError> {
                    self.breaker
                        .run(lists::secret_summary(&self.pool, tenant, windows))
                        .await
                }

                async fn insert_audit(&self, entry: &AuditEntry) -> Result<(), StorageError> {
                    self.breaker
                        .run(async {
                            let mut conn = self.pool.acquire().await?;
                            journal::insert_audit(&mut conn, entry).await
                        })
                        .await
                }

                async fn record_refusal(
                    &self,
                    entry: &AuditEntry,
                    fold: &RefusalFold,
                ) -> Result<RefusalKept, StorageError> {
                    refusals::record_refusal(&self.pool, entry, fold).await
                }

                async fn list_audit(
                    &self,
                    tenant: &TenantId,
                    filter: &AuditFilter,
                    page: Page,
                ) -> Result<Paged<AuditEntry>, StorageError> {
                    self.breaker
                        .run(journal::list_audit(&self.pool, tenant, filter, page))
                        .await
                }

                async fn get_secret(
                    &self,
                    client_pk: i64,
                    id: SecretId,
                ) -> Result<Option<SecretRecord>, StorageError> {
                    self.breaker
                        .run(secrets::get_secret(&self.pool, client_pk, id))
                        .await
                }

                async fn find_secrets_by_digest(
                    &self,
                    digest: &[u8],
                ) -> Result<Vec<FoundSecret>, StorageError> {
                    self.breaker
                        .run(secrets::find_secrets_by_digest(&self.pool, digest))
                        .await
                }

                async fn get_leak_policy(
                    &self,
                    tenant: &TenantId,
                ) -> Result<Option<LeakPolicy>, StorageError> {
                    self.breaker
                        .run(leaks::get_leak_policy(&self.pool, tenant))
                        .await
                }

                async fn set_leak_policy(
                    &self,
                    tenant: &TenantId,
                    policy: LeakPolicy,
                    journal: &Journal,
                ) -> Result<(), StorageError> {
                    self.breaker
                        .run(leaks::set_leak_policy(&self.pool, tenant, policy, journal))
                        .await
                }

                async fn record_leak(
                    &self,
                    leak: &LeakRecord,
                    journal: &Journal,
                ) -> Result<bool, StorageError> {
                    self.breaker
                        .run(leaks::record_leak(&self.pool, leak, journal))
                        .await
                }

                async fn scanner_keys(&self) -> Result<Vec<KeyEntry>, StorageError> {
                    self.breaker.run(leaks::scanner_keys(&self.pool)).await
                }

                async fn replace_scanner_keys(
                    &self,
                    keys: &[KeyEntry],
                    audit: &AuditEntry,
                ) -> Result<(), StorageError> {
                    self.breaker
                        .run(leaks::replace_scanner_keys(&self.pool, keys, audit))
                        .await
                }

                async fn update_secret(
                    &self,
                    client_pk: i64,
                    s: &SecretRecord,
                    journal: &Journal,
                ) -> Result<(), StorageError> {
                    self.breaker
                        .run(secrets::update_secret(&self.pool, client_pk, s, journal))
                        .await
                }

                async fn revoke_secret(
                    &self,
                    client_pk: i64,
                    id: SecretId,
                    now: DateTime<Utc>,
                    journal: &Journal,
                ) -> Result<(), StorageError> {
                    self.breaker
                        .run(secrets::revoke_secret(
                            &self.pool, client_pk, id, now, journal,
                        ))
                        .await
                }

                async fn record_last_used(&self, uses: &[SecretUse]) -> Result<(), StorageError> {
                    self.breaker
                        .run(secrets::record_last_used(&self.pool, uses))
                        .await
                }

                async fn record_refused_uses(
                    &self,
                    uses: &[RefusedUse],
                    event_before: DateTime<Utc>,
                ) -> Result<Vec<RefusedSecret>, StorageError> {
                    self.breaker
                        .run(secrets::record_refused_uses(&self.pool, uses, event_before))
                        .await
                }

                async fn raise_refused_use(
                    &self,
                    client_pk: i64,
                    id: SecretId,
                    event_before: DateTime<Utc>,
                    now: DateTime<Utc>,
                    journal: &Journal,
                ) -> Result<bool, StorageError> {
                    self.breaker
                        .run(secrets::raise_refused_use(
                            &self.pool,
                            client_pk,
                            id,
                            event_before,
                            now,
                            journal,
                        ))
                        .await
                }

                async fn insert_signing_key(
                    &self,
                    key: &SigningKeyRecord,
                    revoke: Option<(&str, DateTime<Utc>)>,
                ) -> Result<bool, StorageError> {
                    self.breaker
                        .run(credentials::insert_signing_key(&self.pool, key, revoke))
                        .await
                }

                async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StorageError> {
                    self.breaker
                        .run(credentials::signing_keys(&self.pool))
                        .await
                }

                async fn load_credentials(
                    &self,
                    tenant: &TenantId,
                    client: &ClientId,
                ) -> Result<Option<Arc<ClientCredentials>>, StorageError> {
                    self.breaker
                        .run(self.read_credentials(tenant, client))
                        .await
                }

                async fn load_credentials_and_failures(
                    &self,
                    tenant: &TenantId,
                    client: &ClientId,
                    failure_key: &str,
                ) -> Result<
                    (
                        Option<Arc<ClientCredentials>>,
                        Option<$crate::storage::failures::KeyFailures>,
                    ),
                    StorageError,
                > {
                    self.breaker
                        .run(self.read_credentials_and_failures(tenant, client, failure_key))
                        .await
                }
            }
        };
    };
}

pub(super) use storage_impl;
