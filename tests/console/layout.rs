//! Every page at 1280 px and 390 px: nothing scrolls sideways, nothing scrolls
//! down beyond its content, every date names its zone, every field has a label,
//! nothing loads from another origin; hints never break mid-value, the audit
//! table labels every column; and a secret can be added with the keyboard alone.

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
    // The page is no taller than the window or its content, whichever is taller.
    let overflow = b
        .js("const bottom = Math.max(...Array.from(document.querySelectorAll('main, .side, .top')).map(e => e.getBoundingClientRect().bottom + window.scrollY)); \
             return document.scrollingElement.scrollHeight - Math.max(window.innerHeight, Math.ceil(bottom))")
        .await;
    assert!(
        overflow.as_f64().unwrap() <= 0.0,
        "{what} scrolls down {overflow} px beyond its content: {}",
        b.js("let best = null, max = 0; document.querySelectorAll('body *').forEach(e => { const r = e.getBoundingClientRect(); if (r.bottom > max) { max = r.bottom; best = e.tagName + '#' + e.id + '.' + e.className + ' ' + r.top + '-' + r.bottom; } }); return best + ' inner ' + window.innerHeight + ' scroll ' + document.scrollingElement.scrollHeight").await
    );
    // Every date shown (DD/MM/YYYY, maybe with a time) names its zone.
    let zoneless = b
        .js("const re = /\\d{2}\\/\\d{2}\\/\\d{4}( \\d{2}:\\d{2}(:\\d{2})?)?( UTC| GMT[+-]?\\d*| [A-Z]{3,5})?/g; \
             return Array.from(document.body.innerText.matchAll(re)).filter(m => !m[3]).map(m => m[0])")
        .await;
    assert_eq!(
        zoneless,
        Value::Array(Vec::new()),
        "{what}: dates without their zone"
    );
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
            (
                format!("{client}/secrets?dialog=renew&secret=1"),
                "renew secret",
            ),
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

#[tokio::test]
async fn hints_stay_whole_and_the_audit_table_labels_every_column() {
    let server = server().await;
    let tenant = tenant_with_client(&server).await;
    // A long description squeezes the other columns.
    let long = "a description long enough to squeeze every other column of the table ".repeat(4);
    let res = server
        .post(&format!(
            "/api/v1/Tenants/{tenant}/ClientCredentialClients/billing/Secrets"
        ))
        .json(&serde_json::json!({"Description": long}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let b = Browser::start("layout-hints", &server.base_url).await;
    b.check(async {
        b.sign_in("admin", ADMIN_PASSWORD).await;
        let secrets = format!("/console/tenants/{tenant}/client-credentials/billing/secrets");
        for (width, height) in [(1280, 900), (390, 844)] {
            b.resize(width, height).await;
            b.open(&secrets).await;
            b.el("#secrets").await;
            // Each hint is one line box: the value never breaks in the middle.
            let lines = b
                .js("return Array.from(document.querySelectorAll('#secrets .hint')).map(e => e.getClientRects().length)")
                .await;
            assert_eq!(lines, serde_json::json!([1, 1]), "hints at {width} px");
            b.open(&format!("{secrets}?dialog=add")).await;
            let broken = b
                .js("return Array.from(document.querySelectorAll('.help .nowrap')).filter(e => e.getClientRects().length !== 1).map(e => e.textContent)")
                .await;
            assert_eq!(broken, Value::Array(Vec::new()), "help values at {width} px");
        }
        b.resize(1280, 900).await;
        b.open(&format!("/console/tenants/{tenant}/audit")).await;
        let heads = b
            .js("return Array.from(document.querySelectorAll('#audit thead th')).map(e => e.textContent)")
            .await;
        assert_eq!(
            heads,
            serde_json::json!(["When", "Who", "Action", "Client", "Secret", "Outcome", "From", "OperationId"])
        );
        // The API's create carries an OperationId, shown in its own labelled column.
        let ids = b
            .js("return Array.from(document.querySelectorAll('#audit tbody td.operation')).map(e => e.textContent.trim()).filter(t => t)")
            .await;
        let ids = ids.as_array().unwrap();
        assert!(!ids.is_empty(), "no OperationId shown");
        let labels = b
            .js("return Array.from(document.querySelectorAll('#audit tbody td.operation')).map(e => e.getAttribute('data-label'))")
            .await;
        assert!(
            labels.as_array().unwrap().iter().all(|l| l == "OperationId"),
            "{labels}"
        );
        let events = crate::api_get(&server, &format!("/api/v1/Tenants/{tenant}/AuditEvents")).await;
        let text = events.to_string();
        for id in ids {
            assert!(text.contains(id.as_str().unwrap()), "{id} is an entry's OperationId");
        }
    })
    .await;
    b.quit().await;
}
