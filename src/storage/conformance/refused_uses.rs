//! Conformance of the coalesced usage writes: refused presentations add up
//! exactly (also from concurrent flushes of several nodes), the latest one names
//! its source, revoked secrets count too, a `secret.refused-use` event is raised
//! at most once per window over all callers; the last use of the value in grace
//! is written only for the value in grace and cleared by the next Renew.

use std::sync::Arc;

use super::{ALL, Store, client, hash, j, journal, t};
use crate::domain::ids::SecretId;
use crate::storage::{RefusedUse, SecretRecord, SecretUse};

fn refused(pk: i64, id: i32, count: u32, at: i64, from: &str) -> RefusedUse {
    RefusedUse {
        client_pk: pk,
        secret_id: SecretId(id),
        count,
        at: t(at),
        from: Some(from.into()),
    }
}

async fn secret(s: &Store, pk: i64, id: i32) -> SecretRecord {
    s.get_secret(pk, SecretId(id)).await.unwrap().unwrap()
}

/// Counts add up, the time never moves back, the source follows the latest;
/// a secret that is gone is skipped; revoked secrets still count; the event is
/// due until raised, then not within the window, and due again after it.
pub(super) async fn refused_uses_add_up_and_raise_one_event_per_window(s: Store) {
    let (tenant, pk) = client(&s, "svc").await;
    let due = s
        .record_refused_uses(
            &[
                refused(pk, 1, 3, 100, "10.0.0.7"),
                refused(pk, 99, 1, 100, "10.0.0.8"),
            ],
            t(0),
        )
        .await
        .unwrap();
    assert_eq!(
        due.len(),
        1,
        "the secret that exists is due, the missing one skipped"
    );
    assert_eq!(due[0].subject.secret_id, SecretId(1));
    assert_eq!(due[0].subject.client_id, "svc");
    assert_eq!(due[0].refused.count, 3);
    let older = s
        .record_refused_uses(&[refused(pk, 1, 2, 50, "10.0.0.9")], t(0))
        .await
        .unwrap();
    assert_eq!(older.len(), 1, "still due: no event raised yet");
    let r = secret(&s, pk, 1).await.refused;
    assert_eq!(r.count, 5);
    assert_eq!(
        r.last_at,
        Some(t(100)),
        "an older refusal does not move the time back"
    );
    assert_eq!(r.last_from.as_deref(), Some("10.0.0.7"));

    let raised = s
        .raise_refused_use(
            pk,
            SecretId(1),
            t(0),
            t(200),
            &journal(tenant, "secret.refused-use", t(200)),
        )
        .await
        .unwrap();
    assert!(raised);
    let again = s
        .raise_refused_use(
            pk,
            SecretId(1),
            t(200 - 3600),
            t(300),
            &journal(tenant, "secret.refused-use", t(300)),
        )
        .await
        .unwrap();
    assert!(!again, "within the window the event is not raised twice");
    let due = s
        .record_refused_uses(&[refused(pk, 1, 1, 400, "10.0.0.10")], t(400 - 3600))
        .await
        .unwrap();
    assert!(due.is_empty(), "not due within the window");
    let due = s
        .record_refused_uses(&[refused(pk, 1, 1, 4000, "10.0.0.11")], t(4000 - 3600))
        .await
        .unwrap();
    assert_eq!(due.len(), 1, "due again once the window has passed");
    assert_eq!(due[0].refused.count, 7);
    let trail = s
        .list_audit(&tenant, &Default::default(), ALL)
        .await
        .unwrap();
    let raised_entries = trail
        .items
        .iter()
        .filter(|e| e.action == "secret.refused-use")
        .count();
    assert_eq!(
        raised_entries, 1,
        "the journal is written only by the call that raised"
    );

    s.revoke_secret(pk, SecretId(1), t(5000), &j())
        .await
        .unwrap();
    s.record_refused_uses(&[refused(pk, 1, 4, 5100, "10.0.0.12")], t(0))
        .await
        .unwrap();
    let r = s
        .list_tenant_secrets(&tenant, &Default::default(), ALL)
        .await
        .unwrap();
    assert!(
        r.items.is_empty(),
        "a revoked secret stays out of the lists"
    );
    let after = s
        .record_refused_uses(&[refused(pk, 1, 1, 5200, "10.0.0.13")], t(1000))
        .await
        .unwrap();
    assert_eq!(after[0].refused.count, 12, "a revoked secret still counts");
}

/// Sixteen flushes at once (several nodes) lose no refusal and raise one event.
pub(super) async fn concurrent_refusal_flushes_add_up_and_raise_one_event(s: Store) {
    let (tenant, pk) = client(&s, "svc").await;
    let s = Arc::new(s);
    let mut tasks = Vec::new();
    for n in 0..16 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let due = s
                .record_refused_uses(&[refused(pk, 1, 2, 100 + n, "10.0.0.1")], t(0))
                .await
                .unwrap();
            let mut raised = 0;
            for d in due {
                let journal = journal(tenant, "secret.refused-use", t(1000));
                if s.raise_refused_use(d.client_pk, d.subject.secret_id, t(0), t(1000), &journal)
                    .await
                    .unwrap()
                {
                    raised += 1;
                }
            }
            raised
        }));
    }
    let mut raised = 0;
    for task in tasks {
        raised += task.await.unwrap();
    }
    assert_eq!(raised, 1, "one event over all flushes");
    let r = s
        .get_secret(pk, SecretId(1))
        .await
        .unwrap()
        .unwrap()
        .refused;
    assert_eq!(r.count, 32, "no refusal lost");
    assert_eq!(r.last_at, Some(t(115)));
}

/// The last use of the value in grace is written only when the use was of that
/// value, and a Renew (a new value in grace) clears it.
pub(super) async fn value_in_grace_last_use_follows_its_credential(s: Store) {
    let (_, pk) = client(&s, "svc").await;
    let mut record = secret(&s, pk, 1).await;
    let old = record.hash.clone();
    record.previous_hash = Some(old.clone());
    record.grace_until = Some(t(10_000));
    record.hash = hash(2);
    s.update_secret(pk, &record, &j()).await.unwrap();
    let use_of = |cred, at| SecretUse {
        client_pk: pk,
        secret_id: SecretId(1),
        credential: cred,
        at: t(at),
    };
    s.record_last_used(&[use_of(hash(2).credential, 100)])
        .await
        .unwrap();
    let r = secret(&s, pk, 1).await;
    assert_eq!(r.last_used_at, Some(t(100)));
    assert_eq!(r.previous_last_used_at, None, "a use of the new value");
    s.record_last_used(&[use_of(old.credential, 90)])
        .await
        .unwrap();
    let r = secret(&s, pk, 1).await;
    assert_eq!(r.last_used_at, Some(t(100)), "never moves back");
    assert_eq!(
        r.previous_last_used_at,
        Some(t(90)),
        "a use of the value in grace"
    );

    let mut renewed = r.clone();
    renewed.previous_hash = Some(renewed.hash.clone());
    renewed.hash = hash(3);
    s.update_secret(pk, &renewed, &j()).await.unwrap();
    let r = secret(&s, pk, 1).await;
    assert_eq!(
        r.previous_last_used_at, None,
        "a new value in grace starts unused"
    );
    let mut edited = r.clone();
    edited.description = "edited".into();
    s.update_secret(pk, &edited, &j()).await.unwrap();
    s.record_last_used(&[use_of(hash(2).credential, 300)])
        .await
        .unwrap();
    let r = secret(&s, pk, 1).await;
    assert_eq!(
        r.previous_last_used_at,
        Some(t(300)),
        "kept by an edit that keeps the value in grace"
    );
}
