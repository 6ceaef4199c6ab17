//! The audit trail's record: who did what to which tenant, client and secret,
//! when, from where, and how it ended. Built by the services, written by storage
//! in the same transaction as the change it records; never holds a secret value.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::ids::{ClientKind, SecretId, TenantId};

/// How an audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done.
    Success,
    /// Refused: not allowed, or a failed authentication.
    Refused,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Refused => "refused",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "success" => Some(Self::Success),
            "refused" => Some(Self::Refused),
            _ => None,
        }
    }
}

/// One audit entry. `seq` is assigned by storage (`0` before it is written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub tenant: Option<TenantId>,
    /// `platform`, `client`, `user` or `system`.
    pub actor_type: String,
    pub actor: String,
    /// What was attempted, as `resource.verb` (`secret.create`, `token.request`…).
    pub action: String,
    pub outcome: Outcome,
    /// Why it was refused; never a secret value.
    pub reason: Option<String>,
    pub client_kind: Option<ClientKind>,
    pub client_id: Option<String>,
    pub secret_id: Option<SecretId>,
    pub source: Option<String>,
    pub operation_id: Option<Uuid>,
}

/// Filters of the audit trail query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub client_id: Option<String>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}
