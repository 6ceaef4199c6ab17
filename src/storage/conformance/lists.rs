//! Conformance of the filtered secret lists: a client's secrets and the tenant
//! inventory, judged at `now`.

use super::{ALL, CC, Store, j, new_client, new_secret, t, tenant};
use crate::domain::ids::{ClientKind, SecretId, TenantId};
use crate::storage::{NewSecret, Page, SecretFilter, SecretStatusFilter, SecretUse};

/// Secret filters judged at `now`, and the tenant inventory across clients of
/// both kinds, ordered by kind, client id and secret id.
pub(super) async fn secret_filters_and_inventory(s: Store) {
    let (a, b) = (tenant(&s, 0).await, tenant(&s, 1).await);
    let add_client = |tenant: TenantId, id: &'static str, kind: ClientKind| {
        let s = s.clone();
        async move {
            s.insert_client_with_secret(&new_client(tenant, id, kind), &new_secret(1), 10, &j())
                .await
                .unwrap()
                .0
                .pk
        }
    };
    let zeta = add_client(a, "zeta", CC).await;
    let beta = add_client(a, "beta", ClientKind::Hybrid).await;
    let alpha = add_client(a, "alpha", CC).await;
    let mid = add_client(a, "Mid", CC).await;
    add_client(b, "alpha", CC).await;
    let with = |n: u8, description: &str, expiration: Option<i64>, created: i64| NewSecret {
        description: description.into(),
        expiration: expiration.map(t),
        created_at: t(created),
        ..new_secret(n)
    };
    for secret in [
        with(2, "Prod 50%_OFF key", Some(500), 30),
        with(3, "prod 50xxOFF", None, 40),
        with(4, "staging", Some(1500), 50),
        with(5, "PROD backup", Some(1000), 60),
        with(6, "back\\slash", Some(5000), 70),
    ] {
        s.insert_secret_within_limit(alpha, &secret, 10, &j())
            .await
            .unwrap();
    }
    s.insert_secret_within_limit(beta, &new_secret(2), 10, &j())
        .await
        .unwrap();
    s.insert_secret_within_limit(beta, &new_secret(3), 10, &j())
        .await
        .unwrap();
    s.revoke_secret(beta, SecretId(2), t(80), &j())
        .await
        .unwrap();
    let used = |pk: i64, id: i32, at: i64| SecretUse {
        client_pk: pk,
        secret_id: SecretId(id),
        credential: crate::domain::ids::CredentialId::generate(),
        at: t(at),
    };
    s.record_last_used(&[
        used(alpha, 3, 900),
        used(alpha, 4, 200),
        used(alpha, 6, 250),
    ])
    .await
    .unwrap();

    // alpha: 1 "secret 1" exp 100000 created 21, never used
    //        2 expired, never used; 3 never expires, used 900; 4 exp 1500, used 200;
    //        5 expires exactly at now, never used; 6 exp 5000, used 250
    let now = Some(t(1000));
    let f = |edit: &dyn Fn(&mut SecretFilter)| {
        let mut filter = SecretFilter {
            now,
            ..SecretFilter::default()
        };
        edit(&mut filter);
        filter
    };
    let ids = |filter: SecretFilter, page: Page| {
        let s = s.clone();
        async move {
            let got = s.list_secrets(alpha, &filter, page).await.unwrap();
            (
                got.items.iter().map(|r| r.id.0).collect::<Vec<_>>(),
                got.total,
            )
        }
    };
    assert_eq!(ids(f(&|_| {}), ALL).await, (vec![1, 2, 3, 4, 5, 6], 6));
    let active = f(&|f| f.status = Some(SecretStatusFilter::Active));
    assert_eq!(ids(active.clone(), ALL).await, (vec![1, 3, 4, 6], 4));
    let expired = f(&|f| f.status = Some(SecretStatusFilter::Expired));
    assert_eq!(
        ids(expired, ALL).await,
        (vec![2, 5], 2),
        "expired at the instant of expiration"
    );
    let later = f(&|f| {
        f.status = Some(SecretStatusFilter::Expired);
        f.now = Some(t(1500));
    });
    assert_eq!(ids(later, ALL).await, (vec![2, 4, 5], 3));
    assert_eq!(
        ids(f(&|f| f.never_used = true), ALL).await,
        (vec![1, 2, 5], 3)
    );
    assert_eq!(
        ids(f(&|f| f.unused_since = Some(t(300))), ALL).await,
        (vec![1, 2, 4, 5, 6], 5),
        "last use, else creation, before the instant"
    );
    assert_eq!(
        ids(f(&|f| f.unused_since = Some(t(60))), ALL).await,
        (vec![1, 2], 2)
    );
    assert_eq!(
        ids(f(&|f| f.expiring_before = Some(t(2000))), ALL).await,
        (vec![4], 1)
    );
    assert_eq!(
        ids(f(&|f| f.expiring_before = Some(t(5000))), ALL).await,
        (vec![4, 6], 2)
    );
    let text = |needle: &'static str| f(&move |f: &mut SecretFilter| f.text = Some(needle.into()));
    assert_eq!(ids(text("prod"), ALL).await, (vec![2, 3, 5], 3));
    assert_eq!(ids(text("PrOd 50"), ALL).await, (vec![2, 3], 2));
    assert_eq!(
        ids(text("50%_off"), ALL).await,
        (vec![2], 1),
        "% and _ are literal"
    );
    assert_eq!(ids(text("%"), ALL).await, (vec![2], 1));
    assert_eq!(ids(text("_"), ALL).await, (vec![2], 1));
    assert_eq!(ids(text("\\"), ALL).await, (vec![6], 1));
    assert_eq!(ids(text("nothing"), ALL).await, (vec![], 0));
    let active_prod = f(&|f| {
        f.status = Some(SecretStatusFilter::Active);
        f.text = Some("prod".into());
    });
    assert_eq!(ids(active_prod, ALL).await, (vec![3], 1));
    assert_eq!(
        ids(text("prod"), Page { skip: 1, count: 1 }).await,
        (vec![3], 3)
    );
    assert_eq!(ids(active, Page { skip: 3, count: 5 }).await, (vec![6], 4));

    // The inventory.
    let inventory = |filter: SecretFilter, page: Page| {
        let s = s.clone();
        async move {
            let got = s.list_tenant_secrets(&a, &filter, page).await.unwrap();
            let keys: Vec<(ClientKind, String, i32)> = got
                .items
                .iter()
                .map(|i| (i.client_kind, i.client_id.clone(), i.secret.id.0))
                .collect();
            (keys, got.total)
        }
    };
    let key = |kind: ClientKind, id: &str, n: i32| (kind, id.to_owned(), n);
    let hy = ClientKind::Hybrid;
    let mut everything = vec![key(CC, "Mid", 1)];
    everything.extend((1..=6).map(|n| key(CC, "alpha", n)));
    everything.extend([key(CC, "zeta", 1), key(hy, "beta", 1), key(hy, "beta", 3)]);
    assert_eq!(inventory(f(&|_| {}), ALL).await, (everything.clone(), 10));
    assert_eq!(
        inventory(f(&|_| {}), Page { skip: 6, count: 3 }).await,
        (everything[6..9].to_vec(), 10)
    );
    assert_eq!(
        inventory(text("prod"), ALL).await,
        (
            vec![
                key(CC, "alpha", 2),
                key(CC, "alpha", 3),
                key(CC, "alpha", 5)
            ],
            3
        )
    );
    let never_used = f(&|f| f.never_used = true);
    assert_eq!(inventory(never_used, ALL).await.1, 7);
    let full = s.list_tenant_secrets(&a, &f(&|_| {}), ALL).await.unwrap();
    let alpha_3 = &full.items[3].secret;
    assert_eq!(
        (
            alpha_3.description.as_str(),
            alpha_3.last_used_at,
            alpha_3.expiration
        ),
        ("prod 50xxOFF", Some(t(900)), None)
    );
    assert_eq!(
        Some(alpha_3.clone()),
        s.get_secret(alpha, SecretId(3)).await.unwrap()
    );
    let _ = (zeta, mid);
    let none = s
        .list_tenant_secrets(&TenantId::generate(), &f(&|_| {}), ALL)
        .await
        .unwrap();
    assert_eq!((none.items.len(), none.total), (0, 0));
}
