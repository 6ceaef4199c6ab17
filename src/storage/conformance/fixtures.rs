//! Fixtures the conformance behaviours share: records, a tenant with a client,
//! webhooks, deliveries and audit lookups.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::domain::audit::{AuditEntry, AuditFilter, Outcome};
use crate::domain::client::{ClientSettings, HybridSettings};
use crate::domain::events::{Event, EventType, SecretSubject};
use crate::domain::expiry::{ExpiryPolicy, ExpiryUnit};
use crate::domain::ids::{ClientId, ClientKind, CredentialId, SecretId, TenantId};
use crate::domain::policy::{TenantPolicy, TenantPolicyChange};
use crate::domain::secret_hash::{HashKind, StoredHash};
use crate::storage::{
    AttemptRecord, ClaimedDelivery, DeliveryRecord, Journal, NewClient, NewSecret, Page, Storage,
    StorageError, TenantRecord, WebhookRecord,
};

pub(super) type Store = Arc<dyn Storage>;

/// The journal of a test write: a system audit entry, no event.
pub(super) fn j() -> Journal {
    Journal::new(AuditEntry {
        seq: 0,
        at: t(0),
        tenant: None,
        actor_type: "system".into(),
        actor: "conformance".into(),
        action: "test.write".into(),
        outcome: Outcome::Success,
        reason: None,
        client_kind: None,
        client_id: None,
        secret_id: None,
        source: None,
        operation_id: None,
        count: 1,
    })
}

/// A whole-second instant (PostgreSQL keeps microseconds, so nothing finer is compared).
pub(super) fn t(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_750_000_000 + secs, 0).unwrap()
}

pub(super) fn settings(kind: ClientKind, name: &str) -> ClientSettings {
    ClientSettings {
        name: name.into(),
        enabled: true,
        access_token_lifetime: 3600,
        tags: vec!["billing".into(), "eu".into()],
        role_ids: vec!["tenant-member".into()],
        hybrid: (kind == ClientKind::Hybrid).then(|| HybridSettings {
            redirect_uris: vec!["https://app.example/cb".into()],
            client_uri: Some("https://app.example".into()),
            allow_offline_access: true,
            ..HybridSettings::default()
        }),
        allow_self_rotation: false,
    }
}

pub(super) fn new_client(tenant: TenantId, id: &str, kind: ClientKind) -> NewClient {
    NewClient {
        tenant_id: tenant,
        id: ClientId::parse(id).unwrap(),
        kind,
        settings: settings(kind, id),
        argon_salt: b"0123456789abcdef".to_vec(),
        now: t(10),
    }
}

pub(super) fn hash(byte: u8) -> StoredHash {
    StoredHash {
        kind: HashKind::Sha256,
        digest: vec![byte; 32],
        credential: credential(byte),
    }
}

pub(super) fn credential(byte: u8) -> CredentialId {
    CredentialId::parse(&format!("{byte:032x}")).unwrap()
}

pub(super) fn new_secret(n: u8) -> NewSecret {
    NewSecret {
        description: format!("secret {n}"),
        expiration: Some(t(100_000)),
        hash: hash(n),
        hint: format!("ab{n}"),
        created_at: t(20 + i64::from(n)),
    }
}

/// A tenant created at `t(n)`, named `tenant {n}` (tenant names are unique: a
/// second one of the same `n` has its id appended).
pub(super) async fn tenant(s: &Store, n: i64) -> TenantId {
    let id = TenantId::generate();
    let mut record = TenantRecord {
        id,
        name: format!("tenant {n}"),
        policy: TenantPolicy::default(),
        created_at: t(n),
    };
    match s.insert_tenant(&record, &j()).await {
        Ok(()) => {}
        Err(StorageError::Duplicate) => {
            record.name = format!("tenant {n} ({id})");
            s.insert_tenant(&record, &j()).await.unwrap();
        }
        Err(e) => panic!("insert tenant {n}: {e}"),
    }
    id
}

/// A tenant with one client (and its first secret); returns the tenant and the client's pk.
pub(super) async fn client(s: &Store, id: &str) -> (TenantId, i64) {
    let tenant = tenant(s, 0).await;
    let (c, _) = s
        .insert_client_with_secret(
            &new_client(tenant, id, ClientKind::ClientCredentials),
            &new_secret(1),
            10,
            &j(),
        )
        .await
        .unwrap();
    (tenant, c.pk)
}

pub(super) const ALL: Page = Page {
    skip: 0,
    count: 100,
};

pub(super) async fn tenant_id_with_client(s: &Store, id: &str) -> TenantId {
    client(s, id).await.0
}

pub(super) const CC: ClientKind = ClientKind::ClientCredentials;

/// A limit of webhooks per tenant no test here reaches.
pub(super) const WEBHOOKS_MAX: u32 = 100;

/// Asserts that `$res` failed with an error matching `$pat`.
macro_rules! refused {
    ($res:expr, $pat:pat) => {{
        let res = $res;
        assert!(matches!(res, Err($pat)), "{}: {res:?}", stringify!($res));
    }};
}
pub(super) use refused;

/// An audit entry with every field set, about client `svc` of `tenant`.
pub(super) fn entry(tenant: TenantId, action: &str, at: DateTime<Utc>) -> AuditEntry {
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

pub(super) fn journal(tenant: TenantId, action: &str, at: DateTime<Utc>) -> Journal {
    Journal::new(entry(tenant, action, at))
}

pub(super) fn subject(
    tenant: TenantId,
    secret: i32,
    expiration: Option<DateTime<Utc>>,
) -> SecretSubject {
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

pub(super) fn event(kind: EventType, tenant: TenantId, secret: i32, at: DateTime<Utc>) -> Event {
    Event::new(kind, subject(tenant, secret, Some(t(100_000))), at)
}

/// Writes `event` with a change that is only there to carry it.
pub(super) async fn emit(s: &Store, event: &Event) {
    s.update_tenant_policy(
        &event.subject.tenant,
        &TenantPolicyChange::default(),
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

pub(super) async fn add_webhook(
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
pub(super) async fn deliveries(s: &Store, tenant: TenantId, hook: Uuid) -> Vec<DeliveryRecord> {
    let page = s.list_deliveries(&tenant, hook, ALL).await.unwrap();
    assert_eq!(page.total, page.items.len() as u64);
    page.items
}

pub(super) async fn event_ids(s: &Store, tenant: TenantId, hook: Uuid) -> Vec<Uuid> {
    deliveries(s, tenant, hook)
        .await
        .iter()
        .map(|d| d.event_id)
        .collect()
}

/// Claims every delivery due at `now` (leased for a minute).
pub(super) async fn claim_all(s: &Store, now: DateTime<Utc>) -> Vec<ClaimedDelivery> {
    s.claim_deliveries(now, now + Duration::seconds(60), 1000)
        .await
        .unwrap()
}

pub(super) async fn audit_of(s: &Store, tenant: TenantId, action: &str) -> Vec<AuditEntry> {
    let filter = AuditFilter {
        action: Some(action.into()),
        ..AuditFilter::default()
    };
    let page = s.list_audit(&tenant, &filter, ALL).await.unwrap();
    assert_eq!(page.total, page.items.len() as u64);
    page.items
}

/// Asserts the trail holds `expected` exactly once (with its storage-assigned seq).
pub(super) async fn assert_audited(s: &Store, expected: &AuditEntry) {
    let found = audit_of(s, expected.tenant.unwrap(), &expected.action).await;
    assert_eq!(found.len(), 1, "{}: {found:?}", expected.action);
    let mut expected = expected.clone();
    expected.seq = found[0].seq;
    assert_eq!(found[0], expected);
}

pub(super) fn attempt(
    n: u32,
    at: DateTime<Utc>,
    status: Option<u16>,
    error: Option<&str>,
) -> AttemptRecord {
    AttemptRecord {
        attempt: n,
        at,
        status,
        error: error.map(Into::into),
        duration_ms: 40 + n,
    }
}

pub(super) fn days(n: u32) -> ExpiryPolicy {
    ExpiryPolicy::new(ExpiryUnit::Days, n).unwrap()
}
