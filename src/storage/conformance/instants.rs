//! Stored instants compare in time order on both databases:
//! SQLite keeps them as text, so the filters' `expiration > now` must hold for
//! every fraction width sqlx writes (none, milli, micro, nano) and up to the
//! latest expiration the domain accepts, 9999-12-31T23:59:59Z.

use chrono::{DateTime, Duration, Utc};

use super::{ALL, Store, client, j, new_secret, t};
use crate::domain::expiry::LATEST_EXPIRATION;
use crate::storage::{NewSecret, SecretFilter, SecretStatusFilter};

pub(super) async fn stored_instants_compare_in_time_order(s: Store) {
    let (_, pk) = client(&s, "instants").await;
    let base = t(1_000);
    let expirations: Vec<DateTime<Utc>> = vec![
        base,
        base + Duration::milliseconds(1),
        base + Duration::microseconds(1),
        base + Duration::microseconds(123_456),
        base + Duration::microseconds(999_999),
        base + Duration::seconds(1),
        LATEST_EXPIRATION,
    ];
    for (n, at) in (2u8..).zip(&expirations) {
        let secret = NewSecret {
            expiration: Some(*at),
            ..new_secret(n)
        };
        s.insert_secret_within_limit(pk, &secret, 20, &j())
            .await
            .unwrap();
    }
    let mut instants = expirations.clone();
    instants.extend([
        base - Duration::nanoseconds(1),
        base + Duration::nanoseconds(500),
        base + Duration::nanoseconds(123_456_789),
        LATEST_EXPIRATION - Duration::nanoseconds(1),
        t(0),
    ]);
    for now in instants {
        for (status, keep) in [
            (SecretStatusFilter::Active, true),
            (SecretStatusFilter::Expired, false),
        ] {
            let filter = SecretFilter {
                status: Some(status),
                now: Some(now),
                ..SecretFilter::default()
            };
            let page = s.list_secrets(pk, &filter, ALL).await.unwrap();
            let mut got: Vec<DateTime<Utc>> =
                page.items.iter().filter_map(|r| r.expiration).collect();
            got.sort_unstable();
            // The client's first secret expires at t(100_000).
            let mut want: Vec<DateTime<Utc>> = expirations
                .iter()
                .copied()
                .chain([t(100_000)])
                .filter(|at| (*at > now) == keep)
                .collect();
            want.sort_unstable();
            assert_eq!(got, want, "{status:?} at {now:?}");
        }
    }
}
