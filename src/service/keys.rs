//! The key ring: the token-signing key a node uses now and the public keys tokens
//! are verified with (and the JWKS publishes), re-read from storage every
//! [`REFRESH_INTERVAL`]; rotations (scheduled, manual, emergency); the master-key
//! file for deployments that do not pass the key in.
//!
//! Owns the life of signing keys in storage; the lifecycle rules are
//! [`crate::domain::signing_keys`], the cryptography [`crate::domain::jws`].
//! Invariants:
//! - storage holds private keys only sealed under the master key, bound to their
//!   kid (AES-256-GCM associated data);
//! - every node signs with the key the rules name for the rows and the time, so
//!   nodes agree without talking to each other: a `next` key is published for the
//!   overlap before any node signs with it, and a revoked key is dropped by every
//!   node at its next refresh (bound: [`REFRESH_INTERVAL`] plus one read);
//! - a rotation inserts the key of the next generation; generations are unique,
//!   so of concurrent rotations on any number of nodes exactly one adds a key;
//! - the JWKS carries only the checked public fields of the published keys.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::clock::Clock;
use crate::domain::client::LIFETIME_MAX;
use crate::domain::jws::{ALGORITHM, JwsError, MasterKey, SigningKey, VerifyingKey};
use crate::domain::signing_keys::{self as rules, KeySchedule, KeyState, KeyTimes};
use crate::storage::{SigningKeyRecord, Storage, StorageError};

mod key_file;
mod rotation;

pub use key_file::load_or_create_key_file;
pub use rotation::{RotateError, rotate, run_refresh};

/// How often every node re-reads the signing keys (and runs the rotation
/// schedule): the bound, plus one database read, within which a rotation made on
/// one node (an emergency one included) holds on every node.
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(1);

/// Why the key ring or the master-key file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    #[error(
        "the master key does not open the stored signing key: LATCHKEY_MASTER_KEY differs from the one that created it"
    )]
    WrongMasterKey,
    #[error("the stored signing key {kid} is unusable: {reason}")]
    CorruptKey { kid: String, reason: String },
    #[error("signing key: {0}")]
    Crypto(#[from] JwsError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("master key file {}: {reason}", path.display())]
    KeyFile {
        path: std::path::PathBuf,
        reason: String,
    },
}

/// A stored key as the listing shows it (never its private half).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub kid: String,
    pub generation: i64,
    pub state: KeyState,
    pub created_at: DateTime<Utc>,
    pub activates_at: DateTime<Utc>,
    pub retires_at: Option<DateTime<Utc>>,
    pub removed_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The keys at one moment: the one that signs and the published ones.
pub struct KeySet {
    current: Arc<SigningKey>,
    verifying: Vec<VerifyingKey>,
    jwks: Value,
    times: Vec<KeyTimes>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.verifying.iter().map(VerifyingKey::kid).collect();
        write!(
            f,
            "KeySet(current {}, published {kids:?})",
            self.current.kid()
        )
    }
}

impl KeySet {
    /// The key that signs new tokens.
    pub fn current(&self) -> &SigningKey {
        &self.current
    }

    /// Every key a token may be signed with, for [`crate::domain::jws::verify`].
    pub fn verifying_keys(&self) -> &[VerifyingKey] {
        &self.verifying
    }

    /// The JWK Set document: `{"keys":[...]}`, the current key first.
    pub fn jwks(&self) -> &Value {
        &self.jwks
    }
}

/// The keys every part of a node signs and verifies with; cheap to clone, and
/// swapped whole on each refresh.
#[derive(Clone)]
pub struct KeyRing(Arc<Ring>);

struct Ring {
    store: Arc<dyn Storage>,
    clock: Arc<dyn Clock>,
    master: Arc<MasterKey>,
    schedule: KeySchedule,
    set: RwLock<Arc<KeySet>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyRing({:?})", self.snapshot())
    }
}

impl KeyRing {
    /// Loads the keys, creating the first one (signing from now) when the
    /// database has none.
    pub async fn load(
        store: Arc<dyn Storage>,
        master: Arc<MasterKey>,
        schedule: KeySchedule,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, KeyRingError> {
        let now = clock.now();
        let mut records = store.signing_keys().await?;
        if records.is_empty() {
            let key = SigningKey::generate()?;
            let first = sealed_record(&key, &master, 1, now, now)?;
            // Another node starting at once may win; the read below takes the winner.
            if store.insert_signing_key(&first, None).await? {
                tracing::info!(key.kid = %first.kid, "created token-signing key {}", first.kid);
            }
            records = store.signing_keys().await?;
        }
        if schedule.overlap < Duration::from_secs(u64::from(LIFETIME_MAX)) {
            tracing::warn!(
                "tokens.signingKeyOverlap is {} s, shorter than the longest access-token lifetime \
                 ({LIFETIME_MAX} s): tokens of a retired key may stop validating before they expire",
                schedule.overlap.as_secs()
            );
        }
        let set = build(&records, &master, schedule, now, None)?;
        tracing::info!(key.kid = %set.current.kid(), keys.published = set.verifying.len(), "signing tokens with key {}", set.current.kid());
        Ok(Self(Arc::new(Ring {
            store,
            clock,
            master,
            schedule,
            set: RwLock::new(Arc::new(set)),
        })))
    }

    /// The keys now (as of the last refresh).
    pub fn snapshot(&self) -> Arc<KeySet> {
        self.0
            .set
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The rotation schedule this node runs.
    pub fn schedule(&self) -> KeySchedule {
        self.0.schedule
    }

    /// Re-reads the keys and applies the rules at `now`.
    pub async fn refresh(&self, now: DateTime<Utc>) -> Result<(), KeyRingError> {
        let records = self.0.store.signing_keys().await?;
        let before = self.snapshot();
        let set = build(
            &records,
            &self.0.master,
            self.0.schedule,
            now,
            Some(&before),
        )?;
        if set.current.kid() != before.current.kid() {
            tracing::info!(key.kid = %set.current.kid(), "signing tokens with key {}", set.current.kid());
        }
        if set.jwks != before.jwks {
            let kids: Vec<&str> = set.verifying.iter().map(VerifyingKey::kid).collect();
            tracing::info!(
                keys.published = set.verifying.len(),
                "published signing keys now {kids:?}"
            );
        }
        *self.0.set.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(set);
        Ok(())
    }

    /// Every stored key and its state at `now`, read from storage (not the last
    /// refresh), oldest first.
    pub async fn list(&self, now: DateTime<Utc>) -> Result<Vec<KeyInfo>, KeyRingError> {
        let records = self.0.store.signing_keys().await?;
        Ok(infos(&records, now, self.0.schedule))
    }

    /// Rotates (see [`rotate`]) and refreshes this node at once.
    pub async fn rotate(
        &self,
        rotation: rules::Rotation,
        replacing: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<KeyInfo>, RotateError> {
        let made = rotate(
            self.0.store.as_ref(),
            &self.0.master,
            self.0.schedule,
            rotation,
            replacing,
            now,
        )
        .await?;
        if made.is_some() {
            self.refresh(now).await?;
        }
        Ok(made)
    }

    /// True when the schedule asks for a rotation at `now`, judged on the last
    /// refresh (no database read).
    fn rotation_due(&self, now: DateTime<Utc>) -> bool {
        let set = self.snapshot();
        matches!(
            rules::plan(&set.times, now, self.0.schedule, rules::Rotation::Scheduled),
            Ok(Some(_))
        )
    }
}

/// When the key that signs at `now` was created (`None`: no key yet).
pub(crate) fn current_created_at(
    records: &[SigningKeyRecord],
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let all: Vec<KeyTimes> = records.iter().map(times).collect();
    rules::current(&all, now).map(|i| records[i].created_at)
}

fn times(record: &SigningKeyRecord) -> KeyTimes {
    KeyTimes {
        generation: record.generation,
        activates_at: record.activates_at,
        revoked_at: record.revoked_at,
    }
}

fn infos(records: &[SigningKeyRecord], now: DateTime<Utc>, schedule: KeySchedule) -> Vec<KeyInfo> {
    let all: Vec<KeyTimes> = records.iter().map(times).collect();
    rules::statuses(&all, now, schedule.overlap)
        .into_iter()
        .zip(records)
        .map(|(status, r)| KeyInfo {
            kid: r.kid.clone(),
            generation: r.generation,
            state: status.state,
            created_at: r.created_at,
            activates_at: r.activates_at,
            retires_at: status.retires_at,
            removed_at: status.removed_at,
            revoked_at: r.revoked_at,
        })
        .collect()
}

/// The key set the rules name for `records` at `now`; the current key is
/// unsealed only when it differs from the one in `before`.
fn build(
    records: &[SigningKeyRecord],
    master: &MasterKey,
    schedule: KeySchedule,
    now: DateTime<Utc>,
    before: Option<&KeySet>,
) -> Result<KeySet, KeyRingError> {
    let all: Vec<KeyTimes> = records.iter().map(times).collect();
    let current = rules::current(&all, now)
        .map(|i| &records[i])
        .ok_or_else(|| StorageError::Corrupt("no live token-signing key is stored".into()))?;
    let current = match before.filter(|b| b.current.kid() == current.kid) {
        Some(before) => before.current.clone(),
        None => Arc::new(open_record(current, master)?),
    };
    let statuses = rules::statuses(&all, now, schedule.overlap);
    let mut verifying = vec![VerifyingKey::from_jwk(current.public_jwk())?];
    for (record, status) in records.iter().zip(&statuses) {
        if status.state.is_published() && record.kid != current.kid() {
            verifying.push(verifying_key(record)?);
        }
    }
    let jwks = json!({ "keys": verifying.iter().map(VerifyingKey::jwk).collect::<Vec<_>>() });
    Ok(KeySet {
        current,
        verifying,
        jwks,
        times: all,
    })
}

/// A new key as storage keeps it: the private half sealed under the master key.
fn sealed_record(
    key: &SigningKey,
    master: &MasterKey,
    generation: i64,
    created_at: DateTime<Utc>,
    activates_at: DateTime<Utc>,
) -> Result<SigningKeyRecord, KeyRingError> {
    Ok(SigningKeyRecord {
        kid: key.kid().to_owned(),
        algorithm: ALGORITHM.to_owned(),
        private_key_sealed: key.seal_with(master)?,
        public_jwk: key.public_jwk().to_string(),
        created_at,
        generation,
        activates_at,
        revoked_at: None,
    })
}

fn corrupt(record: &SigningKeyRecord, reason: impl ToString) -> KeyRingError {
    KeyRingError::CorruptKey {
        kid: record.kid.clone(),
        reason: reason.to_string(),
    }
}

/// Unseals a key and checks it against its published half.
fn open_record(record: &SigningKeyRecord, master: &MasterKey) -> Result<SigningKey, KeyRingError> {
    if record.algorithm != ALGORITHM {
        return Err(corrupt(
            record,
            format!("algorithm {} is not supported", record.algorithm),
        ));
    }
    let pkcs8 = master
        .open(&record.private_key_sealed, record.kid.as_bytes())
        .map_err(|_| KeyRingError::WrongMasterKey)?;
    let key = SigningKey::from_pkcs8(&record.kid, &pkcs8).map_err(|e| corrupt(record, e))?;
    let published: Value = serde_json::from_str(&record.public_jwk)
        .map_err(|_| corrupt(record, "its public JWK is not JSON"))?;
    if VerifyingKey::from_jwk(&published)
        .map_err(|e| corrupt(record, e))?
        .jwk()
        != key.public_jwk()
    {
        return Err(corrupt(
            record,
            "its public JWK does not match its private key",
        ));
    }
    Ok(key)
}

fn verifying_key(record: &SigningKeyRecord) -> Result<VerifyingKey, KeyRingError> {
    let jwk: Value = serde_json::from_str(&record.public_jwk)
        .map_err(|_| corrupt(record, "its public JWK is not JSON"))?;
    let key = VerifyingKey::from_jwk(&jwk).map_err(|e| corrupt(record, e))?;
    if key.kid() != record.kid {
        return Err(corrupt(record, "its public JWK names another kid"));
    }
    Ok(key)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
