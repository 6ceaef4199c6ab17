//! Rotations through the key ring against a temporary SQLite database, with the
//! time given explicitly: the JWKS and the accepted keys at every stage, emergency
//! withdrawal, the schedule, and concurrent rotations producing one key.

use std::time::Duration;

use chrono::{SubsecRound, TimeDelta};
use serde_json::json;

use super::super::KeySet;
use super::*;
use crate::domain::jws::verify;
use crate::domain::signing_keys::KeyState;

const OVERLAP: Duration = Duration::from_secs(100);

struct Fixed(DateTime<Utc>);

impl Clock for Fixed {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

fn schedule(rotation: Option<u64>) -> KeySchedule {
    KeySchedule {
        rotation: rotation.map(Duration::from_secs),
        overlap: OVERLAP,
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<dyn Storage>,
    master: Arc<MasterKey>,
    t0: DateTime<Utc>,
}

impl Fixture {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/k.db", dir.path().display());
        Self {
            store: crate::storage::open(&url).await.unwrap(),
            _dir: dir,
            master: Arc::new(MasterKey::generate().unwrap()),
            t0: Utc::now().trunc_subsecs(6),
        }
    }

    fn at(&self, seconds: i64) -> DateTime<Utc> {
        self.t0 + TimeDelta::seconds(seconds)
    }

    /// A node started at `t0`.
    async fn node(&self, schedule: KeySchedule) -> KeyRing {
        let clock = Arc::new(Fixed(self.t0));
        KeyRing::load(self.store.clone(), self.master.clone(), schedule, clock)
            .await
            .unwrap()
    }
}

fn published(set: &KeySet) -> Vec<String> {
    set.jwks()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

fn accepts(ring: &KeyRing, token: &str) -> bool {
    verify(token, ring.snapshot().verifying_keys()).is_ok()
}

async fn states(ring: &KeyRing, now: DateTime<Utc>) -> Vec<KeyState> {
    ring.list(now)
        .await
        .unwrap()
        .iter()
        .map(|k| k.state)
        .collect()
}

#[tokio::test]
async fn a_manual_rotation_publishes_first_signs_later_and_removes_the_old_key_last() {
    let f = Fixture::new().await;
    let ring = f.node(schedule(None)).await;
    let old = ring.snapshot().current().kid().to_owned();
    assert_eq!(published(&ring.snapshot()), [old.as_str()]);
    let claims = json!({ "sub": "client-1" });
    let token = ring.snapshot().current().sign(&claims).unwrap();

    let new = ring
        .rotate(Rotation::Manual, None, f.at(10))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (new.state, new.generation, new.activates_at),
        (KeyState::Next, 2, f.at(110))
    );
    // Published now, not signing yet.
    assert_eq!(published(&ring.snapshot()), [old.clone(), new.kid.clone()]);
    assert_eq!(ring.snapshot().current().kid(), old);
    let again = ring
        .rotate(Rotation::Manual, None, f.at(20))
        .await
        .unwrap_err();
    assert!(
        matches!(
            again,
            RotateError::Refused(RotationRefusal::Pending { generation: 2, .. })
        ),
        "{again:?}"
    );

    ring.refresh(f.at(110)).await.unwrap();
    assert_eq!(ring.snapshot().current().kid(), new.kid);
    assert_eq!(published(&ring.snapshot()), [new.kid.clone(), old.clone()]);
    assert_eq!(
        states(&ring, f.at(110)).await,
        [KeyState::Retired, KeyState::Current]
    );
    assert!(
        accepts(&ring, &token),
        "the old key's token still validates"
    );

    ring.refresh(f.at(209)).await.unwrap();
    assert!(accepts(&ring, &token));
    ring.refresh(f.at(210)).await.unwrap();
    assert_eq!(published(&ring.snapshot()), [new.kid.as_str()]);
    assert!(!accepts(&ring, &token), "removed: its tokens are refused");
    assert_eq!(
        states(&ring, f.at(210)).await,
        [KeyState::Removed, KeyState::Current]
    );
    let fresh = ring.snapshot().current().sign(&claims).unwrap();
    assert_eq!(
        verify(&fresh, ring.snapshot().verifying_keys()).unwrap(),
        claims
    );
}

#[tokio::test]
async fn an_emergency_rotation_withdraws_the_key_here_at_once_and_on_other_nodes_at_refresh() {
    let f = Fixture::new().await;
    let here = f.node(schedule(None)).await;
    let there = f.node(schedule(None)).await;
    let old = here.snapshot().current().kid().to_owned();
    let token = here
        .snapshot()
        .current()
        .sign(&json!({ "sub": "c" }))
        .unwrap();
    // A pending manual rotation does not stand in the way of an emergency.
    here.rotate(Rotation::Manual, None, f.at(1)).await.unwrap();

    let new = here
        .rotate(Rotation::Emergency, None, f.at(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((new.state, new.activates_at), (KeyState::Current, f.at(5)));
    assert_eq!(here.snapshot().current().kid(), new.kid);
    assert!(!published(&here.snapshot()).contains(&old));
    assert!(!accepts(&here, &token));
    // The other node still has its last read ...
    assert!(accepts(&there, &token));
    there.refresh(f.at(5)).await.unwrap();
    // ... and drops the key at its next one.
    assert!(!accepts(&there, &token));
    assert_eq!(there.snapshot().current().kid(), new.kid);
    let listed = there.list(f.at(5)).await.unwrap();
    assert_eq!(
        listed.iter().map(|k| k.state).collect::<Vec<_>>(),
        [KeyState::Revoked, KeyState::Next, KeyState::Current]
    );
    assert_eq!(listed[0].revoked_at, Some(f.at(5)));
    // Asked again to replace the withdrawn key: nothing more happens.
    let again = here
        .rotate(Rotation::Emergency, Some(&old), f.at(6))
        .await
        .unwrap_err();
    assert!(
        matches!(&again, RotateError::NotCurrent(k) if *k == old),
        "{again:?}"
    );
    assert_eq!(f.store.signing_keys().await.unwrap().len(), 3);
}

#[tokio::test]
async fn the_schedule_rotates_once_when_due_whatever_the_number_of_nodes() {
    let f = Fixture::new().await;
    let sched = schedule(Some(300));
    let nodes = [f.node(sched).await, f.node(sched).await];
    assert!(!nodes[0].rotation_due(f.at(199)));
    assert!(nodes[0].rotation_due(f.at(200)));
    let (a, b) = tokio::join!(
        nodes[0].rotate(Rotation::Scheduled, None, f.at(200)),
        nodes[1].rotate(Rotation::Scheduled, None, f.at(200))
    );
    let made: Vec<_> = [a, b]
        .into_iter()
        .filter_map(|r| match r {
            Ok(Some(key)) => Some(key),
            Ok(None) | Err(RotateError::Concurrent) => None,
            Err(e) => panic!("{e:?}"),
        })
        .collect();
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].activates_at, f.at(300));
    assert_eq!(f.store.signing_keys().await.unwrap().len(), 2);
    for node in &nodes {
        node.refresh(f.at(201)).await.unwrap();
        assert!(!node.rotation_due(f.at(201)), "one is pending");
    }
    // At its activation the next period starts: due again 200 s later.
    nodes[0].refresh(f.at(300)).await.unwrap();
    assert!(!nodes[0].rotation_due(f.at(499)));
    assert!(nodes[0].rotation_due(f.at(500)));
}

/// 32 rotations of one kind at once; how many added a key.
async fn race(
    ring: &KeyRing,
    rotation: Rotation,
    replacing: Option<&str>,
    now: DateTime<Utc>,
) -> usize {
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let ring = ring.clone();
            let replacing = replacing.map(str::to_owned);
            tokio::spawn(async move { ring.rotate(rotation, replacing.as_deref(), now).await })
        })
        .collect();
    let mut made = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(Some(_)) => made += 1,
            Err(RotateError::Concurrent | RotateError::Refused(_) | RotateError::NotCurrent(_)) => {
            }
            other => panic!("{other:?}"),
        }
    }
    made
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_rotations_add_exactly_one_key() {
    let f = Fixture::new().await;
    let ring = f.node(schedule(None)).await;
    let old = ring.snapshot().current().kid().to_owned();
    // Manual: the first key added is pending, so the others are refused or lose.
    assert_eq!(race(&ring, Rotation::Manual, None, f.at(1)).await, 1);
    // Emergency, each naming the key it replaces: one replaces it.
    assert_eq!(
        race(&ring, Rotation::Emergency, Some(&old), f.at(2)).await,
        1
    );
    let keys = f.store.signing_keys().await.unwrap();
    assert_eq!(
        keys.iter().map(|k| k.generation).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(
        states(&ring, f.at(2)).await,
        [KeyState::Revoked, KeyState::Next, KeyState::Current]
    );
}

#[tokio::test]
async fn the_refresh_loop_runs_the_schedule() {
    let f = Fixture::new().await;
    let ring = f.node(schedule(Some(300))).await;
    let first = ring.snapshot().current().kid().to_owned();
    // The loop's clock says the rotation is due (the period minus the overlap).
    let worker = tokio::spawn(run_refresh(ring.clone(), Arc::new(Fixed(f.at(200)))));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while f.store.signing_keys().await.unwrap().len() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no scheduled rotation"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Let a few more ticks pass: still one rotation, and this node publishes it.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    worker.abort();
    let keys = f.store.signing_keys().await.unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[1].activates_at, f.at(300));
    assert_eq!(published(&ring.snapshot()), [first, keys[1].kid.clone()]);
}
