//! Post/redirect/get, in the browser: a POST that shows a value once answers
//! with a redirect to a one-time page, so reloading it neither submits the
//! form again (no second secret, renewal or client) nor shows the value again.

use serde_json::Value;

use crate::browser::Browser;
use crate::{ADMIN_PASSWORD, api_get, api_secrets, secret_works, server, tenant_with_client};

#[tokio::test]
async fn reloading_a_shown_secret_adds_or_renews_nothing_and_never_shows_it_again() {
    let server = server().await;
    let tenant = tenant_with_client(&server).await;
    let b = Browser::start("reloads-secret", &server.base_url).await;
    let tab = format!("/console/tenants/{tenant}/client-credentials/billing/secrets");
    let gone = format!("{tab}?reveal=gone");
    b.check(async {
        b.sign_in("admin", ADMIN_PASSWORD).await;
        b.open(&tab).await;
        b.click("#add-secret").await;
        b.fill("#description", "reloaded").await;
        b.click("#save-secret").await;
        let value = b.value("#secret-value").await;
        assert!(value.starts_with("lkcs_"), "{value}");
        let shown = b.path().await;
        assert!(
            shown.starts_with(&format!("/console/tenants/{tenant}/shown/")),
            "{shown}"
        );
        assert!(!shown.contains(&value), "the value is never in a URL");

        b.driver.refresh().await.unwrap();
        b.wait_for_path("the Secrets tab", |p| p == gone).await;
        assert_eq!(
            b.text("#notice").await,
            "That secret value was already shown once; it is never shown again."
        );
        assert!(!b.source().await.contains(&value));
        assert_eq!(
            api_secrets(&server, &tenant, "billing").await.len(),
            2,
            "one secret added"
        );
        assert!(secret_works(&server, &tenant, "billing", &value).await);
        // Opening the one-time address again (Back, a bookmark) shows nothing either.
        b.open(&shown).await;
        b.wait_for_path("the Secrets tab", |p| p == gone).await;
        assert!(!b.source().await.contains(&value));

        // Renew, then reload: renewed once, so the value shown still works.
        let reloaded = api_secrets(&server, &tenant, "billing")
            .await
            .into_iter()
            .find(|s| s["Description"] == "reloaded")
            .unwrap();
        b.open(&tab).await;
        b.click(&format!(
            "tr[data-secret='{}'] a[data-action='renew']",
            reloaded["Id"]
        ))
        .await;
        b.click("#confirm-renew").await;
        let renewed = b.value("#secret-value").await;
        assert_ne!(renewed, value);
        b.driver.refresh().await.unwrap();
        b.wait_for_path("the Secrets tab", |p| p == gone).await;
        assert!(!b.source().await.contains(&renewed));
        assert!(
            secret_works(&server, &tenant, "billing", &renewed).await,
            "not renewed twice"
        );
        assert_eq!(api_secrets(&server, &tenant, "billing").await.len(), 2);

        let logs = server.logs();
        assert!(
            !logs.contains(&value) && !logs.contains(&renewed),
            "never logged"
        );
    })
    .await;
    b.quit().await;
}

#[tokio::test]
async fn new_client_takes_roles_lifetime_and_redirect_uris_and_a_reload_goes_to_it() {
    let server = server().await;
    let tenant = tenant_with_client(&server).await;
    let b = Browser::start("reloads-client", &server.base_url).await;
    b.check(async {
        b.sign_in("admin", ADMIN_PASSWORD).await;

        // Redirect URIs belong to hybrid clients only: refused, with what was typed kept.
        b.open(&format!(
            "/console/tenants/{tenant}/clients/new?type=client-credentials"
        ))
        .await;
        b.fill("#name", "Reports").await;
        b.fill("#id", "reports").await;
        b.fill("#redirect_uris", "https://reports.example/cb").await;
        b.click("#role-tenant-auditor").await;
        b.click("#create-client").await;
        let error = b.text("#form-error").await;
        assert!(
            error.starts_with("Redirect URIs: only hybrid clients"),
            "{error}"
        );
        assert!(
            b.el("#role-tenant-auditor")
                .await
                .is_selected()
                .await
                .unwrap()
        );
        assert_eq!(
            b.value("#redirect_uris").await,
            "https://reports.example/cb"
        );

        b.open(&format!(
            "/console/tenants/{tenant}/clients/new?type=hybrid"
        ))
        .await;
        assert_eq!(b.value("#lifetime").await, "3600", "the default lifetime");
        b.fill("#name", "Reports").await;
        b.fill("#id", "reports").await;
        b.click("#role-tenant-auditor").await;
        b.fill("#lifetime", "900").await;
        b.fill(
            "#redirect_uris",
            "https://reports.example/cb\nhttps://reports.example/cb2",
        )
        .await;
        b.fill("#description", "first").await;
        b.click("#create-client").await;
        let value = b.value("#secret-value").await;
        assert!(value.starts_with("lkcs_"), "{value}");

        b.driver.refresh().await.unwrap();
        let client = format!("/console/tenants/{tenant}/hybrid/reports/secrets?reveal=gone");
        b.wait_for_path("the new client's page", |p| p == client)
            .await;
        assert!(!b.source().await.contains(&value));
        let listed = api_get(&server, &format!("/api/v1/Tenants/{tenant}/HybridClients")).await;
        assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
        let c = api_get(
            &server,
            &format!("/api/v1/Tenants/{tenant}/HybridClients/reports"),
        )
        .await;
        assert_eq!(c["Name"], "Reports");
        assert_eq!(c["RoleIds"], serde_json::json!(["tenant-auditor"]));
        assert_eq!(c["AccessTokenLifetime"], 900);
        assert_eq!(
            c["RedirectUris"],
            serde_json::json!(["https://reports.example/cb", "https://reports.example/cb2"])
        );
        assert_eq!(api_secrets_of(&server, &tenant, "reports").await.len(), 1);
        assert!(!server.logs().contains(&value), "never logged");
    })
    .await;
    b.quit().await;
}

async fn api_secrets_of(
    server: &crate::harness::TestServer,
    tenant: &str,
    client: &str,
) -> Vec<Value> {
    let path = format!("/api/v1/Tenants/{tenant}/HybridClients/{client}/Secrets");
    api_get(server, &path)
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
}
