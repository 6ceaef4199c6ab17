//! Every page at 1280 px and 390 px: nothing scrolls sideways, every field has a
//! label, nothing loads from another origin, and a secret can be added with the
//! keyboard alone.

use serde_json::Value;
use thirtyfour::Key;

use crate::browser::Browser;
use crate::{ADMIN_PASSWORD, api_secrets, server, tenant_with_client};

/// Checks the current page: no sideways scrolling, labelled fields, local resources.
async fn check_page(b: &Browser, what: &str) {
    let fits = b
        .js("return document.documentElement.scrollWidth <= window.innerWidth")
        .await;
    assert_eq!(fits, Value::Bool(true), "{what} scrolls sideways");
    let unlabelled = b
        .js("return Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea')).filter(e => !e.labels || e.labels.length === 0).map(e => e.name || e.id)")
        .await;
    assert_eq!(
        unlabelled,
        Value::Array(Vec::new()),
        "{what}: fields without a label"
    );
    let foreign = b
        .js("return performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith(location.origin))")
        .await;
    assert_eq!(
        foreign,
        Value::Array(Vec::new()),
        "{what}: resources from elsewhere"
    );
}

#[tokio::test]
async fn pages_fit_1280_and_390_pixels_with_labels_and_local_resources_only() {
    let server = server().await;
    let tenant = tenant_with_client(&server).await;
    let b = Browser::start("layout", &server.base_url).await;
    b.check(async {
        b.sign_in("admin", ADMIN_PASSWORD).await;
        let client = format!("/console/tenants/{tenant}/client-credentials/billing");
        let pages = [
            ("/console/tenants".to_owned(), "tenants"),
            (format!("/console/tenants/{tenant}"), "overview"),
            (format!("/console/tenants/{tenant}/lookup"), "lookup"),
            (format!("/console/tenants/{tenant}/clients"), "clients"),
            (
                format!("/console/tenants/{tenant}/clients/new"),
                "new client",
            ),
            (client.clone(), "edit client"),
            (format!("{client}?dialog=remove"), "revoke client"),
            (format!("/console/tenants/{tenant}/manage"), "manage tenant"),
            (
                format!("/console/tenants/{tenant}/manage?dialog=delete"),
                "delete tenant",
            ),
            (format!("{client}/secrets"), "secrets"),
            (format!("{client}/secrets?dialog=add"), "add secret"),
            (
                format!("{client}/secrets?dialog=edit&secret=1"),
                "edit secret",
            ),
            (
                format!("{client}/secrets?dialog=delete&secret=1"),
                "delete secret",
            ),
            ("/console/users".to_owned(), "users"),
            (
                format!("/console/tenants/{tenant}/settings"),
                "tenant settings",
            ),
            (format!("/console/tenants/{tenant}/audit"), "audit trail"),
            (format!("/console/tenants/{tenant}/inventory"), "inventory"),
            (format!("/console/tenants/{tenant}/webhooks"), "webhooks"),
            (
                format!("/console/tenants/{tenant}/notifications"),
                "notification emails",
            ),
        ];
        for (width, height) in [(1280, 900), (390, 844)] {
            b.resize(width, height).await;
            for (path, what) in &pages {
                b.open(path).await;
                b.el("main").await;
                check_page(&b, &format!("{what} at {width} px")).await;
            }
        }
        b.open(&format!("{client}/secrets")).await;
        b.screenshot("mobile-secrets.png").await;
        b.open(&format!("{client}/secrets?dialog=add")).await;
        b.screenshot("mobile-add-secret.png").await;
    })
    .await;
    b.quit().await;
}

#[tokio::test]
async fn a_secret_is_added_with_the_keyboard_alone() {
    let server = server().await;
    let tenant = tenant_with_client(&server).await;
    let b = Browser::start("keyboard", &server.base_url).await;
    b.check(async {
        b.sign_in("admin", ADMIN_PASSWORD).await;
        b.open(&format!(
            "/console/tenants/{tenant}/client-credentials/billing/secrets"
        ))
        .await;
        // Tab until the Add Secret button has the focus, then Enter.
        let body = b.el("body").await;
        let mut found = false;
        for _ in 0..40 {
            body.send_keys(Key::Tab).await.unwrap();
            let id = b.js("return document.activeElement.id").await;
            if id == "add-secret" {
                found = true;
                break;
            }
        }
        assert!(found, "Add Secret is reachable with Tab");
        let active = b.driver.active_element().await.unwrap();
        active.send_keys(Key::Enter).await.unwrap();
        b.el("#secret-dialog").await;
        // The dialog opens with the focus in Description.
        let focused = b.wait_for_focus("description").await;
        focused.send_keys("typed with keys").await.unwrap();
        // The calendar works from the keyboard: Tab to its button, Enter, an arrow, Enter.
        let prefilled = b.value("#expiration").await;
        let day = chrono::NaiveDate::parse_from_str(&prefilled, "%d/%m/%Y").unwrap();
        for _ in 0..3 {
            let id = b
                .js("return document.activeElement.getAttribute('data-calendar-for')")
                .await;
            if id == "expiration" {
                break;
            }
            b.driver
                .active_element()
                .await
                .unwrap()
                .send_keys(Key::Tab)
                .await
                .unwrap();
        }
        let button = b.driver.active_element().await.unwrap();
        assert_eq!(
            button.attr("data-calendar-for").await.unwrap().as_deref(),
            Some("expiration")
        );
        button.send_keys(Key::Enter).await.unwrap();
        b.el(".calendar").await;
        let cell = b.driver.active_element().await.unwrap();
        assert_eq!(
            cell.attr("data-date").await.unwrap(),
            Some(prefilled.clone()),
            "the chosen day has the focus"
        );
        cell.send_keys(Key::Right).await.unwrap();
        let next = b.driver.active_element().await.unwrap();
        next.send_keys(Key::Enter).await.unwrap();
        let picked = (day + chrono::Duration::days(1))
            .format("%d/%m/%Y")
            .to_string();
        assert_eq!(b.value("#expiration").await, picked);
        let focused = b.wait_for_focus("expiration").await;
        assert!(!b.exists(".calendar").await, "the calendar closed");
        focused.send_keys(Key::Enter).await.unwrap();
        b.el("#secret-value").await;
        let focus = b.js("return document.activeElement.id").await;
        assert_eq!(focus, "copy-secret", "the Copy button has the focus");
        let secrets = api_secrets(&server, &tenant, "billing").await;
        let added = secrets
            .iter()
            .find(|s| s["Description"] == "typed with keys")
            .expect("the secret typed with keys");
        let want = (day + chrono::Duration::days(1))
            .format("%Y-%m-%dT23:59:59Z")
            .to_string();
        assert_eq!(added["Expiration"], want.as_str());
        // Escape leaves a dialog.
        b.open(&format!(
            "/console/tenants/{tenant}/client-credentials/billing/secrets?dialog=add"
        ))
        .await;
        b.el("#secret-dialog").await;
        let active = b.driver.active_element().await.unwrap();
        active.send_keys(Key::Escape).await.unwrap();
        b.wait_for_path("the Secrets tab", |p| p.ends_with("/billing/secrets"))
            .await;
    })
    .await;
    b.quit().await;
}
