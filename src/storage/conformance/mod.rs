//! The storage conformance suite: every behaviour below runs, unchanged, against
//! SQLite (a temporary file) and PostgreSQL (a fresh database per test on the
//! server named by `LATCHKEY_TEST_POSTGRES_URL`, an admin URL). PostgreSQL tests
//! never skip: without the variable they fail and say why.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{
    Journal, NewClient, NewSecret, Page, RECENTLY_REVOKED, SecretFilter, SecretRecord, Storage,
    StorageError, TenantRecord,
};
use crate::domain::audit::{AuditEntry, Outcome};
use crate::domain::client::{ClientSettings, HybridSettings};
use crate::domain::ids::{ClientId, ClientKind, CredentialId, SecretId, TenantId};
use crate::domain::policy::TenantPolicy;
use crate::domain::secret_hash::{HashKind, StoredHash};

mod instants;
mod notify;
use instants::*;
use notify::*;
mod refusals;
use refusals::*;
mod webhook_limit;
use webhook_limit::*;

const POSTGRES_URL_VAR: &str = "LATCHKEY_TEST_POSTGRES_URL";

type Store = Arc<dyn Storage>;

/// The journal of a test write: a system audit entry, no event.
fn j() -> Journal {
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

/// Runs `body` against a fresh SQLite database.
pub(super) async fn on_sqlite<F, Fut>(body: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/t.db", dir.path().display());
    body(super::open(&url).await.unwrap()).await;
}

/// Runs `body` against a fresh PostgreSQL database, dropped afterwards when the body passes.
pub(super) async fn on_postgres<F, Fut>(body: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    use sqlx::{AssertSqlSafe, Connection, PgConnection};
    let admin = std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| {
        panic!(
            "{POSTGRES_URL_VAR} is not set: PostgreSQL conformance tests need an admin URL \
             such as postgres://postgres@127.0.0.1:5432/postgres (scripts/test.sh starts a server)"
        )
    });
    let name = format!("lk_{}", uuid::Uuid::new_v4().simple());
    let mut conn = PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {POSTGRES_URL_VAR}={admin}: {e}"));
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    body(super::open(&database_url(&admin, &name)).await.unwrap()).await;
    sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)")))
        .execute(&mut conn)
        .await
        .unwrap();
}

/// `admin` with its database replaced by `name` (query parameters kept).
fn database_url(admin: &str, name: &str) -> String {
    let (base, query) = admin
        .split_once('?')
        .map_or((admin, None), |(b, q)| (b, Some(q)));
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut url = format!("{}/{name}", &base[..path_start]);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

#[test]
fn database_url_keeps_server_and_options() {
    let url = database_url("postgres://u:p@h:5/postgres?sslmode=disable", "x");
    assert_eq!(url, "postgres://u:p@h:5/x?sslmode=disable");
    assert_eq!(database_url("postgres://h", "x"), "postgres://h/x");
}

/// One module per behaviour, each with a `sqlite` and a `postgres` test.
macro_rules! conformance {
    ($($behaviour:ident),* $(,)?) => {$(
        mod $behaviour {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::on_sqlite(super::$behaviour).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                super::on_postgres(super::$behaviour).await;
            }
        }
    )*};
}

conformance!(
    tenants_insert_get_list,
    tenant_delete_cascades,
    client_insert_with_first_secret,
    client_ids_unique_per_tenant,
    clients_limit,
    concurrent_client_inserts_respect_limit,
    list_clients_filters_by_kind_and_pages,
    update_client_writes_settings,
    delete_client_removes_secrets,
    secret_ids_increase_and_are_never_reused,
    secrets_limit_counts_non_revoked,
    concurrent_secret_inserts_respect_limit,
    update_secret_writes_fields_of_live_secrets,
    update_secret_applies_only_to_the_revision_it_read,
    revoked_secrets_are_hidden,
    load_credentials_returns_candidates,
    concurrent_deletes_and_revokes_do_not_fail,
    // Issue 4: journal, events, deliveries, notices, audit, filters, policies (notify.rs).
    journal_is_atomic_with_its_write,
    events_fan_out_to_subscriptions,
    claims_lease_retry_and_finish,
    renewed_leases_keep_a_claim,
    concurrent_claims_never_share_a_delivery,
    resend_requeues_a_delivery,
    webhooks_round_trip_and_cascade,
    recipients_are_replaced_and_deduplicated,
    expiry_notices_are_raised_once,
    concurrent_notices_raise_one_event,
    audit_trail_filters_pages_and_outlives_deletions,
    secret_filters_and_inventory,
    policies_round_trip,
    // Issue 10: bounded refusal records (refusals.rs).
    identical_refusals_fold_exactly_under_concurrency,
    refusals_past_the_cap_are_counted_in_one_overflow_entry,
    refusals_of_unknown_tenants_are_not_written,
    ordinary_entries_never_fold,
    // Issue 10: webhooks per tenant (webhook_limit.rs).
    webhooks_limit_counts_live_subscriptions,
    concurrent_webhook_inserts_respect_limit,
    // Issue 10: instants compare in time order up to 9999-12-31T23:59:59Z (instants.rs).
    stored_instants_compare_in_time_order,
);

// ---- fixtures ----

/// A whole-second instant (PostgreSQL keeps microseconds, so nothing finer is compared).
fn t(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_750_000_000 + secs, 0).unwrap()
}

fn settings(kind: ClientKind, name: &str) -> ClientSettings {
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
    }
}

fn new_client(tenant: TenantId, id: &str, kind: ClientKind) -> NewClient {
    NewClient {
        tenant_id: tenant,
        id: ClientId::parse(id).unwrap(),
        kind,
        settings: settings(kind, id),
        argon_salt: b"0123456789abcdef".to_vec(),
        now: t(10),
    }
}

fn hash(byte: u8) -> StoredHash {
    StoredHash {
        kind: HashKind::Sha256,
        digest: vec![byte; 32],
        credential: credential(byte),
    }
}

fn credential(byte: u8) -> CredentialId {
    CredentialId::parse(&format!("{byte:032x}")).unwrap()
}

fn new_secret(n: u8) -> NewSecret {
    NewSecret {
        description: format!("secret {n}"),
        expiration: Some(t(100_000)),
        hash: hash(n),
        hint: format!("ab{n}"),
        created_at: t(20 + i64::from(n)),
    }
}

async fn tenant(s: &Store, n: i64) -> TenantId {
    let id = TenantId::generate();
    let record = TenantRecord {
        id,
        name: format!("tenant {n}"),
        policy: TenantPolicy::default(),
        created_at: t(n),
    };
    s.insert_tenant(&record, &j()).await.unwrap();
    id
}

/// A tenant with one client (and its first secret); returns the tenant and the client's pk.
async fn client(s: &Store, id: &str) -> (TenantId, i64) {
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

const ALL: Page = Page {
    skip: 0,
    count: 100,
};

// ---- behaviours ----

async fn tenants_insert_get_list(s: Store) {
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

async fn tenant_delete_cascades(s: Store) {
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

async fn tenant_id_with_client(s: &Store, id: &str) -> TenantId {
    client(s, id).await.0
}

async fn client_insert_with_first_secret(s: Store) {
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

async fn client_ids_unique_per_tenant(s: Store) {
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

async fn clients_limit(s: Store) {
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

async fn concurrent_client_inserts_respect_limit(s: Store) {
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

async fn list_clients_filters_by_kind_and_pages(s: Store) {
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
    let ids = |page: &super::Paged<super::ClientRecord>| {
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

async fn update_client_writes_settings(s: Store) {
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

async fn delete_client_removes_secrets(s: Store) {
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

async fn secret_ids_increase_and_are_never_reused(s: Store) {
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

async fn secrets_limit_counts_non_revoked(s: Store) {
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

async fn concurrent_secret_inserts_respect_limit(s: Store) {
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

/// Issue 16: a write made from a stale read (another change came first) changes
/// nothing and says `Conflict`; of 32 writers from one read exactly one wins.
async fn update_secret_applies_only_to_the_revision_it_read(s: Store) {
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

async fn update_secret_writes_fields_of_live_secrets(s: Store) {
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

async fn revoked_secrets_are_hidden(s: Store) {
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

async fn load_credentials_returns_candidates(s: Store) {
    let tenant = tenant(&s, 0).await;
    let mut new = new_client(tenant, "svc", ClientKind::ClientCredentials);
    new.settings.enabled = false;
    new.argon_salt = b"salt-of-svc-0001".to_vec();
    let (c, _) = s
        .insert_client_with_secret(&new, &new_secret(1), 100, &j())
        .await
        .unwrap();
    for n in 2..=21 {
        s.insert_secret_within_limit(c.pk, &new_secret(n), 100, &j())
            .await
            .unwrap();
    }
    for id in 2..=19 {
        s.revoke_secret(c.pk, SecretId(id), t(40), &j())
            .await
            .unwrap();
    }
    let mut first = s.get_secret(c.pk, SecretId(1)).await.unwrap().unwrap();
    first.previous_hash = Some(hash(200));
    first.grace_until = Some(t(600));
    s.update_secret(c.pk, &first, &j()).await.unwrap();

    let creds = s.load_credentials(&tenant, &new.id).await.unwrap().unwrap();
    assert!(!creds.enabled);
    assert_eq!(creds.argon_salt, new.argon_salt);
    let mut seen: Vec<_> = creds
        .candidates
        .iter()
        .map(|c| (c.id.0, c.revoked))
        .collect();
    seen.sort_unstable();
    let newest_revoked = 19 - i32::try_from(RECENTLY_REVOKED).unwrap() + 1;
    let mut expected = vec![(1, false), (20, false), (21, false)];
    expected.extend((newest_revoked..=19).map(|id| (id, true)));
    expected.sort_unstable();
    assert_eq!(seen, expected);
    for c in &creds.candidates {
        let n = u8::try_from(c.id.0).unwrap();
        assert_eq!((&c.hash, c.expiration), (&hash(n), Some(t(100_000))));
        let previous = (c.id.0 == 1).then(|| (hash(200), t(600)));
        assert_eq!(c.previous, previous);
    }
    assert!(
        s.load_credentials(&TenantId::generate(), &new.id)
            .await
            .unwrap()
            .is_none()
    );
    let nobody = ClientId::parse("nobody").unwrap();
    assert!(
        s.load_credentials(&tenant, &nobody)
            .await
            .unwrap()
            .is_none()
    );
}

/// Revokes, client deletes and a tenant delete racing each other: each either
/// happens or finds its target gone, and none fails (no deadlock, no busy error).
async fn concurrent_deletes_and_revokes_do_not_fail(s: Store) {
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
