//! Conformance of the issue-4 storage, on both databases: the journal written
//! with each change, event fan-out to webhook and email deliveries, the delivery
//! queue (claims, leases, retries, resends), webhook and recipient management,
//! the once-only expiry notices, the audit trail's filters, secret filters and
//! the tenant inventory, and secret policies.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{ALL, Store, client, j, new_client, new_secret, settings, t, tenant};
use crate::domain::audit::{AuditEntry, AuditFilter, Outcome};
use crate::domain::events::{Event, EventType, SecretSubject};
use crate::domain::expiry::{ExpiryPolicy, ExpiryUnit};
use crate::domain::ids::{ClientId, ClientKind, SecretId, TenantId};
use crate::domain::policy::{ClientPolicy, TenantPolicy};
use crate::storage::{
    AttemptOutcome, AttemptRecord, Channel, ClaimedDelivery, DeliveryRecord, DeliveryState,
    DueSecret, Journal, NewSecret, NextStep, Page, SecretFilter, SecretStatusFilter, SecretUse,
    StorageError, WebhookRecord,
};

const CC: ClientKind = ClientKind::ClientCredentials;
const K1: &str = "expiring:1d";
const K7: &str = "expiring:7d";
const K30: &str = "expiring:30d";
/// A limit of webhooks per tenant no test here reaches.
pub(super) const WEBHOOKS_MAX: u32 = 100;

/// Asserts that `$res` failed with an error matching `$pat`.
macro_rules! refused {
    ($res:expr, $pat:pat) => {{
        let res = $res;
        assert!(matches!(res, Err($pat)), "{}: {res:?}", stringify!($res));
    }};
}

// ---- fixtures ----

/// An audit entry with every field set, about client `svc` of `tenant`.
fn entry(tenant: TenantId, action: &str, at: DateTime<Utc>) -> AuditEntry {
    AuditEntry {
        seq: 0,
        at,
        tenant: Some(tenant),
        actor_type: "user".into(),
        actor: "alice@example.com".into(),
        action: action.into(),
        outcome: Outcome::Success,
        reason: None,
        client_kind: Some(CC),
        client_id: Some("svc".into()),
        secret_id: None,
        source: Some("198.51.100.7".into()),
        operation_id: Some(Uuid::new_v4()),
        count: 1,
    }
}

fn journal(tenant: TenantId, action: &str, at: DateTime<Utc>) -> Journal {
    Journal::new(entry(tenant, action, at))
}

fn subject(tenant: TenantId, secret: i32, expiration: Option<DateTime<Utc>>) -> SecretSubject {
    SecretSubject {
        tenant,
        client_kind: CC,
        client_id: "svc".into(),
        secret_id: SecretId(secret),
        description: format!("secret {secret}"),
        hint: "lkcs_AbCd".into(),
        expiration,
    }
}

fn event(kind: EventType, tenant: TenantId, secret: i32, at: DateTime<Utc>) -> Event {
    Event::new(kind, subject(tenant, secret, Some(t(100_000))), at)
}

/// Writes `event` with a change that is only there to carry it.
async fn emit(s: &Store, event: &Event) {
    s.update_tenant_policy(
        &event.subject.tenant,
        &TenantPolicy::default(),
        &j().with_event(event.clone()),
    )
    .await
    .unwrap();
}

pub(super) async fn add_webhook_within(
    s: &Store,
    w: &WebhookRecord,
    max: u32,
) -> Result<(), StorageError> {
    s.insert_webhook(w, max, &j()).await
}

async fn add_webhook(
    s: &Store,
    tenant: TenantId,
    event_types: Vec<EventType>,
    enabled: bool,
    at: DateTime<Utc>,
) -> WebhookRecord {
    let id = Uuid::new_v4();
    let w = WebhookRecord {
        id,
        tenant,
        url: format!("https://hooks.example/{id}"),
        description: format!("hook {id}"),
        event_types,
        enabled,
        signing_secret_sealed: vec![0, 1, 0xfe, 0xff, id.as_bytes()[0]],
        created_at: at,
        updated_at: at,
    };
    s.insert_webhook(&w, WEBHOOKS_MAX, &j()).await.unwrap();
    w
}

/// The subscription's deliveries, newest first.
async fn deliveries(s: &Store, tenant: TenantId, hook: Uuid) -> Vec<DeliveryRecord> {
    let page = s.list_deliveries(&tenant, hook, ALL).await.unwrap();
    assert_eq!(page.total, page.items.len() as u64);
    page.items
}

async fn event_ids(s: &Store, tenant: TenantId, hook: Uuid) -> Vec<Uuid> {
    deliveries(s, tenant, hook)
        .await
        .iter()
        .map(|d| d.event_id)
        .collect()
}

async fn delivery(s: &Store, tenant: TenantId, hook: Uuid, id: i64) -> DeliveryRecord {
    s.get_delivery(&tenant, hook, id).await.unwrap().unwrap()
}

/// Claims every delivery due at `now` (leased for a minute).
async fn claim_all(s: &Store, now: DateTime<Utc>) -> Vec<ClaimedDelivery> {
    s.claim_deliveries(now, now + Duration::seconds(60), 1000)
        .await
        .unwrap()
}

fn ids_of(claimed: &[ClaimedDelivery]) -> Vec<i64> {
    let mut ids: Vec<i64> = claimed.iter().map(|c| c.delivery.id).collect();
    ids.sort_unstable();
    ids
}

async fn audit_of(s: &Store, tenant: TenantId, action: &str) -> Vec<AuditEntry> {
    let filter = AuditFilter {
        action: Some(action.into()),
        ..AuditFilter::default()
    };
    let page = s.list_audit(&tenant, &filter, ALL).await.unwrap();
    assert_eq!(page.total, page.items.len() as u64);
    page.items
}

/// Asserts the trail holds `expected` exactly once (with its storage-assigned seq).
async fn assert_audited(s: &Store, expected: &AuditEntry) {
    let found = audit_of(s, expected.tenant.unwrap(), &expected.action).await;
    assert_eq!(found.len(), 1, "{}: {found:?}", expected.action);
    let mut expected = expected.clone();
    expected.seq = found[0].seq;
    assert_eq!(found[0], expected);
}

fn attempt(n: u32, at: DateTime<Utc>, status: Option<u16>, error: Option<&str>) -> AttemptRecord {
    AttemptRecord {
        attempt: n,
        at,
        status,
        error: error.map(Into::into),
        duration_ms: 40 + n,
    }
}

async fn finish(s: &Store, id: i64, record: AttemptRecord, next: NextStep) {
    s.finish_attempt(id, &AttemptOutcome { record, next })
        .await
        .unwrap();
}

fn expiring(n: u8, expiration: Option<DateTime<Utc>>) -> NewSecret {
    NewSecret {
        expiration,
        ..new_secret(n)
    }
}

fn days(n: u32) -> ExpiryPolicy {
    ExpiryPolicy::new(ExpiryUnit::Days, n).unwrap()
}

// ---- behaviours ----

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
    s.update_tenant_policy(&a, &TenantPolicy::default(), &jr)
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
        s.update_tenant_policy(&nowhere, &TenantPolicy::default(), &jf)
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

/// A lease renewed while its attempt is under way keeps the delivery from other
/// nodes; finished deliveries, and ids never claimed, are left alone.
pub(super) async fn renewed_leases_keep_a_claim(s: Store) {
    let a = tenant(&s, 0).await;
    let hook = add_webhook(&s, a, vec![], true, t(1)).await;
    for n in 0..3 {
        emit(&s, &event(EventType::Updated, a, 1, t(100 + n))).await;
    }
    let claimed = s.claim_deliveries(t(200), t(260), 2).await.unwrap();
    let (d1, d2) = (claimed[0].delivery.id, claimed[1].delivery.id);
    finish(
        &s,
        d2,
        attempt(1, t(210), Some(200), None),
        NextStep::Delivered,
    )
    .await;
    let unclaimed: Vec<i64> = deliveries(&s, a, hook.id)
        .await
        .iter()
        .map(|d| d.id)
        .filter(|id| ![d1, d2].contains(id))
        .collect();
    assert_eq!(unclaimed.len(), 1);
    let mut ids = vec![d1, d2];
    ids.extend(&unclaimed);
    s.renew_leases(&ids, t(400)).await.unwrap();
    s.renew_leases(&[], t(400)).await.unwrap();

    // At t(300) the first lease would have ended; renewed, d1 stays claimed.
    let later = s.claim_deliveries(t(300), t(500), 10).await.unwrap();
    assert_eq!(ids_of(&later), unclaimed, "only the never-claimed one");
    assert_eq!(
        delivery(&s, a, hook.id, d2).await.state,
        DeliveryState::Delivered
    );
    let after = s.claim_deliveries(t(400), t(460), 10).await.unwrap();
    assert_eq!(
        ids_of(&after),
        [d1],
        "claimable once the renewed lease ends"
    );
    assert_eq!(after[0].delivery.attempts, 2);
}

/// Claims lease deliveries; finished attempts set state, schedule and log; a
/// lease that ends (the node died) makes the delivery claimable again.
pub(super) async fn claims_lease_retry_and_finish(s: Store) {
    let (a, b) = (tenant(&s, 0).await, tenant(&s, 1).await);
    let hook = add_webhook(&s, a, vec![], true, t(1)).await;
    for n in 0..3 {
        emit(&s, &event(EventType::Updated, a, 1, t(100 + n))).await;
    }
    let mut ids: Vec<i64> = deliveries(&s, a, hook.id)
        .await
        .iter()
        .map(|d| d.id)
        .collect();
    ids.reverse();
    let (d1, d2, d3) = (ids[0], ids[1], ids[2]);
    assert!(d1 < d2 && d2 < d3);

    assert!(claim_all(&s, t(99)).await.is_empty(), "not due yet");
    let first = s.claim_deliveries(t(200), t(260), 2).await.unwrap();
    assert_eq!(ids_of(&first), [d1, d2], "oldest first, at most the limit");
    for c in &first {
        assert_eq!(
            (c.delivery.state, c.delivery.attempts),
            (DeliveryState::Pending, 1)
        );
    }
    let rest = s.claim_deliveries(t(200), t(260), 10).await.unwrap();
    assert_eq!(ids_of(&rest), [d3]);
    assert!(
        s.claim_deliveries(t(259), t(300), 10)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );

    finish(
        &s,
        d1,
        attempt(1, t(210), Some(200), None),
        NextStep::Delivered,
    )
    .await;
    let retry = attempt(1, t(211), Some(503), Some("Service Unavailable"));
    finish(&s, d2, retry.clone(), NextStep::RetryAt(t(1000))).await;
    // d3's node dies: no finish.

    let got = delivery(&s, a, hook.id, d1).await;
    assert_eq!(
        (
            got.state,
            got.attempts,
            got.next_attempt_at,
            got.delivered_at
        ),
        (DeliveryState::Delivered, 1, t(210), Some(t(210)))
    );
    assert_eq!((got.last_status, &got.last_error), (Some(200), &None));
    assert_eq!(got.attempt_log, [attempt(1, t(210), Some(200), None)]);
    let got = delivery(&s, a, hook.id, d2).await;
    assert_eq!(
        (
            got.state,
            got.attempts,
            got.next_attempt_at,
            got.delivered_at
        ),
        (DeliveryState::Pending, 1, t(1000), None)
    );
    assert_eq!(
        (got.last_status, got.last_error.as_deref()),
        (Some(503), Some("Service Unavailable"))
    );
    assert_eq!(got.attempt_log, std::slice::from_ref(&retry));

    // The lease ends: d3 comes back; d2 waits for its retry time; d1 is done.
    let again = s.claim_deliveries(t(260), t(320), 10).await.unwrap();
    assert_eq!(ids_of(&again), [d3]);
    assert_eq!(again[0].delivery.attempts, 2);
    let gave_up = attempt(2, t(270), None, Some("connection refused"));
    finish(&s, d3, gave_up.clone(), NextStep::GiveUp).await;
    let got = delivery(&s, a, hook.id, d3).await;
    assert_eq!(
        (
            got.state,
            got.attempts,
            got.next_attempt_at,
            got.delivered_at
        ),
        (DeliveryState::Failed, 2, t(270), None)
    );
    assert_eq!(
        (got.last_status, got.last_error.as_deref()),
        (None, Some("connection refused"))
    );
    assert_eq!(got.attempt_log, [gave_up]);

    assert!(claim_all(&s, t(999)).await.is_empty(), "retry not due yet");
    let due = claim_all(&s, t(1000)).await;
    assert_eq!(ids_of(&due), [d2]);
    assert_eq!(due[0].delivery.attempts, 2);
    let ok = attempt(2, t(1001), Some(204), None);
    finish(&s, d2, ok.clone(), NextStep::Delivered).await;
    let got = delivery(&s, a, hook.id, d2).await;
    assert_eq!(
        (got.state, got.attempts, got.delivered_at),
        (DeliveryState::Delivered, 2, Some(t(1001)))
    );
    assert_eq!((got.last_status, &got.last_error), (Some(204), &None));
    assert_eq!(got.attempt_log, [retry, ok]);
    assert!(claim_all(&s, t(100_000)).await.is_empty());

    // The log lists newest first, without attempt logs; lookups are scoped.
    let listed = deliveries(&s, a, hook.id).await;
    assert_eq!(
        listed.iter().map(|d| d.id).collect::<Vec<_>>(),
        [d3, d2, d1]
    );
    assert!(listed.iter().all(|d| d.attempt_log.is_empty()));
    let page = s
        .list_deliveries(&a, hook.id, Page { skip: 1, count: 1 })
        .await
        .unwrap();
    assert_eq!(
        (
            page.items.iter().map(|d| d.id).collect::<Vec<_>>(),
            page.total
        ),
        (vec![d2], 3)
    );
    assert!(s.get_delivery(&b, hook.id, d1).await.unwrap().is_none());
    assert!(
        s.get_delivery(&a, Uuid::new_v4(), d1)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(s.list_deliveries(&b, hook.id, ALL).await.unwrap().total, 0);
}

/// Claimers racing for one queue never get the same delivery, and together get all.
pub(super) async fn concurrent_claims_never_share_a_delivery(s: Store) {
    let a = tenant(&s, 0).await;
    let mut hooks = Vec::new();
    for n in 0..8 {
        hooks.push(add_webhook(&s, a, vec![], true, t(n)).await);
    }
    for n in 0..5 {
        emit(&s, &event(EventType::Created, a, 1, t(100 + n))).await;
    }
    let mut all = BTreeSet::new();
    for h in &hooks {
        all.extend(deliveries(&s, a, h.id).await.iter().map(|d| d.id));
    }
    assert_eq!(all.len(), 40);

    // Two claims on one task, polled together.
    let mut seen = Vec::new();
    for _ in 0..4 {
        let (x, y) = tokio::join!(
            s.claim_deliveries(t(1000), t(2000), 3),
            s.claim_deliveries(t(1000), t(2000), 3)
        );
        seen.extend(x.unwrap().iter().map(|c| c.delivery.id));
        seen.extend(y.unwrap().iter().map(|c| c.delivery.id));
    }
    // Then several tasks until the queue is empty.
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                loop {
                    let claimed = s.claim_deliveries(t(1000), t(2000), 2).await.unwrap();
                    if claimed.is_empty() {
                        return got;
                    }
                    got.extend(claimed.iter().map(|c| c.delivery.id));
                }
            })
        })
        .collect();
    for task in tasks {
        seen.extend(task.await.unwrap());
    }
    let unique: BTreeSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "a delivery was claimed twice");
    assert_eq!(unique, all);
}

/// A re-send queues a delivery again with a fresh budget; only the tenant's own
/// deliveries of that subscription can be re-sent.
pub(super) async fn resend_requeues_a_delivery(s: Store) {
    let (a, b) = (tenant(&s, 0).await, tenant(&s, 1).await);
    let hook = add_webhook(&s, a, vec![], true, t(1)).await;
    let second = add_webhook(&s, a, vec![EventType::Revoked], true, t(2)).await;
    let b_hook = add_webhook(&s, b, vec![], true, t(3)).await;
    emit(&s, &event(EventType::Created, a, 1, t(100))).await;
    emit(&s, &event(EventType::Updated, a, 1, t(101))).await;
    emit(&s, &event(EventType::Created, b, 1, t(102))).await;
    let ids: Vec<i64> = deliveries(&s, a, hook.id)
        .await
        .iter()
        .map(|d| d.id)
        .collect();
    let (failed, delivered) = (ids[1], ids[0]);
    let b_id = deliveries(&s, b, b_hook.id).await[0].id;

    let claimed = claim_all(&s, t(200)).await;
    assert_eq!(claimed.len(), 3);
    finish(
        &s,
        failed,
        attempt(1, t(201), Some(500), Some("boom")),
        NextStep::GiveUp,
    )
    .await;
    finish(
        &s,
        delivered,
        attempt(1, t(202), Some(200), None),
        NextStep::Delivered,
    )
    .await;
    finish(
        &s,
        b_id,
        attempt(1, t(203), Some(200), None),
        NextStep::Delivered,
    )
    .await;
    assert_eq!(
        delivery(&s, a, hook.id, failed).await.state,
        DeliveryState::Failed
    );

    let jr = journal(a, "delivery.resend", t(300));
    s.resend_delivery(&a, hook.id, failed, t(300), &jr)
        .await
        .unwrap();
    assert_audited(&s, &jr.audit).await;
    let got = delivery(&s, a, hook.id, failed).await;
    assert_eq!(
        (
            got.state,
            got.attempts,
            got.next_attempt_at,
            got.delivered_at
        ),
        (DeliveryState::Pending, 0, t(300), None)
    );
    assert_eq!(
        (got.last_status, &got.last_error, got.attempt_log.len()),
        (None, &None, 0),
        "a fresh budget: the last attempt's outcome and log go too"
    );
    let again = claim_all(&s, t(300)).await;
    assert_eq!(ids_of(&again), [failed]);
    assert_eq!(again[0].delivery.attempts, 1);
    finish(
        &s,
        failed,
        attempt(1, t(301), Some(200), None),
        NextStep::Delivered,
    )
    .await;

    // A delivered one can be sent again too; it is no longer "delivered".
    s.resend_delivery(&a, hook.id, delivered, t(400), &j())
        .await
        .unwrap();
    let got = delivery(&s, a, hook.id, delivered).await;
    assert_eq!(
        (got.state, got.attempts, got.delivered_at, got.last_status),
        (DeliveryState::Pending, 0, None, None)
    );

    // Another tenant's delivery, another subscription, an unknown id: not found,
    // and nothing recorded.
    let jf = journal(a, "failed.resend", t(500));
    refused!(
        s.resend_delivery(&b, hook.id, failed, t(500), &jf).await,
        StorageError::NotFound
    );
    refused!(
        s.resend_delivery(&a, hook.id, b_id, t(500), &jf).await,
        StorageError::NotFound
    );
    refused!(
        s.resend_delivery(&a, second.id, failed, t(500), &jf).await,
        StorageError::NotFound
    );
    refused!(
        s.resend_delivery(&a, hook.id, failed + 1000, t(500), &jf)
            .await,
        StorageError::NotFound
    );
    assert!(audit_of(&s, a, "failed.resend").await.is_empty());
    assert_eq!(
        delivery(&s, a, hook.id, failed).await.state,
        DeliveryState::Delivered
    );
}

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

/// Expiry notices: due within the window until raised for that kind and
/// expiration; raised once; a renewal makes the secret due again; revoked
/// secrets never are; a raised notice's event is delivered.
pub(super) async fn expiry_notices_are_raised_once(s: Store) {
    let (a, b) = (tenant(&s, 0).await, tenant(&s, 1).await);
    let hook = add_webhook(&s, a, vec![], true, t(1)).await;
    s.set_recipients(&a, &["ops@example.com".into()], &j())
        .await
        .unwrap();
    let (c, _) = s
        .insert_client_with_secret(
            &new_client(a, "svc", CC),
            &expiring(1, Some(t(100_000))),
            10,
            &j(),
        )
        .await
        .unwrap();
    for (n, exp) in [
        (2, Some(t(50_000))),
        (3, None),
        (4, Some(t(60_000))),
        (5, Some(t(10))),
    ] {
        s.insert_secret_within_limit(c.pk, &expiring(n, exp), 10, &j())
            .await
            .unwrap();
    }
    s.revoke_secret(c.pk, SecretId(4), t(20), &j())
        .await
        .unwrap();
    let (web, _) = s
        .insert_client_with_secret(
            &new_client(b, "web", ClientKind::Hybrid),
            &expiring(1, Some(t(55_000))),
            10,
            &j(),
        )
        .await
        .unwrap();
    let keys = |due: &[DueSecret]| {
        due.iter()
            .map(|d| (d.subject.client_id.clone(), d.subject.secret_id.0))
            .collect::<Vec<_>>()
    };
    let svc = |n: i32| ("svc".to_owned(), n);
    let due_in = |kind: &'static str, after: i64, until: i64| {
        let s = s.clone();
        async move { s.due_notices(kind, t(after), t(until), 100).await.unwrap() }
    };
    let raise = |due: DueSecret, kinds: &'static [&'static str], kind: EventType| {
        let s = s.clone();
        async move {
            let ev = Event::new(kind, due.subject.clone(), t(30_000));
            let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_owned()).collect();
            let raised = s.raise_notice(&due, &kinds, &ev).await.unwrap();
            (raised, ev.id)
        }
    };

    // Within (after, until], soonest first, every field of the subject.
    let due = due_in(K7, 40_000, 70_000).await;
    assert_eq!(keys(&due), [svc(2), ("web".into(), 1)]);
    assert_eq!(
        due[0],
        DueSecret {
            client_pk: c.pk,
            tenant_name: "tenant 0".into(),
            subject: SecretSubject {
                tenant: a,
                client_kind: CC,
                client_id: "svc".into(),
                secret_id: SecretId(2),
                description: "secret 2".into(),
                hint: "ab2".into(),
                expiration: Some(t(50_000)),
            },
        }
    );
    assert_eq!(due[1].client_pk, web.pk);
    assert_eq!(due[1].subject.client_kind, ClientKind::Hybrid);
    assert_eq!(keys(&due_in(K7, 50_000, 55_000).await), [("web".into(), 1)]);
    let first = s.due_notices(K7, t(0), t(200_000), 1).await.unwrap();
    assert_eq!(keys(&first), [svc(5)], "the limit keeps the soonest");

    // Raised once for a kind; other kinds stay due.
    let mut raised_events = Vec::new();
    let (raised, ev) = raise(due[0].clone(), &[K7], EventType::Expiring).await;
    assert!(raised);
    raised_events.push(ev);
    assert_eq!(keys(&due_in(K7, 40_000, 70_000).await), [("web".into(), 1)]);
    assert_eq!(
        keys(&due_in(K30, 40_000, 70_000).await),
        [svc(2), ("web".into(), 1)]
    );
    let (again, lost) = raise(due[0].clone(), &[K7], EventType::Expiring).await;
    assert!(!again, "raised once");

    // Several kinds at once: all recorded, the event raised once.
    let due30 = due_in(K30, 40_000, 200_000).await;
    assert_eq!(keys(&due30), [svc(2), ("web".into(), 1), svc(1)]);
    let (raised, ev) = raise(due30[2].clone(), &[K7, K30], EventType::Expiring).await;
    assert!(raised);
    raised_events.push(ev);
    assert_eq!(
        keys(&due_in(K30, 40_000, 200_000).await),
        [svc(2), ("web".into(), 1)]
    );
    assert!(!keys(&due_in(K7, 0, 200_000).await).contains(&svc(1)));
    let (again, lost2) = raise(due30[2].clone(), &[K30], EventType::Expiring).await;
    assert!(!again);

    // A renewal (new expiration) is due again.
    let mut second = s.get_secret(c.pk, SecretId(2)).await.unwrap().unwrap();
    second.expiration = Some(t(52_000));
    s.update_secret(c.pk, &second, &j()).await.unwrap();
    second.revision += 1;
    let due = due_in(K7, 40_000, 70_000).await;
    assert_eq!(keys(&due), [svc(2), ("web".into(), 1)]);
    assert_eq!(due[0].subject.expiration, Some(t(52_000)));
    let (raised, ev) = raise(due[0].clone(), &[K7], EventType::Expiring).await;
    assert!(raised);
    raised_events.push(ev);

    // A notice found due but raised after the secret changed is not raised:
    // renewed meanwhile, or revoked meanwhile.
    let stale = due_in(K1, 40_000, 70_000).await;
    assert_eq!(keys(&stale), [svc(2), ("web".into(), 1)]);
    second.expiration = Some(t(53_000));
    s.update_secret(c.pk, &second, &j()).await.unwrap();
    s.revoke_secret(web.pk, SecretId(1), t(31_000), &j())
        .await
        .unwrap();
    let (raised, renewed_meanwhile) = raise(stale[0].clone(), &[K1], EventType::Expiring).await;
    assert!(!raised, "the secret was renewed after it was found due");
    let (raised, revoked_meanwhile) = raise(stale[1].clone(), &[K1], EventType::Expiring).await;
    assert!(!raised, "the secret was revoked after it was found due");
    assert_eq!(keys(&due_in(K1, 40_000, 70_000).await), [svc(2)]);

    // Revoked secrets are never due, whatever the kind and window.
    for kind in [K1, K7, K30, "expired"] {
        let due = due_in(kind, 0, 1_000_000).await;
        assert!(!keys(&due).contains(&svc(4)), "{kind}");
        assert!(!keys(&due).contains(&("web".into(), 1)), "{kind}");
        assert!(!keys(&due).contains(&svc(3)), "never expires");
    }
    // An expired notice is one more kind.
    let expired = due_in("expired", 0, 20).await;
    assert_eq!(keys(&expired), [svc(5)]);
    let (raised, ev) = raise(expired[0].clone(), &["expired"], EventType::Expired).await;
    assert!(raised);
    raised_events.push(ev);
    assert!(due_in("expired", 0, 20).await.is_empty());

    // Each raised notice's event was delivered, by webhook and by email; the
    // others left nothing.
    let hooked: BTreeSet<Uuid> = event_ids(&s, a, hook.id).await.into_iter().collect();
    let raised_set: BTreeSet<Uuid> = raised_events.iter().copied().collect();
    assert_eq!(hooked, raised_set);
    assert_eq!(deliveries(&s, a, hook.id).await.len(), raised_events.len());
    let claimed = claim_all(&s, t(100_000)).await;
    let emailed: BTreeSet<Uuid> = claimed
        .iter()
        .filter(|c| c.delivery.channel == Channel::Email)
        .map(|c| c.delivery.event_id)
        .collect();
    assert_eq!(emailed, raised_set);
    for never in [lost, lost2, renewed_meanwhile, revoked_meanwhile] {
        assert!(claimed.iter().all(|c| c.delivery.event_id != never));
    }
}

/// Nodes raising the same notice at once: exactly one raises it, one event.
pub(super) async fn concurrent_notices_raise_one_event(s: Store) {
    let a = tenant(&s, 0).await;
    let hook = add_webhook(&s, a, vec![], true, t(1)).await;
    let (c, _) = s
        .insert_client_with_secret(
            &new_client(a, "svc", CC),
            &expiring(1, Some(t(50_000))),
            20,
            &j(),
        )
        .await
        .unwrap();
    for n in 2..=8u8 {
        let exp = t(50_000 + i64::from(n));
        s.insert_secret_within_limit(c.pk, &expiring(n, Some(exp)), 20, &j())
            .await
            .unwrap();
    }
    let kinds = vec!["expiring:7d".to_owned()];
    let due = s
        .due_notices(&kinds[0], t(0), t(60_000), 100)
        .await
        .unwrap();
    assert_eq!(due.len(), 8);
    let mut events = HashSet::new();
    let mut winners = HashSet::new();
    for (i, d) in due.iter().enumerate() {
        let racers: Vec<Event> = (0..3)
            .map(|_| Event::new(EventType::Expiring, d.subject.clone(), t(40_000)))
            .collect();
        let outcomes: Vec<bool> = if i % 2 == 0 {
            // Two calls polled together on one task.
            let (x, y) = tokio::join!(
                s.raise_notice(d, &kinds, &racers[0]),
                s.raise_notice(d, &kinds, &racers[1])
            );
            vec![x.unwrap(), y.unwrap()]
        } else {
            // Three tasks in parallel.
            let tasks: Vec<_> = racers
                .iter()
                .cloned()
                .map(|ev| {
                    let (s, d, kinds) = (s.clone(), d.clone(), kinds.clone());
                    tokio::spawn(async move { s.raise_notice(&d, &kinds, &ev).await })
                })
                .collect();
            let mut out = Vec::new();
            for task in tasks {
                out.push(task.await.unwrap().unwrap());
            }
            out
        };
        assert_eq!(
            outcomes.iter().filter(|r| **r).count(),
            1,
            "secret {}: {outcomes:?}",
            d.subject.secret_id.0
        );
        let winner = racers[outcomes.iter().position(|r| *r).unwrap()].id;
        winners.insert(winner);
        events.extend(racers.iter().map(|e| e.id));
    }
    let delivered: Vec<Uuid> = event_ids(&s, a, hook.id).await;
    assert_eq!(delivered.len(), due.len(), "one event per secret");
    let delivered: HashSet<Uuid> = delivered.into_iter().collect();
    assert_eq!(delivered, winners);
    assert!(
        s.due_notices(&kinds[0], t(0), t(60_000), 100)
            .await
            .unwrap()
            .is_empty()
    );
}

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
            let keys: Vec<(i64, String, String)> = got
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
    assert_eq!(
        list(AuditFilter::default(), Page { skip: 1, count: 2 }).await,
        (everything[1..3].to_vec(), 6)
    );
    assert_eq!(
        list(svc.clone(), Page { skip: 3, count: 10 }).await,
        (vec![k(105, "secret.create", "svc")], 4)
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
    assert_eq!(after.items[..6], before[..]);
    assert_eq!(
        after.items[6..]
            .iter()
            .map(|e| e.action.as_str())
            .collect::<Vec<_>>(),
        ["client.delete", "tenant.delete"]
    );
    assert_eq!(after.items[7].client_id, None);
    assert_eq!(list(svc, ALL).await.1, 5);
    assert_eq!(
        s.list_audit(&b, &AuditFilter::default(), ALL)
            .await
            .unwrap()
            .total,
        1
    );
}

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

/// Tenant and client policies round-trip, including NONE and back to none set.
pub(super) async fn policies_round_trip(s: Store) {
    let (a, pk) = client(&s, "svc").await;
    let before = s.get_secret(pk, SecretId(1)).await.unwrap();
    let tenant_policies = [
        TenantPolicy {
            default: Some(days(90)),
            max_lifetime: Some(ExpiryPolicy::new(ExpiryUnit::Years, 1).unwrap()),
        },
        TenantPolicy {
            default: Some(ExpiryPolicy::NEVER),
            max_lifetime: None,
        },
        TenantPolicy {
            default: Some(ExpiryPolicy::new(ExpiryUnit::Weeks, 3).unwrap()),
            max_lifetime: Some(ExpiryPolicy::new(ExpiryUnit::Months, 6).unwrap()),
        },
        TenantPolicy::default(),
    ];
    for policy in tenant_policies {
        s.update_tenant_policy(&a, &policy, &j()).await.unwrap();
        assert_eq!(s.get_tenant(&a).await.unwrap().unwrap().policy, policy);
    }
    refused!(
        s.update_tenant_policy(&TenantId::generate(), &TenantPolicy::default(), &j())
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
