//! Secret policies of tenants and clients: read and set. A change
//! applies to secrets created or renewed afterwards; existing secrets keep
//! their expiration. A tenant's policy also says whether its clients may renew
//! their own secrets (self-rotation).

use std::sync::Arc;

use super::journal;
use super::lookup::{self, ClientRef};
use super::tenants::Tenants;
use super::{Caller, Context, ServiceError};
use crate::domain::access::Action;
use crate::domain::audit_actions::AuditAction;
use crate::domain::expiry::{ExpiryPolicy, ExpiryRules};
use crate::domain::ids::TenantId;
use crate::domain::policy::{ClientPolicy, TenantPolicy, TenantPolicyChange};
use crate::storage::{Journal, StorageError};

/// A tenant's policy as shown: the default new secrets follow (its own or the
/// configured one) and the maximum lifetime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantPolicyView {
    pub default: ExpiryPolicy,
    /// True while the tenant follows `secrets.defaultExpiry`.
    pub configured_default: bool,
    pub max_lifetime: Option<ExpiryPolicy>,
    /// Clients that allow it themselves may renew their own secrets.
    pub allow_self_rotation: bool,
}

/// A client's policy as shown, with the policy its new secrets follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientPolicyView {
    pub policy: ClientPolicy,
    /// The rule new secrets follow: the client's, else the tenant's, else the
    /// configured default — capped by the tenant's maximum lifetime.
    pub effective: ExpiryPolicy,
    /// True when the maximum lifetime caps the rule.
    pub capped: bool,
    /// The rule before the cap (the client's own, else the tenant's) and the
    /// maximum lifetime, as a secret created or renewed now is resolved against.
    pub rules: ExpiryRules,
}

#[derive(Clone)]
pub struct Policies {
    ctx: Arc<Context>,
}

impl Policies {
    pub(crate) fn new(ctx: Arc<Context>) -> Self {
        Self { ctx }
    }

    /// The server's configured default expiry, which tenants without their own use.
    pub fn configured_default(&self) -> ExpiryPolicy {
        self.ctx.limits.default_expiry
    }

    pub async fn tenant(
        &self,
        caller: &Caller,
        tenant: &TenantId,
    ) -> Result<TenantPolicyView, ServiceError> {
        let record = Tenants::require(&self.ctx, caller, tenant, Action::ReadTenant).await?;
        Ok(self.tenant_view(&record.policy))
    }

    /// Changes the parts of the tenant's policy that `change` names; the others
    /// stay as they are.
    pub async fn set_tenant(
        &self,
        caller: &Caller,
        tenant: &TenantId,
        change: TenantPolicyChange,
    ) -> Result<TenantPolicyView, ServiceError> {
        Tenants::require(&self.ctx, caller, tenant, Action::WriteSecrets).await?;
        change.validate()?;
        let journal = Journal::new(journal::entry(
            caller,
            Some(*tenant),
            AuditAction::TenantPolicyUpdate,
            self.ctx.clock.now(),
        ));
        let policy = self
            .ctx
            .store
            .update_tenant_policy(tenant, &change, &journal)
            .await
            .map_err(|e| match e {
                StorageError::NotFound => ServiceError::TenantNotFound,
                e => e.into(),
            })?;
        Ok(self.tenant_view(&policy))
    }

    pub async fn client(
        &self,
        caller: &Caller,
        at: ClientRef<'_>,
    ) -> Result<ClientPolicyView, ServiceError> {
        let (tenant, client) =
            lookup::tenant_client(&self.ctx, caller, at, Action::ReadClients).await?;
        Ok(self.client_view(&tenant.policy, client.policy))
    }

    /// Sets the client's policy; `None` keeps it (still checking that the caller
    /// may change it).
    pub async fn set_client(
        &self,
        caller: &Caller,
        at: ClientRef<'_>,
        policy: Option<ClientPolicy>,
    ) -> Result<ClientPolicyView, ServiceError> {
        let (tenant, client) =
            lookup::tenant_client(&self.ctx, caller, at, Action::WriteSecrets).await?;
        let Some(policy) = policy else {
            return Ok(self.client_view(&tenant.policy, client.policy));
        };
        let now = self.ctx.clock.now();
        let journal =
            journal::client_journal(caller, &client, AuditAction::ClientPolicyUpdate, now);
        let updated = self
            .ctx
            .store
            .update_client_policy(client.pk, &policy, now, &journal)
            .await
            .map_err(|e| match e {
                StorageError::NotFound => ServiceError::ClientNotFound,
                e => e.into(),
            })?;
        Ok(self.client_view(&tenant.policy, updated.policy))
    }

    fn tenant_view(&self, policy: &TenantPolicy) -> TenantPolicyView {
        TenantPolicyView {
            default: policy.default.unwrap_or(self.ctx.limits.default_expiry),
            configured_default: policy.default.is_none(),
            max_lifetime: policy.max_lifetime,
            allow_self_rotation: policy.allow_self_rotation,
        }
    }

    fn client_view(&self, tenant: &TenantPolicy, policy: ClientPolicy) -> ClientPolicyView {
        let rule = policy
            .own
            .or(tenant.default)
            .unwrap_or(self.ctx.limits.default_expiry);
        let now = self.ctx.clock.now();
        let (effective, capped) = crate::domain::policy::capped(rule, tenant.max_lifetime, now);
        let rules = crate::domain::policy::effective_rules(
            self.ctx.limits.default_expiry,
            tenant,
            &policy,
            now,
        );
        ClientPolicyView {
            policy,
            effective,
            capped,
            rules,
        }
    }
}
