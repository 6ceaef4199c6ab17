//! Conformance of [`super::ConsoleStore`]: each behaviour on SQLite and PostgreSQL.

use chrono::{DateTime, Utc};

use super::NewUser;
use crate::domain::audit::{AuditEntry, Outcome};
use crate::domain::ids::TenantId;
use crate::domain::policy::TenantPolicy;
use crate::storage::conformance::{on_postgres, on_sqlite};
use crate::storage::{Journal, Storage, StorageError, TenantRecord};

type Store = std::sync::Arc<dyn Storage>;

macro_rules! conformance {
    ($($behaviour:ident),* $(,)?) => {$(
        mod $behaviour {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::on_sqlite(super::$behaviour).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::on_postgres(super::$behaviour).await;
            }
        }
    )*};
}

conformance!(
    first_user_only_on_an_empty_store,
    users_insert_get_list_update_delete,
    roles_are_replaced_and_follow_tenants,
    sessions_belong_to_users_and_expire_when_idle,
    a_reveal_is_taken_once_by_its_session_before_it_expires,
    concurrent_takes_of_a_reveal_give_it_once,
);

fn t(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
}

fn user(name: &str, admin: bool) -> NewUser {
    NewUser {
        name: name.into(),
        password_hash: format!("hash-of-{name}"),
        platform_admin: admin,
        created_at: t(0),
    }
}

/// The journal of a test write: a system audit entry.
fn j() -> Journal {
    Journal::new(AuditEntry {
        seq: 0,
        at: t(0),
        tenant: None,
        actor_type: "system".into(),
        actor: "console-conformance".into(),
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

async fn tenant(s: &Store) -> TenantId {
    let id = TenantId::generate();
    let record = TenantRecord {
        id,
        name: format!("t {id}"),
        policy: TenantPolicy::default(),
        created_at: t(0),
    };
    s.insert_tenant(&record, &j()).await.unwrap();
    id
}

async fn first_user_only_on_an_empty_store(s: Store) {
    assert!(s.insert_first_user(&user("admin", true)).await.unwrap());
    assert!(!s.insert_first_user(&user("admin", true)).await.unwrap());
    assert!(!s.insert_first_user(&user("other", true)).await.unwrap());
    assert_eq!(s.list_users().await.unwrap().len(), 1);
    let admin = s.get_user("admin").await.unwrap().unwrap();
    assert!(admin.platform_admin);
    assert_eq!(admin.password_hash, "hash-of-admin");
    assert_eq!(admin.created_at, t(0));
}

async fn users_insert_get_list_update_delete(s: Store) {
    s.insert_user(&user("bob", false)).await.unwrap();
    s.insert_user(&user("alice", false)).await.unwrap();
    assert!(matches!(
        s.insert_user(&user("bob", true)).await,
        Err(StorageError::Duplicate)
    ));
    let names: Vec<String> = s
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["alice", "bob"]);
    assert!(s.get_user("carol").await.unwrap().is_none());

    s.update_user("bob", Some("new-hash"), None).await.unwrap();
    let bob = s.get_user("bob").await.unwrap().unwrap();
    assert_eq!(
        (bob.password_hash.as_str(), bob.platform_admin),
        ("new-hash", false)
    );
    s.update_user("bob", None, Some(true)).await.unwrap();
    let bob = s.get_user("bob").await.unwrap().unwrap();
    assert_eq!(
        (bob.password_hash.as_str(), bob.platform_admin),
        ("new-hash", true)
    );
    assert!(matches!(
        s.update_user("carol", None, Some(true)).await,
        Err(StorageError::NotFound)
    ));

    s.delete_user("bob").await.unwrap();
    assert!(s.get_user("bob").await.unwrap().is_none());
    assert!(matches!(
        s.delete_user("bob").await,
        Err(StorageError::NotFound)
    ));
}

async fn roles_are_replaced_and_follow_tenants(s: Store) {
    let (a, b) = (tenant(&s).await, tenant(&s).await);
    s.insert_user(&user("bob", false)).await.unwrap();
    let roles = [
        (a, "tenant-member".to_owned()),
        (a, "tenant-auditor".to_owned()),
        (b, "tenant-administrator".to_owned()),
    ];
    s.set_user_roles("bob", &roles).await.unwrap();
    let mut got = s.get_user("bob").await.unwrap().unwrap().tenant_roles;
    got.sort_by_key(|(t, _)| t.to_string());
    let mut want = vec![
        (
            a,
            vec!["tenant-auditor".to_owned(), "tenant-member".to_owned()],
        ),
        (b, vec!["tenant-administrator".to_owned()]),
    ];
    want.sort_by_key(|(t, _)| t.to_string());
    assert_eq!(got, want);

    s.set_user_roles("bob", &[(b, "tenant-member".into())])
        .await
        .unwrap();
    let got = s.get_user("bob").await.unwrap().unwrap().tenant_roles;
    assert_eq!(got, vec![(b, vec!["tenant-member".to_owned()])]);

    s.delete_tenant(&b, &j()).await.unwrap();
    assert!(
        s.get_user("bob")
            .await
            .unwrap()
            .unwrap()
            .tenant_roles
            .is_empty()
    );
    assert!(matches!(
        s.set_user_roles("carol", &[]).await,
        Err(StorageError::NotFound)
    ));
}

async fn sessions_belong_to_users_and_expire_when_idle(s: Store) {
    s.insert_user(&user("bob", false)).await.unwrap();
    let (one, two) = ([1u8; 32], [2u8; 32]);
    s.insert_session(&one, "bob", t(0)).await.unwrap();
    s.insert_session(&two, "bob", t(0)).await.unwrap();
    assert!(matches!(
        s.insert_session(&[3u8; 32], "carol", t(0)).await,
        Err(StorageError::NotFound)
    ));
    let got = s.get_session(&one).await.unwrap().unwrap();
    assert_eq!(got.user_name, "bob");
    assert_eq!((got.created_at, got.last_seen_at), (t(0), t(0)));

    s.touch_session(&one, t(100)).await.unwrap();
    assert_eq!(
        s.get_session(&one).await.unwrap().unwrap().last_seen_at,
        t(100)
    );
    assert_eq!(s.delete_idle_sessions(t(50)).await.unwrap(), 1);
    assert!(s.get_session(&two).await.unwrap().is_none());
    assert!(s.get_session(&one).await.unwrap().is_some());

    s.insert_user(&user("eve", false)).await.unwrap();
    s.insert_session(&[4u8; 32], "eve", t(100)).await.unwrap();
    s.delete_user_sessions("bob").await.unwrap();
    assert!(s.get_session(&one).await.unwrap().is_none());
    assert!(
        s.get_session(&[4u8; 32]).await.unwrap().is_some(),
        "only bob's"
    );
    s.insert_session(&one, "bob", t(100)).await.unwrap();
    s.delete_session(&one).await.unwrap();
    assert!(s.get_session(&one).await.unwrap().is_none());
    s.delete_session(&one).await.unwrap();

    s.insert_session(&two, "bob", t(200)).await.unwrap();
    s.delete_user("bob").await.unwrap();
    assert!(s.get_session(&two).await.unwrap().is_none());
}

async fn a_reveal_is_taken_once_by_its_session_before_it_expires(s: Store) {
    s.insert_user(&user("bob", false)).await.unwrap();
    let (mine, other) = ([1u8; 32], [2u8; 32]);
    s.insert_session(&mine, "bob", t(0)).await.unwrap();
    s.insert_session(&other, "bob", t(0)).await.unwrap();
    assert!(matches!(
        s.insert_reveal("gone", &[9u8; 32], b"x", t(300), t(0))
            .await,
        Err(StorageError::NotFound)
    ));

    s.insert_reveal("r1", &mine, b"sealed-1", t(300), t(0))
        .await
        .unwrap();
    assert_eq!(
        s.take_reveal("r1", &other, t(1)).await.unwrap(),
        None,
        "another session cannot take it"
    );
    assert_eq!(
        s.take_reveal("r1", &mine, t(1)).await.unwrap().as_deref(),
        Some(&b"sealed-1"[..])
    );
    assert_eq!(
        s.take_reveal("r1", &mine, t(2)).await.unwrap(),
        None,
        "once"
    );

    s.insert_reveal("r2", &mine, b"sealed-2", t(300), t(0))
        .await
        .unwrap();
    assert_eq!(
        s.take_reveal("r2", &mine, t(301)).await.unwrap(),
        None,
        "expired"
    );

    s.insert_reveal("r3", &mine, b"sealed-3", t(300), t(0))
        .await
        .unwrap();
    s.insert_reveal("r4", &mine, b"sealed-4", t(900), t(400))
        .await
        .unwrap();
    assert_eq!(
        s.take_reveal("r3", &mine, t(0)).await.unwrap(),
        None,
        "purged by a later insert once expired"
    );

    s.insert_reveal("r6", &mine, b"sealed-6", t(2000), t(400))
        .await
        .unwrap();
    s.insert_reveal("r7", &mine, b"sealed-7", t(500), t(400))
        .await
        .unwrap();
    assert!(s.take_reveal("r6", &mine, t(600)).await.unwrap().is_some());
    assert_eq!(
        s.take_reveal("r7", &mine, t(0)).await.unwrap(),
        None,
        "purged by a later take once expired"
    );

    s.insert_reveal("r5", &mine, b"sealed-5", t(900), t(400))
        .await
        .unwrap();
    s.delete_session(&mine).await.unwrap();
    s.insert_session(&mine, "bob", t(400)).await.unwrap();
    assert_eq!(
        s.take_reveal("r5", &mine, t(401)).await.unwrap(),
        None,
        "gone with its session"
    );
    assert_eq!(
        s.take_reveal("r4", &mine, t(401)).await.unwrap(),
        None,
        "gone with its session"
    );
}

async fn concurrent_takes_of_a_reveal_give_it_once(s: Store) {
    s.insert_user(&user("bob", false)).await.unwrap();
    let session = [1u8; 32];
    s.insert_session(&session, "bob", t(0)).await.unwrap();
    s.insert_reveal("r", &session, b"sealed", t(300), t(0))
        .await
        .unwrap();
    let takes = (0..32).map(|_| {
        let s = s.clone();
        tokio::spawn(async move { s.take_reveal("r", &session, t(1)).await })
    });
    let mut got = 0;
    for take in takes.collect::<Vec<_>>() {
        if take.await.unwrap().unwrap().is_some() {
            got += 1;
        }
    }
    assert_eq!(got, 1);
}
