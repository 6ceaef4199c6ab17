//! The expiry settings' fields in the browser: the fields of an inactive choice
//! are disabled (and ignored by the server when sent anyway), unticking "Use
//! tenant rules" starts from the rule in force, "(not for NONE)" only where NONE
//! is offered, the page's name, and the focus after a refusal.

use serde_json::{Value, json};
use thirtyfour::components::SelectElement;

use crate::browser::Browser;
use crate::http_checks::{csrf_of, http_sign_in};
use crate::{ADMIN_PASSWORD, api_get, form_body, server, tenant_with_client};

async fn enabled(b: &Browser, css: &str) -> bool {
    b.el(css).await.is_enabled().await.unwrap()
}

async fn selected_value(b: &Browser, css: &str) -> String {
    let select = SelectElement::new(&b.el(css).await).await.unwrap();
    let option = select.first_selected_option().await.unwrap();
    option.value().await.unwrap().unwrap_or_default()
}

#[tokio::test]
async fn inactive_policy_fields_are_disabled_and_start_from_the_rule_in_force() {
    let server = server().await;
    let tenant = tenant_with_client(&server).await;
    let b = Browser::start("expiry-fields", &server.base_url).await;
    let client = format!("/console/tenants/{tenant}/client-credentials/billing");
    let client_policy =
        format!("/api/v1/Tenants/{tenant}/ClientCredentialClients/billing/SecretPolicy");
    b.check(async {
        b.sign_in("admin", ADMIN_PASSWORD).await;

        // The client's card: the own rule is inactive while the tenant rules apply …
        b.open(&format!("{client}/secrets")).await;
        assert!(b.el("#use_tenant_rules").await.is_selected().await.unwrap());
        assert!(!enabled(&b, "#own_unit").await && !enabled(&b, "#own_duration").await);
        // … and unticking starts from the rule in force (1 year), not NONE.
        b.click("#use_tenant_rules").await;
        assert!(enabled(&b, "#own_unit").await && enabled(&b, "#own_duration").await);
        assert_eq!(selected_value(&b, "#own_unit").await, "YEARS");
        assert_eq!(b.value("#own_duration").await, "1");
        // NONE takes no duration: the field is inactive while NONE is chosen.
        SelectElement::new(&b.el("#own_unit").await)
            .await
            .unwrap()
            .select_by_value("NONE")
            .await
            .unwrap();
        assert!(!enabled(&b, "#own_duration").await);
        SelectElement::new(&b.el("#own_unit").await)
            .await
            .unwrap()
            .select_by_value("YEARS")
            .await
            .unwrap();
        assert!(enabled(&b, "#own_duration").await);
        b.fill("#own_duration", "2").await;
        b.click("#save-policy").await;
        b.el("#policy-notice").await;
        let cp = api_get(&server, &client_policy).await;
        assert_eq!(
            (
                cp["UseTenantRules"].clone(),
                cp["Unit"].clone(),
                cp["Duration"].clone()
            ),
            (json!(false), json!("YEARS"), json!(2))
        );
        // A refused own rule puts the focus on its field.
        b.fill("#own_duration", "two").await;
        b.click("#save-policy").await;
        b.el("#policy-error").await;
        let focus = b.js("return document.activeElement.id").await;
        assert_eq!(focus, "own_duration");
        // Ticked again, the own fields are disabled and not sent: the tenant rules apply.
        b.click("#use_tenant_rules").await;
        assert!(!enabled(&b, "#own_duration").await);
        b.click("#save-policy").await;
        b.el("#policy-notice").await;
        assert_eq!(
            api_get(&server, &client_policy).await["UseTenantRules"],
            true
        );

        // The tenant's page, named for what it sets.
        b.click("#nav-settings").await;
        assert_eq!(b.text("#nav-settings").await, "Secret expiry");
        assert_eq!(b.text("h1").await, "Secret expiry");
        assert!(b.driver.title().await.unwrap().starts_with("Secret expiry"));
        // "(not for NONE)" only where NONE is offered.
        assert!(
            b.text("label[for='default_duration']")
                .await
                .contains("(not for NONE)")
        );
        assert!(!b.text("label[for='max_duration']").await.contains("NONE"));
        let max_units: Vec<String> = {
            let mut v = Vec::new();
            for o in b.all("#max_unit option").await {
                v.push(o.value().await.unwrap().unwrap_or_default());
            }
            v
        };
        assert!(!max_units.contains(&"NONE".to_owned()), "{max_units:?}");
        // The server's default chosen: the own rule is disabled; the radio switches it.
        assert!(
            b.el("#default_configured")
                .await
                .is_selected()
                .await
                .unwrap()
        );
        assert!(!enabled(&b, "#default_unit").await && !enabled(&b, "#default_duration").await);
        b.click("#default_own").await;
        assert!(enabled(&b, "#default_unit").await && enabled(&b, "#default_duration").await);
        assert_eq!(
            selected_value(&b, "#default_unit").await,
            "YEARS",
            "the rule in force"
        );
        b.click("#default_configured").await;
        assert!(!enabled(&b, "#default_unit").await);
        // No maximum: its fields are disabled until the box is ticked.
        assert!(!enabled(&b, "#max_unit").await && !enabled(&b, "#max_duration").await);
        b.click("#limit").await;
        assert!(enabled(&b, "#max_unit").await && enabled(&b, "#max_duration").await);
        b.fill("#max_duration", "many").await;
        b.click("#save-tenant-settings").await;
        let error = b.text("#form-error").await;
        assert!(error.starts_with("Maximum lifetime duration"), "{error}");
        let focus = b.js("return document.activeElement.id").await;
        assert_eq!(focus, "max_duration", "the focus is on the field in error");
        // The refused form keeps the choices made, and the inactive rule its stored value.
        assert!(b.el("#limit").await.is_selected().await.unwrap());
        assert!(
            b.el("#default_configured")
                .await
                .is_selected()
                .await
                .unwrap()
        );
        assert_eq!(selected_value(&b, "#default_unit").await, "YEARS");
        assert_eq!(b.value("#default_duration").await, "1");
        b.click("#limit").await;
        b.click("#save-tenant-settings").await;
        b.el("#notice").await;
        let p = api_get(&server, &format!("/api/v1/Tenants/{tenant}/SecretPolicy")).await;
        assert_eq!(p["MaximumLifetime"], Value::Null);
        assert_eq!(p["UsesConfiguredDefault"], true);
    })
    .await;
    b.quit().await;
}

/// Without script nothing is disabled, so a browser sends the fields of an
/// inactive choice too: the server ignores them exactly as when they are not sent.
#[tokio::test]
async fn without_script_the_fields_of_an_inactive_choice_are_ignored() {
    let server = server().await;
    let tenant = tenant_with_client(&server).await;
    let session = http_sign_in(&server, "admin", ADMIN_PASSWORD).await;
    let csrf = csrf_of(&server, &session).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap();
    let post = |path: String, fields: Vec<(&'static str, &'static str)>| {
        let (http, server, session, csrf) = (&http, &server, &session, &csrf);
        async move {
            let mut fields = fields;
            fields.push(("csrf", csrf.as_str()));
            http.post(server.url(&path))
                .header("Cookie", format!("lk_session={session}"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(form_body(&fields))
                .send()
                .await
                .unwrap()
        }
    };
    let settings = format!("/console/tenants/{tenant}/settings");
    let res = post(
        settings,
        vec![
            ("default_mode", "configured"),
            ("default_unit", "DAYS"),
            ("default_duration", "not a number"),
            ("max_unit", "DAYS"),
            ("max_duration", "not a number"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303, "inactive fields are not checked");
    let p = api_get(&server, &format!("/api/v1/Tenants/{tenant}/SecretPolicy")).await;
    assert_eq!(
        (
            p["UsesConfiguredDefault"].clone(),
            p["MaximumLifetime"].clone()
        ),
        (json!(true), Value::Null)
    );

    let client = format!("/console/tenants/{tenant}/client-credentials/billing");
    let client_policy =
        format!("/api/v1/Tenants/{tenant}/ClientCredentialClients/billing/SecretPolicy");
    // NONE with a duration left in the field: NONE.
    let res = post(
        format!("{client}/policy"),
        vec![("own_unit", "NONE"), ("own_duration", "not a number")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let cp = api_get(&server, &client_policy).await;
    assert_eq!(
        (cp["UseTenantRules"].clone(), cp["Unit"].clone()),
        (json!(false), json!("NONE"))
    );
    let res = post(
        format!("{client}/policy"),
        vec![
            ("use_tenant_rules", "on"),
            ("own_unit", "DAYS"),
            ("own_duration", "not a number"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let cp = api_get(&server, &client_policy).await;
    assert_eq!(cp["UseTenantRules"], true);

    // Never expires with a date left in the field: never.
    let res = post(
        format!("{client}/secrets"),
        vec![
            ("description", "no script"),
            ("expiration", "31/12/2030"),
            ("never_expires", "on"),
        ],
    )
    .await;
    // Post/redirect/get: the value waits on the page the redirect leads to.
    assert_eq!(res.status(), 303);
    let added = crate::api_secrets(&server, &tenant, "billing")
        .await
        .into_iter()
        .find(|s| s["Description"] == "no script")
        .unwrap();
    assert_eq!(
        (added["Expires"].clone(), added["Expiration"].clone()),
        (json!(false), Value::Null)
    );
}

/// New client proposes its first secret's date as the Add dialog does: under a
/// tenant maximum lifetime shorter than the default, a date within the maximum
/// (it used to propose the default's date, which the server then refused).
#[tokio::test]
async fn new_client_proposes_a_first_secret_date_within_the_maximum_lifetime() {
    let server = server().await;
    let tenant = tenant_with_client(&server).await;
    let policy = serde_json::json!({"Unit": "YEARS", "Duration": 1,
                                    "MaximumLifetime": {"Unit": "DAYS", "Duration": 30}});
    let res = server
        .put(&format!("/api/v1/Tenants/{tenant}/SecretPolicy"))
        .json(&policy)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let session = http_sign_in(&server, "admin", ADMIN_PASSWORD).await;
    let page = reqwest::Client::new()
        .get(server.url(&format!("/console/tenants/{tenant}/clients/new")))
        .header("Cookie", format!("lk_session={session}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let field = page
        .split("id=\"expiration\"")
        .nth(1)
        .expect("the expiration field");
    let value = field
        .split("value=\"")
        .nth(1)
        .and_then(|v| v.split('"').next())
        .expect("a proposed date");
    let proposed = chrono::NaiveDate::parse_from_str(value, "%d/%m/%Y")
        .unwrap_or_else(|e| panic!("{value}: {e}"));
    let latest = (chrono::Utc::now() + chrono::Duration::days(30)).date_naive();
    assert!(proposed < latest, "{proposed} is within 30 days ({latest})");
}
