//! Sign-in, sign-out, session cookies and idle expiry, in the browser.

use thirtyfour::cookie::SameSite;

use crate::browser::Browser;
use crate::{ADMIN_PASSWORD, server, server_with};

#[tokio::test]
async fn wrong_password_is_refused_then_sign_in_and_sign_out_end_the_session() {
    let server = server().await;
    let b = Browser::start("signin", &server.base_url).await;
    b.check(async {
        // Unauthenticated pages lead to the sign-in form.
        b.open("/console/tenants").await;
        b.wait_for_path("the sign-in page", |p| p == "/console/signin")
            .await;

        b.fill("#username", "admin").await;
        b.fill("#password", "not the password").await;
        b.click("#sign-in").await;
        let error = b.text("#form-error").await;
        assert_eq!(error, "Wrong user name or password.");
        assert_eq!(b.value("#username").await, "admin", "the name is kept");
        assert_eq!(b.value("#password").await, "", "the password is not echoed");
        b.screenshot("signin.png").await;

        b.fill("#password", ADMIN_PASSWORD).await;
        b.click("#sign-in").await;
        b.wait_for_path("the tenants page", |p| p == "/console/tenants")
            .await;
        assert_eq!(b.text("#signed-in-user").await, "admin");

        let cookie = b.driver.get_named_cookie("lk_session").await.unwrap();
        assert_eq!(cookie.http_only, Some(true));
        assert_eq!(cookie.same_site, Some(SameSite::Strict));
        assert_eq!(cookie.path.as_deref(), Some("/console"));
        assert!(
            cookie.value.len() >= 43,
            "256-bit token: {}",
            cookie.value.len()
        );

        b.click("#sign-out").await;
        b.wait_for_path("the signed-out page", |p| {
            p == "/console/signin?signedout=1"
        })
        .await;
        assert_eq!(b.text("#signin-notice").await, "You are signed out.");
        // The old token no longer opens anything, even if replayed.
        let res = server
            .http
            .get(server.url("/console/tenants"))
            .header("Cookie", format!("lk_session={}", cookie.value))
            .send()
            .await
            .unwrap();
        assert_eq!(res.url().path(), "/console/signin", "followed to sign-in");
        b.open("/console/tenants").await;
        b.wait_for_path("the sign-in page", |p| p == "/console/signin")
            .await;
    })
    .await;
    b.quit().await;
}

#[tokio::test]
async fn an_idle_session_expires() {
    let server = server_with(&[("LATCHKEY_CONSOLE__IDLETIMEOUT", "2")]).await;
    let b = Browser::start("idle", &server.base_url).await;
    b.check(async {
        b.sign_in("admin", ADMIN_PASSWORD).await;
        // Idleness is the behaviour under test: let 2.5 s pass without a request
        // (any request would keep the session alive), then one request finds it ended.
        tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
        b.open("/console/tenants").await;
        b.wait_for_path("the expired page", |p| p == "/console/signin?expired=1")
            .await;
        let notice = b.text("#signin-notice").await;
        assert!(notice.contains("inactivity"), "{notice}");
        assert!(
            b.driver.get_named_cookie("lk_session").await.is_err(),
            "cookie cleared"
        );
    })
    .await;
    b.quit().await;
}
