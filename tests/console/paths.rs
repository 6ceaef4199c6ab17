//! Client pages checked over plain HTTP for a path that names no tenant or no
//! client kind: every handler of a client page answers the same failure page
//! (404, "No such …", framed for the signed-in user), GET or POST, and a
//! request without a session still goes to sign-in first.

use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};

use crate::http_checks::{csrf_of, http_sign_in};
use crate::{ADMIN_PASSWORD, form_body, server, tenant_with_client};

fn no_redirects() -> Client {
    Client::builder()
        .no_proxy()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_client_path_naming_nothing_is_the_failure_page_for_every_handler() {
    let server = server().await;
    let tenant = tenant_with_client(&server).await;
    let session = http_sign_in(&server, "admin", ADMIN_PASSWORD).await;
    let csrf = csrf_of(&server, &session).await;
    let http = no_redirects();
    let unknown_tenant = "/console/tenants/not-a-tenant/client-credentials/billing";
    let unknown_kind = format!("/console/tenants/{tenant}/no-such-kind/billing");
    let cases = [
        (unknown_tenant.to_owned(), "No such tenant."),
        (unknown_kind, "No such client."),
    ];
    for (base, message) in &cases {
        let gets = [base.clone(), format!("{base}/secrets")];
        for path in &gets {
            let res = http
                .get(server.url(path))
                .header("Cookie", format!("lk_session={session}"))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "GET {path}");
            let page = res.text().await.unwrap();
            assert!(page.contains(message), "GET {path}: {page}");
            assert!(page.contains("admin"), "framed for the user: {page}");
        }
        let posts = [
            base.clone(),
            format!("{base}/remove"),
            format!("{base}/secrets"),
            format!("{base}/policy"),
            format!("{base}/secrets/1"),
            format!("{base}/secrets/1/renew"),
            format!("{base}/secrets/1/delete"),
        ];
        for path in &posts {
            let res = http
                .post(server.url(path))
                .header("Cookie", format!("lk_session={session}"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(form_body(&[("csrf", &csrf), ("description", "x")]))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "POST {path}");
            let page = res.text().await.unwrap();
            assert!(page.contains(message), "POST {path}: {page}");
        }
    }
    // Without a session: sign-in first, whatever the path names.
    let res = http.get(server.url(unknown_tenant)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/console/signin");
    // The client still works: nothing above changed it.
    let res = http
        .get(server.url(&format!(
            "/console/tenants/{tenant}/client-credentials/billing"
        )))
        .header("Cookie", format!("lk_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}
