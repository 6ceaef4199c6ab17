//! What the token path learns about secrets in use, noted in memory and written
//! in batches (every `tokens.lastUsedInterval` and at shutdown), so the token path
//! never writes to the database:
//!
//! - successful uses: each secret's `LastUsedAt`, and when the value presented
//!   was the one in grace after a Renew, that value's last use;
//! - refused presentations of values that worked once (replaced after any grace,
//!   revoked, expired): `RefusedCount`, `LastRefusedAt` and `LastRefusedFrom`, and
//!   at most one `secret.refused-use` event (with its audit entry) per secret and
//!   hour over all nodes — storage raises it only if no node did within the hour.
//!
//! Both maps are keyed by secrets that exist (a value must match a stored hash to
//! be noted), so their size is bounded by the estate, not by the traffic. A flush
//! writes in key order, so two nodes flushing at once lock rows in the same order.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use super::journal;
use crate::domain::audit::Outcome;
use crate::domain::audit_actions::AuditAction;
use crate::domain::events::{Event, EventType, RefusedDetails};
use crate::domain::ids::{CredentialId, SecretId};
use crate::storage::{Journal, RefusedSecret, RefusedUse, SecretUse, Storage, StorageError};

/// At most one `secret.refused-use` event per secret within this long.
pub const REFUSED_EVENT_EVERY: chrono::Duration = chrono::Duration::hours(1);

/// The latest noted use of each value, keyed by (client pk, secret id, value).
type Uses = HashMap<(i64, SecretId, CredentialId), DateTime<Utc>>;

/// Refused presentations since the last flush, keyed by (client pk, secret id).
type Refusals = HashMap<(i64, SecretId), Refused>;

#[derive(Debug, Clone, Copy)]
struct Refused {
    count: u32,
    at: DateTime<Utc>,
    from: Option<IpAddr>,
}

/// What one flush wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flushed {
    /// Values whose last use was written.
    pub uses: usize,
    /// Secrets whose refused presentations were added.
    pub refused: usize,
    /// `secret.refused-use` events raised.
    pub events: usize,
}

#[derive(Clone)]
pub struct UsageLog {
    uses: Arc<Mutex<Uses>>,
    refusals: Arc<Mutex<Refusals>>,
    store: Arc<dyn Storage>,
}

impl UsageLog {
    pub fn new(store: Arc<dyn Storage>) -> Self {
        Self {
            uses: Arc::default(),
            refusals: Arc::default(),
            store,
        }
    }

    /// Notes a successful use of value `credential` of a secret (memory only).
    pub fn note_use(
        &self,
        client_pk: i64,
        secret_id: SecretId,
        credential: CredentialId,
        at: DateTime<Utc>,
    ) {
        if let Ok(mut uses) = self.uses.lock() {
            let latest = uses.entry((client_pk, secret_id, credential)).or_insert(at);
            *latest = (*latest).max(at);
        }
    }

    /// Notes a refused presentation of a former value of a secret (memory only).
    pub fn note_refused(
        &self,
        client_pk: i64,
        secret_id: SecretId,
        at: DateTime<Utc>,
        from: Option<IpAddr>,
    ) {
        if let Ok(mut refusals) = self.refusals.lock() {
            merge(
                &mut refusals,
                (client_pk, secret_id),
                Refused { count: 1, at, from },
            );
        }
    }

    /// Writes every noted use and refusal, then raises the `secret.refused-use`
    /// events that are due. What could not be written is kept for the next flush;
    /// an event that could not be raised is tried again at the next refusal.
    pub async fn flush(&self, now: DateTime<Utc>) -> Result<Flushed, StorageError> {
        let mut flushed = Flushed::default();
        let uses = self.drain_uses();
        if !uses.is_empty() {
            if let Err(e) = self.store.record_last_used(&uses).await {
                for u in &uses {
                    self.note_use(u.client_pk, u.secret_id, u.credential, u.at);
                }
                return Err(e);
            }
            flushed.uses = uses.len();
        }
        let refusals = self.drain_refusals();
        if refusals.is_empty() {
            return Ok(flushed);
        }
        let event_before = now - REFUSED_EVENT_EVERY;
        let due = match self
            .store
            .record_refused_uses(&refusals_to_write(&refusals), event_before)
            .await
        {
            Ok(due) => due,
            Err(e) => {
                if let Ok(mut pending) = self.refusals.lock() {
                    for (key, refused) in refusals {
                        merge(&mut pending, key, refused);
                    }
                }
                return Err(e);
            }
        };
        flushed.refused = refusals.len();
        for secret in due {
            let journal = refused_use_journal(&secret, now);
            match self
                .store
                .raise_refused_use(
                    secret.client_pk,
                    secret.subject.secret_id,
                    event_before,
                    now,
                    &journal,
                )
                .await
            {
                Ok(true) => flushed.events += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!(
                    error = %e,
                    secret.id = %secret.subject.secret_id,
                    "could not raise secret.refused-use: {e}"
                ),
            }
        }
        Ok(flushed)
    }

    fn drain_uses(&self) -> Vec<SecretUse> {
        let Ok(mut uses) = self.uses.lock() else {
            return Vec::new();
        };
        let mut drained: Vec<SecretUse> = uses
            .drain()
            .map(|((client_pk, secret_id, credential), at)| SecretUse {
                client_pk,
                secret_id,
                credential,
                at,
            })
            .collect();
        drained.sort_by_key(|u| (u.client_pk, u.secret_id.0));
        drained
    }

    fn drain_refusals(&self) -> Vec<((i64, SecretId), Refused)> {
        let Ok(mut refusals) = self.refusals.lock() else {
            return Vec::new();
        };
        let mut drained: Vec<_> = refusals.drain().collect();
        drained.sort_by_key(|((pk, id), _)| (*pk, id.0));
        drained
    }
}

fn merge(into: &mut Refusals, key: (i64, SecretId), more: Refused) {
    into.entry(key)
        .and_modify(|r| {
            r.count = r.count.saturating_add(more.count);
            if more.at >= r.at {
                r.at = more.at;
                r.from = more.from;
            }
        })
        .or_insert(more);
}

fn refusals_to_write(refusals: &[((i64, SecretId), Refused)]) -> Vec<RefusedUse> {
    refusals
        .iter()
        .map(|((client_pk, secret_id), r)| RefusedUse {
            client_pk: *client_pk,
            secret_id: *secret_id,
            count: r.count,
            at: r.at,
            from: r.from.map(|a| a.to_string()),
        })
        .collect()
}

/// The audit entry (actor: the client) and the `secret.refused-use` event.
fn refused_use_journal(secret: &RefusedSecret, now: DateTime<Utc>) -> Journal {
    let s = &secret.subject;
    let r = &secret.refused;
    let mut audit = journal::entry_by(
        "client",
        s.client_id.clone(),
        Some(s.tenant),
        AuditAction::SecretRefusedUse,
        now,
    );
    audit.outcome = Outcome::Refused;
    audit.client_kind = Some(s.client_kind);
    audit.client_id = Some(s.client_id.clone());
    audit.secret_id = Some(s.secret_id);
    audit.source = r.last_from.clone();
    audit.reason = Some(format!(
        "a value of this secret that no longer works was presented; {} time(s) so far",
        r.count
    ));
    let mut event = Event::new(EventType::RefusedUse, s.clone(), now);
    event.refused = Some(RefusedDetails {
        count: r.count,
        last_at: r.last_at,
        last_from: r.last_from.clone(),
    });
    Journal::new(audit).with_event(event)
}
