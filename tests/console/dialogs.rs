//! The secret dialogs' finer rules (an empty date, Never expires, the
//! calendar, Renew's rule and grace unit, the focus after a refusal) and the
//! webhook signing secret's own dialog, in the browser, checked through the API.

use chrono::{Datelike, Duration, Months, Utc};
use serde_json::{Value, json};

use crate::browser::Browser;
use crate::{ADMIN_PASSWORD, api_secrets, server, tenant_with_client};

/// The element that has the focus now: its id.
async fn focused(b: &Browser) -> Value {
    b.js("return document.activeElement && document.activeElement.id")
        .await
}

async fn enabled(b: &Browser, css: &str) -> bool {
    b.el(css).await.is_enabled().await.unwrap()
}

#[tokio::test]
async fn add_secret_an_empty_date_follows_the_rules_and_never_expires_disables_the_date() {
    let server = server().await;
    let tenant = tenant_with_client(&server).await;
    let b = Browser::start("dialog-add", &server.base_url).await;
    let add = format!("/console/tenants/{tenant}/client-credentials/billing/secrets?dialog=add");
    b.check(async {
        b.sign_in("admin", ADMIN_PASSWORD).await;
        b.open(&add).await;
        let help = b.text("#expiration-help").await;
        assert!(
            help.contains("Leave it empty for the default of the rules in force"),
            "{help}"
        );
        let prefilled = b.value("#expiration").await;

        // Never expires clears and disables the date and its calendar; unticked, both come back.
        b.click("#never_expires").await;
        assert_eq!(b.value("#expiration").await, "");
        assert!(!enabled(&b, "#expiration").await, "the date is disabled");
        assert!(!enabled(&b, "button[data-calendar-for='expiration']").await);
        b.click("#never_expires").await;
        assert!(enabled(&b, "#expiration").await);
        assert!(enabled(&b, "button[data-calendar-for='expiration']").await);
        assert_eq!(
            b.value("#expiration").await,
            prefilled,
            "the date comes back"
        );

        // The calendar opens on the pre-filled month …
        b.click("button[data-calendar-for='expiration']").await;
        let day = chrono::NaiveDate::parse_from_str(&prefilled, "%d/%m/%Y").unwrap();
        let title = b.text(".calendar-head strong").await;
        assert_eq!(title, day.format("%B %Y").to_string());
        b.click("button[data-calendar-for='expiration']").await;
        // … or, with an empty date, on the current month, where past days are refused.
        b.fill("#expiration", "").await;
        b.click("button[data-calendar-for='expiration']").await;
        let today = Utc::now().date_naive();
        assert_eq!(
            b.text(".calendar-head strong").await,
            today.format("%B %Y").to_string()
        );
        let today_css = format!(
            ".calendar td button[data-date='{}']",
            today.format("%d/%m/%Y")
        );
        assert!(
            enabled(&b, &today_css).await,
            "today is offered (its end is ahead)"
        );
        if today.day() > 1 {
            let yesterday = today - Duration::days(1);
            let css = format!(
                ".calendar td button[data-date='{}']",
                yesterday.format("%d/%m/%Y")
            );
            assert!(!enabled(&b, &css).await, "yesterday is refused");
            b.el(&css).await.click().await.ok();
            assert_eq!(
                b.value("#expiration").await,
                "",
                "a past day cannot be picked"
            );
        }
        assert!(!enabled(&b, ".calendar-head button[aria-label='Previous month']").await);
        b.click(".calendar-head button[aria-label='Next month']")
            .await;
        b.click(".calendar-head button[aria-label='Previous month']")
            .await;
        b.click(&today_css).await;
        assert_eq!(
            b.value("#expiration").await,
            today.format("%d/%m/%Y").to_string()
        );

        // An empty date means the default of the rules in force (one year), as in the API.
        b.fill("#expiration", "").await;
        b.fill("#description", "by default").await;
        b.click("#save-secret").await;
        b.el("#secret-value").await;
        let shown = b.text("#shown-expiration").await;
        assert!(
            shown.ends_with(" UTC"),
            "the shown date names its zone: {shown}"
        );
        let added = api_secrets(&server, &tenant, "billing")
            .await
            .into_iter()
            .find(|s| s["Description"] == "by default")
            .unwrap();
        assert_eq!(added["Expires"], true, "{added}");
        let want = (Utc::now().checked_add_months(Months::new(12)).unwrap())
            .format("%Y-%m-%d")
            .to_string();
        assert!(
            added["Expiration"].as_str().unwrap().starts_with(&want),
            "{added}"
        );

        // A refused form puts the focus on the field in error.
        b.open(&add).await;
        b.fill("#description", "bad date").await;
        b.fill("#expiration", "01/01/2001").await;
        b.click("#save-secret").await;
        b.wait_for_text("#form-error", |t| t.contains("future"))
            .await;
        assert_eq!(focused(&b).await, "expiration");
        assert_eq!(
            b.el("#expiration")
                .await
                .attr("aria-invalid")
                .await
                .unwrap()
                .as_deref(),
            Some("true")
        );
        b.fill("#description", "").await;
        b.fill("#expiration", "").await;
        b.click("#save-secret").await;
        b.wait_for_text("#form-error", |t| t.starts_with("The form is empty"))
            .await;
        assert_eq!(focused(&b).await, "description");
        let short = "too short";
        b.fill("#description", "own value").await;
        b.fill("#value", short).await;
        b.click("#save-secret").await;
        b.wait_for_text("#form-error", |t| t.starts_with("Value:"))
            .await;
        assert_eq!(focused(&b).await, "value");
    })
    .await;
    b.quit().await;
}

#[tokio::test]
async fn renew_names_the_rule_that_applies_and_speaks_hours() {
    let server = server().await;
    let tenant = tenant_with_client(&server).await;
    let b = Browser::start("dialog-renew", &server.base_url).await;
    let id = api_secrets(&server, &tenant, "billing").await[0]["Id"].clone();
    let renew = format!(
        "/console/tenants/{tenant}/client-credentials/billing/secrets?dialog=renew&secret={id}"
    );
    let client_policy =
        format!("/api/v1/Tenants/{tenant}/ClientCredentialClients/billing/SecretPolicy");
    let put = |path: String, body: Value| {
        let server = &server;
        async move {
            let res = server.put(&path).json(&body).send().await.unwrap();
            assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        }
    };
    let date = |at: chrono::DateTime<Utc>| at.format("%d/%m/%Y UTC").to_string();
    b.check(async {
        b.sign_in("admin", ADMIN_PASSWORD).await;
        b.open(&renew).await;
        let in_a_year = date(Utc::now().checked_add_months(Months::new(12)).unwrap());
        assert_eq!(
            b.text("#renew-rule").await,
            format!("The new expiration follows the tenant's rule (secrets expire after 1 year): {in_a_year}.")
        );
        assert!(b.text("#grace-help").await.contains("0 to 168"));
        assert!(b.text("label[for='grace_hours']").await.contains("in hours"));

        // The client's own rule, then capped by a tenant maximum.
        put(client_policy.clone(), json!({"UseTenantRules": false, "Unit": "DAYS", "Duration": 90})).await;
        b.open(&renew).await;
        let in_90_days = date(Utc::now() + Duration::days(90));
        assert_eq!(
            b.text("#renew-rule").await,
            format!("The new expiration follows this client's own rule (secrets expire after 90 days): {in_90_days}.")
        );
        put(
            format!("/api/v1/Tenants/{tenant}/SecretPolicy"),
            json!({"UsesConfiguredDefault": true, "MaximumLifetime": {"Unit": "DAYS", "Duration": 30}}),
        )
        .await;
        b.open(&renew).await;
        let in_30_days = date(Utc::now() + Duration::days(30));
        assert_eq!(
            b.text("#renew-rule").await,
            format!(
                "The new expiration follows this client's own rule (secrets expire after 90 days), \
                 capped by the tenant's maximum lifetime of 30 days: {in_30_days}."
            )
        );

        // A grace beyond the maximum is refused in hours, with the focus on the field.
        b.fill("#grace_hours", "169").await;
        b.click("#confirm-renew").await;
        let error = b.text("#form-error").await;
        assert_eq!(error, "Grace period: enter a whole number of hours from 0 to 168, or leave it empty.");
        assert_eq!(focused(&b).await, "grace_hours");
        assert!(b.text("#renew-rule").await.contains("capped"), "the rule is still named");
        // The renewed secret gets the date the dialog named.
        b.fill("#grace_hours", "168").await;
        b.click("#confirm-renew").await;
        b.el("#secret-value").await;
        let s = &api_secrets(&server, &tenant, "billing").await[0];
        let expiration = chrono::DateTime::parse_from_rfc3339(s["Expiration"].as_str().unwrap()).unwrap();
        assert_eq!(date(expiration.with_timezone(&Utc)), in_30_days);
        assert!(!s["GraceUntil"].is_null());

        // A secret that never expires keeps never expiring (no maximum, NONE rule).
        put(
            format!("/api/v1/Tenants/{tenant}/SecretPolicy"),
            json!({"UsesConfiguredDefault": true, "MaximumLifetime": null}),
        )
        .await;
        let res = server
            .post(&format!("/api/v1/Tenants/{tenant}/ClientCredentialClients/billing/Secrets"))
            .json(&json!({"Description": "forever", "Expires": false}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let forever: Value = res.json().await.unwrap();
        b.open(&format!(
            "/console/tenants/{tenant}/client-credentials/billing/secrets?dialog=renew&secret={}",
            forever["Id"]
        ))
        .await;
        assert_eq!(
            b.text("#renew-rule").await,
            "This secret never expires, and a Renew keeps it so (this client's own rule: new \
             secrets expire after 90 days)."
        );
    })
    .await;
    b.quit().await;
}

#[tokio::test]
async fn a_webhook_signing_secret_has_its_own_dialog() {
    let server = server().await;
    let tenant = tenant_with_client(&server).await;
    let b = Browser::start("dialog-webhook", &server.base_url).await;
    b.check(async {
        b.sign_in("admin", ADMIN_PASSWORD).await;
        b.open(&format!("/console/tenants/{tenant}/webhooks")).await;
        // Refused: the focus goes to the URL.
        b.fill("#webhook-description", "pager").await;
        b.click("#create-webhook").await;
        b.wait_for_text("#form-error", |t| t.starts_with("Url"))
            .await;
        assert_eq!(focused(&b).await, "webhook-url");
        b.fill("#webhook-url", "https://hooks.example.com/latchkey")
            .await;
        b.click("#event-secret\\.renewed").await;
        b.click("#create-webhook").await;
        let signing = b.value("#secret-value").await;
        assert!(signing.starts_with("whsec_"), "{signing}");
        let dialog = b.text("#shown-dialog").await;
        assert!(dialog.contains("sealed"), "{dialog}");
        assert!(
            !dialog.contains("hash"),
            "an HMAC key is not hashed: {dialog}"
        );
        assert_eq!(
            b.text("#shown-title").await,
            "Webhook created: its signing secret"
        );
        assert_eq!(b.text("label[for='secret-value']").await, "Signing secret");
        let terms: Vec<String> = {
            let mut v = Vec::new();
            for dt in b.all("#shown-dialog dt").await {
                v.push(dt.text().await.unwrap());
            }
            v
        };
        assert_eq!(
            terms,
            ["URL", "Events"],
            "no Description or Expiration line"
        );
        assert_eq!(
            b.text("#shown-url").await,
            "https://hooks.example.com/latchkey"
        );
        assert_eq!(b.text("#shown-events").await, "secret.renewed");
        assert_eq!(focused(&b).await, "copy-secret");
        // A reload shows it no more: the webhooks page says it was shown already.
        b.driver.refresh().await.unwrap();
        b.el("#webhooks").await;
        let notice = b.text("#notice").await;
        assert!(notice.contains("already shown"), "{notice}");
        assert!(!b.source().await.contains(&signing));

        // Pages whose refusals name a field by its label: the inventory's filter.
        b.click("#nav-inventory").await;
        b.fill("#inv-expiring", "soon").await;
        b.click("#apply-inventory-filter").await;
        b.wait_for_text("#form-error", |t| t.starts_with("Expiring within"))
            .await;
        assert_eq!(focused(&b).await, "inv-expiring");

        // Notification emails: a refusal focuses the list.
        b.click("#nav-notifications").await;
        b.fill("#recipients", "not an address").await;
        b.click("#save-recipients").await;
        b.el("#form-error").await;
        assert_eq!(focused(&b).await, "recipients");
    })
    .await;
    b.quit().await;
}
