//! Expiry settings of the tenant and of a client, the audit trail, webhooks and
//! notification emails, in the browser, checked through the API.

use serde_json::{Value, json};
use thirtyfour::components::SelectElement;

use crate::browser::Browser;
use crate::{ADMIN_PASSWORD, api_get, api_secrets, server, tenant_with_client};

async fn select(b: &Browser, css: &str, value: &str) {
    SelectElement::new(&b.el(css).await)
        .await
        .unwrap()
        .select_by_value(value)
        .await
        .unwrap();
}

#[tokio::test]
async fn tenant_and_client_expiry_settings_follow_the_same_rules() {
    let server = server().await;
    let tenant = tenant_with_client(&server).await;
    let b = Browser::start("settings", &server.base_url).await;
    let client = format!("/console/tenants/{tenant}/client-credentials/billing");
    let policy_api = format!("/api/v1/Tenants/{tenant}/SecretPolicy");
    b.check(async {
        b.sign_in("admin", ADMIN_PASSWORD).await;

        // The tenant's Client Secrets settings: 30 days by default.
        b.open(&format!("/console/tenants/{tenant}/clients")).await;
        b.click("#nav-settings").await;
        assert!(
            b.el("#default_configured")
                .await
                .is_selected()
                .await
                .unwrap()
        );
        b.click("#default_own").await;
        select(&b, "#default_unit", "DAYS").await;
        b.fill("#default_duration", "thirty").await;
        b.click("#save-tenant-settings").await;
        let error = b.text("#form-error").await;
        assert!(error.starts_with("Default expiry duration"), "{error}");
        b.fill("#default_duration", "30").await;
        b.click("#save-tenant-settings").await;
        b.el("#notice").await;
        b.screenshot("tenant-settings.png").await;
        let p = api_get(&server, &policy_api).await;
        assert_eq!(
            (p["Unit"].clone(), p["Duration"].clone()),
            (json!("DAYS"), json!(30))
        );
        assert_eq!(p["UsesConfiguredDefault"], false);

        // The client uses the tenant rules: Add Secret is pre-filled 30 days ahead.
        b.open(&format!("{client}/secrets")).await;
        assert!(b.el("#use_tenant_rules").await.is_selected().await.unwrap());
        assert_eq!(
            b.text("#policy-effective").await,
            "New and renewed secrets of this client expire after 30 days."
        );
        b.click("#add-secret").await;
        let in_30_days = (chrono::Utc::now() + chrono::Duration::days(30))
            .format("%d/%m/%Y")
            .to_string();
        assert_eq!(b.value("#expiration").await, in_30_days);

        // Its own rule: NONE. Add Secret then starts with Never expires.
        b.open(&format!("{client}/secrets")).await;
        b.click("#use_tenant_rules").await;
        select(&b, "#own_unit", "NONE").await;
        b.click("#save-policy").await;
        b.el("#policy-notice").await;
        assert_eq!(
            b.text("#policy-effective").await,
            "New and renewed secrets of this client never expire."
        );
        b.screenshot("client-settings.png").await;
        let cp = api_get(
            &server,
            &format!("/api/v1/Tenants/{tenant}/ClientCredentialClients/billing/SecretPolicy"),
        )
        .await;
        assert_eq!(
            (cp["UseTenantRules"].clone(), cp["Unit"].clone()),
            (json!(false), json!("NONE"))
        );
        b.click("#add-secret").await;
        assert_eq!(b.value("#expiration").await, "");
        assert!(b.el("#never_expires").await.is_selected().await.unwrap());
        b.fill("#description", "no expiry").await;
        b.click("#save-secret").await;
        b.el("#secret-value").await;
        let s = api_secrets(&server, &tenant, "billing").await;
        let added = s.iter().find(|s| s["Description"] == "no expiry").unwrap();
        assert_eq!(added["Expires"], false);

        // A tenant maximum lifetime: now a never-expiring secret is refused, as by the API.
        b.open(&format!("/console/tenants/{tenant}/settings")).await;
        b.click("#limit").await;
        select(&b, "#max_unit", "YEARS").await;
        b.fill("#max_duration", "1").await;
        b.click("#save-tenant-settings").await;
        b.el("#notice").await;
        let p = api_get(&server, &policy_api).await;
        assert_eq!(
            p["MaximumLifetime"],
            json!({"Unit": "YEARS", "Duration": 1})
        );
        // The client's NONE rule is capped: the dialog proposes a date within the
        // maximum (never "Never expires", which would be refused), and it is accepted.
        b.open(&format!("{client}/secrets?dialog=add")).await;
        assert!(!b.el("#never_expires").await.is_selected().await.unwrap());
        assert!(!b.value("#expiration").await.is_empty());
        b.fill("#description", "capped").await;
        b.click("#save-secret").await;
        b.el("#secret-value").await;
        let s = api_secrets(&server, &tenant, "billing").await;
        let added = s.iter().find(|s| s["Description"] == "capped").unwrap();
        assert_eq!(added["Expires"], true, "{added}");
        // Choosing "Never expires" anyway is refused, as by the API.
        b.open(&format!("{client}/secrets?dialog=add")).await;
        b.click("#never_expires").await;
        b.fill("#description", "forever again").await;
        b.click("#save-secret").await;
        let error = b.text("#form-error").await;
        assert_eq!(
            error,
            "Never expires: secrets must expire: the tenant sets a maximum lifetime"
        );
        assert!(
            api_secrets(&server, &tenant, "billing")
                .await
                .iter()
                .all(|s| s["Description"] != "forever again")
        );

        // Back to the tenant rules.
        b.open(&format!("{client}/secrets")).await;
        b.click("#use_tenant_rules").await;
        b.click("#save-policy").await;
        b.el("#policy-notice").await;
        let cp = api_get(
            &server,
            &format!("/api/v1/Tenants/{tenant}/ClientCredentialClients/billing/SecretPolicy"),
        )
        .await;
        assert_eq!(cp["UseTenantRules"], true);
    })
    .await;
    b.quit().await;
}

/// Self-rotation is switched per tenant (Client Secrets settings) and per client (Edit
/// Client › Details), off by default on both, each checked through the API.
#[tokio::test]
async fn self_rotation_is_switched_for_the_tenant_and_the_client() {
    let server = server().await;
    let tenant = tenant_with_client(&server).await;
    let b = Browser::start("self-rotation", &server.base_url).await;
    let policy_api = format!("/api/v1/Tenants/{tenant}/SecretPolicy");
    let client_api = format!("/api/v1/Tenants/{tenant}/ClientCredentialClients/billing");
    let selected = |css: &'static str| {
        let b = &b;
        async move { b.el(css).await.is_selected().await.unwrap() }
    };
    b.check(async {
        b.sign_in("admin", ADMIN_PASSWORD).await;
        b.open(&format!("/console/tenants/{tenant}/settings")).await;
        assert!(!selected("#allow_self_rotation").await, "off by default");
        b.click("#allow_self_rotation").await;
        b.click("#save-tenant-settings").await;
        b.el("#notice").await;
        assert!(selected("#allow_self_rotation").await);
        let p = api_get(&server, &policy_api).await;
        assert_eq!(
            (
                p["AllowSelfRotation"].clone(),
                p["UsesConfiguredDefault"].clone()
            ),
            (json!(true), json!(true))
        );

        let client = format!("/console/tenants/{tenant}/client-credentials/billing");
        b.open(&client).await;
        assert!(!selected("#allow_self_rotation").await, "off by default");
        b.click("#allow_self_rotation").await;
        b.click("#save-client").await;
        b.el("#notice").await;
        assert!(selected("#allow_self_rotation").await);
        assert_eq!(
            api_get(&server, &client_api).await["AllowSelfRotation"],
            true
        );
        b.click("#allow_self_rotation").await;
        b.click("#save-client").await;
        // The notice of the first save is still on the page: wait for the change itself.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while api_get(&server, &client_api).await["AllowSelfRotation"] != false
            && std::time::Instant::now() < deadline
        {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(
            api_get(&server, &client_api).await["AllowSelfRotation"],
            false
        );

        b.open(&format!("/console/tenants/{tenant}/settings")).await;
        b.click("#allow_self_rotation").await;
        b.click("#save-tenant-settings").await;
        b.el("#notice").await;
        assert_eq!(
            api_get(&server, &policy_api).await["AllowSelfRotation"],
            false
        );
    })
    .await;
    b.quit().await;
}

#[tokio::test]
async fn audit_trail_webhooks_and_notification_emails() {
    let server = server().await;
    let tenant = tenant_with_client(&server).await;
    let b = Browser::start("notifications", &server.base_url).await;
    b.check(async {
        b.sign_in("admin", ADMIN_PASSWORD).await;
        // A change through the console, to find in the trail.
        b.open(&format!(
            "/console/tenants/{tenant}/client-credentials/billing/secrets?dialog=add"
        ))
        .await;
        b.fill("#description", "audited").await;
        b.click("#save-secret").await;
        let value = b.value("#secret-value").await;

        b.open(&format!("/console/tenants/{tenant}/audit")).await;
        let mut seen = Vec::new();
        for row in b.all("#audit tbody tr").await {
            let who = row
                .find(thirtyfour::By::Css(".actor"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let action = row
                .find(thirtyfour::By::Css(".action"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            seen.push((who, action));
        }
        assert!(
            seen.contains(&("user admin".to_owned(), "secret.create".to_owned())),
            "{seen:?}"
        );
        assert!(!b.source().await.contains(&value), "no value in the trail");
        b.screenshot("audit.png").await;
        b.fill("#filter-action", "secret.create").await;
        b.click("#apply-audit-filter").await;
        b.wait_for_path("the filtered trail", |p| p.contains("action=secret.create"))
            .await;
        for action in b.all("#audit tbody .action").await {
            assert_eq!(action.text().await.unwrap(), "secret.create");
        }
        // The API reports the same entry, with the console user as the actor.
        let events = api_get(&server, &format!("/api/v1/Tenants/{tenant}/AuditEvents")).await;
        let text = events.to_string();
        assert!(
            text.contains("secret.create") && text.contains("admin"),
            "{text}"
        );

        // The inventory: every secret of the tenant; "never used" finds both, a bad number is refused.
        b.click("#nav-inventory").await;
        assert_eq!(b.all("#inventory tbody tr").await.len(), 2);
        b.click("#inv-never-used").await;
        b.fill("#inv-expiring", "soon").await;
        b.click("#apply-inventory-filter").await;
        let error = b.text("#form-error").await;
        assert!(error.starts_with("Expiring within"), "{error}");
        b.fill("#inv-expiring", "").await;
        select(&b, "#inv-status", "expired").await;
        b.click("#apply-inventory-filter").await;
        b.el("#no-inventory").await;
        select(&b, "#inv-status", "active").await;
        b.click("#apply-inventory-filter").await;
        b.wait_for_path("the filtered inventory", |p| p.contains("status=active"))
            .await;
        assert_eq!(b.all("#inventory tbody tr").await.len(), 2);
        assert!(!b.source().await.contains(&value));
        b.screenshot("inventory.png").await;

        // Webhooks: a URL is required; a created one shows its signing secret once.
        b.click("#nav-webhooks").await;
        b.click("#create-webhook").await;
        let error = b.text("#form-error").await;
        assert!(error.starts_with("Url"), "{error}");
        // A receiver this test never reaches (loopback ones are refused by default):
        // deliveries fail and are retried, but each one is listed.
        let hook_url = "https://hooks.example.com/latchkey";
        b.fill("#webhook-url", hook_url).await;
        b.fill("#webhook-description", "ops pager").await;
        b.click("#event-secret\\.created").await;
        b.click("#create-webhook").await;
        let signing = b.value("#secret-value").await;
        assert!(signing.starts_with("whsec_"), "{signing}");
        b.click("#shown-done").await;
        b.el("#webhooks").await;
        assert!(!b.source().await.contains(&signing));
        let hooks = api_get(&server, &format!("/api/v1/Tenants/{tenant}/Webhooks")).await;
        assert_eq!(hooks[0]["Url"], hook_url);
        assert_eq!(hooks[0]["EventTypes"], json!(["secret.created"]));
        // A secret event becomes a delivery, listed in the webhook's delivery log.
        let res = server
            .post(&format!(
                "/api/v1/Tenants/{tenant}/ClientCredentialClients/billing/Secrets"
            ))
            .json(&json!({"Description": "for the hook"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let hook_id = hooks[0]["Id"].as_str().unwrap().to_owned();
        let deliveries = format!("/console/tenants/{tenant}/webhooks?deliveries={hook_id}");
        let deadline = std::time::Instant::now() + crate::browser::WAIT;
        loop {
            b.open(&deliveries).await;
            b.el("#deliveries-heading").await;
            if b.exists("#deliveries").await {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "no delivery listed");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        assert!(b.text("#deliveries").await.contains("secret.created"));
        b.screenshot("webhooks.png").await;
        b.click("button[data-action='delete-webhook']").await;
        b.el("#no-webhooks").await;
        let notice = b.text("#notice").await;
        assert!(
            notice.contains("Webhook deleted"),
            "a delete is confirmed: {notice}"
        );
        let hooks = api_get(&server, &format!("/api/v1/Tenants/{tenant}/Webhooks")).await;
        assert_eq!(hooks, Value::Array(Vec::new()));

        // Notification emails.
        b.click("#nav-notifications").await;
        b.fill("#recipients", "ops@example.com\nnot an address")
            .await;
        b.click("#save-recipients").await;
        let error = b.text("#form-error").await;
        assert!(error.contains("is not an email address"), "{error}");
        b.fill("#recipients", "ops@example.com\nsecurity@example.com")
            .await;
        b.click("#save-recipients").await;
        b.el("#notice").await;
        b.screenshot("notification-emails.png").await;
        let r = api_get(
            &server,
            &format!("/api/v1/Tenants/{tenant}/NotificationRecipients"),
        )
        .await;
        assert_eq!(
            r["Recipients"],
            json!(["ops@example.com", "security@example.com"])
        );
    })
    .await;
    b.quit().await;
}
