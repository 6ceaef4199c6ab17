//! Conformance of secrets: ids never reused, the per-client limit (also under
//! concurrent inserts), updates that apply only to the revision they read,
//! revoked secrets hidden, and deletes racing revokes.

use super::{ALL, Store, client, credential, hash, j, new_client, new_secret, t, tenant};
use crate::domain::ids::{ClientId, ClientKind, SecretId};
use crate::domain::secret_hash::{HashKind, StoredHash};
use crate::storage::{Page, SecretFilter, StorageError};

async fn live_ids(s: &Store, pk: i64) -> Vec<i32> {
    let page = s
        .list_secrets(
            pk,
            &SecretFilter::default(),
            Page {
                skip: 0,
                count: 100,
            },
        )
        .await
        .unwrap();
    assert_eq!(page.total, page.items.len() as u64);
    page.items.iter().map(|r| r.id.0).collect()
}

pub(super) async fn secret_ids_increase_and_are_never_reused(s: Store) {
    let (_, pk) = client(&s, "svc").await;
    for expected in [2, 3] {
        let r = s
            .insert_secret_within_limit(pk, &new_secret(2), 10, &j())
            .await
            .unwrap();
        assert_eq!(r.id, SecretId(expected));
    }
    s.revoke_secret(pk, SecretId(3), t(30), &j()).await.unwrap();
    let r = s
        .insert_secret_within_limit(pk, &new_secret(4), 10, &j())
        .await
        .unwrap();
    assert_eq!(r.id, SecretId(4), "id 3 was revoked and must not come back");
    s.revoke_secret(pk, SecretId(1), t(31), &j()).await.unwrap();
    let r = s
        .insert_secret_within_limit(pk, &new_secret(5), 10, &j())
        .await
        .unwrap();
    assert_eq!(r.id, SecretId(5));
    assert_eq!(live_ids(&s, pk).await, [2, 4, 5]);
    // Ids are per client: another client starts at 1.
    let (_, other) = client(&s, "other").await;
    assert_eq!(live_ids(&s, other).await, [1]);
}

pub(super) async fn secrets_limit_counts_non_revoked(s: Store) {
    let (_, pk) = client(&s, "svc").await;
    s.insert_secret_within_limit(pk, &new_secret(2), 3, &j())
        .await
        .unwrap();
    s.insert_secret_within_limit(pk, &new_secret(3), 3, &j())
        .await
        .unwrap();
    let res = s
        .insert_secret_within_limit(pk, &new_secret(4), 3, &j())
        .await;
    assert!(matches!(res, Err(StorageError::LimitReached(3))), "{res:?}");
    s.revoke_secret(pk, SecretId(2), t(30), &j()).await.unwrap();
    let r = s
        .insert_secret_within_limit(pk, &new_secret(4), 3, &j())
        .await
        .unwrap();
    assert_eq!(r.id, SecretId(4));
    let res = s
        .insert_secret_within_limit(pk, &new_secret(5), 3, &j())
        .await;
    assert!(matches!(res, Err(StorageError::LimitReached(3))), "{res:?}");
    // A failed revoke frees nothing.
    assert!(s.revoke_secret(pk, SecretId(2), t(31), &j()).await.is_err());
    let res = s
        .insert_secret_within_limit(pk, &new_secret(5), 3, &j())
        .await;
    assert!(matches!(res, Err(StorageError::LimitReached(3))), "{res:?}");
    let res = s
        .insert_secret_within_limit(pk + 1000, &new_secret(5), 3, &j())
        .await;
    assert!(matches!(res, Err(StorageError::NotFound)), "{res:?}");
}

pub(super) async fn concurrent_secret_inserts_respect_limit(s: Store) {
    let (_, pk) = client(&s, "svc").await;
    s.insert_secret_within_limit(pk, &new_secret(2), 3, &j())
        .await
        .unwrap();
    let tasks: Vec<_> = (0..25u8)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                s.insert_secret_within_limit(pk, &new_secret(10 + i), 3, &j())
                    .await
            })
        })
        .collect();
    let mut ok = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(r) => ok.push(r.id),
            Err(StorageError::LimitReached(3)) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(ok, [SecretId(3)]);
    assert_eq!(live_ids(&s, pk).await, [1, 2, 3]);
}

/// A write made from a stale read (another change came first) changes
/// nothing and says `Conflict`; of 32 writers from one read exactly one wins.
pub(super) async fn update_secret_applies_only_to_the_revision_it_read(s: Store) {
    let (_, pk) = client(&s, "svc").await;
    let read = s.get_secret(pk, SecretId(1)).await.unwrap().unwrap();
    let tasks: Vec<_> = (0..32u8)
        .map(|n| {
            let s = s.clone();
            let mut r = read.clone();
            tokio::spawn(async move {
                r.hash = hash(100 + n);
                s.update_secret(pk, &r, &j()).await.map(|()| n)
            })
        })
        .collect();
    let mut won = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(n) => won.push(n),
            Err(StorageError::Conflict) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(won.len(), 1, "exactly one writer of revision 0 wins");
    let now = s.get_secret(pk, SecretId(1)).await.unwrap().unwrap();
    assert_eq!((now.revision, &now.hash), (1, &hash(100 + won[0])));
    // The stale read, written again, is refused instead of undoing the winner.
    let mut stale = read.clone();
    stale.description = "stale".into();
    assert!(matches!(
        s.update_secret(pk, &stale, &j()).await,
        Err(StorageError::Conflict)
    ));
    assert_eq!(s.get_secret(pk, SecretId(1)).await.unwrap().unwrap(), now);
}

pub(super) async fn update_secret_writes_fields_of_live_secrets(s: Store) {
    let (tenant, pk) = client(&s, "svc").await;
    let mut r = s.get_secret(pk, SecretId(1)).await.unwrap().unwrap();
    r.description = "renewed".into();
    r.expiration = None;
    r.previous_hash = Some(r.hash.clone());
    r.hash = StoredHash {
        kind: HashKind::Argon2idV1,
        digest: vec![9; 32],
        credential: credential(9),
    };
    r.hint = "zz9".into();
    r.grace_until = Some(t(500));
    s.update_secret(pk, &r, &j()).await.unwrap();
    r.revision += 1;
    assert_eq!(
        s.get_secret(pk, SecretId(1)).await.unwrap(),
        Some(r.clone())
    );
    // Clearing the previous value clears both columns.
    r.previous_hash = None;
    r.grace_until = None;
    s.update_secret(pk, &r, &j()).await.unwrap();
    r.revision += 1;
    assert_eq!(
        s.get_secret(pk, SecretId(1)).await.unwrap(),
        Some(r.clone())
    );

    s.revoke_secret(pk, SecretId(1), t(30), &j()).await.unwrap();
    r.description = "after revoke".into();
    assert!(matches!(
        s.update_secret(pk, &r, &j()).await,
        Err(StorageError::NotFound)
    ));
    r.id = SecretId(99);
    assert!(matches!(
        s.update_secret(pk, &r, &j()).await,
        Err(StorageError::NotFound)
    ));
    let id = ClientId::parse("svc").unwrap();
    let creds = s.load_credentials(&tenant, &id).await.unwrap().unwrap();
    let revoked = &creds.candidates[0];
    assert_eq!(
        (revoked.revoked, &revoked.hash),
        (true, &r.hash),
        "the revoked row is unchanged"
    );
}

pub(super) async fn revoked_secrets_are_hidden(s: Store) {
    let (_, pk) = client(&s, "svc").await;
    s.insert_secret_within_limit(pk, &new_secret(2), 10, &j())
        .await
        .unwrap();
    s.revoke_secret(pk, SecretId(1), t(30), &j()).await.unwrap();
    let res = s.revoke_secret(pk, SecretId(1), t(31), &j()).await;
    assert!(matches!(res, Err(StorageError::NotFound)), "{res:?}");
    let res = s.revoke_secret(pk, SecretId(7), t(31), &j()).await;
    assert!(matches!(res, Err(StorageError::NotFound)), "{res:?}");
    let res = s.revoke_secret(pk + 1000, SecretId(1), t(31), &j()).await;
    assert!(matches!(res, Err(StorageError::NotFound)), "{res:?}");
    assert!(s.get_secret(pk, SecretId(1)).await.unwrap().is_none());
    assert!(s.get_secret(pk, SecretId(2)).await.unwrap().is_some());
    assert_eq!(live_ids(&s, pk).await, [2]);
    let page = s
        .list_secrets(pk, &SecretFilter::default(), Page { skip: 1, count: 10 })
        .await
        .unwrap();
    assert_eq!((page.items.len(), page.total), (0, 1));
}

/// Revokes, client deletes and a tenant delete racing each other: each either
/// happens or finds its target gone, and none fails (no deadlock, no busy error).
pub(super) async fn concurrent_deletes_and_revokes_do_not_fail(s: Store) {
    let tenant = tenant(&s, 0).await;
    let mut pks = Vec::new();
    for n in 0..3 {
        let new = new_client(tenant, &format!("c{n}"), ClientKind::ClientCredentials);
        let (c, _) = s
            .insert_client_with_secret(&new, &new_secret(1), 10, &j())
            .await
            .unwrap();
        for m in 2..=6 {
            s.insert_secret_within_limit(c.pk, &new_secret(m), 10, &j())
                .await
                .unwrap();
        }
        pks.push((new.id, c.pk));
    }
    let mut tasks = Vec::new();
    for (id, pk) in &pks {
        for secret in 1..=6 {
            let (s, pk) = (s.clone(), *pk);
            tasks.push(tokio::spawn(async move {
                s.revoke_secret(pk, SecretId(secret), t(50), &j()).await
            }));
        }
        let (s, id) = (s.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            s.delete_client(&tenant, ClientKind::ClientCredentials, &id, &j())
                .await
        }));
    }
    let s2 = s.clone();
    tasks.push(tokio::spawn(async move {
        s2.delete_tenant(&tenant, &j()).await
    }));
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) | Err(StorageError::NotFound) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert!(s.get_tenant(&tenant).await.unwrap().is_none());
    for (_, pk) in pks {
        assert_eq!(
            s.list_secrets(pk, &SecretFilter::default(), ALL)
                .await
                .unwrap()
                .total,
            0
        );
    }
}
