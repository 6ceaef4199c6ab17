//! Self-rotation: a client renews its own secret — the one whose value issued its
//! access token — without any administrator role, where the tenant's policy and
//! the client's own setting both allow it. The rules are
//! [`crate::domain::self_rotation`]; the Renew itself is the administrator's, so
//! the grace limit (`secrets.maxGracePeriod`), the expiration from the effective
//! policy (capped by the tenant's maximum lifetime), the answer and the
//! `secret.renewed` event are the same, with the client as the actor.
//!
//! The token's value must still be the secret's current value when the change is
//! written (checked on the latest state, inside the revision-checked write), so of
//! concurrent self-renews with one token exactly one succeeds. Every refusal is
//! audited; nothing of another tenant or client is read before the token is found
//! to name the path's tenant and client.

use super::{ClientRef, Secrets};
use crate::domain::audit_actions::AuditAction;
use crate::domain::expiry::ExpiryRequest;
use crate::domain::ids::{ClientId, TenantId};
use crate::domain::secret_value::SecretValue;
use crate::domain::self_rotation::{self, Refusal};
use crate::service::journal::{self, Target};
use crate::service::secret_requests::RenewRequest;
use crate::service::{Caller, SecretRecord, ServiceError};

/// How refusals are recorded in the audit trail (the action a success records too).
const ACTION: AuditAction = AuditAction::SecretRenew;

impl Secrets {
    /// Renews the secret whose value issued the caller's access token, under the
    /// client `at` names (which must be the token's own), with an optional grace
    /// period for the replaced value. Returns the secret and its new value (shown
    /// this once).
    pub async fn renew_own(
        &self,
        caller: &Caller,
        at: ClientRef<'_>,
        grace_period_seconds: Option<u64>,
    ) -> Result<(SecretRecord, SecretValue), ServiceError> {
        let bearer = caller.bearer();
        let target = Target {
            client_kind: Some(at.kind),
            client_id: ClientId::parse(at.client)
                .ok()
                .map(|_| at.client.to_owned()),
            secret_id: bearer.map(|b| b.secret),
        };
        let bearer = match bearer {
            None => Err(Refusal::NotAClient),
            Some(b) => self_rotation::check_target(&b, at.tenant, at.client).map(|()| b),
        };
        let bearer = match bearer {
            Ok(b) => b,
            Err(refusal) => return Err(self.refused(caller, at.tenant, target, refusal).await),
        };
        let tenant = self
            .ctx
            .store
            .get_tenant(at.tenant)
            .await?
            .ok_or(ServiceError::TenantNotFound)?;
        let client = self
            .ctx
            .store
            .get_client(at.tenant, at.kind, bearer.client)
            .await?
            .ok_or(ServiceError::ClientNotFound)?;
        if let Err(refusal) = self_rotation::check_allowed(&tenant.policy, &client.settings) {
            return Err(self.refused(caller, at.tenant, target, refusal).await);
        }
        let req = RenewRequest {
            expiry: ExpiryRequest::default(),
            grace_period_seconds,
        };
        let renewed = self
            .renew_checked(
                caller,
                &tenant,
                &client,
                bearer.secret,
                req,
                |secret, now| {
                    let previous = secret
                        .previous_hash
                        .as_ref()
                        .zip(secret.grace_until)
                        .map(|(hash, until)| (hash.credential, until));
                    self_rotation::check_value(&bearer, secret.hash.credential, previous, now)
                        .map_err(ServiceError::SelfRotation)
                },
            )
            .await;
        match renewed {
            Ok(renewed) => {
                tracing::info!(tenant.id = %at.tenant, client.id = %client.id, secret.id = %bearer.secret, "client {} renewed its own secret {}", client.id, bearer.secret);
                Ok(renewed)
            }
            Err(ServiceError::SelfRotation(refusal)) => {
                Err(self.refused(caller, at.tenant, target, refusal).await)
            }
            Err(e) => Err(e),
        }
    }

    /// Audits a refused self-renew; returns the error to answer with.
    async fn refused(
        &self,
        caller: &Caller,
        tenant: &TenantId,
        target: Target,
        refusal: Refusal,
    ) -> ServiceError {
        let entry = journal::entry(caller, Some(*tenant), ACTION, self.ctx.clock.now());
        journal::record_refusal(&self.ctx, entry, target, &refusal.to_string()).await;
        tracing::info!(tenant.id = %tenant, reason = %refusal, "self-renew refused: {refusal}");
        ServiceError::SelfRotation(refusal)
    }
}
