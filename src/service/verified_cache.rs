//! Supplied values already verified, remembered in memory only as a keyed digest
//! (HMAC-SHA-256 under a random key made at start, never stored or shown), so a
//! client that presents the same right value again needs no Argon2id run.
//!
//! - An entry names one exact value by its credential id, which is new with every
//!   value (add, renew, value change): a renewed or changed value can never match
//!   an old entry.
//! - It is consulted only for values still in force by the client's row read for
//!   this very request (current or in grace, not revoked, not expired, client
//!   enabled); the others are dropped when seen. So every change is honoured on
//!   every node at once, without any message between nodes, and a refusal always
//!   costs the full Argon2id run (the timing tells nothing about old values).
//! - A value that matches no entry costs one Argon2id run, like a wrong one.
//! - Entries are bounded ([`CAPACITY`]); the oldest go first.
//!
//! Comparisons are constant-time and visit every entry of the client.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::domain::ids::{ClientId, CredentialId, SecretId, TenantId};
use crate::domain::secret_hash::PresentedDigest;
use crate::domain::secret_value::SecretValue;
use crate::domain::verification::{self, Candidate};

/// Verified values remembered at most, over all clients.
pub const CAPACITY: usize = 4096;

type ClientKey = (TenantId, ClientId);

/// The keyed digest of a presented value (computed once per attempt).
#[derive(Clone, Copy)]
pub struct ValueMac([u8; 32]);

#[derive(Clone, Copy)]
struct Entry {
    secret: SecretId,
    credential: CredentialId,
    mac: [u8; 32],
}

#[derive(Default)]
struct Entries {
    by_client: HashMap<ClientKey, Vec<Entry>>,
    /// Insertion order, for eviction; may name entries already dropped.
    order: VecDeque<(ClientKey, CredentialId)>,
    len: usize,
}

pub struct VerifiedCache {
    /// `None` when the system had no randomness to give: nothing is remembered.
    key: Option<[u8; 32]>,
    capacity: usize,
    entries: Mutex<Entries>,
}

impl VerifiedCache {
    pub fn new(capacity: usize) -> Self {
        let mut key = [0u8; 32];
        Self {
            key: getrandom::fill(&mut key).ok().map(|()| key),
            capacity,
            entries: Mutex::default(),
        }
    }

    /// The keyed digest of `value`; `None` when the cache is off.
    pub fn mac(&self, value: &SecretValue) -> Option<ValueMac> {
        let key = self.key.as_ref()?;
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).ok()?;
        mac.update(value.expose().as_bytes());
        Some(ValueMac(mac.finalize().into_bytes().into()))
    }

    /// The digest of the presented value when it is a remembered value of this
    /// client still in force at `now` by `candidates` (the row read for this
    /// request). Drops the client's entries that are no longer in force.
    pub fn recall(
        &self,
        client: &ClientKey,
        candidates: &[Candidate],
        client_enabled: bool,
        now: DateTime<Utc>,
        presented: &ValueMac,
    ) -> Option<PresentedDigest> {
        let mut guard = self.lock();
        let all = &mut *guard;
        let entries = all.by_client.get_mut(client)?;
        let before = entries.len();
        entries.retain(|e| {
            verification::credential_in_force(
                candidates,
                client_enabled,
                e.secret,
                e.credential,
                now,
            )
        });
        all.len -= before - entries.len();
        let mut matched = None;
        for entry in entries.iter() {
            if bool::from(entry.mac.ct_eq(&presented.0)) {
                matched = Some(entry.credential);
            }
        }
        if entries.is_empty() {
            all.by_client.remove(client);
        }
        drop(guard);
        let credential = matched?;
        let stored = candidates.iter().find_map(|c| {
            if c.hash.credential == credential {
                Some(&c.hash)
            } else {
                c.previous
                    .as_ref()
                    .map(|(hash, _)| hash)
                    .filter(|hash| hash.credential == credential)
            }
        })?;
        PresentedDigest::of_stored(stored)
    }

    /// Remembers that the value with digest `mac` is the value `credential` of
    /// secret `secret` (just proven by a full Argon2id verification).
    pub fn remember(
        &self,
        client: &ClientKey,
        secret: SecretId,
        credential: CredentialId,
        mac: &ValueMac,
    ) {
        let entry = Entry {
            secret,
            credential,
            mac: mac.0,
        };
        let mut guard = self.lock();
        let all = &mut *guard;
        let entries = all.by_client.entry(client.clone()).or_default();
        if let Some(known) = entries.iter_mut().find(|e| e.credential == credential) {
            *known = entry;
            return;
        }
        entries.push(entry);
        all.len += 1;
        all.order.push_back((client.clone(), credential));
        while all.len > self.capacity {
            let Some((key, oldest)) = all.order.pop_front() else {
                break;
            };
            all.forget(&key, oldest);
        }
        if all.order.len() > 2 * self.capacity + 16 {
            let by_client = &all.by_client;
            all.order.retain(|(key, credential)| {
                by_client
                    .get(key)
                    .is_some_and(|es| es.iter().any(|e| e.credential == *credential))
            });
        }
    }

    /// Drops every entry of a client that no longer exists.
    pub fn forget_client(&self, client: &ClientKey) {
        let mut all = self.lock();
        if let Some(gone) = all.by_client.remove(client) {
            all.len -= gone.len();
        }
    }

    /// Values remembered now (all clients).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().len
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Entries {
    fn forget(&mut self, client: &ClientKey, credential: CredentialId) {
        let Some(entries) = self.by_client.get_mut(client) else {
            return;
        };
        let before = entries.len();
        entries.retain(|e| e.credential != credential);
        self.len -= before - entries.len();
        if entries.is_empty() {
            self.by_client.remove(client);
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::domain::secret_hash::{HashKind, StoredHash};

    fn hash(byte: u8) -> StoredHash {
        StoredHash {
            kind: HashKind::Argon2idV1,
            digest: vec![byte; 32],
            credential: CredentialId::generate(),
        }
    }

    fn candidate(id: i32, byte: u8) -> Candidate {
        Candidate {
            id: SecretId(id),
            hash: hash(byte),
            expiration: None,
            previous: None,
            revoked: false,
        }
    }

    fn client(name: &str) -> ClientKey {
        (TenantId::generate(), ClientId::parse(name).unwrap())
    }

    fn value(text: &str) -> SecretValue {
        SecretValue::presented(text)
    }

    #[test]
    fn a_remembered_value_is_recalled_as_its_stored_digest() {
        let cache = VerifiedCache::new(CAPACITY);
        let svc = client("svc");
        let c = candidate(1, 7);
        let candidates = [c.clone()];
        let right = cache.mac(&value("the right supplied value")).unwrap();
        let now = Utc::now();
        cache.remember(&svc, c.id, c.hash.credential, &right);
        let digest = cache.recall(&svc, &candidates, true, now, &right).unwrap();
        assert!(digest.matches(&c.hash));
        let wrong = cache.mac(&value("a wrong supplied value")).unwrap();
        assert!(cache.recall(&svc, &candidates, true, now, &wrong).is_none());
        let other_client = client("other");
        assert!(
            cache
                .recall(&other_client, &candidates, true, now, &right)
                .is_none(),
            "entries belong to one client"
        );
        assert_eq!(cache.len(), 1, "a wrong value drops nothing");
    }

    #[test]
    fn a_new_value_of_the_same_secret_never_matches_the_old_entry() {
        let cache = VerifiedCache::new(CAPACITY);
        let svc = client("svc");
        let old = candidate(1, 7);
        let mac = cache.mac(&value("the old supplied value")).unwrap();
        let now = Utc::now();
        cache.remember(&svc, old.id, old.hash.credential, &mac);
        // Same secret id and even the same digest, but another credential: a new value.
        let mut changed = old.clone();
        changed.hash.credential = CredentialId::generate();
        assert!(cache.recall(&svc, &[changed], true, now, &mac).is_none());
        assert_eq!(cache.len(), 0, "dropped when seen");
    }

    #[test]
    fn only_values_still_in_force_are_recalled() {
        let now = Utc::now();
        let mac_of = |cache: &VerifiedCache| cache.mac(&value("a supplied value")).unwrap();
        let mut revoked = candidate(1, 7);
        revoked.revoked = true;
        let mut expired = candidate(1, 7);
        expired.expiration = Some(now);
        let mut renewed = candidate(1, 7);
        let in_grace = (renewed.hash.clone(), now + Duration::seconds(30));
        renewed.hash = hash(8);
        renewed.previous = Some(in_grace.clone());
        let mut grace_over = renewed.clone();
        grace_over.previous = Some((in_grace.0.clone(), now));

        let cache = VerifiedCache::new(CAPACITY);
        let svc = client("svc");
        let mac = mac_of(&cache);
        cache.remember(&svc, SecretId(1), in_grace.0.credential, &mac);
        let digest = cache.recall(&svc, &[renewed.clone()], true, now, &mac);
        assert!(
            digest.unwrap().matches(&in_grace.0),
            "the value in grace still works"
        );
        for (why, candidates, enabled) in [
            ("client disabled", vec![renewed.clone()], false),
            ("grace over", vec![grace_over], true),
            ("secret deleted", vec![], true),
        ] {
            cache.remember(&svc, SecretId(1), in_grace.0.credential, &mac);
            assert!(
                cache
                    .recall(&svc, &candidates, enabled, now, &mac)
                    .is_none(),
                "{why}"
            );
            assert_eq!(cache.len(), 0, "{why}: dropped when seen");
        }
        for (why, c) in [("revoked", revoked), ("expired", expired)] {
            cache.remember(&svc, c.id, c.hash.credential, &mac);
            assert!(cache.recall(&svc, &[c], true, now, &mac).is_none(), "{why}");
            assert_eq!(cache.len(), 0, "{why}: dropped when seen");
        }
    }

    #[test]
    fn the_oldest_entries_go_first_beyond_the_capacity() {
        let cache = VerifiedCache::new(3);
        let now = Utc::now();
        let mac = cache.mac(&value("a supplied value")).unwrap();
        let clients: Vec<_> = (0..5)
            .map(|n| (client(&format!("svc{n}")), candidate(1, n)))
            .collect();
        for (key, c) in &clients {
            cache.remember(key, c.id, c.hash.credential, &mac);
        }
        assert_eq!(cache.len(), 3);
        let recalled: Vec<bool> = clients
            .iter()
            .map(|(key, c)| {
                cache
                    .recall(key, std::slice::from_ref(c), true, now, &mac)
                    .is_some()
            })
            .collect();
        assert_eq!(recalled, [false, false, true, true, true]);
        cache.forget_client(&clients[4].0);
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn the_order_of_dropped_entries_does_not_grow_without_bound() {
        let cache = VerifiedCache::new(4);
        let svc = client("svc");
        let now = Utc::now();
        let mac = cache.mac(&value("a supplied value")).unwrap();
        for n in 0..1000 {
            let c = candidate(1, (n % 200) as u8);
            cache.remember(&svc, c.id, c.hash.credential, &mac);
            // The value changed: the old entry is dropped when seen.
            assert!(cache.recall(&svc, &[], true, now, &mac).is_none());
        }
        assert_eq!(cache.len(), 0);
        assert!(cache.lock().order.len() <= 2 * 4 + 16);
    }

    #[test]
    fn each_process_has_its_own_key() {
        let v = value("a supplied value");
        let (a, b) = (VerifiedCache::new(1), VerifiedCache::new(1));
        assert_ne!(a.mac(&v).unwrap().0, b.mac(&v).unwrap().0);
        assert_eq!(a.mac(&v).unwrap().0, a.mac(&v).unwrap().0);
    }
}
