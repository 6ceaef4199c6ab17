//! The tenant's home is an overview: counts by state linking to the filtered
//! inventory, and the expiration chart (server-rendered SVG, 12 weeks) with a
//! table as its text equivalent.

use serde_json::json;

use crate::browser::Browser;
use crate::{ADMIN_PASSWORD, server, tenant_with_client};

#[tokio::test]
async fn the_tenant_home_shows_the_estate_and_links_to_the_inventory() {
    let server = server().await;
    let tenant = tenant_with_client(&server).await;
    let path = format!("/api/v1/Tenants/{tenant}/ClientCredentialClients/billing/Secrets");
    let soon = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
    let res = server
        .post(&path)
        .json(&json!({"Description": "soon", "Expiration": soon}))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 201);
    let b = Browser::start("overview", &server.base_url).await;
    b.check(async {
        b.sign_in("admin", ADMIN_PASSWORD).await;
        b.open("/console/tenants").await;
        b.click(
            "td a[href$='{tenant}']"
                .replace("{tenant}", &tenant)
                .as_str(),
        )
        .await;
        b.wait_for_path("the overview", |p| {
            p == format!("/console/tenants/{tenant}")
        })
        .await;
        assert_eq!(b.text("#sum-active .count").await, "2");
        assert_eq!(b.text("#sum-soon .count").await, "1");
        assert_eq!(b.text("#sum-never .count").await, "2");
        assert_eq!(b.all("#expiry-chart rect").await.len(), 12);
        let rows = b.all("#expiry-table tbody tr").await;
        assert_eq!(rows.len(), 12, "a text equivalent for each bar");
        assert!(
            !b.source().await.contains("<script src=\"http"),
            "no external script"
        );
        b.screenshot("overview.png").await;
        b.click("#sum-soon").await;
        b.wait_for_path("the filtered inventory", |p| p.contains("/inventory"))
            .await;
        assert_eq!(b.value("#inv-expiring").await, "7");
        let listed = b.all("table tbody tr").await;
        assert_eq!(listed.len(), 1, "only the secret expiring within 7 days");
    })
    .await;
    b.quit().await;
}
