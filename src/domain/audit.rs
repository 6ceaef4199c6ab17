//! The audit trail's record: who did what to which tenant, client and secret,
//! when, from where, and how it ended. Built by the services, written by storage
//! in the same transaction as the change it records; never holds a secret value.
//!
//! Refused attempts are kept bounded ([`RefusalFold`]): identical refusals of one
//! minute are one entry with a count, and past a cap per tenant per minute they
//! are only counted, in one overflow entry, so a flood cannot bury a trail.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::audit_actions::AuditAction;
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
    /// How many attempts the entry stands for: 1, except for a folded refusal
    /// (identical refusals of one minute) and an overflow entry (see [`RefusalFold`]).
    /// Set by storage; ignored when an ordinary entry is written.
    pub count: i64,
}

/// Filters of the audit trail query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub client_id: Option<String>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// How a refused attempt is stored, bounded:
/// - refusals identical in tenant, actor, action, reason, target (client, secret)
///   and source address within one UTC minute are one entry, whose `count` grows;
/// - a tenant's minute holds at most `cap` refusal entries; a refusal that would
///   need one more is counted in the minute's single overflow entry instead.
///
/// The sum of the counts is the number of refused attempts, exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusalFold {
    /// Names the identical refusals of the window (a digest of their fields).
    pub key: String,
    /// The UTC minute the refusal falls in: `[start, end)`.
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    /// Refusal entries a tenant's window may hold before refusals are only counted.
    pub cap: u32,
    /// What a refusal past the cap is counted in.
    pub overflow: AuditEntry,
    /// Names the overflow entry of the tenant's window.
    pub overflow_key: String,
}

impl RefusalFold {
    /// The fold of the refused attempt `entry`, under at most `cap` entries per
    /// tenant per minute.
    pub fn of(entry: &AuditEntry, cap: u32) -> Self {
        let (window_start, window_end) = fold_window(entry.at);
        let start = window_start.to_rfc3339();
        let tenant = entry.tenant.map(|t| t.to_string()).unwrap_or_default();
        let kind = entry.client_kind.map(|k| k.as_db()).unwrap_or_default();
        let secret = entry.secret_id.map(|s| s.0.to_string()).unwrap_or_default();
        let key = digest(&[
            "refusal",
            &start,
            &tenant,
            &entry.actor_type,
            &entry.actor,
            &entry.action,
            entry.reason.as_deref().unwrap_or_default(),
            kind,
            entry.client_id.as_deref().unwrap_or_default(),
            &secret,
            entry.source.as_deref().unwrap_or_default(),
        ]);
        let overflow = AuditEntry {
            seq: 0,
            at: entry.at,
            tenant: entry.tenant,
            actor_type: "system".into(),
            actor: "audit".into(),
            // The entry that counts the refusals beyond the cap.
            action: AuditAction::AuditOverflow.as_str().into(),
            outcome: Outcome::Refused,
            reason: Some(format!(
                "more than {cap} different refused attempts in this minute \
                 (audit.refusalsPerTenantPerMinute): the rest are counted here, not stored one by one"
            )),
            client_kind: None,
            client_id: None,
            secret_id: None,
            source: None,
            operation_id: None,
            count: 1,
        };
        Self {
            key,
            window_start,
            window_end,
            cap,
            overflow,
            overflow_key: digest(&["overflow", &start, &tenant]),
        }
    }
}

/// The UTC minute `at` falls in, `[start, end)`.
pub fn fold_window(at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let minute = TimeDelta::minutes(1);
    let start = at.duration_trunc(minute).unwrap_or(at);
    (start, start + minute)
}

/// Hex SHA-256 of the length-prefixed parts (so no two part lists collide).
fn digest(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::ClientKind;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn refusal(time: &str) -> AuditEntry {
        AuditEntry {
            seq: 0,
            at: at(time),
            tenant: TenantId::parse("6f1c1a52-3a57-4f6b-9d55-1d2f0c4e8a10"),
            actor_type: "client".into(),
            actor: "svc".into(),
            action: "token.request".into(),
            outcome: Outcome::Refused,
            reason: Some("wrong secret".into()),
            client_kind: None,
            client_id: Some("svc".into()),
            secret_id: None,
            source: Some("198.51.100.7".into()),
            operation_id: Some(Uuid::new_v4()),
            count: 1,
        }
    }

    #[test]
    fn the_window_is_the_utc_minute() {
        assert_eq!(
            fold_window(at("2026-03-01T10:04:59.999Z")),
            (at("2026-03-01T10:04:00Z"), at("2026-03-01T10:05:00Z"))
        );
        assert_eq!(
            fold_window(at("2026-03-01T10:05:00Z")).0,
            at("2026-03-01T10:05:00Z")
        );
    }

    #[test]
    fn identical_refusals_of_one_minute_share_a_key_whatever_their_operation_and_second() {
        let first = refusal("2026-03-01T10:04:01Z");
        let again = refusal("2026-03-01T10:04:58.5Z");
        assert_ne!(first.operation_id, again.operation_id);
        assert_eq!(
            RefusalFold::of(&first, 100).key,
            RefusalFold::of(&again, 100).key
        );
        assert_eq!(RefusalFold::of(&first, 100).key.len(), 64);
    }

    #[test]
    fn each_distinguishing_field_makes_another_key() {
        let base = refusal("2026-03-01T10:04:01Z");
        let key = |e: &AuditEntry| RefusalFold::of(e, 100).key;
        let others = [
            AuditEntry {
                at: at("2026-03-01T10:05:01Z"),
                ..base.clone()
            },
            AuditEntry {
                tenant: TenantId::parse("0b8e2d35-54c8-4a51-a3f4-8d7d33f6a5e1"),
                ..base.clone()
            },
            AuditEntry {
                tenant: None,
                ..base.clone()
            },
            AuditEntry {
                actor_type: "user".into(),
                ..base.clone()
            },
            AuditEntry {
                actor: "other".into(),
                ..base.clone()
            },
            AuditEntry {
                action: "secret.create".into(),
                ..base.clone()
            },
            AuditEntry {
                reason: Some("secret expired".into()),
                ..base.clone()
            },
            AuditEntry {
                reason: None,
                ..base.clone()
            },
            AuditEntry {
                client_kind: Some(ClientKind::Hybrid),
                ..base.clone()
            },
            AuditEntry {
                client_id: Some("web".into()),
                ..base.clone()
            },
            AuditEntry {
                secret_id: Some(SecretId(2)),
                ..base.clone()
            },
            AuditEntry {
                source: Some("198.51.100.8".into()),
                ..base.clone()
            },
            AuditEntry {
                source: None,
                ..base.clone()
            },
            // Field boundaries cannot be shifted: "svc" + "token.request" vs "svct" + "oken.request".
            AuditEntry {
                actor: "svct".into(),
                action: "oken.request".into(),
                ..base.clone()
            },
        ];
        let mut keys: Vec<String> = others.iter().map(key).collect();
        keys.push(key(&base));
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), keys.len(), "every variant has its own key");
    }

    #[test]
    fn the_overflow_entry_is_one_per_tenant_and_minute_and_names_the_setting() {
        let a = RefusalFold::of(&refusal("2026-03-01T10:04:01Z"), 7);
        let b = RefusalFold::of(
            &AuditEntry {
                actor: "else".into(),
                ..refusal("2026-03-01T10:04:30Z")
            },
            7,
        );
        let later = RefusalFold::of(&refusal("2026-03-01T10:05:01Z"), 7);
        assert_eq!(a.overflow_key, b.overflow_key);
        assert_ne!(a.overflow_key, later.overflow_key);
        assert_ne!(a.overflow_key, a.key);
        let o = &a.overflow;
        assert_eq!(
            (o.action.as_str(), o.outcome, o.count),
            (AuditAction::AuditOverflow.as_str(), Outcome::Refused, 1)
        );
        assert_eq!(
            (o.tenant, o.client_id.as_ref(), o.source.as_ref()),
            (a.overflow.tenant, None, None)
        );
        let reason = o.reason.as_deref().unwrap();
        assert!(
            reason.contains("more than 7 ") && reason.contains("audit.refusalsPerTenantPerMinute"),
            "{reason}"
        );
        assert_eq!(a.cap, 7);
        assert_eq!(
            (a.window_start, a.window_end),
            (at("2026-03-01T10:04:00Z"), at("2026-03-01T10:05:00Z"))
        );
    }
}
