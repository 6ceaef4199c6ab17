//! Tenants and clients screens, in the browser, checked through the API.

use crate::browser::Browser;
use crate::{ADMIN_PASSWORD, api_get, api_status, secret_works, server};

#[tokio::test]
async fn tenants_and_clients_create_filter_edit_and_remove() {
    let server = server().await;
    let b = Browser::start("clients", &server.base_url).await;
    b.check(async {
        b.sign_in("admin", ADMIN_PASSWORD).await;
        assert!(b.exists("#no-tenants").await);

        // A tenant, created from the console.
        b.fill("#tenant-name-input", "Acme").await;
        b.click("#create-tenant").await;
        let path = b
            .wait_for_path("the clients list", |p| p.ends_with("/clients"))
            .await;
        let tenant = path.split('/').nth(3).unwrap().to_owned();
        let api = api_get(&server, &format!("/api/v1/Tenants/{tenant}")).await;
        assert_eq!(api["Name"], "Acme");
        assert_eq!(b.text("#tenant-name").await, "Acme");
        assert!(b.exists("#no-clients").await);

        // A client-credentials client; its first secret is shown once.
        b.click("#new-client").await;
        b.fill("#name", "Billing service").await;
        b.fill("#id", "billing").await;
        b.fill("#description", "first").await;
        let default_expiration = b.value("#expiration").await;
        assert!(
            default_expiration.ends_with(&format!("/{}", crate::next_year())),
            "one year ahead: {default_expiration}"
        );
        b.click("#create-client").await;
        let warning = b.text("#shown-warning").await;
        assert!(warning.contains("It will not be shown again"), "{warning}");
        let value = b.value("#secret-value").await;
        assert!(value.starts_with("lkcs_"), "{value}");
        b.screenshot("client-created.png").await;
        assert!(secret_works(&server, &tenant, "billing", &value).await);
        let c = api_get(
            &server,
            &format!("/api/v1/Tenants/{tenant}/ClientCredentialClients/billing"),
        )
        .await;
        assert_eq!(c["Name"], "Billing service");
        b.click("#shown-done").await;
        b.wait_for_path("the Secrets tab", |p| p.ends_with("/billing/secrets"))
            .await;
        assert!(
            !b.source().await.contains(&value),
            "the value is gone from the page"
        );
        assert!(!server.logs().contains(&value), "and was never logged");

        // A hybrid client (through the API) shows only under the Hybrid filter.
        server
            .create_client(
                &tenant,
                "HybridClients",
                serde_json::json!({"Id": "portal", "Name": "Customer portal"}),
            )
            .await;
        b.open(&format!("/console/tenants/{tenant}/clients")).await;
        assert!(b.exists("tr[data-client='billing']").await);
        assert!(!b.exists("tr[data-client='portal']").await);
        let select = thirtyfour::components::SelectElement::new(&b.el("#client-type").await)
            .await
            .unwrap();
        select.select_by_value("hybrid").await.unwrap();
        b.wait_for_path("the hybrid list", |p| p.ends_with("type=hybrid"))
            .await;
        b.el("tr[data-client='portal']").await;
        assert!(!b.exists("tr[data-client='billing']").await);
        // A hybrid client's own settings; its name in the list is a link to them.
        assert_eq!(
            b.text("tr[data-client='portal'] td.name a").await,
            "Customer portal"
        );
        b.click("tr[data-client='portal'] td.name a").await;
        b.wait_for_path("Edit Client", |p| p.ends_with("/hybrid/portal"))
            .await;
        b.fill(
            "#redirect_uris",
            "https://portal.example/cb\nhttps://portal.example/cb2",
        )
        .await;
        b.click("#allow_offline_access").await;
        b.click("#save-client").await;
        assert_eq!(b.text("#notice").await, "Saved.");
        let p = api_get(
            &server,
            &format!("/api/v1/Tenants/{tenant}/HybridClients/portal"),
        )
        .await;
        assert_eq!(
            p["RedirectUris"],
            serde_json::json!(["https://portal.example/cb", "https://portal.example/cb2"])
        );
        assert_eq!(p["AllowOfflineAccess"], true);
        b.open(&format!(
            "/console/tenants/{tenant}/clients?type=client-credentials"
        ))
        .await;
        b.screenshot("clients.png").await;

        // Edit Client: a refused Save keeps what was typed and shows why.
        b.click("tr[data-client='billing'] a").await;
        b.wait_for_path("Edit Client", |p| {
            p.ends_with("/client-credentials/billing")
        })
        .await;
        b.fill("#name", "Billing (EU)").await;
        b.fill("#lifetime", "ten").await;
        b.click("#save-client").await;
        let error = b.text("#form-error").await;
        assert!(error.starts_with("Access token lifetime"), "{error}");
        assert_eq!(b.value("#name").await, "Billing (EU)");
        b.fill("#lifetime", "30").await;
        b.click("#save-client").await;
        let error = b
            .wait_for_text("#form-error", |t| {
                t.contains("AccessTokenLifetime") || t.contains("Access token lifetime")
            })
            .await;
        assert!(error.contains("60"), "the service's rule: {error}");
        b.fill("#lifetime", "600").await;
        b.click("#role-tenant-auditor").await;
        b.click("#save-client").await;
        assert_eq!(b.text("#notice").await, "Saved.");
        b.screenshot("client-edit.png").await;
        let c = api_get(
            &server,
            &format!("/api/v1/Tenants/{tenant}/ClientCredentialClients/billing"),
        )
        .await;
        assert_eq!(c["Name"], "Billing (EU)");
        assert_eq!(c["AccessTokenLifetime"], 600);
        assert_eq!(c["RoleIds"], serde_json::json!(["tenant-auditor"]));

        // Remove Client asks first; Cancel keeps it.
        b.click("#remove-client").await;
        b.el("#remove-dialog").await;
        b.click("#cancel-remove").await;
        b.wait_for_path("Edit Client", |p| p.ends_with("/billing"))
            .await;
        assert_eq!(
            api_status(
                &server,
                &format!("/api/v1/Tenants/{tenant}/ClientCredentialClients/billing")
            )
            .await,
            200
        );
        // Revoke asks for the client's name or the word revoke (any case).
        b.click("#remove-client").await;
        b.fill("#confirmation", "billing").await;
        b.click("#confirm-remove").await;
        let error = b.text("#remove-dialog #form-error").await;
        assert!(error.contains("The client was not revoked"), "{error}");
        assert_eq!(b.value("#confirmation").await, "billing");
        assert_eq!(
            api_status(
                &server,
                &format!("/api/v1/Tenants/{tenant}/ClientCredentialClients/billing")
            )
            .await,
            200
        );
        assert!(secret_works(&server, &tenant, "billing", &value).await);
        b.screenshot("client-revoke.png").await;
        b.fill("#confirmation", "REVOKE").await;
        b.click("#confirm-remove").await;
        b.wait_for_path("the clients list", |p| {
            p.contains("/clients?type=client-credentials&revoked=billing")
        })
        .await;
        assert_eq!(
            b.text("#notice").await,
            "Client billing revoked, with all its secrets: they no longer get tokens."
        );
        assert!(!b.exists("tr[data-client='billing']").await);
        assert_eq!(
            api_status(
                &server,
                &format!("/api/v1/Tenants/{tenant}/ClientCredentialClients/billing")
            )
            .await,
            404
        );
        assert!(!secret_works(&server, &tenant, "billing", &value).await);

        b.open("/console/tenants").await;
        b.screenshot("tenants.png").await;
    })
    .await;
    b.quit().await;
}
