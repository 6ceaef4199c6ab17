//! Conformance of the audit trail's reads: filters, pages, and entries that
//! outlive the deletion of what they name.

use chrono::Duration;

use super::{ALL, CC, Store, entry, j, journal, new_client, new_secret, t, tenant};
use crate::domain::audit::{AuditEntry, AuditFilter, Outcome};
use crate::domain::ids::{ClientId, ClientKind};
use crate::storage::Page;

/// The audit trail: filters by client, action and time range, pages with a
/// total, oldest first, and keeps entries when the client and tenant go.
pub(super) async fn audit_trail_filters_pages_and_outlives_deletions(s: Store) {
    let (a, b) = (tenant(&s, 0).await, tenant(&s, 1).await);
    s.insert_client_with_secret(&new_client(a, "svc", CC), &new_secret(1), 10, &j())
        .await
        .unwrap();
    s.insert_client_with_secret(
        &new_client(a, "web", ClientKind::Hybrid),
        &new_secret(1),
        10,
        &j(),
    )
    .await
    .unwrap();
    let at = |secs: i64, action: &str, client: &str| AuditEntry {
        client_id: Some(client.into()),
        outcome: if action == "token.request" {
            Outcome::Refused
        } else {
            Outcome::Success
        },
        ..entry(a, action, t(secs))
    };
    // Written out of time order; two at the same instant.
    let written = [
        at(105, "secret.create", "svc"),
        at(101, "secret.create", "web"),
        at(102, "token.request", "svc"),
        at(103, "secret.revoke", "svc"),
        at(104, "secret.create", "svc"),
        at(103, "token.request", "web"),
    ];
    for e in &written {
        s.insert_audit(e).await.unwrap();
    }
    s.insert_audit(&AuditEntry {
        tenant: Some(b),
        ..at(102, "secret.create", "svc")
    })
    .await
    .unwrap();
    let list = |filter: AuditFilter, page: Page| {
        let s = s.clone();
        async move {
            let got = s.list_audit(&a, &filter, page).await.unwrap();
            let mut keys: Vec<(i64, String, String)> = got
                .items
                .iter()
                .map(|e| {
                    (
                        e.at.timestamp() - 1_750_000_000,
                        e.action.clone(),
                        e.client_id.clone().unwrap(),
                    )
                })
                .collect();
            // Listed newest first; compared oldest first below.
            assert!(
                got.items
                    .windows(2)
                    .all(|w| (w[0].at, w[0].seq) > (w[1].at, w[1].seq)),
                "newest first"
            );
            keys.reverse();
            (keys, got.total)
        }
    };
    let k = |secs: i64, action: &str, client: &str| (secs, action.to_owned(), client.to_owned());
    let everything = vec![
        k(101, "secret.create", "web"),
        k(102, "token.request", "svc"),
        k(103, "secret.revoke", "svc"),
        k(103, "token.request", "web"),
        k(104, "secret.create", "svc"),
        k(105, "secret.create", "svc"),
    ];
    assert_eq!(
        list(AuditFilter::default(), ALL).await,
        (everything.clone(), 6)
    );
    let svc = AuditFilter {
        client_id: Some("svc".into()),
        ..AuditFilter::default()
    };
    assert_eq!(
        list(svc.clone(), ALL).await,
        (
            vec![
                k(102, "token.request", "svc"),
                k(103, "secret.revoke", "svc"),
                k(104, "secret.create", "svc"),
                k(105, "secret.create", "svc"),
            ],
            4
        )
    );
    let creates = AuditFilter {
        action: Some("secret.create".into()),
        ..AuditFilter::default()
    };
    assert_eq!(list(creates.clone(), ALL).await.1, 3);
    let svc_creates = AuditFilter {
        client_id: Some("svc".into()),
        ..creates.clone()
    };
    assert_eq!(
        list(svc_creates, ALL).await,
        (
            vec![
                k(104, "secret.create", "svc"),
                k(105, "secret.create", "svc")
            ],
            2
        )
    );
    let from = AuditFilter {
        from: Some(t(103)),
        ..AuditFilter::default()
    };
    assert_eq!(
        list(from, ALL).await,
        (everything[2..].to_vec(), 4),
        "from is inclusive"
    );
    let to = AuditFilter {
        to: Some(t(103)),
        ..AuditFilter::default()
    };
    assert_eq!(
        list(to, ALL).await,
        (everything[..2].to_vec(), 2),
        "to is exclusive"
    );
    let range = AuditFilter {
        from: Some(t(103)),
        to: Some(t(105)),
        ..AuditFilter::default()
    };
    assert_eq!(list(range, ALL).await, (everything[2..5].to_vec(), 3));
    let sub_second = AuditFilter {
        from: Some(t(102) + Duration::milliseconds(500)),
        to: Some(t(103) + Duration::milliseconds(1)),
        ..AuditFilter::default()
    };
    assert_eq!(list(sub_second, ALL).await, (everything[2..4].to_vec(), 2));
    let nobody = AuditFilter {
        client_id: Some("nobody".into()),
        ..AuditFilter::default()
    };
    assert_eq!(list(nobody, ALL).await, (vec![], 0));
    // Pages count from the newest.
    assert_eq!(
        list(AuditFilter::default(), Page { skip: 1, count: 2 }).await,
        (everything[3..5].to_vec(), 6)
    );
    assert_eq!(
        list(svc.clone(), Page { skip: 3, count: 10 }).await,
        (vec![k(102, "token.request", "svc")], 4)
    );
    assert_eq!(
        list(AuditFilter::default(), Page { skip: 6, count: 10 }).await,
        (vec![], 6)
    );

    // Deleting the client and then the tenant keeps every entry, and adds theirs.
    let before = s
        .list_audit(&a, &AuditFilter::default(), ALL)
        .await
        .unwrap()
        .items;
    let svc_id = ClientId::parse("svc").unwrap();
    let jc = journal(a, "client.delete", t(106));
    s.delete_client(&a, CC, &svc_id, &jc).await.unwrap();
    let mut jt = journal(a, "tenant.delete", t(107));
    jt.audit.client_kind = None;
    jt.audit.client_id = None;
    s.delete_tenant(&a, &jt).await.unwrap();
    let after = s
        .list_audit(&a, &AuditFilter::default(), ALL)
        .await
        .unwrap();
    assert_eq!(after.total, 8);
    assert_eq!(
        after.items[2..],
        before[..],
        "newest first: theirs, then the others"
    );
    assert_eq!(
        after.items[..2]
            .iter()
            .map(|e| e.action.as_str())
            .collect::<Vec<_>>(),
        ["tenant.delete", "client.delete"]
    );
    assert_eq!(after.items[0].client_id, None);
    // An entry written under an action's former name is found by its current one.
    let revokes = AuditFilter {
        action: Some("client.revoke".into()),
        ..AuditFilter::default()
    };
    let found = s.list_audit(&a, &revokes, ALL).await.unwrap();
    assert_eq!(
        (found.total, found.items[0].action.as_str()),
        (1, "client.delete")
    );
    assert_eq!(list(svc, ALL).await.1, 5);
    assert_eq!(
        s.list_audit(&b, &AuditFilter::default(), ALL)
            .await
            .unwrap()
            .total,
        1
    );
}
