//! What a write records beside its change ([`Journal`]: an audit entry and an
//! optional event), and the filters of secret lists (the per-client list and
//! the tenant-wide inventory).

use chrono::{DateTime, Utc};

use super::SecretRecord;
use crate::domain::audit::AuditEntry;
use crate::domain::events::Event;
use crate::domain::ids::{ClientKind, SecretId};

/// The audit entry and the event (if any) a change writes in its own transaction.
/// Storage fans an event out to one delivery per matching webhook subscription
/// (and one email delivery for expiry notices when the tenant has recipients).
#[derive(Debug, Clone)]
pub struct Journal {
    pub audit: AuditEntry,
    pub event: Option<Event>,
}

impl Journal {
    pub fn new(audit: AuditEntry) -> Self {
        Self { audit, event: None }
    }

    pub fn with_event(mut self, event: Event) -> Self {
        self.event = Some(event);
        self
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
    /// The instant `status` and `expiring_before` are judged at.
    pub now: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretStatusFilter {
    Active,
    Expired,
}

/// A secret in the tenant-wide inventory, with the client it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantSecret {
    pub client_kind: ClientKind,
    pub client_id: String,
    pub secret: SecretRecord,
}
