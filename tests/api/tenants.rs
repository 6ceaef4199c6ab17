//! Process and tenant basics over HTTP: `/healthz` and `/readyz`, graceful
//! shutdown on SIGTERM, the bootstrap bearer token (401 without it), and
//! tenant create, list with `Total-Count`, get and delete (with its clients).

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

both_backends!(
    health_endpoints_answer_200_and_sigterm_exits_zero,
    sigterm_lets_an_in_flight_request_finish,
    requests_without_the_bearer_token_get_401,
    a_wrong_bearer_token_gets_401,
    create_tenant_returns_guid_name_and_created_at,
    tenant_list_pages_with_total_count,
    deleted_tenant_is_gone_with_its_clients,
);
