//! The Secrets tab and its dialogs, in the browser, checked through the
//! API and the token endpoint.

use serde_json::Value;

use crate::browser::Browser;
use crate::{
    ADMIN_PASSWORD, api_secrets, next_year, secret_works, server, server_with, tenant_with_client,
};

/// The secret described `description`, as the API lists it.
async fn api_secret(
    server: &crate::harness::TestServer,
    tenant: &str,
    description: &str,
) -> Option<Value> {
    api_secrets(server, tenant, "billing")
        .await
        .into_iter()
        .find(|s| s["Description"] == description)
}

fn row(id: &Value) -> String {
    format!("tr[data-secret='{id}']")
}

#[tokio::test]
async fn secrets_tab_add_edit_renew_and_delete() {
    let server = server().await;
    let tenant = tenant_with_client(&server).await;
    let b = Browser::start("secrets", &server.base_url).await;
    let tab = format!("/console/tenants/{tenant}/client-credentials/billing/secrets");
    b.check(async {
        b.sign_in("admin", ADMIN_PASSWORD).await;
        b.open(&tab).await;
        let heads: Vec<String> = {
            let mut v = Vec::new();
            for th in b.all("#secrets thead th").await {
                v.push(th.text().await.unwrap().to_lowercase());
            }
            v
        };
        assert_eq!(heads, ["description", "expiration", "value", "last used", "status", "actions"]);
        let initial = api_secret(&server, &tenant, "initial").await.unwrap();
        let r = row(&initial["Id"]);
        assert_eq!(b.text(&format!("{r} .description")).await, "initial");
        let hint = initial["Hint"].as_str().unwrap();
        assert_eq!(b.text(&format!("{r} .value")).await, format!("{hint}••••••"));
        assert_eq!(b.text(&format!("{r} .last-used")).await, "Never");
        assert_eq!(b.text(&format!("{r} .status")).await, "Active");
        let exp = initial["Expiration"].as_str().unwrap();
        let (y, m, d) = (&exp[0..4], &exp[5..7], &exp[8..10]);
        assert_eq!(b.text(&format!("{r} .expiration")).await, format!("{d}/{m}/{y} UTC"));

        // Add Secret: pre-filled from policy; an empty form is refused, the error above the form.
        b.click("#add-secret").await;
        b.el("#secret-dialog").await;
        assert!(!b.value("#expiration").await.is_empty(), "pre-filled from the policy");
        b.fill("#expiration", "").await;
        b.click("#save-secret").await;
        let error = b.text("#form-error").await;
        assert!(error.starts_with("The form is empty"), "{error}");
        let above = b
            .js("return !!(document.getElementById('form-error').compareDocumentPosition(document.getElementById('secret-form')) & Node.DOCUMENT_POSITION_FOLLOWING)")
            .await;
        assert_eq!(above, Value::Bool(true), "the error is above the form");
        b.screenshot("secret-add-error.png").await;
        assert_eq!(api_secrets(&server, &tenant, "billing").await.len(), 1);

        // A date typed as DD/MM/YYYY means the end of that day (the browser runs in UTC).
        let year = next_year();
        b.fill("#description", "rotation").await;
        b.fill("#expiration", &format!("31/12/{year}")).await;
        b.screenshot("secret-add.png").await;
        b.click("#save-secret").await;
        let value = b.value("#secret-value").await;
        assert!(value.starts_with("lkcs_"));
        assert!(b.text("#shown-warning").await.contains("It will not be shown again"));
        b.click("#copy-secret").await;
        b.wait_for_text("#copy-status", |t| t == "Copied to the clipboard.")
            .await;
        b.screenshot("secret-shown.png").await;
        let rotation = api_secret(&server, &tenant, "rotation").await.unwrap();
        assert_eq!(rotation["Expiration"], format!("{year}-12-31T23:59:59Z"));
        assert!(secret_works(&server, &tenant, "billing", &value).await);
        b.click("#shown-done").await;
        b.wait_for_path("the Secrets tab", |p| p == tab).await;
        assert!(!b.source().await.contains(&value));
        // The show-once page was replaced in the history: Back cannot bring the value back.
        b.driver.back().await.unwrap();
        b.el("body").await;
        assert!(!b.source().await.contains(&value), "Back shows no value");
        b.open(&tab).await;
        b.screenshot("secrets.png").await;

        // The calendar picks a day as DD/MM/YYYY; Never expires wins over it.
        b.click("#add-secret").await;
        b.fill("#description", "forever").await;
        b.click("button[data-calendar-for='expiration']").await;
        b.click(".calendar td button[data-date^='15/']").await;
        let picked = b.value("#expiration").await;
        assert!(picked.starts_with("15/") && picked.len() == 10, "{picked}");
        b.click("#never_expires").await;
        assert_eq!(b.value("#expiration").await, "", "Never expires clears the date");
        assert!(!b.el("#expiration").await.is_enabled().await.unwrap(), "and disables it");
        b.click("#save-secret").await;
        b.el("#secret-value").await;
        let forever = api_secret(&server, &tenant, "forever").await.unwrap();
        assert_eq!((forever["Expires"].clone(), forever["Expiration"].clone()), (Value::Bool(false), Value::Null));

        // Edit a never-expiring secret: unticking Never expires lets a date be typed.
        b.open(&tab).await;
        b.click(&format!("{} a[data-action='edit']", row(&forever["Id"]))).await;
        assert_eq!(b.value("#expiration").await, "");
        assert!(b.el("#never_expires").await.is_selected().await.unwrap());
        assert!(!b.el("#expiration").await.is_enabled().await.unwrap());
        b.click("#never_expires").await;
        b.fill("#expiration", &format!("01/06/{year}")).await;
        b.click("#save-secret").await;
        b.wait_for_path("the Secrets tab", |p| p == tab).await;
        let forever = api_secret(&server, &tenant, "forever").await.unwrap();
        assert_eq!(forever["Expiration"], format!("{year}-06-01T23:59:59Z"));

        // Edit: pre-filled, the old value never shown, only its hint.
        b.open(&tab).await;
        let r = row(&rotation["Id"]);
        b.click(&format!("{r} a[data-action='edit']")).await;
        assert_eq!(b.value("#description").await, "rotation");
        assert_eq!(b.value("#expiration").await, format!("31/12/{year}"));
        assert_eq!(b.value("#value").await, "");
        assert_eq!(b.text("#current-hint").await, rotation["Hint"].as_str().unwrap());
        assert!(!b.source().await.contains(&value));
        b.screenshot("secret-edit.png").await;
        b.fill("#description", "rotation 2").await;
        let typed = "my own value, long enough: 0123456789+%:";
        b.fill("#value", typed).await;
        b.click("#save-secret").await;
        b.wait_for_path("the Secrets tab", |p| p == tab).await;
        assert!(!b.source().await.contains(typed), "a typed value is never echoed");
        let edited = api_secret(&server, &tenant, "rotation 2").await.unwrap();
        assert_eq!(edited["Expiration"], rotation["Expiration"], "unchanged date kept");
        assert!(secret_works(&server, &tenant, "billing", typed).await);
        assert!(!secret_works(&server, &tenant, "billing", &value).await, "old value replaced");

        // Renew with a grace period: the typed value keeps working for a while.
        b.click(&format!("{r} a[data-action='renew']")).await;
        b.fill("#grace_hours", "2").await;
        b.click("#confirm-renew").await;
        let graced = b.value("#secret-value").await;
        assert!(secret_works(&server, &tenant, "billing", &graced).await);
        assert!(secret_works(&server, &tenant, "billing", typed).await, "grace");
        b.click("#shown-done").await;
        b.wait_for_path("the Secrets tab", |p| p == tab).await;
        let status = b.text(&format!("{r} .status")).await;
        assert!(status.contains("old value works until"), "{status}");

        // Renew again, without grace: a new value, shown once, same id; the earlier ones stop.
        b.click(&format!("{r} a[data-action='renew']")).await;
        b.click("#confirm-renew").await;
        let renewed = b.value("#secret-value").await;
        assert!(renewed.starts_with("lkcs_") && renewed != value && renewed != graced);
        assert!(secret_works(&server, &tenant, "billing", &renewed).await);
        assert!(!secret_works(&server, &tenant, "billing", typed).await);
        assert!(!secret_works(&server, &tenant, "billing", &graced).await);
        let after = api_secret(&server, &tenant, "rotation 2").await.unwrap();
        assert_eq!(after["Id"], rotation["Id"]);
        b.click("#shown-done").await;

        // Revoke: anything but the description or `revoke` leaves the secret in place.
        b.wait_for_path("the Secrets tab", |p| p == tab).await;
        b.click(&format!("{r} a[data-action='delete']")).await;
        b.fill("#confirmation", "rotation").await;
        b.click("#confirm-delete").await;
        let error = b.text("#form-error").await;
        assert!(error.contains("The secret was not revoked"), "{error}");
        b.screenshot("secret-delete.png").await;
        assert!(api_secret(&server, &tenant, "rotation 2").await.is_some());
        assert!(secret_works(&server, &tenant, "billing", &renewed).await);
        b.fill("#confirmation", "Revoke").await;
        b.click("#confirm-delete").await;
        let revoked = format!("{tab}?done=revoked");
        b.wait_for_path("the Secrets tab", |p| p == revoked).await;
        assert_eq!(b.text("#notice").await, "Secret revoked: its value no longer gets tokens.");
        assert!(!b.exists(&r).await);
        assert!(api_secret(&server, &tenant, "rotation 2").await.is_none());
        assert!(!secret_works(&server, &tenant, "billing", &renewed).await);

        // … or by typing its description.
        let ri = row(&initial["Id"]);
        b.click(&format!("{ri} a[data-action='delete']")).await;
        b.fill("#confirmation", "initial").await;
        b.click("#confirm-delete").await;
        b.wait_for_path("the Secrets tab", |p| p == revoked).await;
        assert!(api_secret(&server, &tenant, "initial").await.is_none());
        assert!(!server.logs().contains(&renewed) && !server.logs().contains(typed));
    })
    .await;
    b.quit().await;
}

#[tokio::test]
async fn add_secret_at_the_client_limit_shows_a_clear_message() {
    let server = server_with(&[("LATCHKEY_APPLICATIONS__SECRETSMAX", "1")]).await;
    let tenant = tenant_with_client(&server).await;
    let b = Browser::start("secret-limit", &server.base_url).await;
    b.check(async {
        b.sign_in("admin", ADMIN_PASSWORD).await;
        b.open(&format!("/console/tenants/{tenant}/client-credentials/billing/secrets?dialog=add")).await;
        b.fill("#description", "one too many").await;
        b.click("#save-secret").await;
        let error = b.text("#form-error").await;
        assert_eq!(
            error,
            "This client already has the maximum of 1 secrets. Delete a secret it no longer uses before adding another."
        );
        assert_eq!(api_secrets(&server, &tenant, "billing").await.len(), 1);
    })
    .await;
    b.quit().await;
}

#[tokio::test]
async fn a_wrong_date_is_refused_with_the_expected_format() {
    let server = server().await;
    let tenant = tenant_with_client(&server).await;
    let b = Browser::start("secret-date", &server.base_url).await;
    b.check(async {
        b.sign_in("admin", ADMIN_PASSWORD).await;
        b.open(&format!(
            "/console/tenants/{tenant}/client-credentials/billing/secrets?dialog=add"
        ))
        .await;
        b.fill("#description", "bad date").await;
        b.fill("#expiration", "12/31/2030").await;
        b.click("#save-secret").await;
        let error = b.text("#form-error").await;
        assert!(error.contains("DD/MM/YYYY"), "{error}");
        assert_eq!(
            b.value("#description").await,
            "bad date",
            "what was typed is kept"
        );
        b.fill("#expiration", "01/01/2001").await;
        b.click("#save-secret").await;
        let error = b
            .wait_for_text("#form-error", |t| t.contains("future"))
            .await;
        assert_eq!(error, "Expiration: must be in the future");
        assert_eq!(api_secrets(&server, &tenant, "billing").await.len(), 1);
    })
    .await;
    b.quit().await;
}
