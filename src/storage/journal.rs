//! What a write records beside its change ([`Journal`]: an audit entry, an
//! optional event, and for a client's deletion the revocation of its secrets),
//! and the filters of secret lists (the per-client list and the tenant-wide
//! inventory).

use chrono::{DateTime, Utc};

use super::SecretRecord;
use crate::domain::audit::AuditEntry;
use crate::domain::events::{Event, EventType};
use crate::domain::ids::{ClientKind, SecretId, TenantId};
use crate::domain::leaks::LeakPolicy;

/// The audit entry and the event (if any) a change writes in its own transaction.
/// Storage fans an event out to one delivery per matching webhook subscription
/// (and one email delivery for expiry notices when the tenant has recipients).
#[derive(Debug, Clone)]
pub struct Journal {
    pub audit: AuditEntry,
    pub event: Option<Event>,
    /// The change deletes a client: storage also records a `secret.revoked`
    /// event for each of its secrets not yet revoked, in the same transaction
    /// (read there, so a secret added a moment before is not missed).
    pub revokes_client_secrets: bool,
}

impl Journal {
    pub fn new(audit: AuditEntry) -> Self {
        Self {
            audit,
            event: None,
            revokes_client_secrets: false,
        }
    }

    pub fn with_event(mut self, event: Event) -> Self {
        self.event = Some(event);
        self
    }

    /// See [`Journal::revokes_client_secrets`].
    pub fn revoking_client_secrets(mut self) -> Self {
        self.revokes_client_secrets = true;
        self
    }

    /// The `secret.revoked` events of a deleted client's live `secrets`, at the
    /// time of this journal's audit entry and by its actor.
    pub fn revocations(
        &self,
        tenant: &TenantId,
        kind: ClientKind,
        client_id: &str,
        secrets: &[SecretRecord],
    ) -> Vec<Event> {
        secrets
            .iter()
            .map(|s| {
                let subject = s.subject(*tenant, kind, client_id);
                Event::new(EventType::Revoked, subject, self.audit.at)
                    .by(&self.audit.actor_type, &self.audit.actor)
            })
            .collect()
    }

    /// The journal of an insert, once storage knows the new secret's id.
    pub fn for_secret(&self, id: SecretId) -> Self {
        let mut journal = self.clone();
        journal.audit.secret_id = Some(id);
        if let Some(event) = journal.event.as_mut() {
            event.subject.secret_id = id;
        }
        journal
    }
}

/// Which secrets a list shows, beyond "not revoked".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretFilter {
    pub status: Option<SecretStatusFilter>,
    /// Only secrets never used at the token endpoint.
    pub never_used: bool,
    /// Only secrets not used since this instant (never-used ones count from
    /// their creation).
    pub unused_since: Option<DateTime<Utc>>,
    /// Only secrets that expire between `now` and this instant.
    pub expiring_before: Option<DateTime<Utc>>,
    /// Only secrets whose description contains this text (case-insensitive).
    pub text: Option<String>,
    /// Only secrets a former value of which was presented (and refused) at or
    /// after this instant.
    pub refused_since: Option<DateTime<Utc>>,
    /// The instant `status` and `expiring_before` are judged at.
    pub now: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretStatusFilter {
    Active,
    Expired,
    /// Reported by a secret scanner (under the `alert` leak policy) and not
    /// rotated since: the reported value is still the current one.
    Leaked,
}

/// A non-revoked secret found by the digest of a generated value, in any tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundSecret {
    pub tenant_id: TenantId,
    pub client_pk: i64,
    pub client_kind: ClientKind,
    pub client_id: String,
    pub secret: SecretRecord,
    /// The digest is the value a Renew replaced (in or past its grace), not the current one.
    pub previous: bool,
    /// What the tenant does when a scanner reports one of its values.
    pub leak_policy: LeakPolicy,
}

/// A reported leak to record once per value (its digest), acting by `policy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeakRecord {
    pub digest: Vec<u8>,
    pub tenant: TenantId,
    pub client_pk: i64,
    pub secret_id: SecretId,
    pub policy: LeakPolicy,
    pub at: DateTime<Utc>,
}

/// A secret in the tenant-wide inventory, with the client it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantSecret {
    pub client_kind: ClientKind,
    pub client_id: String,
    pub secret: SecretRecord,
}
