//! The lifecycle table, stage by stage, and when rotations are due.

use chrono::TimeZone;

use super::*;

const OVERLAP: Duration = Duration::from_secs(100);
const DAY: u64 = 86_400;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + seconds, 0).unwrap()
}

fn key(generation: i64, activates: i64) -> KeyTimes {
    KeyTimes {
        generation,
        activates_at: at(activates),
        revoked_at: None,
    }
}

fn states(keys: &[KeyTimes], now: i64) -> Vec<&'static str> {
    statuses(keys, at(now), OVERLAP)
        .iter()
        .map(|s| s.state.as_str())
        .collect()
}

fn schedule(days: Option<u64>) -> KeySchedule {
    KeySchedule {
        rotation: days.map(|d| Duration::from_secs(d * DAY)),
        overlap: OVERLAP,
    }
}

#[test]
fn a_manual_rotation_moves_through_every_stage_by_time_alone() {
    let first = key(1, 0);
    let plan = plan(&[first], at(10), schedule(None), Rotation::Manual)
        .unwrap()
        .unwrap();
    // Published for the overlap before it signs.
    assert_eq!(
        plan,
        Plan {
            generation: 2,
            activates_at: at(110),
            revoke: None
        }
    );
    let keys = [first, key(2, 110)];
    // (now, states of [first, second])
    let table: [(i64, [&str; 2]); 6] = [
        (10, ["current", "next"]),
        (109, ["current", "next"]),
        (110, ["retired", "current"]),
        (209, ["retired", "current"]),
        (210, ["removed", "current"]),
        (10_000, ["removed", "current"]),
    ];
    for (now, expected) in table {
        assert_eq!(states(&keys, now), expected, "at {now}");
    }
    let first_status = statuses(&keys, at(10), OVERLAP)[0];
    assert_eq!(first_status.retires_at, Some(at(110)));
    assert_eq!(first_status.removed_at, Some(at(210)));
    assert_eq!(current(&keys, at(109)), Some(0));
    assert_eq!(current(&keys, at(110)), Some(1));
}

#[test]
fn only_next_current_and_retired_keys_are_published() {
    let published: Vec<bool> = [
        KeyState::Next,
        KeyState::Current,
        KeyState::Retired,
        KeyState::Removed,
        KeyState::Revoked,
    ]
    .iter()
    .map(|s| s.is_published())
    .collect();
    assert_eq!(published, [true, true, true, false, false]);
}

#[test]
fn a_second_manual_rotation_is_refused_while_one_is_pending() {
    let keys = [key(1, 0), key(2, 110)];
    assert_eq!(
        plan(&keys, at(50), schedule(None), Rotation::Manual),
        Err(RotationRefusal::Pending {
            generation: 2,
            activates_at: at(110)
        })
    );
    // Once the pending key signs, the next rotation may start.
    assert_eq!(
        plan(&keys, at(110), schedule(None), Rotation::Manual)
            .unwrap()
            .unwrap()
            .generation,
        3
    );
}

#[test]
fn an_emergency_rotation_signs_at_once_and_withdraws_the_current_key() {
    let keys = [key(1, 0), key(2, 110)];
    let plan = plan(&keys, at(50), schedule(None), Rotation::Emergency)
        .unwrap()
        .unwrap();
    assert_eq!(
        plan,
        Plan {
            generation: 3,
            activates_at: at(50),
            revoke: Some(0)
        }
    );
    let mut first = keys[0];
    first.revoked_at = Some(at(50));
    let after = [first, keys[1], key(3, 50)];
    assert_eq!(states(&after, 50), ["revoked", "next", "current"]);
    // The pending key still takes over on schedule; the emergency key retires then.
    assert_eq!(states(&after, 110), ["revoked", "current", "retired"]);
    assert_eq!(states(&after, 210), ["revoked", "current", "removed"]);
}

#[test]
fn a_node_whose_clock_lags_still_signs_with_the_emergency_key() {
    let mut first = key(1, 0);
    first.revoked_at = Some(at(50));
    let keys = [first, key(2, 50)];
    // This node's clock says 49: no live key has activated yet.
    assert_eq!(current(&keys, at(49)), Some(1));
    assert_eq!(states(&keys, 49), ["revoked", "current"]);
}

#[test]
fn scheduled_rotation_is_due_the_overlap_before_the_period_ends() {
    let keys = [key(1, 0)];
    let period = 30 * DAY as i64;
    let overlap = OVERLAP.as_secs() as i64;
    let sched = schedule(Some(30));
    let due_from = period - overlap;
    assert_eq!(
        plan(&keys, at(due_from - 1), sched, Rotation::Scheduled),
        Ok(None)
    );
    assert_eq!(
        plan(&keys, at(due_from), sched, Rotation::Scheduled),
        Ok(Some(Plan {
            generation: 2,
            activates_at: at(period),
            revoke: None
        }))
    );
    // A late run still publishes the key for the whole overlap first.
    assert_eq!(
        plan(&keys, at(period + 5), sched, Rotation::Scheduled)
            .unwrap()
            .unwrap()
            .activates_at,
        at(period + 5 + overlap)
    );
    // Off, or already under way: nothing.
    assert_eq!(
        plan(&keys, at(period), schedule(None), Rotation::Scheduled),
        Ok(None)
    );
    let pending = [key(1, 0), key(2, period)];
    assert_eq!(
        plan(&pending, at(period - 1), sched, Rotation::Scheduled),
        Ok(None)
    );
}

#[test]
fn without_keys_only_the_schedule_stays_quiet() {
    assert_eq!(
        plan(&[], at(0), schedule(Some(1)), Rotation::Scheduled),
        Ok(None)
    );
    assert_eq!(
        plan(&[], at(0), schedule(None), Rotation::Manual),
        Err(RotationRefusal::NoKey)
    );
}

#[test]
fn the_default_overlap_covers_the_longest_token_lifetime() {
    let schedule = KeySchedule::default();
    assert!(schedule.overlap > Duration::from_secs(u64::from(LIFETIME_MAX)));
    assert_eq!(schedule.rotation, Some(Duration::from_secs(90 * DAY)));
}
