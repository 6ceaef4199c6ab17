//! Conformance of bounded refusal records, on both databases:
//! identical refusals of a minute fold into one entry whose count is exact under
//! concurrency; past the cap a tenant's minute gets one overflow entry counting
//! the rest; nothing is written for a tenant that does not exist; ordinary
//! entries never fold.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{ALL, Store, t, tenant};
use crate::domain::audit::{AuditEntry, AuditFilter, Outcome, RefusalFold};
use crate::domain::audit_actions::AuditAction;

const OVERFLOW_ACTION: &str = AuditAction::AuditOverflow.as_str();
use crate::domain::ids::TenantId;
use crate::storage::RefusalKept;

/// `t(20)` starts a UTC minute (1_750_000_000 is 40 s into one).
fn minute(n: i64, secs: i64) -> DateTime<Utc> {
    t(20 + 60 * n + secs)
}

fn refusal(tenant: Option<TenantId>, actor: &str, at: DateTime<Utc>) -> AuditEntry {
    AuditEntry {
        seq: 0,
        at,
        tenant,
        actor_type: "client".into(),
        actor: actor.into(),
        action: "token.request".into(),
        outcome: Outcome::Refused,
        reason: Some("the secret is wrong".into()),
        client_kind: None,
        client_id: Some(actor.into()),
        secret_id: None,
        source: Some("198.51.100.7".into()),
        operation_id: Some(uuid::Uuid::new_v4()),
        count: 1,
    }
}

async fn record(s: &Store, e: &AuditEntry, cap: u32) -> RefusalKept {
    s.record_refusal(e, &RefusalFold::of(e, cap)).await.unwrap()
}

/// The tenant's refusal entries: (action, actor) → count.
async fn refusals(s: &Store, tenant: &TenantId) -> BTreeMap<(String, String), i64> {
    let trail = s
        .list_audit(tenant, &AuditFilter::default(), ALL)
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for e in trail
        .items
        .into_iter()
        .filter(|e| e.outcome == Outcome::Refused)
    {
        assert!(
            out.insert((e.action, e.actor), e.count).is_none(),
            "one entry per key"
        );
    }
    out
}

pub(super) async fn identical_refusals_fold_exactly_under_concurrency(s: Store) {
    let a = tenant(&s, 1).await;
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                record(&s, &refusal(Some(a), "svc", minute(0, i % 60)), 100).await
            })
        })
        .collect();
    let mut stored = 0;
    for task in tasks {
        if task.await.unwrap() == RefusalKept::Stored {
            stored += 1;
        }
    }
    assert_eq!(
        stored, 1,
        "one refusal made the entry, the others folded into it"
    );
    let got = refusals(&s, &a).await;
    assert_eq!(
        got,
        BTreeMap::from([(("token.request".into(), "svc".into()), 40)])
    );
    let entry = &s
        .list_audit(&a, &AuditFilter::default(), ALL)
        .await
        .unwrap()
        .items[0];
    assert_eq!(entry.source.as_deref(), Some("198.51.100.7"));

    // The next minute starts a new entry.
    record(&s, &refusal(Some(a), "svc", minute(1, 0)), 100).await;
    let trail = s
        .list_audit(&a, &AuditFilter::default(), ALL)
        .await
        .unwrap();
    let counts: Vec<i64> = trail.items.iter().map(|e| e.count).collect();
    assert_eq!(
        counts,
        [1, 40],
        "newest first: the next minute, then the folded one"
    );
}

pub(super) async fn refusals_past_the_cap_are_counted_in_one_overflow_entry(s: Store) {
    let a = tenant(&s, 1).await;
    let b = tenant(&s, 2).await;
    for i in 0..12 {
        let kept = record(&s, &refusal(Some(a), &format!("c{i:02}"), minute(0, i)), 5).await;
        let want = if i < 5 {
            RefusalKept::Stored
        } else {
            RefusalKept::Overflowed
        };
        assert_eq!(kept, want, "refusal {i}");
    }
    // A stored refusal still folds once the cap is reached; the other tenant has its own.
    assert_eq!(
        record(&s, &refusal(Some(a), "c00", minute(0, 30)), 5).await,
        RefusalKept::Folded
    );
    assert_eq!(
        record(&s, &refusal(Some(b), "c99", minute(0, 30)), 5).await,
        RefusalKept::Stored
    );
    let got = refusals(&s, &a).await;
    let mut want: BTreeMap<(String, String), i64> = (0..5)
        .map(|i| {
            (
                ("token.request".into(), format!("c{i:02}")),
                i64::from(i == 0) + 1,
            )
        })
        .collect();
    want.insert((OVERFLOW_ACTION.into(), "audit".into()), 7);
    assert_eq!(got, want);
    assert_eq!(
        got.values().sum::<i64>(),
        13,
        "every refusal is counted once"
    );
    assert_eq!(refusals(&s, &b).await.len(), 1);

    // A flood of distinct concurrent refusals in a new minute: at most cap + 1 rows.
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                record(
                    &s,
                    &refusal(Some(a), &format!("f{i:02}"), minute(1, i % 60)),
                    5,
                )
                .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let from = AuditFilter {
        from: Some(minute(1, 0)),
        ..AuditFilter::default()
    };
    let flood = s.list_audit(&a, &from, ALL).await.unwrap().items;
    assert_eq!(flood.len(), 6, "{flood:?}");
    assert_eq!(flood.iter().map(|e| e.count).sum::<i64>(), 40);
    assert_eq!(
        flood
            .iter()
            .filter(|e| e.action == OVERFLOW_ACTION)
            .map(|e| e.count)
            .sum::<i64>(),
        35
    );
}

pub(super) async fn refusals_of_unknown_tenants_are_not_written(s: Store) {
    let ghost = TenantId::generate();
    for _ in 0..3 {
        let kept = record(&s, &refusal(Some(ghost), "svc", minute(0, 1)), 100).await;
        assert_eq!(kept, RefusalKept::UnknownTenant);
    }
    assert!(refusals(&s, &ghost).await.is_empty());
    // A refusal with no tenant (a platform route) is kept, folded like the others.
    for _ in 0..3 {
        record(&s, &refusal(None, "svc", minute(0, 2)), 100).await;
    }
    assert_eq!(
        record(&s, &refusal(None, "svc", minute(0, 3)), 100).await,
        RefusalKept::Folded
    );
}

pub(super) async fn ordinary_entries_never_fold(s: Store) {
    let a = tenant(&s, 1).await;
    let success = AuditEntry {
        outcome: Outcome::Success,
        reason: None,
        ..refusal(Some(a), "svc", minute(0, 1))
    };
    s.insert_audit(&success).await.unwrap();
    s.insert_audit(&success).await.unwrap();
    let trail = s
        .list_audit(&a, &AuditFilter::default(), ALL)
        .await
        .unwrap();
    let counts: Vec<i64> = trail.items.iter().map(|e| e.count).collect();
    assert_eq!(counts, [1, 1]);
}
