//! "Which secret is this?": the live secret a value belongs to, for tenant
//! administrators and auditors (their own tenant) and platform administrators
//! (every tenant).
//!
//! A generated value is found by its SHA-256 digest through an index, with no
//! scan over tenants; a match in another tenant is answered exactly like an
//! unknown value. A supplied value is stored as Argon2id under its client's
//! salt, so it can be checked only against a named client, by the same bounded
//! digest the token endpoint computes (an unknown client costs the same run).
//! Lookups that find nothing count against the caller like failed
//! authentications. The value never reaches the log or the audit trail.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::limiter::Limiter;
use super::settings::TokenSettings;
use super::tenants::Tenants;
use super::{Caller, Context, ServiceError, journal, origin};
use crate::domain::ValidationError;
use crate::domain::access::Action;
use crate::domain::audit::Outcome;
use crate::domain::audit_actions::AuditAction;
use crate::domain::ids::{ClientId, ClientKind, SecretId, TenantId};
use crate::domain::secret_hash::{UNKNOWN_CLIENT_SALT, generated_digest};
use crate::domain::secret_value::{PREFIX, SecretValue};
use crate::domain::throttle::FailureWindow;
use crate::storage::{FoundSecret, SecretRecord};

/// Where a lookup searches: one tenant, or (platform administrators) all of them.
#[derive(Debug, Clone, Copy)]
pub enum LookupScope<'a> {
    Tenant(&'a TenantId),
    Platform,
}

/// The client a supplied (non-generated) value is checked against.
#[derive(Debug, Clone)]
pub struct NamedClient {
    /// Needed in the platform scope; a tenant scope names its own tenant.
    pub tenant: Option<TenantId>,
    pub kind: ClientKind,
    pub id: String,
}

/// A value to look up (held redacted) and, for supplied values, its client.
#[derive(Debug)]
pub struct LookupRequest {
    pub value: SecretValue,
    pub client: Option<NamedClient>,
}

/// The live secret a value belongs to.
#[derive(Debug, Clone)]
pub struct LookupMatch {
    pub tenant: TenantId,
    pub client_kind: ClientKind,
    pub client_id: String,
    pub secret: SecretRecord,
    /// The value is the one a Renew replaced, still in its grace period.
    pub previous: bool,
}

#[derive(Clone)]
pub struct SecretLookups {
    ctx: Arc<Context>,
    /// Lookups that found nothing, per caller and per source address.
    failures: Limiter<(String, String), IpAddr>,
}

impl SecretLookups {
    pub(crate) fn new(ctx: Arc<Context>, limits: TokenSettings) -> Self {
        let minute = Duration::from_secs(60);
        Self {
            ctx,
            failures: Limiter::new(
                FailureWindow::new(limits.failed_attempts_per_client, minute),
                FailureWindow::new(limits.failed_attempts_per_address, minute),
            ),
        }
    }

    /// The same lookups, limited as failed authentications are (`tokens.failedAttempts…`).
    #[must_use]
    pub fn limited(&self, limits: TokenSettings) -> Self {
        Self::new(self.ctx.clone(), limits)
    }

    /// The live secret `req.value` belongs to within `scope`, or `None`.
    /// [`ServiceError::TooManyAttempts`] once the caller's lookups found nothing
    /// too often.
    pub async fn lookup(
        &self,
        caller: &Caller,
        scope: LookupScope<'_>,
        req: LookupRequest,
    ) -> Result<Option<LookupMatch>, ServiceError> {
        let own_tenant = match scope {
            LookupScope::Tenant(t) => {
                Tenants::require(&self.ctx, caller, t, Action::ReadSecrets).await?;
                Some(*t)
            }
            LookupScope::Platform if caller.may_manage_tenants() => None,
            LookupScope::Platform => return Err(ServiceError::Forbidden),
        };
        // Supplied values may not start with the product prefix, so a prefixed value
        // with a bad checksum belongs to no secret: answered without a search.
        let prefixed = req.value.expose().starts_with(PREFIX);
        let supplied_at = match (generated_digest(&req.value), &req.client) {
            (Some(_), _) => None,
            (None, _) if prefixed => None,
            (None, Some(named)) => Some(client_of(own_tenant, named)?),
            (None, None) => {
                return Err(ValidationError::new(
                    "Value",
                    "is not a generated value (lkcs_…): a supplied value can be checked only \
                     against its client; name ClientKind and ClientId",
                )
                .into());
            }
        };
        let address = origin::current().and_then(|o| o.address);
        let (actor_type, actor) = caller.actor();
        let attempt = self
            .failures
            .reserve((actor_type.to_owned(), actor), address)
            .await
            .map_err(ServiceError::TooManyAttempts)?;
        let now = self.ctx.clock.now();
        let found = match supplied_at {
            None => self.by_digest(own_tenant, &req.value, now).await,
            Some((tenant, kind, client)) => {
                self.in_client(tenant, kind, client, &req.value, now).await
            }
        };
        match &found {
            Ok(Some(_)) => attempt.release(),
            Ok(None) => attempt.fail(),
            // Not judged (database or check queue): not a failure.
            Err(_) => attempt.release(),
        }
        let found = found?;
        self.audit(caller, own_tenant, found.as_ref(), now).await;
        Ok(found)
    }

    async fn by_digest(
        &self,
        own_tenant: Option<TenantId>,
        value: &SecretValue,
        now: DateTime<Utc>,
    ) -> Result<Option<LookupMatch>, ServiceError> {
        let Some(digest) = generated_digest(value) else {
            return Ok(None);
        };
        let found = self.ctx.store.find_secrets_by_digest(&digest).await?;
        Ok(found
            .into_iter()
            .filter(|f| own_tenant.is_none_or(|t| t == f.tenant_id))
            .find(|f| !f.previous || in_grace(&f.secret, now))
            .map(LookupMatch::from))
    }

    async fn in_client(
        &self,
        tenant: TenantId,
        kind: ClientKind,
        client: Option<ClientId>,
        value: &SecretValue,
        now: DateTime<Utc>,
    ) -> Result<Option<LookupMatch>, ServiceError> {
        let credentials = match &client {
            Some(id) => self.ctx.store.load_credentials(&tenant, id).await?,
            None => None,
        };
        // The run happens for an unknown client too, so it costs the same.
        let salt = credentials
            .as_ref()
            .map_or(&UNKNOWN_CLIENT_SALT[..], |c| &c.argon_salt[..]);
        let digest = self.ctx.hasher.digest(value, salt).await?;
        let (Some(credentials), Some(client)) = (credentials, client) else {
            return Ok(None);
        };
        if credentials.kind != kind {
            return Ok(None);
        }
        let mut hit: Option<(SecretId, bool)> = None;
        for c in credentials.candidates.iter().filter(|c| !c.revoked) {
            if digest.matches(&c.hash) {
                hit = Some((c.id, false));
            }
            if let Some((hash, until)) = &c.previous
                && digest.matches(hash)
                && *until > now
            {
                hit = hit.or(Some((c.id, true)));
            }
        }
        let Some((id, previous)) = hit else {
            return Ok(None);
        };
        let secret = self.ctx.store.get_secret(credentials.pk, id).await?;
        Ok(secret.map(|secret| LookupMatch {
            tenant,
            client_kind: kind,
            client_id: client.to_string(),
            secret,
            previous,
        }))
    }

    /// One audit entry per lookup (never the value): what was found, if anything.
    async fn audit(
        &self,
        caller: &Caller,
        own_tenant: Option<TenantId>,
        found: Option<&LookupMatch>,
        now: DateTime<Utc>,
    ) {
        let tenant = own_tenant.or(found.map(|f| f.tenant));
        let mut entry = journal::entry(caller, tenant, AuditAction::SecretLookup, now);
        entry.outcome = Outcome::Success;
        entry.reason = Some(
            if found.is_some() {
                "the value belongs to this secret"
            } else {
                "no live secret has this value"
            }
            .to_owned(),
        );
        if let Some(f) = found {
            entry.client_kind = Some(f.client_kind);
            entry.client_id = Some(f.client_id.clone());
            entry.secret_id = Some(f.secret.id);
        }
        if let Err(e) = self.ctx.store.insert_audit(&entry).await {
            tracing::error!(error = %e, "could not write the audit entry of a secret lookup");
        }
        match found {
            Some(f) => {
                tracing::info!(tenant.id = %f.tenant, client.id = %f.client_id, secret.id = %f.secret.id, "a secret lookup found secret {} of client {}", f.secret.id, f.client_id);
            }
            None => tracing::info!("a secret lookup found no live secret"),
        }
    }
}

/// The tenant, kind and (well-formed, else `None`) id of the client a supplied value is checked against.
fn client_of(
    own_tenant: Option<TenantId>,
    named: &NamedClient,
) -> Result<(TenantId, ClientKind, Option<ClientId>), ServiceError> {
    let tenant = match (own_tenant, named.tenant) {
        (Some(own), _) => own,
        (None, Some(t)) => t,
        (None, None) => {
            return Err(ValidationError::new(
                "TenantId",
                "is needed to check a supplied value across tenants",
            )
            .into());
        }
    };
    Ok((tenant, named.kind, ClientId::parse(&named.id).ok()))
}

fn in_grace(secret: &SecretRecord, now: DateTime<Utc>) -> bool {
    secret.grace_until.is_some_and(|until| until > now)
}

impl From<FoundSecret> for LookupMatch {
    fn from(f: FoundSecret) -> Self {
        Self {
            tenant: f.tenant_id,
            client_kind: f.client_kind,
            client_id: f.client_id,
            secret: f.secret,
            previous: f.previous,
        }
    }
}
