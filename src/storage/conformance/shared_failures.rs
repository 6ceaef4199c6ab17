//! Failed authentications shared by the nodes of one database: PostgreSQL counts
//! them per key, at most `max` per window also under concurrent recordings, keeps
//! no more rows than that per key, and announces each counted one; SQLite (one
//! process) records nothing.

use std::time::Duration;

use futures_util::future::join_all;
use sqlx::Row;

use super::fixtures::*;
use crate::storage::failures::{FailureLimit, FailureVerdict};

const MINUTE: Duration = Duration::from_secs(60);

fn limit(key: &str, max: u32) -> FailureLimit {
    FailureLimit {
        key: key.to_owned(),
        max,
    }
}

async fn rows_of(database_url: &str, key: &str) -> i64 {
    let pool = sqlx::PgPool::connect(database_url).await.unwrap();
    let n = sqlx::query("SELECT count(*) AS n FROM auth_failures WHERE key = $1")
        .bind(key)
        .fetch_one(&pool)
        .await
        .unwrap()
        .get::<i64, _>("n");
    pool.close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_counts_failures_per_key_up_to_max_and_announces_them() {
    let database = crate::storage::test_database::create_postgres_database().await;
    let s: Store = crate::storage::open(&database.url).await.unwrap();
    let mut feed = s.failure_feed().expect("PostgreSQL announces failures");
    // The listener connects in the background: wait until a recording is heard.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        s.record_failure(&[limit("warm-up", 1000)], MINUTE)
            .await
            .unwrap();
        if tokio::time::timeout(Duration::from_millis(200), feed.recv())
            .await
            .is_ok()
        {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no announcement");
    }
    while feed.try_recv().is_ok() {}

    let both = [limit("client a", 3), limit("address x", 5)];
    for expected in 1..=3 {
        let verdict = s.record_failure(&both, MINUTE).await.unwrap().unwrap();
        let FailureVerdict::Counted(keys) = verdict else {
            panic!("failure {expected} counted: {verdict:?}");
        };
        assert_eq!(keys[0].count, expected);
        assert_eq!(keys[1].count, expected);
        assert!(keys[0].oldest_ends_in <= MINUTE);
        for _ in 0..2 {
            let heard = tokio::time::timeout(Duration::from_secs(5), feed.recv())
                .await
                .expect("announced")
                .unwrap();
            assert_eq!(heard.count, expected, "{heard:?}");
        }
    }
    // The client key is full: nothing is counted, not even against the address.
    let verdict = s.record_failure(&both, MINUTE).await.unwrap().unwrap();
    let FailureVerdict::Full { retry_after, keys } = verdict else {
        panic!("the fourth failure is refused: {verdict:?}");
    };
    assert!(retry_after >= Duration::from_secs(1) && retry_after <= MINUTE);
    assert_eq!((keys[0].count, keys[1].count), (3, 3));
    assert_eq!(rows_of(&database.url, "client a").await, 3);
    assert_eq!(rows_of(&database.url, "address x").await, 3);
    // Other keys are not slowed down; the address counts on.
    let verdict = s
        .record_failure(&[limit("client b", 3), limit("address x", 5)], MINUTE)
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(&verdict, FailureVerdict::Counted(k) if k[1].count == 4),
        "{verdict:?}"
    );
    // Expired failures leave the window and their rows go at the key's next failure.
    let short = Duration::from_millis(50);
    for _ in 0..2 {
        s.record_failure(&[limit("client c", 2)], short)
            .await
            .unwrap();
    }
    tokio::time::sleep(short * 2).await;
    let verdict = s
        .record_failure(&[limit("client c", 2)], short)
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(&verdict, FailureVerdict::Counted(k) if k[0].count == 1),
        "{verdict:?}"
    );
    assert_eq!(rows_of(&database.url, "client c").await, 1);
    drop(s);
    database.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_failures_count_exactly_max() {
    let database = crate::storage::test_database::create_postgres_database().await;
    let s: Store = crate::storage::open(&database.url).await.unwrap();
    let outcomes = join_all((0..48).map(|i| {
        let s = s.clone();
        // Half of them from another address: the client key is what is shared.
        let address = if i % 2 == 0 { "address 1" } else { "address 2" };
        tokio::spawn(async move {
            s.record_failure(&[limit("client a", 5), limit(address, 100)], MINUTE)
                .await
                .unwrap()
                .unwrap()
        })
    }))
    .await;
    let counted = outcomes
        .iter()
        .filter(|o| matches!(o.as_ref().unwrap(), FailureVerdict::Counted(_)))
        .count();
    assert_eq!(counted, 5, "exactly max failures are counted");
    assert_eq!(rows_of(&database.url, "client a").await, 5);
    drop(s);
    database.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_records_no_shared_failure() {
    super::on_sqlite(|s| async move {
        assert!(s.failure_feed().is_none());
        let got = s
            .record_failure(&[limit("client a", 1)], MINUTE)
            .await
            .unwrap();
        assert_eq!(got, None, "one process: its own limiter is the count");
    })
    .await;
}

/// The token path's read brings a known client's shared failures along (one query);
/// an unknown client's are not read; SQLite reads none.
async fn credentials_come_with_shared_failures(s: Store, shared: bool) {
    use crate::domain::ids::{ClientId, ClientKind};
    let tenant = tenant(&s, 0).await;
    let kind = ClientKind::ClientCredentials;
    s.insert_client_with_secret(&new_client(tenant, "c", kind), &new_secret(1), 10, &j())
        .await
        .unwrap();
    let client = ClientId::parse("c").unwrap();
    let (found, failures) = s
        .load_credentials_and_failures(&tenant, &client, "client k")
        .await
        .unwrap();
    assert_eq!(found.unwrap().candidates.len(), 1);
    assert_eq!(failures.map(|f| f.count), shared.then_some(0));
    for _ in 0..2 {
        s.record_failure(&[limit("client k", 5)], MINUTE)
            .await
            .unwrap();
    }
    let (_, failures) = s
        .load_credentials_and_failures(&tenant, &client, "client k")
        .await
        .unwrap();
    assert_eq!(failures.as_ref().map(|f| f.count), shared.then_some(2));
    assert!(failures.is_none_or(|f| f.oldest_ends_in <= MINUTE && f.key == "client k"));
    let unknown = ClientId::parse("nobody").unwrap();
    let (found, failures) = s
        .load_credentials_and_failures(&tenant, &unknown, "client k")
        .await
        .unwrap();
    assert!(found.is_none() && failures.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_credentials_come_with_shared_failures() {
    super::on_postgres(|s| credentials_come_with_shared_failures(s, true)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_credentials_come_without_shared_failures() {
    super::on_sqlite(|s| credentials_come_with_shared_failures(s, false)).await;
}
