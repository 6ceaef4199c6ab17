//! Conformance of the delivery queue: claims under a lease, renewed leases,
//! retries and finished attempts, concurrent claims, and re-sends.

use std::collections::BTreeSet;

use uuid::Uuid;

use super::{
    ALL, Store, add_webhook, assert_audited, attempt, audit_of, claim_all, deliveries, emit, event,
    j, journal, refused, t, tenant,
};
use crate::domain::events::EventType;
use crate::domain::ids::TenantId;
use crate::storage::{
    AttemptOutcome, AttemptRecord, ClaimedDelivery, DeliveryRecord, DeliveryState, NextStep, Page,
    PendingDeliveries, StorageError,
};

async fn delivery(s: &Store, tenant: TenantId, hook: Uuid, id: i64) -> DeliveryRecord {
    s.get_delivery(&tenant, hook, id).await.unwrap().unwrap()
}

fn ids_of(claimed: &[ClaimedDelivery]) -> Vec<i64> {
    let mut ids: Vec<i64> = claimed.iter().map(|c| c.delivery.id).collect();
    ids.sort_unstable();
    ids
}

async fn finish(s: &Store, id: i64, record: AttemptRecord, next: NextStep) {
    s.finish_attempt(id, &AttemptOutcome { record, next })
        .await
        .unwrap();
}

/// A lease renewed while its attempt is under way keeps the delivery from other
/// nodes; finished deliveries, and ids never claimed, are left alone.
pub(super) async fn renewed_leases_keep_a_claim(s: Store) {
    let a = tenant(&s, 0).await;
    let hook = add_webhook(&s, a, vec![], true, t(1)).await;
    for n in 0..3 {
        emit(&s, &event(EventType::Updated, a, 1, t(100 + n))).await;
    }
    let claimed = s.claim_deliveries(t(200), t(260), 2).await.unwrap();
    let (d1, d2) = (claimed[0].delivery.id, claimed[1].delivery.id);
    finish(
        &s,
        d2,
        attempt(1, t(210), Some(200), None),
        NextStep::Delivered,
    )
    .await;
    let unclaimed: Vec<i64> = deliveries(&s, a, hook.id)
        .await
        .iter()
        .map(|d| d.id)
        .filter(|id| ![d1, d2].contains(id))
        .collect();
    assert_eq!(unclaimed.len(), 1);
    let mut ids = vec![d1, d2];
    ids.extend(&unclaimed);
    s.renew_leases(&ids, t(400)).await.unwrap();
    s.renew_leases(&[], t(400)).await.unwrap();

    // At t(300) the first lease would have ended; renewed, d1 stays claimed.
    let later = s.claim_deliveries(t(300), t(500), 10).await.unwrap();
    assert_eq!(ids_of(&later), unclaimed, "only the never-claimed one");
    assert_eq!(
        delivery(&s, a, hook.id, d2).await.state,
        DeliveryState::Delivered
    );
    let after = s.claim_deliveries(t(400), t(460), 10).await.unwrap();
    assert_eq!(
        ids_of(&after),
        [d1],
        "claimable once the renewed lease ends"
    );
    assert_eq!(after[0].delivery.attempts, 2);
}

/// Claims lease deliveries; finished attempts set state, schedule and log; a
/// lease that ends (the node died) makes the delivery claimable again.
pub(super) async fn claims_lease_retry_and_finish(s: Store) {
    let (a, b) = (tenant(&s, 0).await, tenant(&s, 1).await);
    let hook = add_webhook(&s, a, vec![], true, t(1)).await;
    for n in 0..3 {
        emit(&s, &event(EventType::Updated, a, 1, t(100 + n))).await;
    }
    let mut ids: Vec<i64> = deliveries(&s, a, hook.id)
        .await
        .iter()
        .map(|d| d.id)
        .collect();
    ids.reverse();
    let (d1, d2, d3) = (ids[0], ids[1], ids[2]);
    assert!(d1 < d2 && d2 < d3);

    assert!(claim_all(&s, t(99)).await.is_empty(), "not due yet");
    let first = s.claim_deliveries(t(200), t(260), 2).await.unwrap();
    assert_eq!(ids_of(&first), [d1, d2], "oldest first, at most the limit");
    for c in &first {
        assert_eq!(
            (c.delivery.state, c.delivery.attempts),
            (DeliveryState::Pending, 1)
        );
    }
    let rest = s.claim_deliveries(t(200), t(260), 10).await.unwrap();
    assert_eq!(ids_of(&rest), [d3]);
    assert!(
        s.claim_deliveries(t(259), t(300), 10)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );

    finish(
        &s,
        d1,
        attempt(1, t(210), Some(200), None),
        NextStep::Delivered,
    )
    .await;
    let retry = attempt(1, t(211), Some(503), Some("Service Unavailable"));
    finish(&s, d2, retry.clone(), NextStep::RetryAt(t(1000))).await;
    // d3's node dies: no finish.

    let got = delivery(&s, a, hook.id, d1).await;
    assert_eq!(
        (
            got.state,
            got.attempts,
            got.next_attempt_at,
            got.delivered_at
        ),
        (DeliveryState::Delivered, 1, t(210), Some(t(210)))
    );
    assert_eq!((got.last_status, &got.last_error), (Some(200), &None));
    assert_eq!(got.attempt_log, [attempt(1, t(210), Some(200), None)]);
    let got = delivery(&s, a, hook.id, d2).await;
    assert_eq!(
        (
            got.state,
            got.attempts,
            got.next_attempt_at,
            got.delivered_at
        ),
        (DeliveryState::Pending, 1, t(1000), None)
    );
    assert_eq!(
        (got.last_status, got.last_error.as_deref()),
        (Some(503), Some("Service Unavailable"))
    );
    assert_eq!(got.attempt_log, std::slice::from_ref(&retry));

    // The lease ends: d3 comes back; d2 waits for its retry time; d1 is done.
    let again = s.claim_deliveries(t(260), t(320), 10).await.unwrap();
    assert_eq!(ids_of(&again), [d3]);
    assert_eq!(again[0].delivery.attempts, 2);
    let gave_up = attempt(2, t(270), None, Some("connection refused"));
    finish(&s, d3, gave_up.clone(), NextStep::GiveUp).await;
    let got = delivery(&s, a, hook.id, d3).await;
    assert_eq!(
        (
            got.state,
            got.attempts,
            got.next_attempt_at,
            got.delivered_at
        ),
        (DeliveryState::Failed, 2, t(270), None)
    );
    assert_eq!(
        (got.last_status, got.last_error.as_deref()),
        (None, Some("connection refused"))
    );
    assert_eq!(got.attempt_log, [gave_up]);

    assert!(claim_all(&s, t(999)).await.is_empty(), "retry not due yet");
    let due = claim_all(&s, t(1000)).await;
    assert_eq!(ids_of(&due), [d2]);
    assert_eq!(due[0].delivery.attempts, 2);
    let ok = attempt(2, t(1001), Some(204), None);
    finish(&s, d2, ok.clone(), NextStep::Delivered).await;
    let got = delivery(&s, a, hook.id, d2).await;
    assert_eq!(
        (got.state, got.attempts, got.delivered_at),
        (DeliveryState::Delivered, 2, Some(t(1001)))
    );
    assert_eq!((got.last_status, &got.last_error), (Some(204), &None));
    assert_eq!(got.attempt_log, [retry, ok]);
    assert!(claim_all(&s, t(100_000)).await.is_empty());

    // The log lists newest first, without attempt logs; lookups are scoped.
    let listed = deliveries(&s, a, hook.id).await;
    assert_eq!(
        listed.iter().map(|d| d.id).collect::<Vec<_>>(),
        [d3, d2, d1]
    );
    assert!(listed.iter().all(|d| d.attempt_log.is_empty()));
    let page = s
        .list_deliveries(&a, hook.id, Page { skip: 1, count: 1 })
        .await
        .unwrap();
    assert_eq!(
        (
            page.items.iter().map(|d| d.id).collect::<Vec<_>>(),
            page.total
        ),
        (vec![d2], 3)
    );
    assert!(s.get_delivery(&b, hook.id, d1).await.unwrap().is_none());
    assert!(
        s.get_delivery(&a, Uuid::new_v4(), d1)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(s.list_deliveries(&b, hook.id, ALL).await.unwrap().total, 0);
}

/// Claimers racing for one queue never get the same delivery, and together get all.
pub(super) async fn concurrent_claims_never_share_a_delivery(s: Store) {
    let a = tenant(&s, 0).await;
    let mut hooks = Vec::new();
    for n in 0..8 {
        hooks.push(add_webhook(&s, a, vec![], true, t(n)).await);
    }
    for n in 0..5 {
        emit(&s, &event(EventType::Created, a, 1, t(100 + n))).await;
    }
    let mut all = BTreeSet::new();
    for h in &hooks {
        all.extend(deliveries(&s, a, h.id).await.iter().map(|d| d.id));
    }
    assert_eq!(all.len(), 40);

    // Two claims on one task, polled together.
    let mut seen = Vec::new();
    for _ in 0..4 {
        let (x, y) = tokio::join!(
            s.claim_deliveries(t(1000), t(2000), 3),
            s.claim_deliveries(t(1000), t(2000), 3)
        );
        seen.extend(x.unwrap().iter().map(|c| c.delivery.id));
        seen.extend(y.unwrap().iter().map(|c| c.delivery.id));
    }
    // Then several tasks until the queue is empty.
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                loop {
                    let claimed = s.claim_deliveries(t(1000), t(2000), 2).await.unwrap();
                    if claimed.is_empty() {
                        return got;
                    }
                    got.extend(claimed.iter().map(|c| c.delivery.id));
                }
            })
        })
        .collect();
    for task in tasks {
        seen.extend(task.await.unwrap());
    }
    let unique: BTreeSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "a delivery was claimed twice");
    assert_eq!(unique, all);
}

/// A re-send queues a delivery again with a fresh budget; only the tenant's own
/// deliveries of that subscription can be re-sent.
pub(super) async fn resend_requeues_a_delivery(s: Store) {
    let (a, b) = (tenant(&s, 0).await, tenant(&s, 1).await);
    let hook = add_webhook(&s, a, vec![], true, t(1)).await;
    let second = add_webhook(&s, a, vec![EventType::Revoked], true, t(2)).await;
    let b_hook = add_webhook(&s, b, vec![], true, t(3)).await;
    emit(&s, &event(EventType::Created, a, 1, t(100))).await;
    emit(&s, &event(EventType::Updated, a, 1, t(101))).await;
    emit(&s, &event(EventType::Created, b, 1, t(102))).await;
    let ids: Vec<i64> = deliveries(&s, a, hook.id)
        .await
        .iter()
        .map(|d| d.id)
        .collect();
    let (failed, delivered) = (ids[1], ids[0]);
    let b_id = deliveries(&s, b, b_hook.id).await[0].id;

    let claimed = claim_all(&s, t(200)).await;
    assert_eq!(claimed.len(), 3);
    finish(
        &s,
        failed,
        attempt(1, t(201), Some(500), Some("boom")),
        NextStep::GiveUp,
    )
    .await;
    finish(
        &s,
        delivered,
        attempt(1, t(202), Some(200), None),
        NextStep::Delivered,
    )
    .await;
    finish(
        &s,
        b_id,
        attempt(1, t(203), Some(200), None),
        NextStep::Delivered,
    )
    .await;
    assert_eq!(
        delivery(&s, a, hook.id, failed).await.state,
        DeliveryState::Failed
    );

    let jr = journal(a, "delivery.resend", t(300));
    s.resend_delivery(&a, hook.id, failed, t(300), &jr)
        .await
        .unwrap();
    assert_audited(&s, &jr.audit).await;
    let got = delivery(&s, a, hook.id, failed).await;
    let made = got.attempts;
    assert_eq!(
        (
            got.state,
            got.attempts_before_resend,
            got.next_attempt_at,
            got.delivered_at
        ),
        (DeliveryState::Pending, made, t(300), None)
    );
    assert_eq!(
        (got.last_status, &got.last_error),
        (None, &None),
        "a fresh budget: the last attempt's outcome goes"
    );
    assert_eq!(
        got.attempt_log.len(),
        usize::try_from(made).unwrap(),
        "the log of the earlier attempts stays"
    );
    let again = claim_all(&s, t(300)).await;
    assert_eq!(ids_of(&again), [failed]);
    assert_eq!(again[0].delivery.attempts, made + 1, "numbered on");
    finish(
        &s,
        failed,
        attempt(made + 1, t(301), Some(200), None),
        NextStep::Delivered,
    )
    .await;
    let log = delivery(&s, a, hook.id, failed).await.attempt_log;
    assert_eq!(log.len(), usize::try_from(made + 1).unwrap());

    // A delivered one can be sent again too; it is no longer "delivered".
    s.resend_delivery(&a, hook.id, delivered, t(400), &j())
        .await
        .unwrap();
    let got = delivery(&s, a, hook.id, delivered).await;
    assert_eq!(
        (
            got.state,
            got.attempts_before_resend,
            got.delivered_at,
            got.last_status
        ),
        (DeliveryState::Pending, got.attempts, None, None)
    );

    // Not while a worker holds it: its attempt is being sent, and a resend then
    // would send it twice and be overwritten by that attempt's outcome.
    let in_flight = claim_all(&s, t(401)).await;
    assert_eq!(ids_of(&in_flight), [delivered]);
    let jc = journal(a, "busy.resend", t(402));
    refused!(
        s.resend_delivery(&a, hook.id, delivered, t(402), &jc).await,
        StorageError::Conflict
    );
    assert!(audit_of(&s, a, "busy.resend").await.is_empty());
    // Its lease runs out and another worker claims it: the first attempt's late
    // outcome no longer overwrites the delivery's state.
    let reclaimed = claim_all(&s, t(462)).await;
    assert_eq!(ids_of(&reclaimed), [delivered]);
    finish(
        &s,
        delivered,
        attempt(
            in_flight[0].delivery.attempts,
            t(463),
            Some(500),
            Some("late"),
        ),
        NextStep::GiveUp,
    )
    .await;
    assert_eq!(
        delivery(&s, a, hook.id, delivered).await.state,
        DeliveryState::Pending
    );
    finish(
        &s,
        delivered,
        attempt(reclaimed[0].delivery.attempts, t(464), Some(200), None),
        NextStep::Delivered,
    )
    .await;
    assert_eq!(
        delivery(&s, a, hook.id, delivered).await.state,
        DeliveryState::Delivered
    );
    s.resend_delivery(&a, hook.id, delivered, t(465), &j())
        .await
        .unwrap();

    // Another tenant's delivery, another subscription, an unknown id: not found,
    // and nothing recorded.
    let jf = journal(a, "failed.resend", t(500));
    refused!(
        s.resend_delivery(&b, hook.id, failed, t(500), &jf).await,
        StorageError::NotFound
    );
    refused!(
        s.resend_delivery(&a, hook.id, b_id, t(500), &jf).await,
        StorageError::NotFound
    );
    refused!(
        s.resend_delivery(&a, second.id, failed, t(500), &jf).await,
        StorageError::NotFound
    );
    refused!(
        s.resend_delivery(&a, hook.id, failed + 1000, t(500), &jf)
            .await,
        StorageError::NotFound
    );
    assert!(audit_of(&s, a, "failed.resend").await.is_empty());
    assert_eq!(
        delivery(&s, a, hook.id, failed).await.state,
        DeliveryState::Delivered
    );
}

/// The pending count and the oldest pending creation: leased and retrying
/// deliveries are pending, delivered and given-up ones are not, over all tenants.
pub(super) async fn pending_deliveries_count_and_oldest(s: Store) {
    let none = PendingDeliveries {
        count: 0,
        oldest_created_at: None,
    };
    assert_eq!(s.pending_deliveries().await.unwrap(), none);
    let (a, b) = (tenant(&s, 0).await, tenant(&s, 1).await);
    let hook_a = add_webhook(&s, a, vec![], true, t(1)).await;
    add_webhook(&s, b, vec![], true, t(1)).await;
    for n in 0..3 {
        emit(&s, &event(EventType::Updated, a, 1, t(100 + n))).await;
    }
    emit(&s, &event(EventType::Updated, b, 1, t(150))).await;
    let pending = |count, at| PendingDeliveries {
        count,
        oldest_created_at: Some(t(at)),
    };
    assert_eq!(s.pending_deliveries().await.unwrap(), pending(4, 100));
    let claimed = s.claim_deliveries(t(200), t(260), 3).await.unwrap();
    assert_eq!(ids_of(&claimed).len(), 3);
    assert_eq!(
        s.pending_deliveries().await.unwrap(),
        pending(4, 100),
        "leased deliveries are still pending"
    );
    let mut ids: Vec<i64> = deliveries(&s, a, hook_a.id)
        .await
        .iter()
        .map(|d| d.id)
        .collect();
    ids.sort_unstable();
    let record = || attempt(1, t(210), Some(500), Some("failed"));
    finish(&s, ids[0], record(), NextStep::Delivered).await;
    assert_eq!(s.pending_deliveries().await.unwrap(), pending(3, 101));
    finish(&s, ids[1], record(), NextStep::RetryAt(t(300))).await;
    assert_eq!(
        s.pending_deliveries().await.unwrap(),
        pending(3, 101),
        "a delivery waiting to retry is pending"
    );
    finish(&s, ids[1], record(), NextStep::GiveUp).await;
    finish(&s, ids[2], record(), NextStep::Delivered).await;
    assert_eq!(s.pending_deliveries().await.unwrap(), pending(1, 150));
}
