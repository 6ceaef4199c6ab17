//! Rotating the signing keys: the one function the API route, the scheduled job
//! and the `latchkey keys rotate` command call, and the loop that keeps every
//! node's key ring current and runs the schedule.
//!
//! A rotation reads the keys, lets [`crate::domain::signing_keys::plan`] decide,
//! and inserts the key of the next generation (revoking the current key in the
//! same transaction for an emergency). Generations are unique in storage, so when
//! several nodes rotate at once exactly one insert succeeds; the others report
//! [`RotateError::Concurrent`] (the scheduled job ignores it: the rotation it
//! wanted happened).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{KeyInfo, KeyRing, KeyRingError, REFRESH_INTERVAL, infos, sealed_record, times};
use crate::clock::Clock;
use crate::domain::jws::{MasterKey, SigningKey};
use crate::domain::signing_keys::{self as rules, KeySchedule, Rotation, RotationRefusal};
use crate::service::{Caller, ServiceError};
use crate::storage::Storage;

/// Why a rotation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    /// The rules refuse it (a rotation is already under way).
    #[error(transparent)]
    Refused(#[from] RotationRefusal),
    /// Another rotation (on this or another node) added a key at the same time;
    /// nothing was changed by this one.
    #[error(
        "another rotation added a signing key at the same time; nothing was changed by this one"
    )]
    Concurrent,
    /// The caller named a key to replace that is not the current one (any more).
    #[error("key {0} is not the current signing key; nothing was changed")]
    NotCurrent(String),
    #[error(transparent)]
    Keys(#[from] KeyRingError),
}

impl From<crate::storage::StorageError> for RotateError {
    fn from(e: crate::storage::StorageError) -> Self {
        Self::Keys(e.into())
    }
}

/// Rotates the signing keys at `now`: [`Rotation::Manual`] publishes a new key
/// that signs after the overlap; [`Rotation::Emergency`] makes a new key sign
/// now and revokes the current one (every node drops it within
/// [`REFRESH_INTERVAL`] plus one read); [`Rotation::Scheduled`] does a manual
/// rotation only when the schedule says it is due (`Ok(None)` otherwise).
/// With `replacing`, the rotation happens only while that kid is the current
/// key, so repeated or racing requests to replace one key add one key in all.
/// Returns the new key.
pub async fn rotate(
    store: &dyn Storage,
    master: &MasterKey,
    schedule: KeySchedule,
    rotation: Rotation,
    replacing: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<KeyInfo>, RotateError> {
    let records = store.signing_keys().await?;
    let all: Vec<_> = records.iter().map(times).collect();
    if let Some(kid) = replacing {
        let current = rules::current(&all, now).map(|i| records[i].kid.as_str());
        if current != Some(kid) {
            return Err(RotateError::NotCurrent(kid.to_owned()));
        }
    }
    let Some(plan) = rules::plan(&all, now, schedule, rotation)? else {
        return Ok(None);
    };
    let key = SigningKey::generate().map_err(KeyRingError::from)?;
    let record = sealed_record(&key, master, plan.generation, now, plan.activates_at)?;
    let revoke = plan.revoke.map(|i| (records[i].kid.as_str(), now));
    if !store.insert_signing_key(&record, revoke).await? {
        return Err(RotateError::Concurrent);
    }
    match (rotation, revoke) {
        (Rotation::Emergency, Some((old, _))) => tracing::warn!(
            key.kid = %record.kid, key.revoked = %old,
            "emergency rotation: key {} signs now; key {old} is withdrawn and its tokens refused", record.kid
        ),
        _ => tracing::info!(
            key.kid = %record.kid, key.activates_at = %plan.activates_at,
            "rotation: key {} is published and signs from {}", record.kid, plan.activates_at
        ),
    }
    let records = store.signing_keys().await?;
    Ok(infos(&records, now, schedule)
        .into_iter()
        .find(|k| k.kid == record.kid))
}

/// Every [`REFRESH_INTERVAL`]: re-reads the keys, and rotates when the schedule
/// says so. Runs on every node until aborted; a failed read keeps the keys of
/// the last good one (logged once until a read succeeds again).
pub async fn run_refresh(ring: KeyRing, clock: Arc<dyn Clock>) {
    let mut ticks = tokio::time::interval(REFRESH_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        ticks.tick().await;
        let now = clock.now();
        let mut outcome = ring.refresh(now).await.map_err(RotateError::from);
        if outcome.is_ok() && ring.rotation_due(now) {
            outcome = match ring.rotate(Rotation::Scheduled, None, now).await {
                Err(RotateError::Concurrent | RotateError::Refused(_)) => Ok(()),
                other => other.map(|_| ()),
            };
        }
        match outcome {
            Err(e) if !failing => {
                failing = true;
                tracing::error!(error = %e, "cannot refresh the signing keys (keeping the last ones read): {e}");
            }
            Ok(()) if failing => {
                failing = false;
                tracing::info!("signing keys read again");
            }
            _ => {}
        }
    }
}

impl KeyRing {
    /// Every stored key and its state (platform administrators only).
    pub async fn list_for(&self, caller: &Caller) -> Result<Vec<KeyInfo>, ServiceError> {
        if !caller.may_manage_tenants() {
            return Err(ServiceError::Forbidden);
        }
        Ok(self.list(self.0.clock.now()).await?)
    }

    /// A manual rotation, or an emergency one, only while `replacing` (when
    /// given) is the current key (platform administrators only); returns the new key.
    pub async fn rotate_for(
        &self,
        caller: &Caller,
        emergency: bool,
        replacing: Option<&str>,
    ) -> Result<KeyInfo, ServiceError> {
        if !caller.may_manage_tenants() {
            return Err(ServiceError::Forbidden);
        }
        let rotation = if emergency {
            Rotation::Emergency
        } else {
            Rotation::Manual
        };
        let (kind, name) = caller.actor();
        let made = self.rotate(rotation, replacing, self.0.clock.now()).await?;
        let made =
            made.ok_or_else(|| ServiceError::Internal("the rotation added no key".into()))?;
        tracing::info!(actor.kind = kind, actor.name = %name, key.kid = %made.kid, emergency, "signing keys rotated by {kind} {name}");
        Ok(made)
    }
}

impl From<KeyRingError> for ServiceError {
    fn from(e: KeyRingError) -> Self {
        match e {
            KeyRingError::Storage(e) => e.into(),
            e => Self::Internal(e.to_string()),
        }
    }
}

impl From<RotateError> for ServiceError {
    fn from(e: RotateError) -> Self {
        match e {
            RotateError::Refused(refusal) => Self::RotationRefused(refusal.to_string()),
            e @ (RotateError::Concurrent | RotateError::NotCurrent(_)) => {
                Self::RotationRefused(e.to_string())
            }
            RotateError::Keys(e) => e.into(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests;
