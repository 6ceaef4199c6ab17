//! The console's sign-in throttle behind a trusted reverse proxy (`server.trustedProxies`):
//! failures count against the forwarded client, so one attacker behind the proxy cannot
//! lock everyone else out of the console.

use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};

use crate::{ADMIN_PASSWORD, form_body, server_with};

/// Signs in as `user` from forwarded address `client`; returns the status.
async fn sign_in_from(base: &str, client: &str, user: &str, password: &str) -> StatusCode {
    let http = Client::builder()
        .no_proxy()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let res = http.get(format!("{base}/console/signin")).send().await;
    let res = res.unwrap();
    assert_eq!(res.status(), 200);
    let token = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("lk_presignin="))
        .and_then(|v| v.split(';').next())
        .expect("a pre-sign-in cookie")
        .to_owned();
    http.post(format!("{base}/console/signin"))
        .header("X-Forwarded-For", client)
        .header("Cookie", format!("lk_presignin={token}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form_body(&[
            ("csrf", &token),
            ("username", user),
            ("password", password),
        ]))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn sign_in_failures_count_against_the_forwarded_client() {
    let server = server_with(&[("LATCHKEY_SERVER__TRUSTEDPROXIES", "[127.0.0.0/8]")]).await;
    let base = &server.base_url;
    let (attacker, colleague) = ("203.0.113.66", "198.51.100.7");
    // One failure per user name, 20 names: the attacker's address window fills up.
    for i in 0..20 {
        let status = sign_in_from(base, attacker, &format!("guess-{i}"), "wrong password").await;
        assert_eq!(status, 401, "attempt {i}");
    }
    let status = sign_in_from(base, attacker, "admin", ADMIN_PASSWORD).await;
    assert_eq!(status, 429);
    // A colleague behind the same proxy signs in.
    let status = sign_in_from(base, colleague, "admin", ADMIN_PASSWORD).await;
    assert_eq!(status, 303);
}
