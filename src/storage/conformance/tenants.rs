//! Conformance of tenants: insert, read, list, the cascade of a delete, and the
//! secret policies of tenants and clients.

use super::{
    ALL, CC, Store, client, days, j, new_secret, refused, t, tenant, tenant_id_with_client,
};
use crate::domain::expiry::{ExpiryPolicy, ExpiryUnit};
use crate::domain::ids::{ClientId, ClientKind, SecretId, TenantId};
use crate::domain::policy::{ClientPolicy, TenantPolicy, TenantPolicyChange};
use crate::storage::{Page, SecretFilter, StorageError, TenantRecord};

pub(super) async fn tenants_insert_get_list(s: Store) {
    s.ping().await.unwrap();
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(tenant(&s, n).await);
    }
    let got = s.get_tenant(&ids[2]).await.unwrap().unwrap();
    assert_eq!(
        got,
        TenantRecord {
            id: ids[2],
            name: "tenant 2".into(),
            policy: TenantPolicy::default(),
            created_at: t(2)
        }
    );
    assert!(s.get_tenant(&TenantId::generate()).await.unwrap().is_none());
    let again = TenantRecord {
        id: ids[0],
        name: "again".into(),
        policy: TenantPolicy::default(),
        created_at: t(9),
    };
    assert!(matches!(
        s.insert_tenant(&again, &j()).await,
        Err(StorageError::Duplicate)
    ));

    let page = s.list_tenants(Page { skip: 1, count: 2 }).await.unwrap();
    assert_eq!(page.total, 5);
    assert_eq!(
        page.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        ids[1..3]
    );
    let past = s.list_tenants(Page { skip: 5, count: 2 }).await.unwrap();
    assert_eq!((past.items.len(), past.total), (0, 5));
    assert!(matches!(
        s.delete_tenant(&TenantId::generate(), &j()).await,
        Err(StorageError::NotFound)
    ));
}

pub(super) async fn tenant_names_are_unique_and_a_rename_keeps_them_so(s: Store) {
    let one = tenant(&s, 1).await;
    let two = tenant(&s, 2).await;
    let same_name = TenantRecord {
        id: TenantId::generate(),
        name: "tenant 1".into(),
        policy: TenantPolicy::default(),
        created_at: t(3),
    };
    assert!(matches!(
        s.insert_tenant(&same_name, &j()).await,
        Err(StorageError::Duplicate)
    ));
    assert!(matches!(
        s.rename_tenant(&two, "tenant 1", &j()).await,
        Err(StorageError::Duplicate)
    ));
    assert_eq!(s.get_tenant(&two).await.unwrap().unwrap().name, "tenant 2");
    let renamed = s.rename_tenant(&one, "first", &j()).await.unwrap();
    assert_eq!((renamed.id, renamed.name.as_str()), (one, "first"));
    assert_eq!(s.get_tenant(&one).await.unwrap().unwrap(), renamed);
    assert_eq!(renamed.created_at, t(1));
    s.rename_tenant(&one, "first", &j()).await.unwrap();
    s.insert_tenant(&same_name, &j()).await.unwrap();
    assert!(matches!(
        s.rename_tenant(&TenantId::generate(), "free", &j()).await,
        Err(StorageError::NotFound)
    ));
}

pub(super) async fn tenant_delete_cascades(s: Store) {
    let (tenant, pk) = client(&s, "svc").await;
    s.insert_secret_within_limit(pk, &new_secret(2), 10, &j())
        .await
        .unwrap();
    let other = tenant_id_with_client(&s, "svc").await;

    s.delete_tenant(&tenant, &j()).await.unwrap();
    assert!(s.get_tenant(&tenant).await.unwrap().is_none());
    let cid = ClientId::parse("svc").unwrap();
    assert!(
        s.get_client(&tenant, ClientKind::ClientCredentials, &cid)
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.load_credentials(&tenant, &cid).await.unwrap().is_none());
    assert!(s.get_secret(pk, SecretId(1)).await.unwrap().is_none());
    assert_eq!(
        s.list_secrets(pk, &SecretFilter::default(), ALL)
            .await
            .unwrap()
            .total,
        0
    );
    assert!(matches!(
        s.delete_tenant(&tenant, &j()).await,
        Err(StorageError::NotFound)
    ));
    // The other tenant is untouched.
    assert!(s.load_credentials(&other, &cid).await.unwrap().is_some());
}

/// Tenant and client policies round-trip, including NONE and back to none set.
pub(super) async fn policies_round_trip(s: Store) {
    let (a, pk) = client(&s, "svc").await;
    let before = s.get_secret(pk, SecretId(1)).await.unwrap();
    let tenant_policies = [
        TenantPolicy {
            default: Some(days(90)),
            max_lifetime: Some(ExpiryPolicy::new(ExpiryUnit::Years, 1).unwrap()),
            allow_self_rotation: true,
        },
        TenantPolicy {
            default: Some(ExpiryPolicy::NEVER),
            max_lifetime: None,
            allow_self_rotation: true,
        },
        TenantPolicy {
            default: Some(ExpiryPolicy::new(ExpiryUnit::Weeks, 3).unwrap()),
            max_lifetime: Some(ExpiryPolicy::new(ExpiryUnit::Months, 6).unwrap()),
            allow_self_rotation: false,
        },
        TenantPolicy::default(),
    ];
    for policy in tenant_policies {
        let change = TenantPolicyChange::whole(policy);
        assert_eq!(
            s.update_tenant_policy(&a, &change, &j()).await.unwrap(),
            policy
        );
        assert_eq!(s.get_tenant(&a).await.unwrap().unwrap().policy, policy);
    }
    // A change keeps the parts it does not name.
    let switch_on = TenantPolicyChange {
        allow_self_rotation: Some(true),
        ..TenantPolicyChange::default()
    };
    let on = TenantPolicy {
        allow_self_rotation: true,
        ..TenantPolicy::default()
    };
    assert_eq!(
        s.update_tenant_policy(&a, &switch_on, &j()).await.unwrap(),
        on
    );
    let expiry_only = TenantPolicyChange {
        default: Some(Some(days(30))),
        max_lifetime: Some(Some(days(60))),
        allow_self_rotation: None,
    };
    let both = TenantPolicy {
        default: Some(days(30)),
        max_lifetime: Some(days(60)),
        allow_self_rotation: true,
    };
    assert_eq!(
        s.update_tenant_policy(&a, &expiry_only, &j())
            .await
            .unwrap(),
        both
    );
    assert_eq!(s.get_tenant(&a).await.unwrap().unwrap().policy, both);
    let no_maximum = TenantPolicyChange {
        max_lifetime: Some(None),
        ..TenantPolicyChange::default()
    };
    assert_eq!(
        s.update_tenant_policy(&a, &no_maximum, &j()).await.unwrap(),
        TenantPolicy {
            max_lifetime: None,
            ..both
        },
        "removing the maximum keeps the default rule"
    );
    let default_only = TenantPolicyChange {
        default: Some(Some(days(7))),
        ..TenantPolicyChange::default()
    };
    s.update_tenant_policy(&a, &expiry_only, &j())
        .await
        .unwrap();
    assert_eq!(
        s.update_tenant_policy(&a, &default_only, &j())
            .await
            .unwrap(),
        TenantPolicy {
            default: Some(days(7)),
            ..both
        },
        "a new default rule keeps the maximum lifetime"
    );
    s.update_tenant_policy(
        &a,
        &TenantPolicyChange::whole(TenantPolicy::default()),
        &j(),
    )
    .await
    .unwrap();
    refused!(
        s.update_tenant_policy(&TenantId::generate(), &switch_on, &j())
            .await,
        StorageError::NotFound
    );

    let id = ClientId::parse("svc").unwrap();
    let client_policies = [
        Some(ExpiryPolicy::new(ExpiryUnit::Weeks, 2).unwrap()),
        Some(ExpiryPolicy::NEVER),
        Some(ExpiryPolicy::new(ExpiryUnit::Months, 18).unwrap()),
        None,
    ];
    for (n, own) in client_policies.into_iter().enumerate() {
        let policy = ClientPolicy { own };
        let at = t(500 + i64::try_from(n).unwrap());
        let updated = s.update_client_policy(pk, &policy, at, &j()).await.unwrap();
        assert_eq!((updated.policy, updated.updated_at), (policy, at));
        assert_eq!(s.get_client(&a, CC, &id).await.unwrap(), Some(updated));
    }
    refused!(
        s.update_client_policy(pk + 1000, &ClientPolicy::default(), t(600), &j())
            .await,
        StorageError::NotFound
    );
    // A policy change leaves existing secrets alone, and other tenants' policies.
    assert_eq!(s.get_secret(pk, SecretId(1)).await.unwrap(), before);
    let other = tenant(&s, 1).await;
    assert_eq!(
        s.get_tenant(&other).await.unwrap().unwrap().policy,
        TenantPolicy::default()
    );
}

/// Concurrent changes of different parts of a tenant's policy all hold: switching
/// self-rotation on is never undone by a change of the expiry rules that read the
/// policy before it.
pub(super) async fn concurrent_policy_changes_keep_each_others_parts(s: Store) {
    let a = tenant(&s, 0).await;
    let tasks: Vec<_> = (0..32u32)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                let change = if i == 16 {
                    TenantPolicyChange {
                        allow_self_rotation: Some(true),
                        ..TenantPolicyChange::default()
                    }
                } else {
                    TenantPolicyChange {
                        default: Some(Some(days(i + 1))),
                        ..TenantPolicyChange::default()
                    }
                };
                s.update_tenant_policy(&a, &change, &j()).await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let policy = s.get_tenant(&a).await.unwrap().unwrap().policy;
    assert!(policy.allow_self_rotation, "{policy:?}");
    assert!(
        (1..=32).any(|n| policy.default == Some(days(n))),
        "{policy:?}"
    );
}
