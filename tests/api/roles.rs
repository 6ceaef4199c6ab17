//! Who may do what on the management API: one table-driven test runs every
//! management route for every role — tenant administrator, its `account-administrator`
//! alias, member, auditor, a client with no role, and the platform administrator (the
//! bootstrap token) — in the caller's own tenant, in another tenant and in a tenant that
//! does not exist, and asserts the exact status of each cell. Then every kind of bad
//! bearer token: 401.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;
use crate::lifecycle::{assert_error_shape, call, exchange, expect_error, secrets_path};
use crate::oauth::{Cred, access_token, cc_client, jwt_part, start, token_request, token_response};

const CC: &str = "ClientCredentialClients";
const HY: &str = "HybridClients";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Caller {
    Platform,
    Admin,
    Alias,
    Member,
    Auditor,
    NoRole,
}

/// Where a cell's route points: the caller's tenant, another one, or none at all.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Place {
    Own,
    Other,
    Unknown,
}

/// Which roles a route needs in the caller's own tenant.
#[derive(Clone, Copy, PartialEq)]
enum Needs {
    Platform,
    Read,
    SecretRead,
    Write,
}

/// One route: label, method, path under `/api/v1/Tenants` (`{t}` tenant, `{k}` client
/// kind, `{c}` target client), success status, and what it needs.
type Route = (&'static str, &'static str, &'static str, u16, Needs);

#[rustfmt::skip]
const ROUTES: [Route; 23] = {
    use Needs::*;
    [
        ("list tenants", "GET", "", 200, Platform),
        ("HEAD tenants", "HEAD", "", 200, Platform),
        ("create tenant", "POST", "", 201, Platform),
        ("get tenant", "GET", "/{t}", 200, Read),
        ("rename tenant", "PUT", "/{t}", 200, Platform),
        ("list clients", "GET", "/{t}/{k}", 200, Read),
        ("HEAD clients", "HEAD", "/{t}/{k}", 200, Read),
        ("create client", "POST", "/{t}/{k}", 201, Write),
        ("get client", "GET", "/{t}/{k}/{c}", 200, Read),
        ("HEAD client", "HEAD", "/{t}/{k}/{c}", 200, Read),
        ("update client", "PUT", "/{t}/{k}/{c}", 200, Write),
        ("delete client", "DELETE", "/{t}/{k}/{c}", 204, Write),
        ("list secrets", "GET", "/{t}/{k}/{c}/Secrets", 200, SecretRead),
        ("HEAD secrets", "HEAD", "/{t}/{k}/{c}/Secrets", 200, SecretRead),
        ("add secret", "POST", "/{t}/{k}/{c}/Secrets", 201, Write),
        ("get secret", "GET", "/{t}/{k}/{c}/Secrets/1", 200, SecretRead),
        ("HEAD secret", "HEAD", "/{t}/{k}/{c}/Secrets/1", 200, SecretRead),
        ("update secret", "PUT", "/{t}/{k}/{c}/Secrets/1", 200, Write),
        ("renew", "POST", "/{t}/{k}/{c}/Secrets/1/Renew", 200, Write),
        ("end grace", "POST", "/{t}/{k}/{c}/Secrets/1/EndGrace", 200, Write),
        ("delete secret", "DELETE", "/{t}/{k}/{c}/Secrets/1", 204, Write),
        ("secret summary", "GET", "/{t}/SecretSummary", 200, SecretRead),
        ("delete tenant", "DELETE", "/{t}", 204, Platform),
    ]
};

/// The JSON body a route is sent with.
fn body(label: &str) -> Option<Value> {
    match label {
        // Tenant names are unique: a fresh one for every request.
        "create tenant" | "rename tenant" => {
            Some(json!({"Name": uuid::Uuid::new_v4().to_string()}))
        }
        "create client" => Some(json!({"Name": "made"})),
        "update client" => Some(json!({"Name": "re"})),
        "add secret" | "renew" => Some(json!({})),
        "update secret" => Some(json!({"Description": "d"})),
        _ => None,
    }
}

/// The status the contract table gives a cell.
fn expected(caller: Caller, place: Place, route: &Route) -> u16 {
    let &(_, _, path, success, needs) = route;
    let role_ok = match (caller, needs) {
        (Caller::Platform, _) => true,
        (Caller::NoRole, _) | (_, Needs::Platform) => false,
        (_, Needs::Read) => true,
        (Caller::Member, Needs::SecretRead) => false,
        (_, Needs::SecretRead) => true,
        (c, Needs::Write) => matches!(c, Caller::Admin | Caller::Alias),
    };
    match (caller, place, path.starts_with("/{t}")) {
        (Caller::Platform, Place::Unknown, true) => 404,
        (Caller::Platform, _, _) => success,
        (_, Place::Other | Place::Unknown, true) => 403,
        _ if role_ok => success,
        _ => 403,
    }
}

/// Prepares a fresh target client (with secret 1 in a grace period) in `tenant` through
/// the bootstrap token; returns the client id.
async fn target(server: &TestServer, tenant: &str, kind: &str) -> String {
    let id = format!("target-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    server
        .create_client(tenant, kind, json!({"Id": id, "Name": "target"}))
        .await;
    let renew = format!("{}/1/Renew", secrets_path(tenant, kind, &id));
    call(
        server
            .post(&renew)
            .json(&json!({"GracePeriodSeconds": 600})),
        200,
    )
    .await;
    id
}

/// Runs one cell on fresh target objects; returns a line when the status differs.
async fn cell(
    server: &TestServer,
    who: (Caller, &str),
    at: (Place, &str),
    kind: &str,
    route: &Route,
) -> Option<String> {
    let ((caller, bearer), (place, tenant)) = (who, at);
    let &(label, method, path, _, _) = route;
    let mut tenant = tenant.to_owned();
    if caller == Caller::Platform && label == "delete tenant" && place != Place::Unknown {
        tenant = server.create_tenant().await; // never delete the tenants the table uses
    }
    let client = match place {
        Place::Unknown => "target-none".to_owned(),
        _ => target(server, &tenant, kind).await,
    };
    let path = path
        .replace("{t}", &tenant)
        .replace("{k}", kind)
        .replace("{c}", &client);
    let url = server.url(&format!("/api/v1/Tenants{path}"));
    let method = Method::from_bytes(method.as_bytes()).expect("a method");
    let mut req = server.http.request(method.clone(), url).bearer_auth(bearer);
    if let Some(body) = body(label) {
        req = req.json(&body);
    }
    let (got, headers, response) = exchange(req).await;
    let want = expected(caller, place, route);
    let line = format!("{caller:?} / {place:?} / {kind} / {label}: want {want}, got {got}");
    if got != want {
        return Some(format!("{line} {response}"));
    }
    if got == 403 && method != Method::HEAD {
        assert_error_shape(got, &headers, &response);
        if response["Error"] != "Forbidden" {
            return Some(format!("{line} but Error is not Forbidden: {response}"));
        }
    }
    None
}

async fn every_route_answers_each_role_as_the_table_says(backend: Backend) {
    let server = start(backend).await;
    let own = server.create_tenant().await;
    let other = server.create_tenant().await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let mut callers = vec![(Caller::Platform, server.token.clone())];
    for (caller, roles) in [
        (Caller::Admin, &["tenant-administrator"][..]),
        (Caller::Alias, &["account-administrator"]),
        (Caller::Member, &["tenant-member"]),
        (Caller::Auditor, &["tenant-auditor"]),
        (Caller::NoRole, &[]),
    ] {
        let cred = cc_client(&server, &own, roles).await;
        callers.push((caller, access_token(&server, &cred).await));
    }
    let hybrid_rows = [
        "list clients",
        "create client",
        "update client",
        "list secrets",
        "get secret",
        "renew",
    ];
    let mut mismatches = Vec::new();
    let mut cells = 0;
    for (caller, bearer) in &callers {
        for (place, tenant) in [
            (Place::Own, &own),
            (Place::Other, &other),
            (Place::Unknown, &unknown),
        ] {
            for route in &ROUTES {
                let mut kinds = vec![CC];
                if hybrid_rows.contains(&route.0) {
                    kinds.push(HY);
                }
                for kind in kinds {
                    cells += 1;
                    let who = (*caller, bearer.as_str());
                    let result = cell(&server, who, (place, tenant), kind, route).await;
                    mismatches.extend(result);
                }
            }
        }
    }
    assert!(cells > 400, "{cells} cells");
    assert!(
        mismatches.is_empty(),
        "{} of {cells} cells differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// `{header}.{claims}` signed with a new P-256 key that Latchkey never saw.
fn forge(header: &Value, claims: &Value) -> String {
    let encode = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let input = format!("{}.{}", encode(header), encode(claims));
    let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("a key");
    let signature = key
        .sign(&SystemRandom::new(), input.as_bytes())
        .expect("a signature");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
}

async fn bad_bearer_tokens_are_401(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let admin = cc_client(&server, &tenant, &["tenant-administrator"]).await;
    let clients_path = format!("/api/v1/Tenants/{tenant}/{CC}");
    let clients = server.url(&clients_path);
    let get = |token: &str| server.http.get(&clients).bearer_auth(token);
    let good = access_token(&server, &admin).await;
    call(get(&good), 200).await;

    // Minted by a secret that is then revoked, by a client then disabled or deleted.
    let path = secrets_path(&tenant, CC, &admin.id);
    let added = call(server.post(&path).json(&json!({})), 201).await;
    let second = Cred {
        secret: added["Secret"].as_str().expect("a value").to_owned(),
        secret_id: 2,
        ..admin.clone()
    };
    let revoked = access_token(&server, &second).await;
    call(get(&revoked), 200).await;
    call(server.delete(&format!("{path}/2")), 204).await;
    let disabled = cc_client(&server, &tenant, &["tenant-administrator"]).await;
    let deleted = cc_client(&server, &tenant, &["tenant-administrator"]).await;
    let (disabled_token, deleted_token) = (
        access_token(&server, &disabled).await,
        access_token(&server, &deleted).await,
    );
    let disable = server.put(&format!("{clients_path}/{}", disabled.id));
    call(disable.json(&json!({"Enabled": false})), 200).await;
    call(
        server.delete(&format!("{clients_path}/{}", deleted.id)),
        204,
    )
    .await;

    // Another audience; another Latchkey (other keys, other issuer).
    let req = token_request(&server, &admin, &[("audience", "https://other.example")]);
    let other_audience = token_response(req).await["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let elsewhere = start(backend).await;
    let far = elsewhere.create_tenant().await;
    let far_admin = cc_client(&elsewhere, &far, &["tenant-administrator"]).await;
    let foreign = access_token(&elsewhere, &far_admin).await;

    // Forged: a new key under the right kid; alg none; claims changed under the old signature.
    let (header, claims) = (jwt_part(&good, 0), jwt_part(&good, 1));
    let forged = forge(&header, &claims);
    let none_header = URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "at+jwt"}).to_string());
    let (_, rest) = good.split_once('.').expect("a JWS");
    let unsigned = format!("{none_header}.{}.", rest.split('.').next().expect("claims"));
    let mut widened = claims.clone();
    widened["tid"] = json!(far);
    let signature = good.rsplit('.').next().expect("a signature");
    let tampered = format!(
        "{}.{}.{signature}",
        good.split('.').next().expect("a header"),
        URL_SAFE_NO_PAD.encode(widened.to_string())
    );
    let mut flipped = good.clone().into_bytes();
    let at = flipped.len() - 3;
    flipped[at] = if flipped[at] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).expect("ASCII");

    for (why, token) in [
        ("revoked minting secret", revoked),
        ("disabled client", disabled_token),
        ("deleted client", deleted_token),
        ("other audience", other_audience),
        ("another Latchkey", foreign),
        ("forged signature", forged),
        ("alg none", unsigned),
        ("changed claims", tampered),
        ("flipped signature byte", flipped),
        ("random string", uuid::Uuid::new_v4().to_string()),
        ("three dots", "a.b.c".to_owned()),
    ] {
        let (status, headers, body) = exchange(get(&token)).await;
        assert_eq!(status, 401, "{why}: {body}");
        assert_error_shape(status, &headers, &body);
        assert_eq!(body["Error"], "Unauthorized", "{why}: {body}");
    }
    expect_error(server.http.get(&clients), 401, "Unauthorized").await;
    let basic = server
        .http
        .get(&clients)
        .header("Authorization", format!("Basic {good}"));
    expect_error(basic, 401, "Unauthorized").await;
    call(get(&good), 200).await;
    let far_clients = elsewhere.url(&format!("/api/v1/Tenants/{far}/{CC}"));
    call(
        elsewhere
            .http
            .get(far_clients)
            .bearer_auth(&access_token(&elsewhere, &far_admin).await),
        200,
    )
    .await;
}

both_backends!(
    every_route_answers_each_role_as_the_table_says,
    bad_bearer_tokens_are_401
);
