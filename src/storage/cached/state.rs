//! What the credentials cache holds and when it may answer: the entries, a
//! generation counter, and (for a cache other processes write behind) the last
//! moment the invalidation source confirmed it is live.
//!
//! Invariants:
//! - a read that began before an invalidation (its generation moved on) never
//!   stores what it read;
//! - a cache fed by an invalidation source ([`Freshness::Confirmed`]) answers and
//!   stores only while its last confirmation is younger than the window; when the
//!   source is lost it empties at once, and it stays empty of anything read
//!   before the source is back (each loss and each re-listen bumps the generation).
//!
//! The lock is never held across an await.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::domain::ids::{ClientId, TenantId};
use crate::storage::ClientCredentials;

/// Entries kept at most; past it the cache starts over.
const CAPACITY: usize = 10_000;

pub(super) type Key = (TenantId, ClientId);
type Entry = Option<Arc<ClientCredentials>>;

/// When the cache may answer.
#[derive(Debug, Clone, Copy)]
pub(super) enum Freshness {
    /// Always: every write goes through this process (an embedded database).
    Always,
    /// Only within `window` of the last confirmation that invalidations arrive
    /// (another process may write; its changes come as notifications).
    Confirmed { window: Duration },
}

#[derive(Default)]
struct State {
    generation: u64,
    entries: HashMap<Key, Entry>,
    /// When the last confirmed-live probe was sent; `None` while not listening.
    confirmed: Option<Instant>,
}

pub(super) struct Shared {
    state: Mutex<State>,
    freshness: Freshness,
}

/// What a lookup found.
pub(super) enum Lookup {
    Hit(Entry),
    /// Not cached: read, then offer the result with this generation.
    Miss(u64),
    /// The cache may not answer now: read through and do not store.
    Bypass,
}

impl Shared {
    pub(super) fn new(freshness: Freshness) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State::default()),
            freshness,
        })
    }

    fn usable(&self, state: &State) -> bool {
        match self.freshness {
            Freshness::Always => true,
            Freshness::Confirmed { window } => {
                state.confirmed.is_some_and(|at| at.elapsed() < window)
            }
        }
    }

    pub(super) fn lookup(&self, key: &Key) -> Lookup {
        let Ok(state) = self.state.lock() else {
            return Lookup::Bypass;
        };
        if !self.usable(&state) {
            return Lookup::Bypass;
        }
        match state.entries.get(key) {
            Some(hit) => Lookup::Hit(hit.clone()),
            None => Lookup::Miss(state.generation),
        }
    }

    /// Keeps `entry` unless an invalidation came since `generation` was handed out.
    pub(super) fn offer(&self, key: Key, entry: Entry, generation: u64) {
        if let Ok(mut state) = self.state.lock()
            && state.generation == generation
            && self.usable(&state)
        {
            if state.entries.len() >= CAPACITY {
                state.entries.clear();
            }
            state.entries.insert(key, entry);
        }
    }

    /// Drops everything; reads in flight will not store.
    pub(super) fn clear(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.generation += 1;
            state.entries.clear();
        }
    }

    fn confirm(&self, probe_sent: Instant) {
        if let Ok(mut state) = self.state.lock() {
            // Never move backwards (a late probe does not extend an older one).
            state.confirmed = Some(state.confirmed.map_or(probe_sent, |c| c.max(probe_sent)));
        }
    }

    fn lose(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.generation += 1;
            state.entries.clear();
            state.confirmed = None;
        }
    }
}

/// The handle an invalidation source (a listener on the database) drives a
/// [`Freshness::Confirmed`] cache with. Holds the cache weakly: every method
/// answers `false` once the cache is gone, so the source can stop.
#[derive(Clone)]
pub struct Invalidations(pub(super) Weak<Shared>);

impl Invalidations {
    fn with(&self, f: impl FnOnce(&Shared)) -> bool {
        self.0.upgrade().map(|shared| f(&shared)).is_some()
    }

    /// False once the cache is gone.
    pub fn cache_alive(&self) -> bool {
        self.0.strong_count() > 0
    }

    /// A change was announced: drop everything cached.
    pub fn clear(&self) -> bool {
        self.with(Shared::clear)
    }

    /// Listening (again): drop everything read before, and answer from memory
    /// from now on (until the window passes without [`Self::confirm`]).
    pub fn listening(&self, since: Instant) -> bool {
        self.with(|shared| {
            shared.clear();
            shared.confirm(since);
        })
    }

    /// A probe sent at `probe_sent` came back after every notification that
    /// was committed before it (all of them processed): the cache may answer
    /// until `probe_sent` + the window.
    pub fn confirm(&self, probe_sent: Instant) -> bool {
        self.with(|shared| shared.confirm(probe_sent))
    }

    /// The source is lost (notifications may be missed): empty the cache and
    /// read through until [`Self::listening`].
    pub fn lose(&self) -> bool {
        self.with(Shared::lose)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn key() -> Key {
        (TenantId::generate(), ClientId::parse("c").unwrap())
    }

    fn confirmed(window_ms: u64) -> (Arc<Shared>, Invalidations) {
        let shared = Shared::new(Freshness::Confirmed {
            window: Duration::from_millis(window_ms),
        });
        let handle = Invalidations(Arc::downgrade(&shared));
        (shared, handle)
    }

    fn generation(lookup: Lookup) -> u64 {
        match lookup {
            Lookup::Miss(g) => g,
            Lookup::Hit(_) => panic!("a hit"),
            Lookup::Bypass => panic!("a bypass"),
        }
    }

    #[test]
    fn a_read_older_than_an_invalidation_is_not_stored() {
        let shared = Shared::new(Freshness::Always);
        let g = generation(shared.lookup(&key()));
        shared.clear();
        shared.offer(key(), None, g);
        assert!(matches!(shared.lookup(&key()), Lookup::Miss(_)));
    }

    #[test]
    fn a_confirmed_cache_answers_only_while_listening_and_confirmed() {
        let (shared, handle) = confirmed(60_000);
        let k = key();
        assert!(
            matches!(shared.lookup(&k), Lookup::Bypass),
            "not listening yet"
        );
        assert!(handle.listening(Instant::now()));
        let g = generation(shared.lookup(&k));
        shared.offer(k.clone(), None, g);
        assert!(matches!(shared.lookup(&k), Lookup::Hit(None)));
        assert!(handle.clear());
        assert!(matches!(shared.lookup(&k), Lookup::Miss(_)));
        let g = generation(shared.lookup(&k));
        shared.offer(k.clone(), None, g);
        // Lost: emptied at once, read through, and a read begun before does not store.
        let begun = generation(shared.lookup(&key()));
        assert!(handle.lose());
        assert!(matches!(shared.lookup(&k), Lookup::Bypass));
        shared.offer(k.clone(), None, begun);
        assert!(handle.listening(Instant::now()));
        assert!(matches!(shared.lookup(&k), Lookup::Miss(_)), "cleared");
    }

    #[test]
    fn without_a_fresh_confirmation_the_cache_reads_through() {
        let (shared, handle) = confirmed(50);
        let k = key();
        let long_ago = Instant::now().checked_sub(Duration::from_secs(1)).unwrap();
        assert!(handle.listening(long_ago));
        assert!(matches!(shared.lookup(&k), Lookup::Bypass), "window passed");
        assert!(handle.confirm(Instant::now()));
        assert!(matches!(shared.lookup(&k), Lookup::Miss(_)));
        // An older probe never moves the confirmation backwards.
        assert!(handle.confirm(long_ago));
        assert!(matches!(shared.lookup(&k), Lookup::Miss(_)));
    }

    #[test]
    fn the_handle_reports_a_dropped_cache() {
        let (shared, handle) = confirmed(1000);
        drop(shared);
        assert!(!handle.clear());
        assert!(!handle.confirm(Instant::now()));
    }
}
