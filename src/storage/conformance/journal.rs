//! Conformance of the journal: the audit entry and event a write carries commit
//! or roll back with it, and an event fans out to webhook and email deliveries.

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

use super::{
    CC, Store, WEBHOOKS_MAX, add_webhook, assert_audited, audit_of, claim_all, days, deliveries,
    emit, entry, event, event_ids, j, journal, new_client, new_secret, refused, settings, subject,
    t, tenant,
};
use crate::domain::audit::{AuditEntry, Outcome};
use crate::domain::events::{Event, EventType};
use crate::domain::ids::{ClientId, ClientKind, SecretId, TenantId};
use crate::domain::policy::{ClientPolicy, TenantPolicyChange};
use crate::storage::{Channel, DeliveryState, Journal, StorageError, WebhookRecord};

/// A write's audit entry and event commit with it, and a refused write leaves
/// neither an entry nor an event nor a delivery.
pub(super) async fn journal_is_atomic_with_its_write(s: Store) {
    let a = tenant(&s, 0).await;
    let hook = add_webhook(&s, a, vec![], true, t(1)).await;
    let spare = add_webhook(&s, a, vec![EventType::Expired], true, t(2)).await;

    // The first secret's id reaches both the entry and the event.
    let create = entry(a, "client.create", t(100));
    let created = Event::new(EventType::Created, subject(a, 0, Some(t(100_000))), t(100));
    let (c, _) = s
        .insert_client_with_secret(
            &new_client(a, "svc", CC),
            &new_secret(1),
            10,
            &Journal::new(create.clone()).with_event(created.clone()),
        )
        .await
        .unwrap();
    assert_audited(
        &s,
        &AuditEntry {
            secret_id: Some(SecretId(1)),
            ..create
        },
    )
    .await;
    let ds = deliveries(&s, a, hook.id).await;
    assert_eq!(ds.len(), 1);
    let d = &ds[0];
    assert_eq!(
        (
            d.event_id,
            d.event_type.as_str(),
            d.channel,
            d.webhook_id,
            d.state,
            d.attempts
        ),
        (
            created.id,
            "secret.created",
            Channel::Webhook,
            Some(hook.id),
            DeliveryState::Pending,
            0
        )
    );
    assert_eq!(
        (d.next_attempt_at, d.created_at, d.delivered_at),
        (t(100), t(100), None)
    );
    assert_eq!((d.last_status, &d.last_error), (None, &None));

    // A refused attempt on its own, with the optional fields empty or set.
    let refused_entry = AuditEntry {
        outcome: Outcome::Refused,
        reason: Some("secret expired".into()),
        actor_type: "client".into(),
        client_kind: Some(ClientKind::Hybrid),
        secret_id: Some(SecretId(7)),
        source: None,
        operation_id: None,
        ..entry(a, "token.request", t(99))
    };
    s.insert_audit(&refused_entry).await.unwrap();
    assert_audited(&s, &refused_entry).await;

    // Every other write leaves exactly its entry, every field kept.
    let mut expected = Vec::new();
    let jr = journal(a, "secret.create", t(101));
    s.insert_secret_within_limit(c.pk, &new_secret(2), 10, &jr)
        .await
        .unwrap();
    expected.push(AuditEntry {
        secret_id: Some(SecretId(2)),
        ..jr.audit
    });
    let mut second = s.get_secret(c.pk, SecretId(2)).await.unwrap().unwrap();
    second.description = "changed".into();
    let jr = journal(a, "secret.update", t(102));
    s.update_secret(c.pk, &second, &jr).await.unwrap();
    expected.push(jr.audit);
    let jr = journal(a, "secret.revoke", t(103));
    s.revoke_secret(c.pk, SecretId(2), t(103), &jr)
        .await
        .unwrap();
    expected.push(jr.audit);
    let jr = journal(a, "client.update", t(104));
    s.update_client(c.pk, &settings(CC, "renamed"), t(104), &jr)
        .await
        .unwrap();
    expected.push(jr.audit);
    let jr = journal(a, "client.policy", t(105));
    let policy = ClientPolicy { own: Some(days(9)) };
    s.update_client_policy(c.pk, &policy, t(105), &jr)
        .await
        .unwrap();
    expected.push(jr.audit);
    let jr = journal(a, "tenant.policy", t(106));
    s.update_tenant_policy(&a, &TenantPolicyChange::default(), &jr)
        .await
        .unwrap();
    expected.push(jr.audit);
    let jr = journal(a, "webhook.update", t(107));
    s.update_webhook(&hook, &jr).await.unwrap();
    expected.push(jr.audit);
    let jr = journal(a, "recipients.set", t(108));
    s.set_recipients(&a, &["ops@example.com".into()], &jr)
        .await
        .unwrap();
    expected.push(jr.audit);
    let jr = journal(a, "delivery.resend", t(109));
    s.resend_delivery(&a, hook.id, d.id, t(109), &jr)
        .await
        .unwrap();
    expected.push(jr.audit);
    let extra = WebhookRecord {
        id: Uuid::new_v4(),
        ..hook.clone()
    };
    let jr = journal(a, "webhook.create", t(110));
    s.insert_webhook(&extra, WEBHOOKS_MAX, &jr).await.unwrap();
    expected.push(jr.audit);
    let jr = journal(a, "webhook.delete", t(111));
    s.delete_webhook(&a, extra.id, &jr).await.unwrap();
    expected.push(jr.audit);
    for e in &expected {
        assert_audited(&s, e).await;
    }

    // Refused writes, each carrying an entry and an event: nothing is written.
    let failed = Event::new(EventType::Created, subject(a, 9, None), t(200));
    let jf = journal(a, "failed.write", t(200)).with_event(failed.clone());
    let nowhere = TenantId::generate();
    let cid = |id: &str| ClientId::parse(id).unwrap();
    refused!(
        s.insert_client_with_secret(
            &new_client(a, "svc", ClientKind::Hybrid),
            &new_secret(1),
            10,
            &jf
        )
        .await,
        StorageError::Duplicate
    );
    refused!(
        s.insert_client_with_secret(&new_client(a, "more", CC), &new_secret(1), 1, &jf)
            .await,
        StorageError::LimitReached(1)
    );
    refused!(
        s.insert_client_with_secret(&new_client(nowhere, "svc", CC), &new_secret(1), 10, &jf)
            .await,
        StorageError::NotFound
    );
    refused!(
        s.insert_secret_within_limit(c.pk, &new_secret(3), 1, &jf)
            .await,
        StorageError::LimitReached(1)
    );
    refused!(
        s.insert_secret_within_limit(c.pk + 1000, &new_secret(3), 10, &jf)
            .await,
        StorageError::NotFound
    );
    refused!(
        s.update_secret(c.pk, &second, &jf).await,
        StorageError::NotFound
    );
    refused!(
        s.revoke_secret(c.pk, SecretId(2), t(200), &jf).await,
        StorageError::NotFound
    );
    refused!(
        s.update_client(c.pk + 1000, &settings(CC, "x"), t(200), &jf)
            .await,
        StorageError::NotFound
    );
    refused!(
        s.update_client_policy(c.pk + 1000, &policy, t(200), &jf)
            .await,
        StorageError::NotFound
    );
    refused!(
        s.update_tenant_policy(&nowhere, &TenantPolicyChange::default(), &jf)
            .await,
        StorageError::NotFound
    );
    refused!(
        s.delete_client(&a, CC, &cid("nobody"), &jf).await,
        StorageError::NotFound
    );
    refused!(s.delete_tenant(&nowhere, &jf).await, StorageError::NotFound);
    let orphan = WebhookRecord {
        id: Uuid::new_v4(),
        tenant: nowhere,
        ..hook.clone()
    };
    refused!(
        s.insert_webhook(&orphan, WEBHOOKS_MAX, &jf).await,
        StorageError::NotFound
    );
    refused!(s.update_webhook(&orphan, &jf).await, StorageError::NotFound);
    refused!(
        s.delete_webhook(&a, orphan.id, &jf).await,
        StorageError::NotFound
    );
    refused!(
        s.resend_delivery(&a, hook.id, d.id + 1000, t(200), &jf)
            .await,
        StorageError::NotFound
    );
    refused!(
        s.set_recipients(&nowhere, &["x@example.com".into()], &jf)
            .await,
        StorageError::NotFound
    );
    assert!(audit_of(&s, a, "failed.write").await.is_empty());
    assert_eq!(event_ids(&s, a, hook.id).await, [created.id]);
    assert!(event_ids(&s, a, spare.id).await.is_empty());

    // A successful delete is journalled like the others.
    let jr = journal(a, "client.delete", t(300));
    s.delete_client(&a, CC, &cid("svc"), &jr).await.unwrap();
    assert_audited(&s, &jr.audit).await;

    // The outbox holds the one event, about secret 1.
    let claimed = claim_all(&s, t(1000)).await;
    assert_eq!(claimed.len(), 1, "{claimed:?}");
    assert_eq!(claimed[0].delivery.event_id, created.id);
    let payload: serde_json::Value = serde_json::from_str(&claimed[0].payload).unwrap();
    assert_eq!(payload["data"]["secretId"], 1);
    assert_eq!(payload["type"], "secret.created");
}

/// An event goes to each enabled subscription to its type, and by email only when
/// it is an expiry notice and the tenant has recipients.
pub(super) async fn events_fan_out_to_subscriptions(s: Store) {
    let (a, b) = (tenant(&s, 0).await, tenant(&s, 1).await);
    let all = add_webhook(&s, a, vec![], true, t(1)).await;
    let created = add_webhook(
        &s,
        a,
        vec![EventType::Created, EventType::Renewed],
        true,
        t(2),
    )
    .await;
    let revoked = add_webhook(&s, a, vec![EventType::Revoked], true, t(3)).await;
    let off = add_webhook(&s, a, vec![], false, t(4)).await;
    let off_created = add_webhook(&s, a, vec![EventType::Created], false, t(5)).await;
    let other = add_webhook(&s, b, vec![], true, t(6)).await;
    s.set_recipients(&b, &["b@example.com".into()], &j())
        .await
        .unwrap();
    let (c, _) = s
        .insert_client_with_secret(&new_client(a, "svc", CC), &new_secret(1), 10, &j())
        .await
        .unwrap();

    let created_ev = event(EventType::Created, a, 2, t(100));
    s.insert_secret_within_limit(
        c.pk,
        &new_secret(2),
        10,
        &j().with_event(created_ev.clone()),
    )
    .await
    .unwrap();
    assert_eq!(event_ids(&s, a, all.id).await, [created_ev.id]);
    assert_eq!(event_ids(&s, a, created.id).await, [created_ev.id]);
    for quiet in [&revoked, &off, &off_created] {
        assert!(event_ids(&s, a, quiet.id).await.is_empty());
    }
    assert!(event_ids(&s, b, other.id).await.is_empty());

    let revoked_ev = event(EventType::Revoked, a, 2, t(101));
    s.revoke_secret(
        c.pk,
        SecretId(2),
        t(101),
        &j().with_event(revoked_ev.clone()),
    )
    .await
    .unwrap();
    assert_eq!(
        event_ids(&s, a, all.id).await,
        [revoked_ev.id, created_ev.id]
    );
    assert_eq!(event_ids(&s, a, created.id).await, [created_ev.id]);
    assert_eq!(event_ids(&s, a, revoked.id).await, [revoked_ev.id]);

    // Expiry notices: by email only once the tenant has recipients.
    let early = event(EventType::Expiring, a, 1, t(102));
    emit(&s, &early).await;
    s.set_recipients(&a, &["ops@example.com".into()], &j())
        .await
        .unwrap();
    let expiring = event(EventType::Expiring, a, 1, t(103));
    emit(&s, &expiring).await;
    let expired = event(EventType::Expired, a, 1, t(104));
    emit(&s, &expired).await;
    let renewed = event(EventType::Renewed, a, 1, t(105));
    emit(&s, &renewed).await;
    let updated = event(EventType::Updated, a, 1, t(106));
    emit(&s, &updated).await;
    for quiet in [&off, &off_created] {
        assert!(event_ids(&s, a, quiet.id).await.is_empty());
    }
    assert_eq!(
        event_ids(&s, a, created.id).await,
        [renewed.id, created_ev.id]
    );
    assert_eq!(event_ids(&s, a, all.id).await.len(), 7);

    let events: BTreeMap<Uuid, &Event> = [
        &created_ev,
        &revoked_ev,
        &early,
        &expiring,
        &expired,
        &renewed,
        &updated,
    ]
    .into_iter()
    .map(|e| (e.id, e))
    .collect();
    let hooks: BTreeMap<Uuid, &WebhookRecord> = [&all, &created, &revoked]
        .into_iter()
        .map(|w| (w.id, w))
        .collect();
    let claimed = claim_all(&s, t(1000)).await;
    // 7 to `all`, 2 to `created`, 1 to `revoked`, 2 emails.
    assert_eq!(claimed.len(), 12, "{claimed:?}");
    let mut emails = BTreeSet::new();
    for c in &claimed {
        let ev = events[&c.delivery.event_id];
        assert_eq!(c.tenant, a);
        assert_eq!(c.delivery.event_type, ev.kind.as_str());
        let payload: serde_json::Value = serde_json::from_str(&c.payload).unwrap();
        assert_eq!(payload, ev.payload());
        match c.delivery.channel {
            Channel::Email => {
                assert_eq!((c.delivery.webhook_id, &c.webhook), (None, &None));
                assert!(emails.insert(ev.id), "one email per event");
            }
            Channel::Webhook => {
                let hook = hooks[&c.delivery.webhook_id.unwrap()];
                assert_eq!(
                    c.webhook,
                    Some((hook.url.clone(), hook.signing_secret_sealed.clone()))
                );
            }
        }
    }
    assert_eq!(emails, BTreeSet::from([expiring.id, expired.id]));
}
