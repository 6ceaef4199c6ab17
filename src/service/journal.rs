//! What the audit trail and the event outbox are given: the audit entries of
//! management changes and the [`Journal`]s that carry them (written by storage in
//! the change's own transaction), and the entries of refused attempts (written
//! on their own, bounded).

use chrono::{DateTime, Utc};

use super::origin;
use super::{Caller, Context};
use crate::domain::audit::{AuditEntry, Outcome, RefusalFold};
use crate::domain::audit_actions::AuditAction;
use crate::domain::events::{Event, EventType, SecretSubject};
use crate::domain::ids::{ClientKind, SecretId, TenantId};
use crate::storage::{ClientRecord, Journal, RefusalKept, SecretRecord};

/// An audit entry for `action` by `caller`, stamped with the current request's
/// OperationId and source address.
pub(crate) fn entry(
    caller: &Caller,
    tenant: Option<TenantId>,
    action: AuditAction,
    at: DateTime<Utc>,
) -> AuditEntry {
    let (actor_type, actor) = caller.actor();
    entry_by(actor_type, actor, tenant, action, at)
}

/// [`entry`] for an actor that is not (yet) a [`Caller`], such as a client whose
/// authentication failed.
pub(crate) fn entry_by(
    actor_type: &str,
    actor: String,
    tenant: Option<TenantId>,
    action: AuditAction,
    at: DateTime<Utc>,
) -> AuditEntry {
    let origin = origin::current();
    AuditEntry {
        seq: 0,
        at,
        tenant,
        actor_type: actor_type.to_owned(),
        actor,
        action: action.as_str().to_owned(),
        outcome: Outcome::Success,
        reason: None,
        client_kind: None,
        client_id: None,
        secret_id: None,
        source: origin.and_then(|o| o.address).map(|a| a.to_string()),
        operation_id: origin.map(|o| o.operation_id),
        count: 1,
    }
}

/// The journal of a change to a client (no event).
pub(crate) fn client_journal(
    caller: &Caller,
    client: &ClientRecord,
    action: AuditAction,
    at: DateTime<Utc>,
) -> Journal {
    let mut audit = entry(caller, Some(client.tenant_id), action, at);
    audit.client_kind = Some(client.kind);
    audit.client_id = Some(client.id.to_string());
    Journal::new(audit)
}

/// The journal of a change to a secret: its audit entry and the event it raises,
/// both naming the caller as the actor.
pub(crate) fn secret_journal(
    caller: &Caller,
    client: &ClientRecord,
    secret: &SecretRecord,
    kind: EventType,
    at: DateTime<Utc>,
) -> Journal {
    let mut journal = client_journal(caller, client, action_of(kind), at);
    journal.audit.secret_id = Some(secret.id);
    let event = Event::new(kind, subject(client, secret), at)
        .by(&journal.audit.actor_type, &journal.audit.actor);
    journal.with_event(event)
}

/// The event subject describing `secret` of `client`.
pub(crate) fn subject(client: &ClientRecord, secret: &SecretRecord) -> SecretSubject {
    secret.subject(client.tenant_id, client.kind, client.id.as_str())
}

fn action_of(kind: EventType) -> AuditAction {
    match kind {
        EventType::Created => AuditAction::SecretCreate,
        EventType::Updated => AuditAction::SecretUpdate,
        EventType::Renewed => AuditAction::SecretRenew,
        EventType::Revoked => AuditAction::SecretRevoke,
        EventType::Expiring => AuditAction::SecretExpiring,
        EventType::Expired => AuditAction::SecretExpired,
        EventType::Leaked => AuditAction::SecretLeakReport,
        EventType::RefusedUse => AuditAction::SecretRefusedUse,
    }
}

/// What a refused attempt was about.
#[derive(Debug, Clone, Default)]
pub(crate) struct Target {
    pub client_kind: Option<ClientKind>,
    pub client_id: Option<String>,
    pub secret_id: Option<SecretId>,
}

/// Writes the entry of a refused attempt, bounded ([`RefusalFold`]): folded into
/// an identical refusal of the same minute, counted in the tenant's overflow entry
/// past `audit.refusalsPerTenantPerMinute`, and not written at all for a tenant
/// that does not exist. A failure to write is logged, not returned: the refusal
/// stands either way.
pub(crate) async fn record_refusal(
    ctx: &Context,
    mut audit: AuditEntry,
    target: Target,
    reason: &str,
) {
    audit.outcome = Outcome::Refused;
    audit.reason = Some(reason.to_owned());
    audit.client_kind = target.client_kind;
    audit.client_id = target.client_id;
    audit.secret_id = target.secret_id;
    let fold = RefusalFold::of(&audit, ctx.limits.refusals_per_tenant_per_minute);
    match ctx.store.record_refusal(&audit, &fold).await {
        Ok(RefusalKept::Overflowed) => {
            tracing::debug!(action = %audit.action, "refusal counted in the minute's overflow entry");
        }
        Ok(RefusalKept::UnknownTenant) => {
            tracing::debug!(action = %audit.action, "refusal not audited: no such tenant");
        }
        Ok(RefusalKept::Stored | RefusalKept::Folded) => {}
        Err(e) => {
            tracing::error!(error = %e, action = %audit.action, "could not write an audit entry");
        }
    }
}
