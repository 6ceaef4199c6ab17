//! Supplied values already verified, remembered in memory only as a keyed digest
//! (HMAC-SHA-256 under a random key made at start, never stored or shown), so a
//! client that presents the same right value again needs no Argon2id run. Each
//! entry keeps the digest the full run gave (the one the database stores), which
//! the decision then uses exactly as if the run had been made again.
//!
//! - An entry names one exact value by its credential id, which is new with every
//!   value (add, renew, value change): a renewed or changed value can never match
//!   an old entry (nor can an entry whose stored hash differs from the row's).
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
use crate::domain::secret_hash::{PresentedDigest, StoredHash};
use crate::domain::secret_value::SecretValue;
use crate::domain::verification::{self, Candidate};

/// Verified values remembered at most, over all clients.
pub const CAPACITY: usize = 4096;

type ClientKey = (TenantId, ClientId);

/// The keyed digest of a presented value (computed once per attempt).
#[derive(Clone, Copy)]
pub struct ValueMac([u8; 32]);

struct Entry {
    secret: SecretId,
    credential: CredentialId,
    mac: [u8; 32],
    /// The digest the full verification computed (what a new run would give).
    digest: PresentedDigest,
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
            let in_force = verification::credential_in_force(
                candidates,
                client_enabled,
                e.secret,
                e.credential,
                now,
            );
            // The value the row names by this credential is still the one proven.
            in_force && stored_hash(candidates, e.credential).is_some_and(|h| e.digest.matches(h))
        });
        all.len -= before - entries.len();
        let mut matched = None;
        for entry in entries.iter() {
            if bool::from(entry.mac.ct_eq(&presented.0)) {
                matched = Some(entry.digest.clone());
            }
        }
        if entries.is_empty() {
            all.by_client.remove(client);
        }
        matched
    }

    /// Remembers that the value with keyed digest `mac` has the digest `digest`
    /// and is the value `credential` of secret `secret` (just proven by a full
    /// Argon2id verification).
    pub fn remember(
        &self,
        client: &ClientKey,
        secret: SecretId,
        credential: CredentialId,
        mac: &ValueMac,
        digest: &PresentedDigest,
    ) {
        let entry = Entry {
            secret,
            credential,
            mac: mac.0,
            digest: digest.clone(),
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

/// The stored hash the row names by `credential` (a current value or one in grace).
fn stored_hash(candidates: &[Candidate], credential: CredentialId) -> Option<&StoredHash> {
    candidates.iter().find_map(|c| {
        if c.hash.credential == credential {
            Some(&c.hash)
        } else {
            c.previous
                .as_ref()
                .map(|(hash, _)| hash)
                .filter(|hash| hash.credential == credential)
        }
    })
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
    use crate::domain::secret_hash::hash_for_storage;

    const SALT: [u8; 16] = [3; 16];

    /// A value and its stored secret (generated values: the cache does not care
    /// which hash proved them, and they need no Argon2id run here).
    fn secret(id: i32) -> (SecretValue, Candidate) {
        let v = SecretValue::generate().unwrap();
        let c = Candidate {
            id: SecretId(id),
            hash: hash_for_storage(&v, &SALT, &mut []).unwrap(),
            expiration: None,
            previous: None,
            revoked: false,
        };
        (v, c)
    }

    fn digest(v: &SecretValue) -> PresentedDigest {
        PresentedDigest::compute(v, &SALT, &mut []).unwrap()
    }

    fn client(name: &str) -> ClientKey {
        (TenantId::generate(), ClientId::parse(name).unwrap())
    }

    /// Remembers `v` as the current value of `c`; returns its keyed digest.
    fn remember(
        cache: &VerifiedCache,
        key: &ClientKey,
        v: &SecretValue,
        c: &Candidate,
    ) -> ValueMac {
        let mac = cache.mac(v).unwrap();
        cache.remember(key, c.id, c.hash.credential, &mac, &digest(v));
        mac
    }

    #[test]
    fn a_remembered_value_is_recalled_as_its_digest() {
        let cache = VerifiedCache::new(CAPACITY);
        let svc = client("svc");
        let (v, c) = secret(1);
        let candidates = [c.clone()];
        let now = Utc::now();
        let right = remember(&cache, &svc, &v, &c);
        let recalled = cache.recall(&svc, &candidates, true, now, &right).unwrap();
        assert!(recalled.matches(&c.hash));
        let wrong = cache.mac(&SecretValue::generate().unwrap()).unwrap();
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
        let (v, old) = secret(1);
        let now = Utc::now();
        let mac = remember(&cache, &svc, &v, &old);
        // Same secret id and even the same digest, but another credential: a new value.
        let mut changed = old.clone();
        changed.hash.credential = CredentialId::generate();
        assert!(cache.recall(&svc, &[changed], true, now, &mac).is_none());
        assert_eq!(cache.len(), 0, "dropped when seen");
        // Another digest under the same credential (never written so): no match either.
        remember(&cache, &svc, &v, &old);
        let (_, other) = secret(1);
        let mut swapped = old.clone();
        swapped.hash.digest = other.hash.digest;
        assert!(cache.recall(&svc, &[swapped], true, now, &mac).is_none());
        assert_eq!(cache.len(), 0, "dropped when seen");
    }

    #[test]
    fn only_values_still_in_force_are_recalled() {
        let now = Utc::now();
        let (v, c) = secret(1);
        let mut revoked = c.clone();
        revoked.revoked = true;
        let mut expired = c.clone();
        expired.expiration = Some(now);
        let (_, fresh) = secret(1);
        let mut renewed = c.clone();
        renewed.hash = fresh.hash;
        renewed.previous = Some((c.hash.clone(), now + Duration::seconds(30)));
        let mut grace_over = renewed.clone();
        grace_over.previous = Some((c.hash.clone(), now));

        let cache = VerifiedCache::new(CAPACITY);
        let svc = client("svc");
        let mac = remember(&cache, &svc, &v, &c);
        let recalled = cache.recall(&svc, &[renewed.clone()], true, now, &mac);
        assert!(
            recalled.unwrap().matches(&c.hash),
            "the value in grace still works"
        );
        for (why, candidates, enabled) in [
            ("client disabled", vec![c.clone()], false),
            ("grace over", vec![grace_over], true),
            ("secret deleted", vec![], true),
            ("revoked", vec![revoked], true),
            ("expired", vec![expired], true),
        ] {
            remember(&cache, &svc, &v, &c);
            assert!(
                cache
                    .recall(&svc, &candidates, enabled, now, &mac)
                    .is_none(),
                "{why}"
            );
            assert_eq!(cache.len(), 0, "{why}: dropped when seen");
        }
    }

    #[test]
    fn the_oldest_entries_go_first_beyond_the_capacity() {
        let cache = VerifiedCache::new(3);
        let now = Utc::now();
        let clients: Vec<_> = (0..5)
            .map(|n| {
                let key = client(&format!("svc{n}"));
                let (v, c) = secret(1);
                let mac = remember(&cache, &key, &v, &c);
                (key, c, mac)
            })
            .collect();
        assert_eq!(cache.len(), 3);
        let recalled: Vec<bool> = clients
            .iter()
            .map(|(key, c, mac)| {
                cache
                    .recall(key, std::slice::from_ref(c), true, now, mac)
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
        for _ in 0..1000 {
            let (v, c) = secret(1);
            let mac = remember(&cache, &svc, &v, &c);
            // The value changed: the old entry is dropped when seen.
            assert!(cache.recall(&svc, &[], true, now, &mac).is_none());
        }
        assert_eq!(cache.len(), 0);
        assert!(cache.lock().order.len() <= 2 * 4 + 16);
    }

    #[test]
    fn each_process_has_its_own_key() {
        let v = SecretValue::presented("a supplied value");
        let (a, b) = (VerifiedCache::new(1), VerifiedCache::new(1));
        assert_ne!(a.mac(&v).unwrap().0, b.mac(&v).unwrap().0);
        assert_eq!(a.mac(&v).unwrap().0, a.mac(&v).unwrap().0);
    }
}
