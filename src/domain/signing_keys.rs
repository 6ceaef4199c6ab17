//! The lifecycle of token-signing keys: which key signs, which are published in
//! the JWKS, and when a rotation is due, decided from each key's timestamps and
//! the time given. No I/O and no clock: every node applies the same rules to the
//! same rows and reaches the same answer, so nothing but the rows is coordinated.
//!
//! ```text
//!            rotate (published, not signing)     activates_at        successor activates      + overlap
//!  (none) ──────────────────────────────▶ next ──────────────▶ current ─────────────────▶ retired ─────────▶ removed
//!                                                     │
//!                                      emergency rotation: revoked (withdrawn at once)
//! ```
//!
//! - **current**: the live key with the latest `activates_at` not after now (ties:
//!   the higher generation). It signs. Should no live key have activated yet (a
//!   node whose clock lags the one that made an emergency key), the earliest live
//!   key is current, so a node always has a key to sign with.
//! - **next**: a live key that activates after now. Published before it signs, by
//!   [`KeySchedule::overlap`], so resource servers that cache the JWKS learn it first.
//! - **retired**: a live key that was current once and has a successor. Published
//!   until `overlap` after it stopped signing — after every token it signed expired
//!   (the overlap is at least the longest access-token lifetime plus a margin).
//! - **removed**: a retired key past that. Neither published nor accepted.
//! - **revoked**: withdrawn by an emergency rotation. Neither published nor
//!   accepted, from the moment the rotation is seen.
//!
//! A rotation adds the key of generation `max + 1`; storage makes generations
//! unique, so concurrent rotations (from any number of nodes) produce one key.

use std::cmp::Ordering;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::domain::client::LIFETIME_MAX;

/// The default [`KeySchedule::overlap`]: the longest access-token lifetime
/// (24 hours) plus a 5-minute margin for clock skew and JWKS caches.
pub const DEFAULT_OVERLAP: Duration = Duration::from_secs(LIFETIME_MAX as u64 + 300);

/// The default rotation period (`tokens.signingKeyRotation`: 90 days).
pub const DEFAULT_ROTATION_DAYS: u32 = 90;

/// When keys rotate and how long they are published around their signing time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySchedule {
    /// How long a key signs before the scheduled rotation replaces it (`None`: no
    /// scheduled rotation; manual rotation still works).
    pub rotation: Option<Duration>,
    /// How long a key is published before it signs, and after it stops signing.
    pub overlap: Duration,
}

impl Default for KeySchedule {
    fn default() -> Self {
        Self {
            rotation: Some(Duration::from_secs(
                u64::from(DEFAULT_ROTATION_DAYS) * 86_400,
            )),
            overlap: DEFAULT_OVERLAP,
        }
    }
}

/// What the rules need of a stored key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyTimes {
    pub generation: i64,
    pub activates_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Where a key is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Next,
    Current,
    Retired,
    Removed,
    Revoked,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Next => "next",
            Self::Current => "current",
            Self::Retired => "retired",
            Self::Removed => "removed",
            Self::Revoked => "revoked",
        }
    }

    /// In the JWKS, and accepted on the tokens it signed.
    pub fn is_published(self) -> bool {
        matches!(self, Self::Next | Self::Current | Self::Retired)
    }
}

/// A key's state and the instants that end its phases (when known).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyStatus {
    pub state: KeyState,
    /// When it stops (or stopped) signing: its successor's activation.
    pub retires_at: Option<DateTime<Utc>>,
    /// When it leaves (or left) the JWKS.
    pub removed_at: Option<DateTime<Utc>>,
}

/// The kind of rotation asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// A new key, published now, signing after the overlap.
    Manual,
    /// A new key signing now; the current key is revoked at once.
    Emergency,
    /// A manual rotation when the schedule says it is due, else nothing.
    Scheduled,
}

/// The key a rotation adds, and the key it revokes (an index into the keys given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub generation: i64,
    pub activates_at: DateTime<Utc>,
    pub revoke: Option<usize>,
}

/// Why a rotation was not done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RotationRefusal {
    #[error(
        "a rotation is already under way: key generation {generation} starts signing at {activates_at}; \
         use an emergency rotation to replace the current key at once"
    )]
    Pending {
        generation: i64,
        activates_at: DateTime<Utc>,
    },
    #[error("there is no signing key yet")]
    NoKey,
}

fn order(a: &KeyTimes, b: &KeyTimes) -> Ordering {
    (a.activates_at, a.generation).cmp(&(b.activates_at, b.generation))
}

fn plus(at: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(d)
        .ok()
        .and_then(|d| at.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The index of the key that signs at `now` (see the module doc).
pub fn current(keys: &[KeyTimes], now: DateTime<Utc>) -> Option<usize> {
    let live = || {
        keys.iter()
            .enumerate()
            .filter(|(_, k)| k.revoked_at.is_none())
    };
    live()
        .filter(|(_, k)| k.activates_at <= now)
        .max_by(|a, b| order(a.1, b.1))
        .or_else(|| live().min_by(|a, b| order(a.1, b.1)))
        .map(|(i, _)| i)
}

/// The status of every key at `now`, in the order given.
pub fn statuses(keys: &[KeyTimes], now: DateTime<Utc>, overlap: Duration) -> Vec<KeyStatus> {
    let current = current(keys, now);
    // A key stops signing when the first key after it (in activation order) that
    // signed, or may still sign, activates.
    let successor_activation = |key: &KeyTimes| {
        keys.iter()
            .filter(|k| order(k, key) == Ordering::Greater)
            .filter(|k| k.revoked_at.is_none_or(|r| r >= k.activates_at))
            .min_by(|a, b| order(a, b))
            .map(|k| k.activates_at)
    };
    keys.iter()
        .enumerate()
        .map(|(i, key)| {
            let retires_at = successor_activation(key);
            if let Some(revoked) = key.revoked_at {
                return KeyStatus {
                    state: KeyState::Revoked,
                    retires_at: retires_at.map(|r| r.min(revoked)).or(Some(revoked)),
                    removed_at: Some(revoked),
                };
            }
            let removed_at = retires_at.map(|r| plus(r, overlap));
            let state = match current {
                Some(c) if c == i => KeyState::Current,
                Some(c) if order(key, &keys[c]) == Ordering::Greater => KeyState::Next,
                _ if removed_at.is_some_and(|r| r <= now) => KeyState::Removed,
                _ => KeyState::Retired,
            };
            KeyStatus {
                state,
                retires_at,
                removed_at,
            }
        })
        .collect()
}

/// What a rotation of kind `rotation` at `now` does: `Ok(None)` when a scheduled
/// rotation is not due (or scheduling is off).
pub fn plan(
    keys: &[KeyTimes],
    now: DateTime<Utc>,
    schedule: KeySchedule,
    rotation: Rotation,
) -> Result<Option<Plan>, RotationRefusal> {
    let Some(cur) = current(keys, now) else {
        return match rotation {
            Rotation::Scheduled => Ok(None),
            _ => Err(RotationRefusal::NoKey),
        };
    };
    let generation = keys.iter().map(|k| k.generation).max().unwrap_or(0) + 1;
    let pending = statuses(keys, now, schedule.overlap)
        .iter()
        .zip(keys)
        .filter(|(s, _)| s.state == KeyState::Next)
        .map(|(_, k)| *k)
        .max_by(order);
    let activates_at = match (rotation, pending) {
        (Rotation::Emergency, _) => now,
        (Rotation::Manual, Some(next)) => {
            return Err(RotationRefusal::Pending {
                generation: next.generation,
                activates_at: next.activates_at,
            });
        }
        (Rotation::Manual, None) => plus(now, schedule.overlap),
        (Rotation::Scheduled, Some(_)) => return Ok(None),
        (Rotation::Scheduled, None) => {
            let Some(period) = schedule.rotation else {
                return Ok(None);
            };
            let due = plus(keys[cur].activates_at, period);
            if plus(now, schedule.overlap) < due {
                return Ok(None);
            }
            due.max(plus(now, schedule.overlap))
        }
    };
    Ok(Some(Plan {
        generation,
        activates_at,
        revoke: (rotation == Rotation::Emergency).then_some(cur),
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
