//! Who still presents an old value, in the browser: the Secrets tab says when the
//! value in grace was last used and how often a value that no longer works was
//! presented (and from where), and so do the Renew and Delete dialogs.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::browser::Browser;
use crate::{ADMIN_PASSWORD, api_secrets, secret_works, server_with, tenant_with_client};

/// POSTs `body` to `path` with the bootstrap token; asserts 200 and returns the JSON.
async fn post(server: &crate::harness::TestServer, path: &str, body: Value) -> Value {
    let res = server.post(path).json(&body).send().await.expect("send");
    assert_eq!(res.status(), 200, "POST {path}");
    res.json().await.expect("JSON")
}

/// The API's secrets of `billing`, polled until `done` holds (at most 15 s).
async fn secrets_until(
    server: &crate::harness::TestServer,
    tenant: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let secrets = api_secrets(server, tenant, "billing").await;
        if done(&secrets) || Instant::now() >= deadline {
            return secrets;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_secrets_tab_and_dialogs_say_who_still_presents_an_old_value() {
    let server = server_with(&[("LATCHKEY_TOKENS__LASTUSEDINTERVAL", "1")]).await;
    let tenant = tenant_with_client(&server).await;
    let secrets = format!("/api/v1/Tenants/{tenant}/ClientCredentialClients/billing/Secrets");
    // Secret 2 ("rotated"): renewed without grace, then its old value presented.
    let res = server
        .post(&secrets)
        .json(&json!({"Description": "rotated"}))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 201);
    let added: Value = res.json().await.expect("JSON");
    let old_value = added["Secret"].as_str().expect("a value").to_owned();
    post(&server, &format!("{secrets}/2/Renew"), json!({})).await;
    assert!(!secret_works(&server, &tenant, "billing", &old_value).await);
    // Secret 1 ("initial"): renewed with a grace; its old value is not used.
    post(
        &server,
        &format!("{secrets}/1/Renew"),
        json!({"GracePeriodSeconds": 3600}),
    )
    .await;
    let listed = secrets_until(&server, &tenant, |s| {
        s.iter().any(|x| x["RefusedCount"] == 1)
    })
    .await;
    assert!(listed.iter().any(|x| x["RefusedCount"] == 1), "{listed:?}");

    let b = Browser::start("refused", &server.base_url).await;
    b.check(async {
        b.sign_in("admin", ADMIN_PASSWORD).await;
        let tab = format!("/console/tenants/{tenant}/client-credentials/billing/secrets");
        b.open(&tab).await;
        let rotated = b.text("tr[data-secret='2'] .presented").await;
        assert!(
            rotated.contains("no longer works was presented once")
                && rotated.contains("from 127.0.0.1"),
            "{rotated}"
        );
        let in_grace = b.text("tr[data-secret='1'] .presented").await;
        assert_eq!(in_grace, "The old value has not been used since the Renew.");
        b.screenshot("secrets-refused.png").await;

        b.click("tr[data-secret='2'] [data-action='renew']").await;
        let note = b.text("#renew-dialog .presented").await;
        assert!(note.contains("presented once"), "{note}");
        b.click("#cancel-renew").await;
        b.click("tr[data-secret='1'] [data-action='delete']").await;
        let note = b.text("#delete-dialog .presented").await;
        assert_eq!(note, "The old value has not been used since the Renew.");
        assert!(
            !b.source().await.contains(&old_value),
            "never a value in the page"
        );
        b.click("#cancel-delete").await;

        // End grace: a dialog with the same note, then the grace is over.
        assert!(
            !b.exists("tr[data-secret='2'] [data-action='end-grace']")
                .await,
            "no grace, no action"
        );
        b.click("tr[data-secret='1'] [data-action='end-grace']")
            .await;
        let note = b.text("#end-grace-dialog .presented").await;
        assert_eq!(note, "The old value has not been used since the Renew.");
        b.click("#confirm-end-grace").await;
        b.wait_for_path("the Secrets tab", |p| p.ends_with("/billing/secrets"))
            .await;
        let listed = api_secrets(&server, &tenant, "billing").await;
        let one = listed.iter().find(|x| x["Id"] == 1).expect("secret 1");
        assert_eq!(one["GraceUntil"], Value::Null, "the grace has ended: {one}");
        assert!(
            !b.exists("tr[data-secret='1'] [data-action='end-grace']")
                .await
        );
    })
    .await;
    b.quit().await;
}
