//! Manage tenant, in the browser: a platform administrator renames a tenant
//! (a name another tenant has is refused) and deletes it once its name is
//! typed; checked through the API.

use crate::browser::Browser;
use crate::{ADMIN_PASSWORD, api_get, api_status, secret_works, server, tenant_with_client};

#[tokio::test]
async fn a_platform_administrator_renames_and_deletes_a_tenant() {
    let server = server().await;
    let tenant = tenant_with_client(&server).await;
    let other = server.create_tenant().await;
    let other_name = api_get(&server, &format!("/api/v1/Tenants/{other}")).await["Name"]
        .as_str()
        .unwrap()
        .to_owned();
    let value = server
        .create_client(
            &tenant,
            "ClientCredentialClients",
            serde_json::json!({"Id": "second", "Name": "Second"}),
        )
        .await["Secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(secret_works(&server, &tenant, "second", &value).await);
    let b = Browser::start("tenants", &server.base_url).await;
    b.check(async {
        b.sign_in("admin", ADMIN_PASSWORD).await;

        // A name another tenant has: 409, refused on the form, nothing changed.
        b.fill("#tenant-name-input", &other_name).await;
        b.click("#create-tenant").await;
        let error = b.text("#form-error").await;
        assert_eq!(
            error,
            "Name: another tenant already has this name; choose another."
        );

        b.click(&format!("a[href='/console/tenants/{tenant}/manage']"))
            .await;
        let manage = format!("/console/tenants/{tenant}/manage");
        b.wait_for_path("Manage tenant", |p| p == manage).await;
        assert_eq!(b.value("#name").await, "Acme Corp");
        b.fill("#name", &other_name).await;
        b.click("#rename-tenant").await;
        let error = b.text("#form-error").await;
        assert_eq!(
            error,
            "Name: another tenant already has this name; choose another."
        );
        assert_eq!(b.value("#name").await, other_name, "as typed");
        assert_eq!(
            api_get(&server, &format!("/api/v1/Tenants/{tenant}")).await["Name"],
            "Acme Corp"
        );
        b.fill("#name", "Acme Europe").await;
        b.click("#rename-tenant").await;
        b.wait_for_path("Manage tenant", |p| p == format!("{manage}?saved=1"))
            .await;
        assert_eq!(b.text("#notice").await, "Renamed.");
        assert_eq!(b.text("#tenant-name").await, "Acme Europe");
        assert_eq!(
            api_get(&server, &format!("/api/v1/Tenants/{tenant}")).await["Name"],
            "Acme Europe"
        );

        // Delete asks for the tenant's name; anything else (even `revoke`) keeps it.
        b.click("#delete-tenant").await;
        b.el("#delete-tenant-dialog").await;
        for wrong in ["revoke", "acme europe"] {
            b.fill("#confirmation", wrong).await;
            b.click("#confirm-delete-tenant").await;
            let error = b.text("#delete-tenant-dialog #form-error").await;
            assert!(error.contains("The tenant was not deleted"), "{error}");
        }
        assert_eq!(
            api_status(&server, &format!("/api/v1/Tenants/{tenant}")).await,
            200
        );
        b.screenshot("tenant-delete.png").await;
        b.fill("#confirmation", "Acme Europe").await;
        b.click("#confirm-delete-tenant").await;
        b.wait_for_path("the tenants list", |p| p == "/console/tenants?deleted=1")
            .await;
        assert_eq!(
            b.text("#notice").await,
            "Tenant deleted, with all its clients and their secrets."
        );
        assert_eq!(
            api_status(&server, &format!("/api/v1/Tenants/{tenant}")).await,
            404
        );
        assert!(
            !b.exists(&format!("a[href='/console/tenants/{tenant}']"))
                .await
        );
        assert!(
            b.exists(&format!("a[href='/console/tenants/{other}']"))
                .await
        );
        assert!(!secret_works(&server, &tenant, "second", &value).await);
    })
    .await;
    b.quit().await;
}
