//! Secrets of a client: list, get, add, update, renew, end grace, revoke; and a
//! client renewing its own secret (`self_renew.rs`).
//!
//! Values are generated here (or taken from the caller), hashed by the
//! [`super::Hasher`] and returned exactly once, by `add` and `renew`.

use std::sync::Arc;

use chrono::{DateTime, Utc};

mod self_renew;

use super::lookup;
pub use super::lookup::ClientRef;
pub use super::secret_requests::{NewSecretRequest, RenewRequest, SecretPatch, SecretQuery};
use super::secret_requests::{expiry_rules, grace_period, prepare_secret};
use super::tenants::Tenants;
use super::{Caller, Context, ServiceError, journal};
use crate::domain::access::Action;
use crate::domain::audit_actions::AuditAction;
use crate::domain::client::validate_description;
use crate::domain::events::EventType;
use crate::domain::expiry::{self, ExpiryRequest};
use crate::domain::ids::{SecretId, TenantId};
use crate::domain::secret_value::SecretValue;
use crate::domain::summary::{SecretSummary, SummaryWindows};
use crate::storage::{
    ClientRecord, Journal, Page, Paged, SecretRecord, StorageError, TenantRecord, TenantSecret,
};

#[derive(Clone)]
pub struct Secrets {
    ctx: Arc<Context>,
}

impl Secrets {
    pub(crate) fn new(ctx: Arc<Context>) -> Self {
        Self { ctx }
    }

    /// The most secrets a client may hold.
    pub fn max_per_client(&self) -> u32 {
        self.ctx.limits.secrets_max
    }

    /// The longest grace period a Renew may ask for (`secrets.maxGracePeriod`).
    pub fn max_grace_period(&self) -> std::time::Duration {
        self.ctx.limits.max_grace_period
    }

    /// The client's secrets that pass `filter`.
    pub async fn list(
        &self,
        caller: &Caller,
        at: ClientRef<'_>,
        query: SecretQuery,
        page: Page,
    ) -> Result<Paged<SecretRecord>, ServiceError> {
        let client = lookup::client(&self.ctx, caller, at, Action::ReadSecrets).await?;
        let filter = query.at(self.ctx.clock.now());
        Ok(self
            .ctx
            .store
            .list_secrets(client.pk, &filter, page)
            .await?)
    }

    /// The inventory: the secrets of every client of the tenant that pass `filter`.
    pub async fn inventory(
        &self,
        caller: &Caller,
        tenant: &TenantId,
        query: SecretQuery,
        page: Page,
    ) -> Result<Paged<TenantSecret>, ServiceError> {
        Tenants::require(&self.ctx, caller, tenant, Action::ReadSecrets).await?;
        let filter = query.at(self.ctx.clock.now());
        Ok(self
            .ctx
            .store
            .list_tenant_secrets(tenant, &filter, page)
            .await?)
    }

    /// The estate at a glance: the tenant's live secrets counted by state, and
    /// expirations per week for the next weeks (one storage read).
    pub async fn summary(
        &self,
        caller: &Caller,
        tenant: &TenantId,
    ) -> Result<(SummaryWindows, SecretSummary), ServiceError> {
        Tenants::require(&self.ctx, caller, tenant, Action::ReadSecrets).await?;
        let windows = SummaryWindows::at(self.ctx.clock.now());
        let summary = self.ctx.store.secret_summary(tenant, &windows).await?;
        Ok((windows, summary))
    }

    pub async fn get(
        &self,
        caller: &Caller,
        at: ClientRef<'_>,
        id: SecretId,
    ) -> Result<SecretRecord, ServiceError> {
        Ok(self.secret(caller, at, id, Action::ReadSecrets).await?.2)
    }

    /// Adds a secret; returns it with its value, the only time the value is shown.
    pub async fn add(
        &self,
        caller: &Caller,
        at: ClientRef<'_>,
        req: NewSecretRequest,
    ) -> Result<(SecretRecord, SecretValue), ServiceError> {
        let (tenant, client) =
            lookup::tenant_client(&self.ctx, caller, at, Action::WriteSecrets).await?;
        let now = self.ctx.clock.now();
        let rules = expiry_rules(&self.ctx, &tenant, &client.policy, now);
        let (new, value) = prepare_secret(&self.ctx, req, &client.argon_salt, rules, now).await?;
        // The id is assigned by storage, which completes the journal with it.
        let draft = new.record(SecretId(0));
        let journal = journal::secret_journal(caller, &client, &draft, EventType::Created, now);
        let secret = self
            .ctx
            .store
            .insert_secret_within_limit(client.pk, &new, self.ctx.limits.secrets_max, &journal)
            .await
            .map_err(|e| match e {
                StorageError::LimitReached(max) => ServiceError::SecretLimitReached(max),
                StorageError::NotFound => ServiceError::ClientNotFound,
                e => e.into(),
            })?;
        tracing::info!(tenant.id = %at.tenant, client.id = %client.id, secret.id = %secret.id, "added secret {} to client {}", secret.id, client.id);
        Ok((secret, value))
    }

    pub async fn update(
        &self,
        caller: &Caller,
        at: ClientRef<'_>,
        id: SecretId,
        patch: SecretPatch,
    ) -> Result<SecretRecord, ServiceError> {
        let (tenant, client, _) = self.secret(caller, at, id, Action::WriteSecrets).await?;
        if let Some(d) = &patch.description {
            validate_description("Description", d)?;
        }
        // A new value is hashed once, whatever the number of attempts below.
        let new_value = match &patch.value {
            Some(value) => {
                let hash = self
                    .ctx
                    .hasher
                    .hash_for_storage(value, &client.argon_salt)
                    .await?;
                Some((hash, value.hint()))
            }
            None => None,
        };
        let secret = self
            .change(&client, id, |secret, now| {
                if let Some(d) = &patch.description {
                    secret.description.clone_from(d);
                }
                secret.expiration = match patch.expiry {
                    ExpiryRequest {
                        expires: None,
                        expiration: None,
                    } => secret.expiration,
                    ExpiryRequest {
                        expires: Some(true),
                        expiration: None,
                    } if secret.expiration.is_some() => secret.expiration,
                    req => expiry::resolve(
                        req,
                        expiry_rules(&self.ctx, &tenant, &client.policy, now),
                        now,
                    )?,
                };
                if let Some((hash, hint)) = &new_value {
                    // As a Renew without grace: the old value stops now, and its hash
                    // is kept so that a later presentation of it is reported as
                    // superseded (refused-use tracking), not unknown.
                    let old = std::mem::replace(&mut secret.hash, hash.clone());
                    secret.hint.clone_from(hint);
                    secret.previous_hash = Some(old);
                    secret.grace_until = Some(now);
                }
                Ok(journal::secret_journal(
                    caller,
                    &client,
                    secret,
                    EventType::Updated,
                    now,
                ))
            })
            .await?;
        tracing::info!(tenant.id = %at.tenant, client.id = %client.id, secret.id = %id, "updated secret {id} of client {}", client.id);
        Ok(secret)
    }

    /// A new generated value under the same id; the old value works until the
    /// grace period (if any) ends. A second Renew ends an earlier grace at once.
    pub async fn renew(
        &self,
        caller: &Caller,
        at: ClientRef<'_>,
        id: SecretId,
        req: RenewRequest,
    ) -> Result<(SecretRecord, SecretValue), ServiceError> {
        let (tenant, client, _) = self.secret(caller, at, id, Action::WriteSecrets).await?;
        self.renew_checked(caller, &tenant, &client, id, req, |_, _| Ok(()))
            .await
    }

    /// The Renew of secret `id` of `client`, once the caller may renew it.
    /// `may_renew` is asked again on each attempt, with the secret's latest state,
    /// so what it checks still holds when the change is written.
    async fn renew_checked<G>(
        &self,
        caller: &Caller,
        tenant: &TenantRecord,
        client: &ClientRecord,
        id: SecretId,
        req: RenewRequest,
        may_renew: G,
    ) -> Result<(SecretRecord, SecretValue), ServiceError>
    where
        G: Fn(&SecretRecord, DateTime<Utc>) -> Result<(), ServiceError>,
    {
        let grace = grace_period(req.grace_period_seconds, self.ctx.limits.max_grace_period)?;
        let value = SecretValue::generate()?;
        let hash = self
            .ctx
            .hasher
            .hash_for_storage(&value, &client.argon_salt)
            .await?;
        let secret = self
            .change(client, id, |secret, now| {
                may_renew(secret, now)?;
                let rules = expiry_rules(&self.ctx, tenant, &client.policy, now);
                let asked = expiry::renewal(req.expiry, secret.expiration, &rules);
                secret.expiration = expiry::resolve(asked, rules, now)?;
                let old = std::mem::replace(&mut secret.hash, hash.clone());
                secret.hint = value.hint();
                // The replaced hash is kept even without grace (its grace ends now), so
                // a later attempt with the old value is reported as superseded, not
                // unknown. The value in grace before this Renew stops at once.
                secret.previous_hash = Some(old);
                secret.grace_until =
                    Some(grace.and_then(|g| now.checked_add_signed(g)).unwrap_or(now));
                Ok(journal::secret_journal(
                    caller,
                    client,
                    secret,
                    EventType::Renewed,
                    now,
                ))
            })
            .await?;
        tracing::info!(tenant.id = %client.tenant_id, client.id = %client.id, secret.id = %id, "renewed secret {id} of client {}", client.id);
        Ok((secret, value))
    }

    /// Ends a grace period now: the value replaced by the last Renew stops working.
    pub async fn end_grace(
        &self,
        caller: &Caller,
        at: ClientRef<'_>,
        id: SecretId,
    ) -> Result<SecretRecord, ServiceError> {
        let (_, client, _) = self.secret(caller, at, id, Action::WriteSecrets).await?;
        let secret = self
            .change(&client, id, |secret, now| {
                secret.grace_until = secret.grace_until.map(|until| until.min(now));
                let mut journal =
                    journal::client_journal(caller, &client, AuditAction::SecretEndGrace, now);
                journal.audit.secret_id = Some(secret.id);
                Ok(journal)
            })
            .await?;
        tracing::info!(tenant.id = %at.tenant, client.id = %client.id, secret.id = %id, "ended the grace period of secret {id}");
        Ok(secret)
    }

    /// Revokes a secret: immediately and for good.
    pub async fn revoke(
        &self,
        caller: &Caller,
        at: ClientRef<'_>,
        id: SecretId,
    ) -> Result<(), ServiceError> {
        let (_, client, secret) = self.secret(caller, at, id, Action::WriteSecrets).await?;
        let now = self.ctx.clock.now();
        let journal = journal::secret_journal(caller, &client, &secret, EventType::Revoked, now);
        match self
            .ctx
            .store
            .revoke_secret(client.pk, id, now, &journal)
            .await
        {
            Ok(()) => {
                tracing::info!(tenant.id = %at.tenant, client.id = %client.id, secret.id = %id, "revoked secret {id} of client {}", client.id);
                Ok(())
            }
            Err(StorageError::NotFound) => Err(ServiceError::SecretNotFound),
            Err(e) => Err(e.into()),
        }
    }

    /// The tenant, the client and its (non-revoked) secret `id`.
    async fn secret(
        &self,
        caller: &Caller,
        at: ClientRef<'_>,
        id: SecretId,
        action: Action,
    ) -> Result<(TenantRecord, ClientRecord, SecretRecord), ServiceError> {
        let (tenant, client) = lookup::secret_client(&self.ctx, caller, at, id, action).await?;
        let secret = self
            .ctx
            .store
            .get_secret(client.pk, id)
            .await?
            .ok_or(ServiceError::SecretNotFound)?;
        Ok((tenant, client, secret))
    }

    /// Applies `apply` to the latest state of secret `id` and writes it with the
    /// journal `apply` returns, only if nothing changed it in between (the
    /// revision check of [`crate::storage::Storage::update_secret`]); otherwise
    /// reads it again and re-applies. So concurrent changes to one secret (on
    /// any number of nodes) have the outcome of some serial order, and each caller
    /// is answered with the state its own change produced.
    async fn change<F>(
        &self,
        client: &ClientRecord,
        id: SecretId,
        mut apply: F,
    ) -> Result<SecretRecord, ServiceError>
    where
        F: FnMut(&mut SecretRecord, DateTime<Utc>) -> Result<Journal, ServiceError>,
    {
        for attempt in 0..CHANGE_ATTEMPTS {
            let mut secret = self
                .ctx
                .store
                .get_secret(client.pk, id)
                .await?
                .ok_or(ServiceError::SecretNotFound)?;
            let now = self.ctx.clock.now();
            let journal = apply(&mut secret, now)?;
            match self
                .ctx
                .store
                .update_secret(client.pk, &secret, &journal)
                .await
            {
                Ok(()) => {
                    secret.revision += 1;
                    return Ok(secret);
                }
                Err(StorageError::Conflict) => {
                    // Another change won: back off a little (spread, so the losers of
                    // one round do not collide again) and apply to the new state.
                    let spread = u64::from(attempt.min(8)) * 2 + u64::from(rand_below(4));
                    tokio::time::sleep(std::time::Duration::from_millis(spread)).await;
                }
                Err(e) => return Err(not_found_as_secret(e)),
            }
        }
        Err(ServiceError::Contended)
    }
}

/// How often a change to one secret is re-applied when other changes keep winning.
const CHANGE_ATTEMPTS: u32 = 100;

/// A small random number below `n` (backoff jitter; not security relevant).
fn rand_below(n: u8) -> u8 {
    let mut byte = [0u8; 1];
    getrandom::fill(&mut byte).map_or(0, |()| byte[0] % n)
}

fn not_found_as_secret(e: StorageError) -> ServiceError {
    match e {
        StorageError::NotFound => ServiceError::SecretNotFound,
        e => e.into(),
    }
}
