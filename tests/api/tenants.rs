//! Process and tenant basics over HTTP: `/healthz` and `/readyz`, graceful
//! shutdown on SIGTERM, the bootstrap bearer token (401 without it), and
//! tenant create, list with `Total-Count`, get, rename and delete (with its
//! clients); tenant names are unique.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};

use crate::harness::*;
use crate::lifecycle::{
    KINDS, assert_near, call, count, exchange, expect_error, expect_invalid, secrets_path,
    total_count,
};

async fn health_endpoints_answer_200_and_sigterm_exits_zero(backend: Backend) {
    let server = TestServer::start(backend).await;
    for path in ["/healthz", "/readyz"] {
        let res = server.http.get(server.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path} needs no credentials");
    }
    let status = server.terminate().await;
    assert!(
        status.success(),
        "SIGTERM ends the process with code 0, got {status}"
    );
}

/// A request whose body is still arriving when SIGTERM comes is answered in full.
async fn sigterm_lets_an_in_flight_request_finish(backend: Backend) {
    let server = TestServer::start(backend).await;
    let addr = server.base_url.trim_start_matches("http://");
    let addr = addr.trim_end_matches('/').to_owned();
    let body = br#"{"Name":"in flight"}"#;
    let head = format!(
        "POST /api/v1/Tenants HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        server.token,
        body.len()
    );
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body[..5]).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let finish = async move {
        // SIGTERM has been sent by now; the rest of the body follows it.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let answer = tokio::task::spawn_blocking(move || {
            stream.write_all(&body[5..]).unwrap();
            let mut response = Vec::new();
            stream
                .read_to_end(&mut response)
                .expect("the response arrives");
            String::from_utf8_lossy(&response).into_owned()
        });
        answer.await.unwrap()
    };
    let (status, text) = tokio::join!(server.terminate(), finish);
    assert!(text.starts_with("HTTP/1.1 201"), "{text}");
    assert!(text.contains("\"in flight\""), "{text}");
    assert!(
        status.success(),
        "exit code 0 after a graceful shutdown, got {status}"
    );
}

async fn requests_without_the_bearer_token_get_401(backend: Backend) {
    let server = TestServer::start(backend).await;
    let tenant = server.create_tenant().await;
    let anonymous =
        |method: reqwest::Method, path: &str| server.http.request(method, server.url(path));
    let one = format!("/api/v1/Tenants/{tenant}");
    let clients = format!("{one}/{}", KINDS[1]);
    let requests = [
        anonymous(reqwest::Method::GET, "/api/v1/Tenants"),
        anonymous(reqwest::Method::POST, "/api/v1/Tenants").json(&json!({"Name": "sneaky"})),
        anonymous(reqwest::Method::GET, &one),
        anonymous(reqwest::Method::DELETE, &one),
        anonymous(reqwest::Method::GET, &clients),
        anonymous(reqwest::Method::POST, &clients).json(&json!({"Name": "n"})),
        anonymous(
            reqwest::Method::GET,
            &secrets_path(&tenant, KINDS[0], "any"),
        ),
        anonymous(
            reqwest::Method::GET,
            &format!("/api/v1/Tenants/{}", uuid::Uuid::new_v4()),
        ),
    ];
    for req in requests {
        expect_error(req, 401, "Unauthorized").await;
    }
    assert_eq!(
        count(server.get("/api/v1/Tenants")).await,
        1,
        "the anonymous POST created nothing"
    );
    assert_eq!(count(server.get(&clients)).await, 0);
}

async fn a_wrong_bearer_token_gets_401(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.token.clone();
    for header in [
        "Bearer wrong-token-wrong-token".to_owned(),
        format!("Bearer {token}x"),
        format!("Bearer {}", &token[..token.len() - 1]),
        format!("Basic {token}"),
        token.clone(),
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
    ] {
        let req = server.http.get(server.url("/api/v1/Tenants"));
        expect_error(req.header("Authorization", &header), 401, "Unauthorized").await;
    }
    let req = server
        .http
        .get(server.url("/api/v1/Tenants"))
        .bearer_auth(&token);
    call(req, 200).await;
}

async fn create_tenant_returns_guid_name_and_created_at(backend: Backend) {
    let server = TestServer::start(backend).await;
    let created = call(
        server
            .post("/api/v1/Tenants")
            .json(&json!({"Name": "Acme"})),
        201,
    )
    .await;
    let id = created["Id"].as_str().expect("an Id");
    uuid::Uuid::parse_str(id).expect("a GUID");
    assert_eq!(created["Name"], "Acme");
    assert_near(&created["CreatedAt"], Utc::now());
    assert_eq!(
        call(server.get(&format!("/api/v1/Tenants/{id}")), 200).await,
        created
    );
    for body in [json!({}), json!({"Name": ""}), json!({"Name": null})] {
        expect_invalid(server.post("/api/v1/Tenants").json(&body), "Name").await;
    }
    assert_eq!(count(server.head("/api/v1/Tenants")).await, 1);
}

fn ids_of(list: &Value) -> Vec<String> {
    let list = list.as_array().expect("a list");
    let mut ids: Vec<String> = list
        .iter()
        .map(|t| t["Id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

async fn tenant_list_pages_with_total_count(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(server.create_tenant().await);
    }
    ids.sort();
    let (status, headers, all) = exchange(server.get("/api/v1/Tenants?skip=0&count=100")).await;
    assert_eq!((status, total_count(&headers)), (200, 3));
    assert_eq!(ids_of(&all), ids);
    let (_, headers, page) = exchange(server.get("/api/v1/Tenants?skip=1&count=1")).await;
    assert_eq!(
        (total_count(&headers), page.as_array().unwrap().len()),
        (3, 1)
    );
    let (_, headers, page) = exchange(server.get("/api/v1/Tenants?skip=3&count=10")).await;
    assert_eq!((total_count(&headers), page), (3, json!([])));
}

async fn deleted_tenant_is_gone_with_its_clients(backend: Backend) {
    let server = TestServer::start(backend).await;
    let keep = server.create_tenant().await;
    server
        .create_client(&keep, KINDS[0], json!({"Id": "c", "Name": "kept"}))
        .await;
    let tenant = server.create_tenant().await;
    for kind in KINDS {
        let body = json!({"Id": format!("{kind}-c"), "Name": "n"});
        server.create_client(&tenant, kind, body).await;
    }
    let path = format!("/api/v1/Tenants/{tenant}");
    assert_eq!(call(server.delete(&path), 204).await, Value::Null);
    expect_error(server.get(&path), 404, "NotFound").await;
    expect_error(server.delete(&path), 404, "NotFound").await;
    for kind in KINDS {
        expect_error(server.get(&format!("{path}/{kind}")), 404, "NotFound").await;
        expect_error(
            server.get(&format!("{path}/{kind}/{kind}-c")),
            404,
            "NotFound",
        )
        .await;
        let secrets = secrets_path(&tenant, kind, &format!("{kind}-c"));
        expect_error(server.get(&secrets), 404, "NotFound").await;
    }
    let (_, headers, all) = exchange(server.get("/api/v1/Tenants")).await;
    assert_eq!(
        (total_count(&headers), ids_of(&all)),
        (1, vec![keep.clone()])
    );
    let kept = call(
        server.get(&format!("/api/v1/Tenants/{keep}/{}/c", KINDS[0])),
        200,
    )
    .await;
    assert_eq!(kept["Name"], "kept", "other tenants are untouched");
}

/// 32 concurrent creates of one name: exactly one 201, every other a 409; one
/// tenant of that name exists.
async fn tenant_names_are_unique_under_concurrent_creates(backend: Backend) {
    let server = TestServer::start(backend).await;
    let creates = (0..32).map(|_| {
        exchange(
            server
                .post("/api/v1/Tenants")
                .json(&json!({"Name": "Contended"})),
        )
    });
    let answers = futures_util::future::join_all(creates).await;
    let created = answers
        .iter()
        .filter(|(status, _, _)| *status == 201)
        .count();
    let conflicts: Vec<&Value> = answers
        .iter()
        .filter(|(status, _, _)| *status == 409)
        .map(|(_, _, body)| body)
        .collect();
    assert_eq!((created, conflicts.len()), (1, 31), "{answers:?}");
    assert_eq!(conflicts[0]["Error"], "Conflict");
    assert_eq!(
        conflicts[0]["Reason"],
        "Name: another tenant already has this name"
    );
    let (_, _, all) = exchange(server.get("/api/v1/Tenants")).await;
    let named: Vec<&Value> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["Name"] == "Contended")
        .collect();
    assert_eq!(named.len(), 1);
    // Around spaces are trimmed before the comparison.
    expect_error(
        server
            .post("/api/v1/Tenants")
            .json(&json!({"Name": " Contended "})),
        409,
        "Conflict",
    )
    .await;
}

/// `PUT /api/v1/Tenants/{id}` renames (platform administrators, audited); a name
/// another tenant has is 409, even under concurrent renames.
async fn a_tenant_is_renamed_to_a_free_name_only(backend: Backend) {
    let server = TestServer::start(backend).await;
    let acme = call(
        server
            .post("/api/v1/Tenants")
            .json(&json!({"Name": "Acme"})),
        201,
    )
    .await;
    let id = acme["Id"].as_str().unwrap().to_owned();
    let other = call(
        server
            .post("/api/v1/Tenants")
            .json(&json!({"Name": "Other"})),
        201,
    )
    .await;
    let path = format!("/api/v1/Tenants/{id}");
    let renamed = call(server.put(&path).json(&json!({"Name": " Acme EU "})), 200).await;
    assert_eq!(
        (&renamed["Id"], &renamed["Name"], &renamed["CreatedAt"]),
        (&acme["Id"], &json!("Acme EU"), &acme["CreatedAt"])
    );
    assert_eq!(call(server.get(&path), 200).await["Name"], "Acme EU");
    // Its own name again is no conflict; the other's is.
    call(server.put(&path).json(&json!({"Name": "Acme EU"})), 200).await;
    let taken = expect_error(
        server.put(&path).json(&json!({"Name": "Other"})),
        409,
        "Conflict",
    )
    .await;
    assert_eq!(
        taken["Reason"],
        "Name: another tenant already has this name"
    );
    assert_eq!(call(server.get(&path), 200).await["Name"], "Acme EU");
    // The old name is free again.
    call(
        server
            .post("/api/v1/Tenants")
            .json(&json!({"Name": "Acme"})),
        201,
    )
    .await;
    for body in [
        json!({"Name": null}),
        json!({"Name": ""}),
        json!({"Name": "x".repeat(201)}),
    ] {
        expect_invalid(server.put(&path).json(&body), "Name").await;
    }
    // An absent name is kept, as on every PUT.
    let kept = call(server.put(&path).json(&json!({})), 200).await;
    assert_eq!(kept["Name"], "Acme EU");
    let missing = format!("/api/v1/Tenants/{}", uuid::Uuid::new_v4());
    expect_error(
        server.put(&missing).json(&json!({"Name": "Nobody"})),
        404,
        "NotFound",
    )
    .await;

    // Two tenants renamed to one free name at once: one wins.
    let other_path = format!("/api/v1/Tenants/{}", other["Id"].as_str().unwrap());
    let (a, b) = tokio::join!(
        exchange(server.put(&path).json(&json!({"Name": "Merged"}))),
        exchange(server.put(&other_path).json(&json!({"Name": "Merged"}))),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);

    // A tenant's administrator cannot rename it: 403, audited as refused.
    let admin = crate::policies::token_with(&server, &id, "tenant-administrator").await;
    let as_admin = crate::policies::as_caller(&server, reqwest::Method::PUT, &path, &admin)
        .json(&json!({"Name": "Mine"}));
    expect_error(as_admin, 403, "Forbidden").await;
    let trail = format!("/api/v1/Tenants/{id}/AuditEvents?action=tenant.rename");
    let (_, _, entries) = exchange(server.get(&trail)).await;
    let entries = entries.as_array().unwrap().clone();
    let outcomes: Vec<&Value> = entries.iter().map(|e| &e["Outcome"]).collect();
    assert!(outcomes.contains(&&json!("refused")), "{entries:?}");
    let reasons: Vec<&str> = entries
        .iter()
        .filter_map(|e| e["Reason"].as_str())
        .collect();
    assert!(reasons.contains(&"Name: Acme → Acme EU"), "{reasons:?}");
    // The name it has already (a GET answer sent back) changes and records nothing.
    let current = call(server.get(&path), 200).await["Name"].clone();
    let again = call(server.put(&path).json(&json!({"Name": current})), 200).await;
    assert_eq!(again["Name"], current);
    let (_, _, after) = exchange(server.get(&trail)).await;
    assert_eq!(after.as_array().unwrap().len(), entries.len(), "{after}");
}

both_backends!(
    health_endpoints_answer_200_and_sigterm_exits_zero,
    sigterm_lets_an_in_flight_request_finish,
    requests_without_the_bearer_token_get_401,
    a_wrong_bearer_token_gets_401,
    create_tenant_returns_guid_name_and_created_at,
    tenant_list_pages_with_total_count,
    deleted_tenant_is_gone_with_its_clients,
    tenant_names_are_unique_under_concurrent_creates,
    a_tenant_is_renamed_to_a_free_name_only,
);
