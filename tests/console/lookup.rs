//! "Which secret is this?" in the browser: a pasted value names its secret,
//! an unknown value names nothing, and the value never comes back in the page.

use serde_json::json;

use crate::browser::Browser;
use crate::{ADMIN_PASSWORD, server, tenant_with_client};

#[tokio::test]
async fn the_lookup_form_names_the_secret_of_a_value() {
    let server = server().await;
    let tenant = tenant_with_client(&server).await;
    let path = format!("/api/v1/Tenants/{tenant}/ClientCredentialClients/billing/Secrets");
    let res = server
        .post(&path)
        .json(&json!({"Description": "deploy key"}))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 201);
    let created: serde_json::Value = res.json().await.expect("JSON");
    let value = created["Secret"].as_str().expect("a value").to_owned();
    let b = Browser::start("lookup", &server.base_url).await;
    b.check(async {
        b.sign_in("admin", ADMIN_PASSWORD).await;
        b.open(&format!("/console/tenants/{tenant}/clients")).await;
        b.click("#nav-lookup").await;
        b.fill("#lookup-value", &value).await;
        b.click("#lookup-submit").await;
        let id = b
            .wait_for_text("#lookup-secret-id", |t| !t.is_empty())
            .await;
        assert_eq!(id, created["Id"].to_string());
        assert_eq!(b.text("#lookup-client-link").await, "billing");
        assert_eq!(b.text("#lookup-description").await, "deploy key");
        assert_eq!(b.text("#lookup-status").await, "Active");
        assert!(
            !b.source().await.contains(&value),
            "the value is not echoed"
        );
        assert_eq!(b.value("#lookup-value").await, "");
        b.screenshot("lookup.png").await;

        // A value with a bad checksum belongs to no secret.
        let mut typo = value.clone();
        typo.replace_range(10..11, if &typo[10..11] == "A" { "B" } else { "A" });
        b.fill("#lookup-value", &typo).await;
        b.click("#lookup-submit").await;
        b.el("#lookup-none").await;
        // A supplied-format value without its client: a clear message.
        b.fill("#lookup-value", "a value of my own that is long enough")
            .await;
        b.click("#lookup-submit").await;
        let error = b.text("#form-error").await;
        assert!(error.starts_with("Value"), "{error}");
    })
    .await;
    b.quit().await;
}
