//! Notification recipients saved in the console while email is off on the server:
//! saved, and the page that follows the save says they get no email.

use crate::http_checks::{csrf_of, http_sign_in};
use crate::{ADMIN_PASSWORD, form_body, server_with};

/// Saves `recipients` on the tenant's notifications page and returns the page the
/// save redirects to.
async fn save_and_follow(
    server: &crate::harness::TestServer,
    tenant: &str,
    recipients: &str,
) -> String {
    let session = http_sign_in(server, "admin", ADMIN_PASSWORD).await;
    let csrf = csrf_of(server, &session).await;
    let res = server
        .http
        .post(server.url(&format!("/console/tenants/{tenant}/notifications")))
        .header("Cookie", format!("lk_session={session}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form_body(&[("csrf", &csrf), ("recipients", recipients)]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the redirect after the save is followed");
    res.text().await.unwrap()
}

#[tokio::test]
async fn saving_recipients_while_email_is_off_says_they_get_no_email() {
    let server = server_with(&[]).await;
    let tenant = server.create_tenant().await;
    let page = save_and_follow(&server, &tenant, "ops@example.com").await;
    assert!(page.contains("ops@example.com"), "saved: {page}");
    assert!(
        page.contains("Saved, but email is off on this server"),
        "{page}"
    );

    let server = server_with(&[
        ("LATCHKEY_NOTIFICATIONS__EMAIL__HOST", "smtp.example.com"),
        ("LATCHKEY_NOTIFICATIONS__EMAIL__FROM", "lk@example.com"),
    ])
    .await;
    let tenant = server.create_tenant().await;
    let page = save_and_follow(&server, &tenant, "ops@example.com").await;
    assert!(page.contains("Saved."), "{page}");
    assert!(!page.contains("email is off"), "{page}");
}
