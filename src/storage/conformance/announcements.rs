//! PostgreSQL only: every write that changes what `load_credentials` returns
//! announces it on the credentials channel when it commits (the other nodes'
//! caches depend on it), and a write that is refused announces nothing.

use std::time::Duration;

use sqlx::postgres::PgListener;

use super::fixtures::*;
use crate::domain::ids::{ClientId, ClientKind, SecretId};
use crate::storage::StorageError;
use crate::storage::postgres::listen::CHANNEL;

/// Waits (bounded) for one announcement; false when none came.
async fn announced(listener: &mut PgListener) -> bool {
    let got = tokio::time::timeout(Duration::from_secs(5), listener.recv()).await;
    matches!(got, Ok(Ok(_)))
}

/// True when nothing is announced while a probe on the listening connection runs
/// (PostgreSQL sends pending notifications before answering it).
async fn silent(listener: &mut PgListener) -> bool {
    sqlx::query("SELECT 1")
        .execute(&mut *listener)
        .await
        .unwrap();
    listener.next_buffered().is_none()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn credential_writes_announce_themselves_at_commit() {
    let database = crate::storage::test_database::create_postgres_database().await;
    let s: Store = crate::storage::open(&database.url).await.unwrap();
    let mut listener = PgListener::connect(&database.url).await.unwrap();
    listener.listen(CHANNEL).await.unwrap();

    let tenant = tenant(&s, 0).await;
    assert!(
        silent(&mut listener).await,
        "a new tenant has no credentials"
    );
    let kind = ClientKind::ClientCredentials;
    let (client, _) = s
        .insert_client_with_secret(&new_client(tenant, "c", kind), &new_secret(1), 10, &j())
        .await
        .unwrap();
    assert!(announced(&mut listener).await, "insert_client_with_secret");
    let added = s
        .insert_secret_within_limit(client.pk, &new_secret(2), 10, &j())
        .await
        .unwrap();
    assert!(announced(&mut listener).await, "insert_secret_within_limit");
    s.update_secret(client.pk, &added, &j()).await.unwrap();
    assert!(announced(&mut listener).await, "update_secret");
    let now = t(1);
    s.revoke_secret(client.pk, SecretId(2), now, &j())
        .await
        .unwrap();
    assert!(announced(&mut listener).await, "revoke_secret");
    let mut settings = client.settings.clone();
    settings.enabled = false;
    s.update_client(client.pk, &settings, now, &j())
        .await
        .unwrap();
    assert!(announced(&mut listener).await, "update_client");

    // Refused writes roll back: nothing announced.
    let gone = s.revoke_secret(client.pk, SecretId(2), now, &j()).await;
    assert!(matches!(gone, Err(StorageError::NotFound)), "{gone:?}");
    let stale = s.update_secret(client.pk, &added, &j()).await;
    assert!(stale.is_err(), "{stale:?}");
    assert!(silent(&mut listener).await, "a refused write announced");

    let id = ClientId::parse("c").unwrap();
    s.delete_client(&tenant, kind, &id, &j()).await.unwrap();
    assert!(announced(&mut listener).await, "delete_client");
    s.insert_client_with_secret(&new_client(tenant, "d", kind), &new_secret(1), 10, &j())
        .await
        .unwrap();
    assert!(announced(&mut listener).await, "insert_client_with_secret");
    s.delete_tenant(&tenant, &j()).await.unwrap();
    assert!(announced(&mut listener).await, "delete_tenant");
    assert!(silent(&mut listener).await, "one announcement per write");

    drop(listener);
    drop(s);
    database.drop_database().await;
}
