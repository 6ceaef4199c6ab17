//! Conformance of the webhooks-per-tenant limit, on both databases: inserts beyond
//! `webhooks_max` are refused (`LimitReached`), a deletion frees a slot, a refused
//! or failed insert takes none, another tenant has its own count, and the limit
//! holds under concurrent inserts.

use uuid::Uuid;

use super::{ALL, Store, add_webhook_within, j, t, tenant};
use crate::domain::ids::TenantId;
use crate::storage::{StorageError, WebhookRecord};

fn webhook(tenant: TenantId) -> WebhookRecord {
    let id = Uuid::new_v4();
    WebhookRecord {
        id,
        tenant,
        url: format!("https://hooks.example/{id}"),
        description: String::new(),
        event_types: vec![],
        enabled: true,
        signing_secret_sealed: vec![1, 2, 3],
        created_at: t(1),
        updated_at: t(1),
    }
}

pub(super) async fn webhooks_limit_counts_live_subscriptions(s: Store) {
    let (a, b) = (tenant(&s, 0).await, tenant(&s, 1).await);
    let first = webhook(a);
    add_webhook_within(&s, &first, 2).await.unwrap();
    // A duplicate id fails and takes no slot.
    assert!(add_webhook_within(&s, &first, 2).await.is_err());
    add_webhook_within(&s, &webhook(a), 2).await.unwrap();
    let refused = add_webhook_within(&s, &webhook(a), 2).await;
    assert!(
        matches!(refused, Err(StorageError::LimitReached(2))),
        "{refused:?}"
    );
    // Another tenant counts its own.
    add_webhook_within(&s, &webhook(b), 2).await.unwrap();
    // Deleting one frees its slot, once.
    s.delete_webhook(&a, first.id, &j()).await.unwrap();
    let again = s.delete_webhook(&a, first.id, &j()).await;
    assert!(matches!(again, Err(StorageError::NotFound)), "{again:?}");
    add_webhook_within(&s, &webhook(a), 2).await.unwrap();
    let refused = add_webhook_within(&s, &webhook(a), 2).await;
    assert!(
        matches!(refused, Err(StorageError::LimitReached(2))),
        "{refused:?}"
    );
    // A lower limit than the count refuses; a missing tenant is NotFound.
    let refused = add_webhook_within(&s, &webhook(a), 1).await;
    assert!(
        matches!(refused, Err(StorageError::LimitReached(1))),
        "{refused:?}"
    );
    let nowhere = add_webhook_within(&s, &webhook(TenantId::generate()), 2).await;
    assert!(
        matches!(nowhere, Err(StorageError::NotFound)),
        "{nowhere:?}"
    );
    assert_eq!(s.list_webhooks(&a, ALL).await.unwrap().total, 2);
}

pub(super) async fn concurrent_webhook_inserts_respect_limit(s: Store) {
    let tenant = tenant(&s, 0).await;
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { add_webhook_within(&s, &webhook(tenant), 5).await })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => ok += 1,
            Err(StorageError::LimitReached(5)) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(ok, 5);
    assert_eq!(s.list_webhooks(&tenant, ALL).await.unwrap().total, 5);
}
