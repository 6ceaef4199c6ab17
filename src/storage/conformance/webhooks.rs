//! Conformance of webhook subscriptions (round trip, tenant scoping, cascade)
//! and email recipients.

use uuid::Uuid;

use super::{
    ALL, Store, WEBHOOKS_MAX, add_webhook, attempt, audit_of, claim_all, deliveries, emit, event,
    j, journal, refused, t, tenant,
};
use crate::domain::events::EventType;
use crate::domain::ids::TenantId;
use crate::storage::{AttemptOutcome, NextStep, Page, StorageError, WebhookRecord};

/// Webhook subscriptions round-trip; update and delete find only the tenant's own;
/// deleting one removes its deliveries, deleting the tenant removes them all.
pub(super) async fn webhooks_round_trip_and_cascade(s: Store) {
    let (a, b) = (tenant(&s, 0).await, tenant(&s, 1).await);
    let w1 = add_webhook(
        &s,
        a,
        vec![EventType::Created, EventType::Revoked, EventType::Expiring],
        true,
        t(5),
    )
    .await;
    let w2 = add_webhook(&s, a, vec![], true, t(6)).await;
    let w3 = add_webhook(&s, a, EventType::ALL.to_vec(), false, t(7)).await;
    let wb = add_webhook(&s, b, vec![], true, t(8)).await;
    assert_eq!(s.get_webhook(&a, w1.id).await.unwrap(), Some(w1.clone()));
    assert_eq!(s.get_webhook(&a, w2.id).await.unwrap(), Some(w2.clone()));
    assert!(s.get_webhook(&b, w1.id).await.unwrap().is_none());
    assert!(s.get_webhook(&a, Uuid::new_v4()).await.unwrap().is_none());
    let listed = s.list_webhooks(&a, ALL).await.unwrap();
    assert_eq!(
        (listed.items.clone(), listed.total),
        (vec![w1.clone(), w2.clone(), w3.clone()], 3)
    );
    let page = s
        .list_webhooks(&a, Page { skip: 1, count: 1 })
        .await
        .unwrap();
    assert_eq!((page.items, page.total), (vec![w2.clone()], 3));
    assert!(
        s.insert_webhook(&w1, WEBHOOKS_MAX, &j()).await.is_err(),
        "a webhook id is taken once"
    );

    // Update writes url, description, types and enabled, nothing else.
    let changed = WebhookRecord {
        url: "https://elsewhere.example/hook".into(),
        description: "moved".into(),
        event_types: vec![EventType::Expired],
        enabled: false,
        updated_at: t(50),
        signing_secret_sealed: vec![9, 9, 9],
        created_at: t(49),
        ..w1.clone()
    };
    s.update_webhook(&changed, &j()).await.unwrap();
    let expected = WebhookRecord {
        signing_secret_sealed: w1.signing_secret_sealed.clone(),
        created_at: w1.created_at,
        ..changed.clone()
    };
    assert_eq!(s.get_webhook(&a, w1.id).await.unwrap(), Some(expected));
    let reenabled = WebhookRecord {
        event_types: vec![],
        enabled: true,
        ..changed.clone()
    };
    s.update_webhook(&reenabled, &j()).await.unwrap();
    assert_eq!(
        s.get_webhook(&a, w1.id).await.unwrap().unwrap().event_types,
        []
    );
    refused!(
        s.update_webhook(
            &WebhookRecord {
                id: Uuid::new_v4(),
                ..w1.clone()
            },
            &j()
        )
        .await,
        StorageError::NotFound
    );
    refused!(
        s.update_webhook(
            &WebhookRecord {
                tenant: b,
                ..w1.clone()
            },
            &j()
        )
        .await,
        StorageError::NotFound
    );
    assert_eq!(
        s.get_webhook(&b, wb.id).await.unwrap(),
        Some(wb.clone()),
        "untouched"
    );

    // Deleting a subscription deletes its deliveries and nothing else.
    emit(&s, &event(EventType::Created, a, 1, t(100))).await;
    emit(&s, &event(EventType::Created, b, 1, t(100))).await;
    let w2_delivery = deliveries(&s, a, w2.id).await[0].id;
    assert_eq!(deliveries(&s, a, w1.id).await.len(), 1);
    refused!(
        s.delete_webhook(&b, w2.id, &j()).await,
        StorageError::NotFound
    );
    // An attempt is under way when its subscription is deleted.
    let in_flight = s.claim_deliveries(t(150), t(160), 10).await.unwrap();
    assert_eq!(in_flight.len(), 3);
    s.delete_webhook(&a, w2.id, &j()).await.unwrap();
    assert!(s.get_webhook(&a, w2.id).await.unwrap().is_none());
    // Its outcome has nothing left to record: not an error, and nothing comes back.
    let outcome = AttemptOutcome {
        record: attempt(1, t(151), Some(200), None),
        next: NextStep::Delivered,
    };
    s.finish_attempt(w2_delivery, &outcome).await.unwrap();
    assert!(deliveries(&s, a, w2.id).await.is_empty());
    assert!(
        s.get_delivery(&a, w2.id, w2_delivery)
            .await
            .unwrap()
            .is_none()
    );
    refused!(
        s.delete_webhook(&a, w2.id, &j()).await,
        StorageError::NotFound
    );
    assert_eq!(deliveries(&s, a, w1.id).await.len(), 1);
    assert_eq!(s.list_webhooks(&a, ALL).await.unwrap().total, 2);

    // Deleting the tenant deletes its subscriptions and their deliveries.
    s.delete_tenant(&a, &j()).await.unwrap();
    let gone = s.list_webhooks(&a, ALL).await.unwrap();
    assert_eq!((gone.items.len(), gone.total), (0, 0));
    assert!(s.get_webhook(&a, w1.id).await.unwrap().is_none());
    assert!(deliveries(&s, a, w1.id).await.is_empty());
    let claimed = claim_all(&s, t(1000)).await;
    assert_eq!(
        claimed
            .iter()
            .map(|c| (c.tenant, c.delivery.webhook_id))
            .collect::<Vec<_>>(),
        [(b, Some(wb.id))]
    );
    assert_eq!(s.list_webhooks(&b, ALL).await.unwrap().total, 1);
}

/// Recipients: each write replaces the list, duplicates collapse, unknown tenants
/// are not found, and concurrent replacements all succeed.
pub(super) async fn recipients_are_replaced_and_deduplicated(s: Store) {
    let (a, b) = (tenant(&s, 0).await, tenant(&s, 1).await);
    let emails = |list: &[&str]| list.iter().map(|e| (*e).to_owned()).collect::<Vec<_>>();
    assert!(s.recipients(&a).await.unwrap().is_empty());
    s.set_recipients(
        &a,
        &emails(&["ops@example.com", "dev@example.com", "ops@example.com"]),
        &j(),
    )
    .await
    .unwrap();
    s.set_recipients(&b, &emails(&["b@example.com"]), &j())
        .await
        .unwrap();
    assert_eq!(
        s.recipients(&a).await.unwrap(),
        emails(&["dev@example.com", "ops@example.com"])
    );
    s.set_recipients(&a, &emails(&["sec@example.com"]), &j())
        .await
        .unwrap();
    assert_eq!(
        s.recipients(&a).await.unwrap(),
        emails(&["sec@example.com"])
    );
    s.set_recipients(&a, &[], &j()).await.unwrap();
    assert!(s.recipients(&a).await.unwrap().is_empty());
    assert_eq!(s.recipients(&b).await.unwrap(), emails(&["b@example.com"]));
    let nowhere = TenantId::generate();
    let jf = journal(a, "failed.recipients", t(10));
    refused!(
        s.set_recipients(&nowhere, &emails(&["x@example.com"]), &jf)
            .await,
        StorageError::NotFound
    );
    assert!(s.recipients(&nowhere).await.unwrap().is_empty());
    assert!(audit_of(&s, a, "failed.recipients").await.is_empty());

    // Administrators saving at once: every save succeeds, one list wins whole.
    let lists: Vec<Vec<String>> = (0..6)
        .map(|n| emails(&[&format!("a{n}@example.com"), &format!("b{n}@example.com")]))
        .collect();
    let tasks: Vec<_> = lists
        .iter()
        .cloned()
        .map(|list| {
            let s = s.clone();
            tokio::spawn(async move { s.set_recipients(&a, &list, &j()).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let now = s.recipients(&a).await.unwrap();
    assert!(lists.contains(&now), "{now:?}");

    // Deleting the tenant deletes its recipients.
    s.delete_tenant(&a, &j()).await.unwrap();
    assert!(s.recipients(&a).await.unwrap().is_empty());
}
