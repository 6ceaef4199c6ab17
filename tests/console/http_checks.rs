//! Console rules checked over plain HTTP: CSRF tokens, sign-in throttling, the
//! first administrator's generated password, cache headers.

use reqwest::redirect::Policy;
use reqwest::{Client, Response};

use crate::harness::{Backend, ServerOptions, TestServer};
use crate::{ADMIN_PASSWORD, api_secrets, form_body, server, tenant_with_client};

fn no_redirects() -> Client {
    Client::builder()
        .no_proxy()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

fn set_cookie(res: &Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

fn cookie_value(header: &str) -> String {
    header
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_owned())
        .unwrap()
}

/// The pre-sign-in token (cookie and form field).
async fn presignin(http: &Client, server: &TestServer) -> String {
    let res = http
        .get(server.url("/console/signin"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    cookie_value(&set_cookie(&res, "lk_presignin").expect("pre-sign-in cookie"))
}

async fn post_signin(
    http: &Client,
    server: &TestServer,
    token: &str,
    user: &str,
    pw: &str,
) -> Response {
    http.post(server.url("/console/signin"))
        .header("Cookie", format!("lk_presignin={token}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form_body(&[
            ("csrf", token),
            ("username", user),
            ("password", pw),
        ]))
        .send()
        .await
        .unwrap()
}

/// Signs in over HTTP; returns the session cookie's value.
pub async fn http_sign_in(server: &TestServer, user: &str, password: &str) -> String {
    let http = no_redirects();
    let token = presignin(&http, server).await;
    let res = post_signin(&http, server, &token, user, password).await;
    assert_eq!(res.status(), 303, "sign-in of {user}");
    let header = set_cookie(&res, "lk_session").expect("session cookie");
    assert!(
        header.contains("HttpOnly") && header.contains("SameSite=Strict"),
        "{header}"
    );
    cookie_value(&header)
}

/// The CSRF token a page of this session carries in its forms.
pub async fn csrf_of(server: &TestServer, session: &str) -> String {
    let page = no_redirects()
        .get(server.url("/console/tenants"))
        .header("Cookie", format!("lk_session={session}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = page.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    page[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_form_without_its_csrf_token_is_refused_and_changes_nothing() {
    let server = server().await;
    let tenant = tenant_with_client(&server).await;
    let session = http_sign_in(&server, "admin", ADMIN_PASSWORD).await;
    let csrf = csrf_of(&server, &session).await;
    let http = no_redirects();
    let url = server.url(&format!(
        "/console/tenants/{tenant}/client-credentials/billing/secrets"
    ));
    for body in [
        form_body(&[("description", "forged")]),
        form_body(&[("description", "forged"), ("csrf", "")]),
        form_body(&[
            ("description", "forged"),
            ("csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        ]),
    ] {
        let res = http
            .post(&url)
            .header("Cookie", format!("lk_session={session}"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
        assert_eq!(res.headers()["x-refused"], "csrf");
    }
    assert_eq!(
        api_secrets(&server, &tenant, "billing").await.len(),
        1,
        "nothing added"
    );

    // The same form with the session's token goes through (the check is not just always-refuse).
    let res = http
        .post(&url)
        .header("Cookie", format!("lk_session={session}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form_body(&[("description", "genuine"), ("csrf", &csrf)]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "post/redirect/get");
    assert_eq!(api_secrets(&server, &tenant, "billing").await.len(), 2);

    // Sign-in needs its pre-session token too.
    let res = http
        .post(server.url("/console/signin"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form_body(&[
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(set_cookie(&res, "lk_session").is_none());
}

#[tokio::test]
async fn repeated_failed_sign_ins_are_slowed_down() {
    let server = server().await;
    let http = no_redirects();
    let token = presignin(&http, &server).await;
    for attempt in 1..=5 {
        let res = post_signin(&http, &server, &token, "admin", "wrong password").await;
        assert_eq!(res.status(), 401, "attempt {attempt}");
    }
    // Now even the right password is refused for a while, before any hashing.
    let res = post_signin(&http, &server, &token, "admin", ADMIN_PASSWORD).await;
    assert_eq!(res.status(), 429);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("Too many failed sign-ins. Try again in"),
        "{page}"
    );
    // Another user name is not affected by admin's failures.
    let res = post_signin(&http, &server, &token, "someone-else", "whatever1").await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn first_start_generates_and_prints_the_admin_password_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/console.db", dir.path().display());
    let opts = ServerOptions {
        database_url: Some(url.clone()),
        ..ServerOptions::default()
    };
    let first = TestServer::start_with(Backend::Sqlite, opts.clone()).await;
    let logs = first.logs();
    let line = logs
        .lines()
        .skip_while(|l| !l.contains("generated password"))
        .nth(1)
        .unwrap_or_else(|| panic!("no generated password printed:\n{logs}"));
    let password = line.trim().to_owned();
    assert_eq!(password.len(), 24, "{line:?}");
    assert_eq!(
        logs.matches(&password).count(),
        1,
        "printed once, never logged"
    );
    http_sign_in(&first, "admin", &password).await;
    first.terminate().await;

    let second = TestServer::start_with(Backend::Sqlite, opts).await;
    let logs = second.logs();
    assert!(
        !logs.contains("generated password") && !logs.contains(&password),
        "{logs}"
    );
    http_sign_in(&second, "admin", &password).await;
}

#[tokio::test]
async fn console_pages_are_never_cached_and_framed() {
    let server = server().await;
    let session = http_sign_in(&server, "admin", ADMIN_PASSWORD).await;
    for path in ["/console/signin", "/console/tenants", "/console/users"] {
        let res = no_redirects()
            .get(server.url(path))
            .header("Cookie", format!("lk_session={session}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let h = res.headers();
        assert_eq!(h["cache-control"], "no-store", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("script-src 'self'")
        );
    }
    let res = no_redirects()
        .get(server.url("/console/assets/console.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
}

#[tokio::test]
async fn session_cookies_are_secure_behind_an_https_public_url() {
    let server = crate::server_with(&[("LATCHKEY_PUBLIC_URL", "https://latchkey.example")]).await;
    let http = no_redirects();
    let res = http
        .get(server.url("/console/signin"))
        .send()
        .await
        .unwrap();
    let pre = set_cookie(&res, "lk_presignin").unwrap();
    assert!(pre.ends_with("; Secure"), "{pre}");
    let token = cookie_value(&pre);
    let res = post_signin(&http, &server, &token, "admin", ADMIN_PASSWORD).await;
    assert_eq!(res.status(), 303);
    let session = set_cookie(&res, "lk_session").unwrap();
    assert!(
        session.contains("HttpOnly; SameSite=Strict; Secure"),
        "{session}"
    );
}

/// Sign-in, sessions and user management on PostgreSQL (the browser tests run on SQLite;
/// the console's storage is the same trait, with conformance tests on both).
#[tokio::test]
async fn users_and_sessions_work_on_postgres() {
    let opts = ServerOptions {
        env: vec![("LATCHKEY_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into())],
        ..ServerOptions::default()
    };
    let server = TestServer::start_with(Backend::Postgres, opts).await;
    let session = http_sign_in(&server, "admin", ADMIN_PASSWORD).await;
    let csrf = csrf_of(&server, &session).await;
    let res = no_redirects()
        .post(server.url("/console/users"))
        .header("Cookie", format!("lk_session={session}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form_body(&[
            ("csrf", &csrf),
            ("username", "pat"),
            ("password", "pat's password"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    http_sign_in(&server, "pat", "pat's password").await;
    // Sign-out ends the session on this database too.
    let res = no_redirects()
        .post(server.url("/console/signout"))
        .header("Cookie", format!("lk_session={session}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form_body(&[("csrf", &csrf)]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let res = no_redirects()
        .get(server.url("/console/tenants"))
        .header("Cookie", format!("lk_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/console/signin");
}

/// GET `location` on `node` with `session`, redirects not followed.
async fn get_with(node: &TestServer, session: &str, location: &str) -> Response {
    no_redirects()
        .get(node.url(location))
        .header("Cookie", format!("lk_session={session}"))
        .send()
        .await
        .unwrap()
}

/// The value a show-once page shows.
fn shown_value(page: &str) -> String {
    let start = page.find("id=\"secret-value\"").expect("the value field");
    let value = page[start..].find("value=\"").expect("its value") + start + 7;
    page[value..].split('"').next().unwrap().to_owned()
}

/// Two nodes on one PostgreSQL database: the value a POST on one node stashed is
/// shown by the GET on the other, once; a reload on either node, or another
/// session, gets the redirect onwards, never the value.
#[tokio::test]
async fn a_value_is_shown_once_across_nodes_sharing_the_database() {
    let opts = ServerOptions {
        env: vec![("LATCHKEY_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into())],
        ..ServerOptions::default()
    };
    let a = TestServer::start_with(Backend::Postgres, opts).await;
    let b = TestServer::start_with(
        Backend::Postgres,
        ServerOptions {
            database_url: Some(a.database_url.clone()),
            ..ServerOptions::default()
        },
    )
    .await;
    let tenant = tenant_with_client(&a).await;
    let session = http_sign_in(&a, "admin", ADMIN_PASSWORD).await;
    let other = http_sign_in(&b, "admin", ADMIN_PASSWORD).await;
    let csrf = csrf_of(&a, &session).await;
    let tab = format!("/console/tenants/{tenant}/client-credentials/billing/secrets");
    let res = no_redirects()
        .post(a.url(&tab))
        .header("Cookie", format!("lk_session={session}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form_body(&[("description", "across"), ("csrf", &csrf)]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("/console/tenants/{tenant}/shown/")),
        "{location}"
    );
    let gone = format!("{tab}?reveal=gone");

    // Another session cannot take it (and does not spend it).
    let res = get_with(&b, &other, &location).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], gone.as_str());

    let res = get_with(&b, &session, &location).await;
    assert_eq!(res.status(), 200, "shown by the other node");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let value = shown_value(&res.text().await.unwrap());
    assert!(value.starts_with("lkcs_"), "{value}");
    assert!(crate::secret_works(&a, &tenant, "billing", &value).await);

    for node in [&a, &b] {
        let res = get_with(node, &session, &location).await;
        assert_eq!(res.status(), 303, "a reload shows nothing");
        assert_eq!(res.headers()["location"], gone.as_str());
        assert!(!res.text().await.unwrap().contains(&value));
    }
    assert_eq!(api_secrets(&a, &tenant, "billing").await.len(), 2);
    assert!(!a.logs().contains(&value) && !b.logs().contains(&value));
}
