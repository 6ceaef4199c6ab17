//! Console users and roles: a platform administrator manages them; a Tenant
//! Member sees clients but never secrets.

use crate::browser::Browser;
use crate::http_checks::{csrf_of, http_sign_in};
use crate::{ADMIN_PASSWORD, api_secrets, form_body, server, tenant_with_client};

#[tokio::test]
async fn platform_admin_manages_users_and_a_member_cannot_see_secrets() {
    let server = server().await;
    let tenant = tenant_with_client(&server).await;
    let other = server.create_tenant().await;
    let b = Browser::start("users", &server.base_url).await;
    b.check(async {
        b.sign_in("admin", ADMIN_PASSWORD).await;
        b.click("#nav-users").await;
        b.fill("#new-username", "mia").await;
        b.fill("#new-password", "short").await;
        b.click("#create-user").await;
        let error = b.text("#form-error").await;
        assert!(error.starts_with("Password"), "{error}");
        b.fill("#new-password", "mia's long password").await;
        b.click("#create-user").await;
        b.wait_for_path("the user page", |p| p == "/console/users/mia")
            .await;
        let select = thirtyfour::components::SelectElement::new(
            &b.el(&format!("select[name='role:{tenant}']")).await,
        )
        .await
        .unwrap();
        select.select_by_value("tenant-member").await.unwrap();
        b.click("#save-user").await;
        b.wait_for_path("the users list", |p| p == "/console/users")
            .await;
        let roles = b.text("tr[data-user='mia'] td:nth-child(3)").await;
        assert!(roles.ends_with(": Tenant Member"), "{roles}");
        b.screenshot("users.png").await;
        b.click("#sign-out").await;

        // The member: sees its one tenant and its clients, no Secrets tab, no Save.
        b.sign_in("mia", "mia's long password").await;
        assert!(!b.exists("#nav-users").await);
        let tenants = b.all("#tenants tbody tr").await;
        assert_eq!(tenants.len(), 1);
        assert!(
            !b.exists("a[data-action='manage']").await,
            "no Manage tenant"
        );
        assert!(!b.source().await.contains(&other));
        b.open(&format!("/console/tenants/{tenant}/clients")).await;
        assert!(!b.exists("#new-client").await);
        b.click("tr[data-client='billing'] a").await;
        b.el("#details-form").await;
        assert!(!b.exists("#tab-secrets").await);
        assert!(!b.exists("#save-client").await);
        b.open(&format!(
            "/console/tenants/{tenant}/client-credentials/billing/secrets"
        ))
        .await;
        let error = b.text("#page-error").await;
        assert_eq!(error, "You do not have permission to see or change this.");
        assert!(!b.exists("#secrets").await);
        b.open(&format!("/console/tenants/{other}/clients")).await;
        b.el("#page-error").await;
        b.open(&format!("/console/tenants/{tenant}/manage")).await;
        let error = b.text("#page-error").await;
        assert_eq!(error, "You do not have permission to see or change this.");
        assert!(!b.exists("#nav-manage").await);
        b.open("/console/users").await;
        let error = b.text("#page-error").await;
        assert!(error.contains("Only platform administrators"), "{error}");
    })
    .await;
    b.quit().await;

    // A forged add, even with a valid CSRF token, is refused by the services.
    let session = http_sign_in(&server, "mia", "mia's long password").await;
    let csrf = csrf_of(&server, &session).await;
    let res = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(server.url(&format!(
            "/console/tenants/{tenant}/client-credentials/billing/secrets"
        )))
        .header("Cookie", format!("lk_session={session}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form_body(&[("csrf", &csrf), ("description", "sneaky")]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let text = res.text().await.unwrap();
    assert!(text.contains("You do not have permission"), "{text}");
    assert!(!text.contains("lkcs_"));
    assert_eq!(api_secrets(&server, &tenant, "billing").await.len(), 1);

    // Renaming or deleting the tenant is for platform administrators: 403, unchanged,
    // for a Tenant Member and for a Tenant Administrator (who may change all else).
    let admin_session = http_sign_in(&server, "admin", crate::ADMIN_PASSWORD).await;
    let admin_csrf = csrf_of(&server, &admin_session).await;
    let role_field = format!("role:{tenant}");
    let promoted = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(server.url("/console/users/mia"))
        .header("Cookie", format!("lk_session={admin_session}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form_body(&[
            ("csrf", &admin_csrf),
            (&role_field, "tenant-administrator"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(promoted.status(), 303);
    let session_admin_role = http_sign_in(&server, "mia", "mia's long password").await;
    let csrf_admin_role = csrf_of(&server, &session_admin_role).await;
    let secrets_tab = reqwest::Client::new()
        .get(server.url(&format!(
            "/console/tenants/{tenant}/client-credentials/billing/secrets"
        )))
        .header("Cookie", format!("lk_session={session_admin_role}"))
        .send()
        .await
        .unwrap();
    assert_eq!(secrets_tab.status(), 200, "now a Tenant Administrator");
    for (session, csrf) in [(&session, &csrf), (&session_admin_role, &csrf_admin_role)] {
        for (action, field, value) in [
            ("rename", "name", "Hijacked"),
            ("delete", "confirmation", "Acme Corp"),
        ] {
            let res = reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap()
                .post(server.url(&format!("/console/tenants/{tenant}/{action}")))
                .header("Cookie", format!("lk_session={session}"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(form_body(&[("csrf", csrf), (field, value)]))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 403, "{action}");
        }
    }
    let t = crate::api_get(&server, &format!("/api/v1/Tenants/{tenant}")).await;
    assert_eq!(t["Name"], "Acme Corp");
}

/// An auditor reads secret metadata but changes nothing; a new password and the
/// deletion of a user take effect at once.
#[tokio::test]
async fn an_auditor_reads_secrets_and_user_changes_take_effect() {
    let server = server().await;
    let tenant = tenant_with_client(&server).await;
    let b = Browser::start("auditor", &server.base_url).await;
    b.check(async {
        b.sign_in("admin", ADMIN_PASSWORD).await;
        b.open("/console/users").await;
        b.fill("#new-username", "ann").await;
        b.fill("#new-password", "ann's first password").await;
        b.click("#create-user").await;
        b.wait_for_path("the user page", |p| p == "/console/users/ann")
            .await;
        let select = thirtyfour::components::SelectElement::new(
            &b.el(&format!("select[name='role:{tenant}']")).await,
        )
        .await
        .unwrap();
        select.select_by_value("tenant-auditor").await.unwrap();
        b.click("#save-user").await;
        b.wait_for_path("the users list", |p| p == "/console/users")
            .await;
        b.click("#sign-out").await;

        b.sign_in("ann", "ann's first password").await;
        b.open(&format!(
            "/console/tenants/{tenant}/client-credentials/billing/secrets"
        ))
        .await;
        assert_eq!(b.all("#secrets tbody tr").await.len(), 1);
        assert!(!b.exists("#add-secret").await);
        assert!(!b.exists("a[data-action]").await);
        // A dialog asked for by URL is not opened for a reader.
        b.open(&format!(
            "/console/tenants/{tenant}/client-credentials/billing/secrets?dialog=add"
        ))
        .await;
        b.el("#secrets").await;
        assert!(!b.exists("#secret-dialog").await);
        b.click("#sign-out").await;

        // The administrator changes ann's password (which ends her sessions), then deletes ann.
        let before = http_sign_in(&server, "ann", "ann's first password").await;
        b.sign_in("admin", ADMIN_PASSWORD).await;
        b.open("/console/users/ann").await;
        b.fill("#password", "ann's second password").await;
        b.click("#save-user").await;
        b.wait_for_path("the users list", |p| p == "/console/users")
            .await;
        assert_eq!(
            console_status(&server, &before).await,
            303,
            "signed out by the change"
        );
        let ann = http_sign_in(&server, "ann", "ann's second password").await;
        assert_eq!(console_status(&server, &ann).await, 200);
        b.open("/console/users/ann").await;
        b.click("#delete-user").await;
        b.wait_for_path("the users list", |p| p == "/console/users?deleted=1")
            .await;
        assert_eq!(
            b.text("#notice").await,
            "User deleted; their sessions have ended."
        );
        assert!(!b.exists("tr[data-user='ann']").await);
        // Her open session ended with her.
        let res = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(server.url("/console/tenants"))
            .header("Cookie", format!("lk_session={ann}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        // The administrator cannot delete itself (no button, and the POST is refused).
        b.open("/console/users/admin").await;
        assert!(!b.exists("#delete-user").await);
    })
    .await;
    b.quit().await;
}

/// The status of GET /console/tenants with session `token` (303: signed out).
async fn console_status(server: &crate::harness::TestServer, token: &str) -> u16 {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(server.url("/console/tenants"))
        .header("Cookie", format!("lk_session={token}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}
