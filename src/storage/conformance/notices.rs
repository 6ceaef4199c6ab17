//! Conformance of the expiry notices: each raised once per secret and
//! expiration, also under concurrency.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    CC, Store, add_webhook, claim_all, deliveries, event_ids, j, new_client, new_secret, t, tenant,
};
use crate::domain::events::{Event, EventType, SecretSubject};
use crate::domain::ids::{ClientKind, SecretId};
use crate::storage::{Channel, DueSecret, NewSecret};

const K1: &str = "expiring:1d";
const K7: &str = "expiring:7d";
const K30: &str = "expiring:30d";

fn expiring(n: u8, expiration: Option<DateTime<Utc>>) -> NewSecret {
    NewSecret {
        expiration,
        ..new_secret(n)
    }
}

/// Expiry notices: due within the window until raised for that kind and
/// expiration; raised once; a renewal makes the secret due again; revoked
/// secrets never are; a raised notice's event is delivered.
pub(super) async fn expiry_notices_are_raised_once(s: Store) {
    let (a, b) = (tenant(&s, 0).await, tenant(&s, 1).await);
    let hook = add_webhook(&s, a, vec![], true, t(1)).await;
    s.set_recipients(&a, &["ops@example.com".into()], &j())
        .await
        .unwrap();
    let (c, _) = s
        .insert_client_with_secret(
            &new_client(a, "svc", CC),
            &expiring(1, Some(t(100_000))),
            10,
            &j(),
        )
        .await
        .unwrap();
    for (n, exp) in [
        (2, Some(t(50_000))),
        (3, None),
        (4, Some(t(60_000))),
        (5, Some(t(10))),
    ] {
        s.insert_secret_within_limit(c.pk, &expiring(n, exp), 10, &j())
            .await
            .unwrap();
    }
    s.revoke_secret(c.pk, SecretId(4), t(20), &j())
        .await
        .unwrap();
    let (web, _) = s
        .insert_client_with_secret(
            &new_client(b, "web", ClientKind::Hybrid),
            &expiring(1, Some(t(55_000))),
            10,
            &j(),
        )
        .await
        .unwrap();
    let keys = |due: &[DueSecret]| {
        due.iter()
            .map(|d| (d.subject.client_id.clone(), d.subject.secret_id.0))
            .collect::<Vec<_>>()
    };
    let svc = |n: i32| ("svc".to_owned(), n);
    let due_in = |kind: &'static str, after: i64, until: i64| {
        let s = s.clone();
        async move { s.due_notices(kind, t(after), t(until), 100).await.unwrap() }
    };
    let raise = |due: DueSecret, kinds: &'static [&'static str], kind: EventType| {
        let s = s.clone();
        async move {
            let ev = Event::new(kind, due.subject.clone(), t(30_000));
            let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_owned()).collect();
            let raised = s.raise_notice(&due, &kinds, &ev).await.unwrap();
            (raised, ev.id)
        }
    };

    // Within (after, until], soonest first, every field of the subject.
    let due = due_in(K7, 40_000, 70_000).await;
    assert_eq!(keys(&due), [svc(2), ("web".into(), 1)]);
    assert_eq!(
        due[0],
        DueSecret {
            client_pk: c.pk,
            tenant_name: "tenant 0".into(),
            subject: SecretSubject {
                tenant: a,
                client_kind: CC,
                client_id: "svc".into(),
                secret_id: SecretId(2),
                description: "secret 2".into(),
                hint: "ab2".into(),
                expiration: Some(t(50_000)),
            },
        }
    );
    assert_eq!(due[1].client_pk, web.pk);
    assert_eq!(due[1].subject.client_kind, ClientKind::Hybrid);
    assert_eq!(keys(&due_in(K7, 50_000, 55_000).await), [("web".into(), 1)]);
    let first = s.due_notices(K7, t(0), t(200_000), 1).await.unwrap();
    assert_eq!(keys(&first), [svc(5)], "the limit keeps the soonest");

    // Raised once for a kind; other kinds stay due.
    let mut raised_events = Vec::new();
    let (raised, ev) = raise(due[0].clone(), &[K7], EventType::Expiring).await;
    assert!(raised);
    raised_events.push(ev);
    assert_eq!(keys(&due_in(K7, 40_000, 70_000).await), [("web".into(), 1)]);
    assert_eq!(
        keys(&due_in(K30, 40_000, 70_000).await),
        [svc(2), ("web".into(), 1)]
    );
    let (again, lost) = raise(due[0].clone(), &[K7], EventType::Expiring).await;
    assert!(!again, "raised once");

    // Several kinds at once: all recorded, the event raised once.
    let due30 = due_in(K30, 40_000, 200_000).await;
    assert_eq!(keys(&due30), [svc(2), ("web".into(), 1), svc(1)]);
    let (raised, ev) = raise(due30[2].clone(), &[K7, K30], EventType::Expiring).await;
    assert!(raised);
    raised_events.push(ev);
    assert_eq!(
        keys(&due_in(K30, 40_000, 200_000).await),
        [svc(2), ("web".into(), 1)]
    );
    assert!(!keys(&due_in(K7, 0, 200_000).await).contains(&svc(1)));
    let (again, lost2) = raise(due30[2].clone(), &[K30], EventType::Expiring).await;
    assert!(!again);

    // A renewal (new expiration) is due again.
    let mut second = s.get_secret(c.pk, SecretId(2)).await.unwrap().unwrap();
    second.expiration = Some(t(52_000));
    s.update_secret(c.pk, &second, &j()).await.unwrap();
    second.revision += 1;
    let due = due_in(K7, 40_000, 70_000).await;
    assert_eq!(keys(&due), [svc(2), ("web".into(), 1)]);
    assert_eq!(due[0].subject.expiration, Some(t(52_000)));
    let (raised, ev) = raise(due[0].clone(), &[K7], EventType::Expiring).await;
    assert!(raised);
    raised_events.push(ev);

    // A notice found due but raised after the secret changed is not raised:
    // renewed meanwhile, or revoked meanwhile.
    let stale = due_in(K1, 40_000, 70_000).await;
    assert_eq!(keys(&stale), [svc(2), ("web".into(), 1)]);
    second.expiration = Some(t(53_000));
    s.update_secret(c.pk, &second, &j()).await.unwrap();
    s.revoke_secret(web.pk, SecretId(1), t(31_000), &j())
        .await
        .unwrap();
    let (raised, renewed_meanwhile) = raise(stale[0].clone(), &[K1], EventType::Expiring).await;
    assert!(!raised, "the secret was renewed after it was found due");
    let (raised, revoked_meanwhile) = raise(stale[1].clone(), &[K1], EventType::Expiring).await;
    assert!(!raised, "the secret was revoked after it was found due");
    assert_eq!(keys(&due_in(K1, 40_000, 70_000).await), [svc(2)]);

    // Revoked secrets are never due, whatever the kind and window.
    for kind in [K1, K7, K30, "expired"] {
        let due = due_in(kind, 0, 1_000_000).await;
        assert!(!keys(&due).contains(&svc(4)), "{kind}");
        assert!(!keys(&due).contains(&("web".into(), 1)), "{kind}");
        assert!(!keys(&due).contains(&svc(3)), "never expires");
    }
    // An expired notice is one more kind.
    let expired = due_in("expired", 0, 20).await;
    assert_eq!(keys(&expired), [svc(5)]);
    let (raised, ev) = raise(expired[0].clone(), &["expired"], EventType::Expired).await;
    assert!(raised);
    raised_events.push(ev);
    assert!(due_in("expired", 0, 20).await.is_empty());

    // Each raised notice's event was delivered, by webhook and by email; the
    // others left nothing.
    let hooked: BTreeSet<Uuid> = event_ids(&s, a, hook.id).await.into_iter().collect();
    let raised_set: BTreeSet<Uuid> = raised_events.iter().copied().collect();
    assert_eq!(hooked, raised_set);
    assert_eq!(deliveries(&s, a, hook.id).await.len(), raised_events.len());
    let claimed = claim_all(&s, t(100_000)).await;
    let emailed: BTreeSet<Uuid> = claimed
        .iter()
        .filter(|c| c.delivery.channel == Channel::Email)
        .map(|c| c.delivery.event_id)
        .collect();
    assert_eq!(emailed, raised_set);
    for never in [lost, lost2, renewed_meanwhile, revoked_meanwhile] {
        assert!(claimed.iter().all(|c| c.delivery.event_id != never));
    }
}

/// Nodes raising the same notice at once: exactly one raises it, one event.
pub(super) async fn concurrent_notices_raise_one_event(s: Store) {
    let a = tenant(&s, 0).await;
    let hook = add_webhook(&s, a, vec![], true, t(1)).await;
    let (c, _) = s
        .insert_client_with_secret(
            &new_client(a, "svc", CC),
            &expiring(1, Some(t(50_000))),
            20,
            &j(),
        )
        .await
        .unwrap();
    for n in 2..=8u8 {
        let exp = t(50_000 + i64::from(n));
        s.insert_secret_within_limit(c.pk, &expiring(n, Some(exp)), 20, &j())
            .await
            .unwrap();
    }
    let kinds = vec!["expiring:7d".to_owned()];
    let due = s
        .due_notices(&kinds[0], t(0), t(60_000), 100)
        .await
        .unwrap();
    assert_eq!(due.len(), 8);
    let mut events = HashSet::new();
    let mut winners = HashSet::new();
    for (i, d) in due.iter().enumerate() {
        let racers: Vec<Event> = (0..3)
            .map(|_| Event::new(EventType::Expiring, d.subject.clone(), t(40_000)))
            .collect();
        let outcomes: Vec<bool> = if i % 2 == 0 {
            // Two calls polled together on one task.
            let (x, y) = tokio::join!(
                s.raise_notice(d, &kinds, &racers[0]),
                s.raise_notice(d, &kinds, &racers[1])
            );
            vec![x.unwrap(), y.unwrap()]
        } else {
            // Three tasks in parallel.
            let tasks: Vec<_> = racers
                .iter()
                .cloned()
                .map(|ev| {
                    let (s, d, kinds) = (s.clone(), d.clone(), kinds.clone());
                    tokio::spawn(async move { s.raise_notice(&d, &kinds, &ev).await })
                })
                .collect();
            let mut out = Vec::new();
            for task in tasks {
                out.push(task.await.unwrap().unwrap());
            }
            out
        };
        assert_eq!(
            outcomes.iter().filter(|r| **r).count(),
            1,
            "secret {}: {outcomes:?}",
            d.subject.secret_id.0
        );
        let winner = racers[outcomes.iter().position(|r| *r).unwrap()].id;
        winners.insert(winner);
        events.extend(racers.iter().map(|e| e.id));
    }
    let delivered: Vec<Uuid> = event_ids(&s, a, hook.id).await;
    assert_eq!(delivered.len(), due.len(), "one event per secret");
    let delivered: HashSet<Uuid> = delivered.into_iter().collect();
    assert_eq!(delivered, winners);
    assert!(
        s.due_notices(&kinds[0], t(0), t(60_000), 100)
            .await
            .unwrap()
            .is_empty()
    );
}
