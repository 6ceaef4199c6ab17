//! The error contract over HTTP: one `ErrorResponse` shape on every 4xx
//! (`OperationId`, `Error`, `Reason`, `Resolution`, `Field` on 400), the
//! `OperationId` header, malformed and mistyped input naming the field, paging
//! parameters, size limits, unknown resources, case-insensitive field names,
//! and a fuzz table of odd bodies that must never give a 500.

use serde_json::json;

use crate::harness::*;
use crate::lifecycle::{
    KINDS, assert_error_shape, call, client_of, count, exchange, expect_error, expect_invalid,
    secrets_path,
};

async fn error_responses_have_one_shape_from_400_to_413(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (tenant, client, _) = client_of(&server, KINDS[0]).await;
    let bad = server
        .post("/api/v1/Tenants")
        .header("Content-Type", "application/json");
    expect_error(bad.body("{\"Name\":"), 400, "InvalidInput").await;
    let anonymous = server.http.get(server.url("/api/v1/Tenants"));
    expect_error(anonymous, 401, "Unauthorized").await;
    let unknown = format!("/api/v1/Tenants/{}", uuid::Uuid::new_v4());
    expect_error(server.get(&unknown), 404, "NotFound").await;
    expect_error(server.get("/api/v1/NoSuchThing"), 404, "NotFound").await;
    let patch = server.http.patch(server.url("/api/v1/Tenants"));
    expect_error(patch.bearer_auth(&server.token), 405, "MethodNotAllowed").await;
    let clients = format!("/api/v1/Tenants/{tenant}/{}", KINDS[0]);
    let dup = json!({"Id": client, "Name": "again"});
    expect_error(server.post(&clients).json(&dup), 409, "Conflict").await;
    let huge = json!({"Description": "d".repeat(70_000)});
    let secrets = secrets_path(&tenant, KINDS[0], &client);
    expect_error(server.post(&secrets).json(&huge), 413, "PayloadTooLarge").await;
}

async fn success_responses_carry_a_fresh_operation_id_header(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut seen = Vec::new();
    for req in [
        server.post("/api/v1/Tenants").json(&json!({"Name": "a"})),
        server.get("/api/v1/Tenants"),
        server.head("/api/v1/Tenants"),
    ] {
        let (status, headers, _) = exchange(req).await;
        assert!(status == 200 || status == 201, "{status}");
        let op = headers.get("OperationId").expect("an OperationId header");
        uuid::Uuid::parse_str(op.to_str().unwrap()).expect("a UUID");
        seen.push(op.to_str().unwrap().to_owned());
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 3, "each request gets its own OperationId");
}

async fn mistyped_fields_are_400_naming_the_field(backend: Backend) {
    let server = TestServer::start(backend).await;
    for kind in KINDS {
        let (tenant, client, _) = client_of(&server, kind).await;
        let clients = format!("/api/v1/Tenants/{tenant}/{kind}");
        let secrets = secrets_path(&tenant, kind, &client);
        let (one, renew) = (format!("{secrets}/1"), format!("{secrets}/1/Renew"));
        let cases = [
            (server.post(&clients), json!({"Name": 5}), "Name"),
            (
                server.post(&clients),
                json!({"Name": "n", "Tags": "a"}),
                "Tags",
            ),
            (
                server.post(&clients),
                json!({"Name": "n", "AccessTokenLifetime": "1h"}),
                "AccessTokenLifetime",
            ),
            (
                server.put(&format!("{clients}/{client}")),
                json!({"Enabled": "no"}),
                "Enabled",
            ),
            (server.post(&secrets), json!({"Expires": "yes"}), "Expires"),
            (
                server.post(&secrets),
                json!({"Expiration": "tomorrow"}),
                "Expiration",
            ),
            (
                server.post(&secrets),
                json!({"Description": 5}),
                "Description",
            ),
            (server.put(&one), json!({"Expires": 1}), "Expires"),
            (
                server.post(&renew),
                json!({"GracePeriodSeconds": "x"}),
                "GracePeriodSeconds",
            ),
        ];
        for (req, body, field) in cases {
            expect_invalid(req.json(&body), field).await;
        }
        assert_eq!(count(server.get(&secrets)).await, 1, "nothing was added");
    }
}

async fn bad_paging_parameters_are_400_naming_them(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (tenant, client, _) = client_of(&server, KINDS[0]).await;
    let lists = [
        "/api/v1/Tenants".to_owned(),
        format!("/api/v1/Tenants/{tenant}/{}", KINDS[0]),
        secrets_path(&tenant, KINDS[0], &client),
    ];
    let cases = [
        ("skip=-1", "skip"),
        ("skip=abc", "skip"),
        ("skip=1.5", "skip"),
        ("count=5000", "count"),
        ("count=1001", "count"),
        ("count=-1", "count"),
    ];
    for list in &lists {
        for (query, field) in cases {
            expect_invalid(server.get(&format!("{list}?{query}")), field).await;
        }
        // The largest page is allowed.
        count(server.get(&format!("{list}?skip=0&count=1000"))).await;
    }
}

async fn description_is_limited_to_1024_characters(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (tenant, client, _) = client_of(&server, KINDS[1]).await;
    let secrets = secrets_path(&tenant, KINDS[1], &client);
    let one = format!("{secrets}/1");
    let too_long = json!({"Description": "d".repeat(1025)});
    expect_invalid(server.post(&secrets).json(&too_long), "Description").await;
    expect_invalid(server.put(&one).json(&too_long), "Description").await;
    // Under the 64 KiB body limit, a long Description is a field error, not a 413.
    let long = json!({"Description": "d".repeat(60_000)});
    expect_invalid(server.post(&secrets).json(&long), "Description").await;
    let longest = json!({"Description": "d".repeat(1024)});
    let created = call(server.post(&secrets).json(&longest), 201).await;
    assert_eq!(created["Description"], longest["Description"]);
    // The limit counts characters, not bytes.
    let accented = json!({"Description": "é".repeat(1024)});
    let updated = call(server.put(&one).json(&accented), 200).await;
    assert_eq!(updated["Description"], accented["Description"]);
}

async fn unknown_tenant_client_and_secret_are_404(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (tenant, client, _) = client_of(&server, KINDS[0]).await;
    let secrets = secrets_path(&tenant, KINDS[0], &client);
    let nobody = uuid::Uuid::new_v4();
    for path in [
        format!("/api/v1/Tenants/{nobody}"),
        format!("/api/v1/Tenants/{nobody}/{}", KINDS[0]),
        format!("/api/v1/Tenants/{nobody}/{}/{client}", KINDS[0]),
        "/api/v1/Tenants/not-a-guid".to_owned(),
        format!("/api/v1/Tenants/not-a-guid/{}", KINDS[1]),
        format!("/api/v1/Tenants/{tenant}/{}/no-such-client", KINDS[0]),
        format!(
            "/api/v1/Tenants/{tenant}/{}/no-such-client/Secrets",
            KINDS[0]
        ),
        format!("{secrets}/999"),
    ] {
        expect_error(server.get(&path), 404, "NotFound").await;
    }
    let elsewhere = format!("/api/v1/Tenants/{nobody}/{}", KINDS[1]);
    let body = json!({"Name": "n"});
    expect_error(server.post(&elsewhere).json(&body), 404, "NotFound").await;
    let renew = server
        .post(&format!("{secrets}/999/Renew"))
        .json(&json!({}));
    expect_error(renew, 404, "NotFound").await;
    for id in ["abc", "1.5", "99999999999"] {
        let (status, headers, body) = exchange(server.get(&format!("{secrets}/{id}"))).await;
        assert!(
            status == 400 || status == 404,
            "secret id {id:?}: {status} {body}"
        );
        assert_error_shape(status, &headers, &body);
        let code = if status == 400 {
            "InvalidInput"
        } else {
            "NotFound"
        };
        assert_eq!(body["Error"], code, "{body}");
    }
}

/// A NUL cannot be stored in PostgreSQL text: both databases refuse it as bad input.
async fn control_characters_in_text_fields_are_400(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (tenant, client, _) = client_of(&server, KINDS[1]).await;
    let clients = format!("/api/v1/Tenants/{tenant}/{}", KINDS[1]);
    let secrets = secrets_path(&tenant, KINDS[1], &client);
    let cases = [
        (
            server.post("/api/v1/Tenants"),
            json!({"Name": "a\u{0}b"}),
            "Name",
        ),
        (server.post(&clients), json!({"Name": "a\u{0}b"}), "Name"),
        (
            server.post(&clients),
            json!({"Name": "n", "Tags": ["a\u{0}b"]}),
            "Tags",
        ),
        (
            server.post(&clients),
            json!({"Name": "n", "SecretDescription": "\u{0}"}),
            "SecretDescription",
        ),
        (
            server.put(&format!("{clients}/{client}")),
            json!({"Name": "\u{1b}[31m"}),
            "Name",
        ),
        (
            server.post(&secrets),
            json!({"Description": "a\u{0}b"}),
            "Description",
        ),
        (
            server.put(&format!("{secrets}/1")),
            json!({"Description": "\u{0}"}),
            "Description",
        ),
    ];
    for (req, body, field) in cases {
        expect_invalid(req.json(&body), field).await;
    }
    assert_eq!(
        count(server.head("/api/v1/Tenants")).await,
        1,
        "nothing was created"
    );
    assert_eq!(count(server.head(&clients)).await, 1);
    assert_eq!(count(server.head(&secrets)).await, 1);
}

async fn field_names_match_case_insensitively(backend: Backend) {
    let server = TestServer::start(backend).await;
    for kind in KINDS {
        let tenant = server.create_tenant().await;
        let body =
            json!({"NAME": "upper", "secretdescription": "first", "accessTokenLifetime": 120});
        let created = server.create_client(&tenant, kind, body).await;
        assert_eq!(created["Client"]["Name"], "upper");
        assert_eq!(created["Client"]["AccessTokenLifetime"], 120);
        assert_eq!(created["Description"], "first");
        let client = created["Client"]["Id"].as_str().unwrap();
        let secret = format!("{}/1", secrets_path(&tenant, kind, client));
        let updated = call(server.put(&secret).json(&json!({"description": "x"})), 200).await;
        assert_eq!(updated["Description"], "x");
        assert_eq!(call(server.get(&secret), 200).await["Description"], "x");
    }
}

async fn access_token_lifetime_must_be_60_to_86400(backend: Backend) {
    let server = TestServer::start(backend).await;
    for kind in KINDS {
        let tenant = server.create_tenant().await;
        let clients = format!("/api/v1/Tenants/{tenant}/{kind}");
        for bad in [59, 86_401, 0, -1] {
            let body = json!({"Name": "n", "AccessTokenLifetime": bad});
            expect_invalid(server.post(&clients).json(&body), "AccessTokenLifetime").await;
        }
        for good in [60, 86_400] {
            let body = json!({"Name": "n", "AccessTokenLifetime": good, "Id": format!("c{good}")});
            let created = server.create_client(&tenant, kind, body).await;
            assert_eq!(created["Client"]["AccessTokenLifetime"], good);
        }
        let too_long = json!({"AccessTokenLifetime": 86_401});
        let put = server.put(&format!("{clients}/c60")).json(&too_long);
        expect_invalid(put, "AccessTokenLifetime").await;
        let kept = call(server.get(&format!("{clients}/c60")), 200).await;
        assert_eq!(
            kept["AccessTokenLifetime"], 60,
            "a refused update changes nothing"
        );
        assert_eq!(
            count(server.get(&clients)).await,
            2,
            "refused clients were not created"
        );
    }
}

/// Raw bodies and JSON values no endpoint may answer with a 500.
fn odd_bodies() -> Vec<Vec<u8>> {
    let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let raw: Vec<Vec<u8>> = vec![
        b"[]".to_vec(),
        b"\"str\"".to_vec(),
        b"null".to_vec(),
        b"5".to_vec(),
        b"".to_vec(),
        vec![0xff, 0xfe, 0x7b],
        nested(5_000).into_bytes(),
        format!("{{\"Name\":{}}}", nested(1_000)).into_bytes(),
        nested(50_000).into_bytes(),
        b"{\"Name\":\"a\",\"Name\":\"b\"}".to_vec(),
        b"{\"name\":\"a\",\"NAME\":\"b\"}".to_vec(),
    ];
    let values = [
        json!({"Name": null}),
        json!({"Name": {"a": 1}}),
        json!({"Name": "x", "Tags": vec!["t"; 10_000]}),
        json!({"Name": "x", "Tags": [null, 1]}),
        json!({"Name": "x", "RoleIds": ["nope"]}),
        json!({"Name": "\u{0}"}),
        json!({"Name": "é".repeat(300)}),
        json!({"Name": "x", "Id": ""}),
        json!({"Name": "x", "Id": "i".repeat(10_000)}),
        json!({"Name": "x", "Id": "../x"}),
        json!({"Name": "x", "Id": "\u{0}"}),
        json!({"Name": "x", "AccessTokenLifetime": 4_294_967_296_u64}),
        json!({"Name": "x", "AccessTokenLifetime": 1.5}),
        json!({"Description": "\u{0}"}),
        json!({"Name": "x", "SecretDescription": "\u{0}", "Tags": ["\u{0}"]}),
        json!({"Expiration": "2999-13-45T00:00:00Z"}),
        json!({"Expiration": "+275760-09-13T00:00:00Z"}),
        json!({"Expiration": "9999-12-31T23:59:59Z"}),
        json!({"Expiration": 1e308}),
        json!({"Expires": null, "Expiration": ""}),
        json!({"GracePeriodSeconds": 1e20}),
        json!({"GracePeriodSeconds": u64::MAX}),
        json!({"GracePeriodSeconds": -1}),
        json!({"Value": format!("a{}b", "\u{0}".repeat(40))}),
        json!({"Value": 12345}),
    ];
    raw.into_iter()
        .chain(values.iter().map(|v| v.to_string().into_bytes()))
        .collect()
}

async fn odd_bodies_never_give_500(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (tenant, client, _) = client_of(&server, KINDS[0]).await;
    let cc = format!("/api/v1/Tenants/{tenant}/{}", KINDS[0]);
    let secrets = secrets_path(&tenant, KINDS[0], &client);
    let targets = [
        ("POST", "/api/v1/Tenants".to_owned()),
        ("POST", cc.clone()),
        ("POST", format!("/api/v1/Tenants/{tenant}/{}", KINDS[1])),
        ("PUT", format!("{cc}/{client}")),
        ("POST", secrets.clone()),
        ("PUT", format!("{secrets}/1")),
        ("POST", format!("{secrets}/1/Renew")),
    ];
    let bodies = odd_bodies();
    let mut failures = Vec::new();
    for (method, path) in &targets {
        for body in &bodies {
            let req = if *method == "PUT" {
                server.put(path)
            } else {
                server.post(path)
            };
            let req = req.header("Content-Type", "application/json");
            let (status, headers, json) = exchange(req.body(body.clone())).await;
            let shown = String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned();
            if status >= 500 {
                failures.push(format!("{method} {path} with {shown:?}: {status} {json}"));
            } else if status >= 400 {
                assert_error_shape(status, &headers, &json);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "5xx on bad input:\n{}",
        failures.join("\n")
    );
    let ready = server.get("/readyz").send().await.unwrap();
    assert_eq!(ready.status(), 200, "the server is still up");
}

/// An unknown field is a 400 naming it and the field it was probably meant to be,
/// at the top level and in a nested object; nothing is written.
async fn unknown_fields_are_400_naming_the_closest_field(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (tenant, client, _) = client_of(&server, KINDS[0]).await;
    let secrets = secrets_path(&tenant, KINDS[0], &client);
    let res = expect_invalid(
        server.post(&secrets).json(&json!({"Descripton": "typo"})),
        "Descripton",
    )
    .await;
    let reason = res["Reason"].as_str().unwrap_or_default();
    assert!(reason.contains("did you mean Description?"), "{res}");
    let listed = crate::lifecycle::call(server.get(&secrets), 200).await;
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(1),
        "nothing added: {listed}"
    );

    let res = expect_invalid(
        server.post(&secrets).json(&json!({"Colour": "blue"})),
        "Colour",
    )
    .await;
    assert!(
        !res["Reason"]
            .as_str()
            .unwrap_or_default()
            .contains("did you mean"),
        "{res}"
    );

    // A date-time without an offset: the format, with an example.
    let res = expect_invalid(
        server
            .post(&secrets)
            .json(&json!({"Expiration": "2027-01-01T00:00:00"})),
        "Expiration",
    )
    .await;
    assert!(
        res["Reason"]
            .as_str()
            .unwrap_or_default()
            .contains("RFC 3339 date-time with an offset, e.g."),
        "{res}"
    );

    let policy = format!("/api/v1/Tenants/{tenant}/SecretPolicy");
    let nested = json!({"Unit": "DAYS", "Duration": 30, "MaximumLifetime": {"Unti": "YEARS", "Duration": 1}});
    let res = expect_invalid(server.put(&policy).json(&nested), "MaximumLifetime").await;
    assert!(
        res["Reason"]
            .as_str()
            .unwrap_or_default()
            .contains("did you mean Unit?"),
        "{res}"
    );
}

both_backends!(
    unknown_fields_are_400_naming_the_closest_field,
    error_responses_have_one_shape_from_400_to_413,
    success_responses_carry_a_fresh_operation_id_header,
    mistyped_fields_are_400_naming_the_field,
    bad_paging_parameters_are_400_naming_them,
    description_is_limited_to_1024_characters,
    unknown_tenant_client_and_secret_are_404,
    control_characters_in_text_fields_are_400,
    field_names_match_case_insensitively,
    access_token_lifetime_must_be_60_to_86400,
    odd_bodies_never_give_500,
);
