//! Conformance of clients: insert with their first secret, unique ids, the
//! per-tenant limit (also under concurrent inserts), lists, updates and deletes.

use super::{
    ALL, Store, client, hash, j, new_client, new_secret, t, tenant, tenant_id_with_client,
};
use crate::domain::client::{ClientSettings, HybridSettings};
use crate::domain::ids::{ClientId, ClientKind, SecretId, TenantId};
use crate::storage::{ClientRecord, Page, Paged, SecretFilter, SecretRecord, StorageError};

pub(super) async fn client_insert_with_first_secret(s: Store) {
    let tenant = tenant(&s, 0).await;
    for (id, kind) in [
        ("cc", ClientKind::ClientCredentials),
        ("hy", ClientKind::Hybrid),
    ] {
        let new = new_client(tenant, id, kind);
        let (c, first) = s
            .insert_client_with_secret(&new, &new_secret(1), 10, &j())
            .await
            .unwrap();
        assert_eq!((c.tenant_id, &c.id, c.kind), (tenant, &new.id, kind));
        assert_eq!(
            (&c.settings, &c.argon_salt),
            (&new.settings, &new.argon_salt)
        );
        assert_eq!((c.created_at, c.updated_at), (t(10), t(10)));
        let expected = SecretRecord {
            id: SecretId(1),
            description: "secret 1".into(),
            expiration: Some(t(100_000)),
            hash: hash(1),
            hint: "ab1".into(),
            created_at: t(21),
            last_used_at: None,
            previous_hash: None,
            grace_until: None,
            revision: 0,
            previous_last_used_at: None,
            refused: crate::storage::RefusedPresentations::default(),
        };
        assert_eq!(first, expected);
        assert_eq!(
            s.get_secret(c.pk, SecretId(1)).await.unwrap(),
            Some(expected)
        );
        assert_eq!(s.get_client(&tenant, kind, &new.id).await.unwrap(), Some(c));
        let other_kind = match kind {
            ClientKind::Hybrid => ClientKind::ClientCredentials,
            ClientKind::ClientCredentials => ClientKind::Hybrid,
        };
        assert!(
            s.get_client(&tenant, other_kind, &new.id)
                .await
                .unwrap()
                .is_none()
        );
    }
    let orphan = new_client(TenantId::generate(), "x", ClientKind::Hybrid);
    let res = s
        .insert_client_with_secret(&orphan, &new_secret(1), 10, &j())
        .await;
    assert!(matches!(res, Err(StorageError::NotFound)), "{res:?}");
}

pub(super) async fn client_ids_unique_per_tenant(s: Store) {
    let (a, b) = (tenant(&s, 0).await, tenant(&s, 1).await);
    let cc = new_client(a, "same", ClientKind::ClientCredentials);
    s.insert_client_with_secret(&cc, &new_secret(1), 2, &j())
        .await
        .unwrap();
    for kind in [ClientKind::ClientCredentials, ClientKind::Hybrid] {
        let res = s
            .insert_client_with_secret(&new_client(a, "same", kind), &new_secret(1), 2, &j())
            .await;
        assert!(matches!(res, Err(StorageError::Duplicate)), "{res:?}");
    }
    // The refused inserts did not take the tenant's second slot.
    let other = new_client(a, "other", ClientKind::Hybrid);
    s.insert_client_with_secret(&other, &new_secret(1), 2, &j())
        .await
        .unwrap();
    let in_b = new_client(b, "same", ClientKind::Hybrid);
    s.insert_client_with_secret(&in_b, &new_secret(1), 2, &j())
        .await
        .unwrap();
}

pub(super) async fn clients_limit(s: Store) {
    let tenant = tenant(&s, 0).await;
    let insert = |id: &'static str| {
        let s = s.clone();
        async move {
            let new = new_client(tenant, id, ClientKind::ClientCredentials);
            s.insert_client_with_secret(&new, &new_secret(1), 2, &j())
                .await
        }
    };
    insert("a").await.unwrap();
    insert("b").await.unwrap();
    assert!(matches!(
        insert("c").await,
        Err(StorageError::LimitReached(2))
    ));
    let missing = ClientId::parse("nobody").unwrap();
    let res = s
        .delete_client(&tenant, ClientKind::ClientCredentials, &missing, &j())
        .await;
    assert!(matches!(res, Err(StorageError::NotFound)), "{res:?}");
    assert!(matches!(
        insert("c").await,
        Err(StorageError::LimitReached(2))
    ));
    let a = ClientId::parse("a").unwrap();
    s.delete_client(&tenant, ClientKind::ClientCredentials, &a, &j())
        .await
        .unwrap();
    insert("c").await.unwrap();
    assert!(matches!(
        insert("d").await,
        Err(StorageError::LimitReached(2))
    ));
}

pub(super) async fn concurrent_client_inserts_respect_limit(s: Store) {
    let tenant = tenant(&s, 0).await;
    let first = new_client(tenant, "first", ClientKind::ClientCredentials);
    s.insert_client_with_secret(&first, &new_secret(1), 2, &j())
        .await
        .unwrap();
    let tasks: Vec<_> = (0..25)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                let new = new_client(tenant, &format!("c{i}"), ClientKind::Hybrid);
                s.insert_client_with_secret(&new, &new_secret(1), 2, &j())
                    .await
            })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StorageError::LimitReached(2)) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(
        s.list_clients(&tenant, ClientKind::Hybrid, ALL)
            .await
            .unwrap()
            .total,
        1
    );
}

pub(super) async fn list_clients_filters_by_kind_and_pages(s: Store) {
    let tenant = tenant(&s, 0).await;
    let other = tenant_id_with_client(&s, "cc0").await;
    for (id, kind) in [
        ("cc0", ClientKind::ClientCredentials),
        ("hy0", ClientKind::Hybrid),
        ("cc1", ClientKind::ClientCredentials),
        ("cc2", ClientKind::ClientCredentials),
        ("hy1", ClientKind::Hybrid),
    ] {
        s.insert_client_with_secret(&new_client(tenant, id, kind), &new_secret(1), 10, &j())
            .await
            .unwrap();
    }
    let ids = |page: &Paged<ClientRecord>| {
        page.items
            .iter()
            .map(|c| c.id.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    let cc = ClientKind::ClientCredentials;
    let first = s
        .list_clients(&tenant, cc, Page { skip: 0, count: 2 })
        .await
        .unwrap();
    assert_eq!(
        (ids(&first), first.total),
        (vec!["cc0".into(), "cc1".into()], 3)
    );
    let second = s
        .list_clients(&tenant, cc, Page { skip: 2, count: 2 })
        .await
        .unwrap();
    assert_eq!((ids(&second), second.total), (vec!["cc2".into()], 3));
    let hybrid = s
        .list_clients(&tenant, ClientKind::Hybrid, ALL)
        .await
        .unwrap();
    assert_eq!(
        (ids(&hybrid), hybrid.total),
        (vec!["hy0".into(), "hy1".into()], 2)
    );
    assert!(
        hybrid
            .items
            .iter()
            .all(|c| c.kind == ClientKind::Hybrid && c.settings.hybrid.is_some())
    );
    assert_eq!(s.list_clients(&other, cc, ALL).await.unwrap().total, 1);
    let none = s
        .list_clients(&TenantId::generate(), cc, ALL)
        .await
        .unwrap();
    assert_eq!((none.items.len(), none.total), (0, 0));
}

pub(super) async fn update_client_writes_settings(s: Store) {
    let tenant = tenant(&s, 0).await;
    let new = new_client(tenant, "hy", ClientKind::Hybrid);
    let (c, _) = s
        .insert_client_with_secret(&new, &new_secret(1), 10, &j())
        .await
        .unwrap();
    let changed = ClientSettings {
        name: "Renamed".into(),
        enabled: false,
        access_token_lifetime: 86_400,
        tags: vec![],
        role_ids: vec!["tenant-auditor".into(), "tenant-member".into()],
        hybrid: Some(HybridSettings {
            post_logout_redirect_uris: vec!["https://app.example/bye".into()],
            logo_uri: Some("https://app.example/logo.png".into()),
            allow_access_tokens_via_browser: true,
            ..HybridSettings::default()
        }),
        allow_self_rotation: true,
    };
    let updated = s.update_client(c.pk, &changed, t(50), &j()).await.unwrap();
    assert_eq!(updated.settings, changed);
    assert_eq!(
        (updated.pk, updated.created_at, updated.updated_at),
        (c.pk, t(10), t(50))
    );
    assert_eq!(
        s.get_client(&tenant, ClientKind::Hybrid, &new.id)
            .await
            .unwrap(),
        Some(updated)
    );
    let res = s.update_client(c.pk + 1000, &changed, t(50), &j()).await;
    assert!(matches!(res, Err(StorageError::NotFound)), "{res:?}");
}

pub(super) async fn delete_client_removes_secrets(s: Store) {
    let (tenant, pk) = client(&s, "svc").await;
    s.insert_secret_within_limit(pk, &new_secret(2), 10, &j())
        .await
        .unwrap();
    s.revoke_secret(pk, SecretId(2), t(30), &j()).await.unwrap();
    let id = ClientId::parse("svc").unwrap();
    let res = s
        .delete_client(&tenant, ClientKind::Hybrid, &id, &j())
        .await;
    assert!(
        matches!(res, Err(StorageError::NotFound)),
        "wrong kind: {res:?}"
    );
    s.delete_client(&tenant, ClientKind::ClientCredentials, &id, &j())
        .await
        .unwrap();
    assert!(
        s.get_client(&tenant, ClientKind::ClientCredentials, &id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.load_credentials(&tenant, &id).await.unwrap().is_none());
    assert!(s.get_secret(pk, SecretId(1)).await.unwrap().is_none());
    assert_eq!(
        s.list_secrets(pk, &SecretFilter::default(), ALL)
            .await
            .unwrap()
            .total,
        0
    );
    let res = s
        .insert_secret_within_limit(pk, &new_secret(3), 10, &j())
        .await;
    assert!(matches!(res, Err(StorageError::NotFound)), "{res:?}");
    let res = s
        .delete_client(&tenant, ClientKind::ClientCredentials, &id, &j())
        .await;
    assert!(matches!(res, Err(StorageError::NotFound)), "{res:?}");
}
