//! Console passwords use the server's fixed Argon2id pool: the first
//! administrator's hash at first start, sign-ins and new passwords all run in
//! its buffers, so a flood of sign-ins holds no more Argon2id memory than
//! `argon2.concurrency` buffers and the first start adds none of its own.

use std::sync::Arc;
use std::time::Duration;

use super::{AccountError, Accounts, SessionState};
use crate::clock::SystemClock;
use crate::service::Services;
use crate::service::settings::{Argon2Bound, Limits};

async fn accounts(concurrency: u32, dir: &tempfile::TempDir) -> (Services, Accounts) {
    let url = format!("sqlite://{}/accounts.db", dir.path().display());
    let store = crate::storage::open(&url).await.unwrap();
    let limits = Limits {
        argon2: Argon2Bound {
            concurrency,
            queue: 64,
        },
        ..Limits::default()
    };
    let services = Services::new(store, limits, Arc::new(SystemClock));
    let accounts = Accounts::new(&services, Duration::from_secs(600));
    (services, accounts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_passwords_are_hashed_and_checked_in_the_argon2_pool() {
    let dir = tempfile::tempdir().unwrap();
    let (services, accounts) = accounts(2, &dir).await;
    let hasher = services.ctx.hasher.clone();

    let password = accounts.bootstrap(None).await.unwrap().unwrap();
    assert_eq!(
        hasher.argon2_runs(),
        1,
        "the first start hashes in the pool"
    );
    assert_eq!(hasher.argon2_buffers(), 1);

    // A burst of sign-ins, right and wrong, from distinct addresses.
    let attempts: Vec<_> = (0..16u8)
        .map(|n| {
            let (accounts, password) = (accounts.clone(), password.clone());
            tokio::spawn(async move {
                let address = Some(std::net::IpAddr::from([127, 0, 1, n]));
                let given = if n % 4 == 3 {
                    "a wrong password"
                } else {
                    password.as_str()
                };
                accounts.sign_in("admin", given, address).await
            })
        })
        .collect();
    let mut signed_in = None;
    for (n, attempt) in attempts.into_iter().enumerate() {
        match attempt.await.unwrap() {
            Ok(token) => {
                assert_ne!(n % 4, 3, "a wrong password signed in");
                signed_in = Some(token);
            }
            Err(AccountError::WrongCredentials) => assert_eq!(n % 4, 3),
            Err(e) => panic!("sign-in {n}: {e}"),
        }
    }
    assert_eq!(hasher.argon2_runs(), 17, "one run per sign-in");
    assert!(hasher.argon2_buffers() <= 2, "no buffer beyond the pool");

    // A new user's password is hashed in the pool too, and signs in.
    let token = signed_in.unwrap();
    let SessionState::Active(admin) = accounts.session(&token).await.unwrap() else {
        panic!("the session is not active");
    };
    accounts
        .create_user(&admin, "second", "second's password", false)
        .await
        .unwrap();
    accounts
        .sign_in("second", "second's password", None)
        .await
        .unwrap();
    assert_eq!(hasher.argon2_runs(), 19);
    assert!(hasher.argon2_buffers() <= 2, "no buffer beyond the pool");
}
