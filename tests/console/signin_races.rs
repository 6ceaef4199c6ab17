//! Console sign-in under truly concurrent requests, over plain HTTP
//! on both databases: a burst of wrong passwords for one user runs at most the
//! limit's worth of password checks (5), and when the Argon2id runs and queue
//! are full a sign-in is refused at once with a "try again shortly" page.

use std::sync::Arc;

use reqwest::Client;
use reqwest::redirect::Policy;
use tokio::sync::Barrier;

use crate::harness::{Backend, ServerOptions, TestServer};
use crate::{ADMIN_PASSWORD, form_body};

const WRONG: &str = "Wrong user name or password.";
const THROTTLED: &str = "Too many failed sign-ins. Try again in";
const BUSY: &str = "The server is busy checking other sign-ins. Try again shortly.";

async fn start(backend: Backend, yaml: Option<&str>) -> TestServer {
    let opts = ServerOptions {
        env: vec![(
            "LATCHKEY_ADMIN_PASSWORD".to_owned(),
            ADMIN_PASSWORD.to_owned(),
        )],
        config_yaml: yaml.map(str::to_owned),
        ..ServerOptions::default()
    };
    TestServer::start_with(backend, opts).await
}

fn no_redirects() -> Client {
    Client::builder()
        .no_proxy()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// The pre-sign-in token (cookie and form field).
async fn presignin(http: &Client, server: &TestServer) -> String {
    let res = http
        .get(server.url("/console/signin"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let header = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("lk_presignin="))
        .expect("pre-sign-in cookie")
        .to_owned();
    let pair = header.split(';').next().unwrap();
    pair.split_once('=').unwrap().1.to_owned()
}

struct Answer {
    status: u16,
    retry_after: Option<u64>,
    page: String,
}

/// Posts every (user, password) sign-in at the same moment.
async fn all_at_once(server: &TestServer, attempts: &[(String, String)]) -> Vec<Answer> {
    let http = no_redirects();
    let token = presignin(&http, server).await;
    let barrier = Arc::new(Barrier::new(attempts.len()));
    let tasks: Vec<_> = attempts
        .iter()
        .map(|(user, pw)| {
            let req = http
                .post(server.url("/console/signin"))
                .header("Cookie", format!("lk_presignin={token}"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(form_body(&[
                    ("csrf", &token),
                    ("username", user),
                    ("password", pw),
                ]));
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let res = req.send().await.expect("the server answers");
                let status = res.status().as_u16();
                let retry_after = res
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok());
                let page = res.text().await.expect("a page");
                Answer {
                    status,
                    retry_after,
                    page,
                }
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("the sign-in task"));
    }
    answers
}

async fn concurrent_wrong_passwords_run_at_most_five_checks(backend: Backend) {
    let server = start(backend, None).await;
    let attempts: Vec<_> = (0..30)
        .map(|i| ("admin".to_owned(), format!("wrong password {i}")))
        .collect();
    let answers = all_at_once(&server, &attempts).await;
    let (mut wrong, mut throttled) = (0, 0);
    for a in &answers {
        match a.status {
            401 if a.page.contains(WRONG) => wrong += 1,
            429 if a.page.contains(THROTTLED) => {
                assert!(
                    a.retry_after.is_some_and(|s| (1..=300).contains(&s)),
                    "Retry-After {:?}",
                    a.retry_after
                );
                throttled += 1;
            }
            status => panic!("unexpected answer {status}: {}", a.page),
        }
    }
    assert_eq!(
        (wrong, throttled),
        (5, 25),
        "exactly five password checks ran (FAILURES_PER_NAME)"
    );
    // The limit is per user: admin is locked out for the window, by design.
    let right = [("admin".to_owned(), ADMIN_PASSWORD.to_owned())];
    let answer = &all_at_once(&server, &right).await[0];
    assert_eq!(answer.status, 429, "{}", answer.page);
}

async fn a_full_argon2_queue_refuses_sign_in_at_once(backend: Backend) {
    let server = start(backend, Some("argon2:\n  concurrency: 1\n  queue: 0\n")).await;
    // Distinct (unknown) names, so only the per-address limit (20) applies: each
    // unknown name still costs one Argon2id run.
    let attempts: Vec<_> = (0..32)
        .map(|i| (format!("nobody-{i}"), "some password".to_owned()))
        .collect();
    let answers = all_at_once(&server, &attempts).await;
    let mut busy = 0;
    for a in &answers {
        match a.status {
            401 | 429 => {}
            503 => {
                assert!(a.page.contains(BUSY), "{}", a.page);
                assert_eq!(a.retry_after, Some(1));
                busy += 1;
            }
            status => panic!("unexpected answer {status}: {}", a.page),
        }
    }
    assert!(
        busy >= 1,
        "one run and no queue: concurrent checks are refused"
    );
}

macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() { super::$name(super::Backend::Sqlite).await }
            #[tokio::test]
            async fn postgres() { super::$name(super::Backend::Postgres).await }
        }
    )*};
}

on_both_databases!(
    concurrent_wrong_passwords_run_at_most_five_checks,
    a_full_argon2_queue_refuses_sign_in_at_once,
);
