//! The token endpoint's request handling (RFC 6749): `client_secret_basic` with
//! the form-urlencoding of §2.3.1 and `client_secret_post`, never both; `scope` narrowing
//! the roles; `audience` / `resource` setting `aud`; RFC 6749 error bodies with
//! `Cache-Control: no-store`; malformed or oversized input answered 4xx, never 500.

use reqwest::header::CONTENT_TYPE;
use serde_json::json;

use crate::harness::*;
use crate::lifecycle::{call, exchange, expect_error};
use crate::oauth::{
    Cred, access_token, assert_no_store, audience, basic, cc_client, claims, client_in, form,
    invalid_client, oauth_error, post_form, start, token_request, token_response, urlencode, words,
};

async fn basic_and_post_authenticate_but_not_both(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let cred = cc_client(&server, &tenant, &["tenant-member"]).await;
    let basic_token = access_token(&server, &cred).await;
    assert_eq!(claims(&basic_token)["client_id"], cred.id);

    let grant = ("grant_type", "client_credentials");
    let post = [
        grant,
        ("client_id", cred.id.as_str()),
        ("client_secret", cred.secret.as_str()),
    ];
    let body = token_response(post_form(&server, &tenant, "connect/token", form(&post))).await;
    let token = body["access_token"].as_str().expect("a token");
    assert_eq!(claims(token)["sub"], cred.id);

    let both = post_form(&server, &tenant, "connect/token", form(&post));
    let both = both.header("Authorization", basic(&cred.id, &cred.secret));
    oauth_error(both, 400, "invalid_request").await;

    let none = post_form(&server, &tenant, "connect/token", form(&[grant]));
    invalid_client(&server, &tenant, none).await;
    let id_only = [grant, ("client_id", cred.id.as_str())];
    let id_only = post_form(&server, &tenant, "connect/token", form(&id_only));
    invalid_client(&server, &tenant, id_only).await;
}

/// RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding, so a secret
/// with `:`, `+`, `%` and spaces (and an id with `~`) authenticates.
async fn basic_credentials_are_form_urlencoded(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let body = json!({"Id": "svc~a.b_c-d", "RoleIds": ["tenant-member"]});
    let first = client_in(&server, &tenant, "ClientCredentialClients", body).await;
    let value = "pa:ss+wo%rd%20 with spaces & = more 0123456789";
    let path = format!("/api/v1/Tenants/{tenant}/ClientCredentialClients/svc~a.b_c-d/Secrets");
    let added = call(server.post(&path).json(&json!({"Value": value})), 201).await;
    let cred = Cred {
        secret: value.to_owned(),
        secret_id: added["Id"].as_i64().expect("an id"),
        ..first
    };
    assert_eq!(
        urlencode(value),
        "pa%3Ass%2Bwo%25rd%2520+with+spaces+%26+%3D+more+0123456789"
    );
    assert_eq!(urlencode(&cred.id), "svc%7Ea.b_c-d");

    let token = access_token(&server, &cred).await;
    assert_eq!(claims(&token)["secret_id"], json!(cred.secret_id));
    assert_eq!(claims(&token)["client_id"], "svc~a.b_c-d");

    let post = [
        ("grant_type", "client_credentials"),
        ("client_id", cred.id.as_str()),
        ("client_secret", value),
    ];
    let req = post_form(&server, &tenant, "connect/token", form(&post));
    token_response(req).await;

    // Unencoded, `+` and `%20` decode to spaces: a different secret.
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD.encode(format!("{}:{value}", cred.id));
    let req = post_form(&server, &tenant, "connect/token", form(&[post[0]]));
    invalid_client(
        &server,
        &tenant,
        req.header("Authorization", format!("Basic {raw}")),
    )
    .await;
}

async fn scope_narrows_the_roles_to_a_subset(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let cred = cc_client(
        &server,
        &tenant,
        &["tenant-administrator", "tenant-auditor"],
    )
    .await;

    let all = token_response(token_request(&server, &cred, &[])).await;
    let both = words(&json!(["tenant-administrator", "tenant-auditor"]));
    assert_eq!(
        words(&all["scope"]),
        both,
        "no scope: all the client's roles"
    );

    let req = token_request(&server, &cred, &[("scope", "tenant-auditor")]);
    let narrowed = token_response(req).await;
    assert_eq!(narrowed["scope"], "tenant-auditor");
    let token = narrowed["access_token"].as_str().expect("a token");
    assert_eq!(claims(token)["roles"], json!(["tenant-auditor"]));
    assert_eq!(claims(token)["scope"], "tenant-auditor");
    let clients = format!("/api/v1/Tenants/{tenant}/ClientCredentialClients");
    let secrets = format!("{clients}/{}/Secrets", cred.id);
    call(
        server.http.get(server.url(&secrets)).bearer_auth(token),
        200,
    )
    .await;
    let create = server.http.post(server.url(&clients)).bearer_auth(token);
    expect_error(create.json(&json!({"Name": "x"})), 403, "Forbidden").await;

    let req = token_request(
        &server,
        &cred,
        &[("scope", "tenant-auditor tenant-administrator")],
    );
    assert_eq!(words(&token_response(req).await["scope"]), both);

    for scope in [
        "tenant-member",
        "openid",
        "tenant-auditor tenant-member",
        "TENANT-AUDITOR",
    ] {
        let req = token_request(&server, &cred, &[("scope", scope)]);
        oauth_error(req, 400, "invalid_scope").await;
    }
}

async fn audience_or_resource_sets_aud(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let cred = cc_client(&server, &tenant, &["tenant-member"]).await;
    for name in ["audience", "resource"] {
        let uri = format!("https://{name}.example/api");
        let req = token_request(&server, &cred, &[(name, &uri)]);
        let body = token_response(req).await;
        let token = body["access_token"].as_str().expect("a token");
        assert_eq!(audience(&claims(token)), uri, "{name}");
    }
    let extra = [
        ("audience", "https://a.example"),
        ("resource", "https://a.example"),
    ];
    oauth_error(
        token_request(&server, &cred, &extra),
        400,
        "invalid_request",
    )
    .await;
}

async fn grant_type_errors_are_rfc6749_json(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let cred = cc_client(&server, &tenant, &["tenant-member"]).await;
    let auth = basic(&cred.id, &cred.secret);
    let send = |pairs: &[(&str, &str)]| {
        let req = post_form(&server, &tenant, "connect/token", form(pairs));
        req.header("Authorization", &auth)
    };
    oauth_error(send(&[]), 400, "invalid_request").await;
    oauth_error(send(&[("scope", "tenant-member")]), 400, "invalid_request").await;
    for grant in [
        "password",
        "authorization_code",
        "refresh_token",
        "CLIENT_CREDENTIALS",
    ] {
        oauth_error(
            send(&[("grant_type", grant)]),
            400,
            "unsupported_grant_type",
        )
        .await;
    }
    let twice = [
        ("grant_type", "client_credentials"),
        ("grant_type", "client_credentials"),
    ];
    oauth_error(send(&twice), 400, "invalid_request").await;
    let scope_twice = [
        ("grant_type", "client_credentials"),
        ("scope", "tenant-member"),
        ("scope", "tenant-member"),
    ];
    oauth_error(send(&scope_twice), 400, "invalid_request").await;
    token_response(send(&[("grant_type", "client_credentials")])).await;
}

/// Malformed `Authorization` headers and oversized or non-form bodies: 4xx, never 500.
async fn malformed_or_oversized_input_is_4xx(backend: Backend) {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let cred = cc_client(&server, &tenant, &["tenant-member"]).await;
    let grant = form(&[("grant_type", "client_credentials")]);
    let with = |header: String| {
        post_form(&server, &tenant, "connect/token", grant.clone()).header("Authorization", header)
    };

    let bad_percent = format!("Basic {}", b64(&format!("{}:%zz", cred.id)));
    let undecodable = [
        "Basic !!!not*base64!!!",
        "Basic ",
        "Basic",
        "Basic %%%",
        &bad_percent,
    ];
    for header in undecodable {
        let (status, headers, body) = exchange(with(header.to_owned())).await;
        let error = body["error"].as_str();
        let ok = matches!(
            (status, error),
            (400, Some("invalid_request")) | (401, Some("invalid_client"))
        );
        assert!(ok, "{header:?}: {status} {body}");
        assert_no_store(&headers);
    }
    invalid_client(
        &server,
        &tenant,
        with(format!("Basic {}", b64("no-colon-here"))),
    )
    .await;
    let huge = format!(
        "Basic {}",
        b64(&format!("{}:{}", cred.id, "x".repeat(10 * 1024)))
    );
    let (status, _, body) = exchange(with(huge)).await;
    assert!(
        matches!(status, 400 | 401 | 413 | 431),
        "10 KiB header: {status} {body}"
    );

    for (content_type, body) in [
        (
            "application/x-www-form-urlencoded",
            format!("{grant}&pad={}", "a".repeat(65 * 1024)),
        ),
        (
            "application/json",
            json!({"grant_type": "client_credentials"}).to_string(),
        ),
        (
            "application/x-www-form-urlencoded",
            "grant_type=%ff%fe&x=%".to_owned(),
        ),
    ] {
        let url = server.url(&format!("/identity/{tenant}/connect/token"));
        let req = server
            .http
            .post(url)
            .header(CONTENT_TYPE, content_type)
            .body(body);
        let res = req.header("Authorization", basic(&cred.id, &cred.secret));
        let res = res.send().await.expect("the server answers");
        let status = res.status().as_u16();
        assert!(
            matches!(status, 400 | 413 | 415),
            "{content_type}: {status}"
        );
    }
    // The server is still well.
    token_response(token_request(&server, &cred, &[])).await;
}

both_backends!(
    basic_and_post_authenticate_but_not_both,
    basic_credentials_are_form_urlencoded,
    scope_narrows_the_roles_to_a_subset,
    audience_or_resource_sets_aud,
    grant_type_errors_are_rfc6749_json,
    malformed_or_oversized_input_is_4xx,
);
