//! The OpenAPI document at `/api/openapi.json`: version 3.1, every route of
//! the management API with its methods and request bodies, the shared
//! `ErrorResponse` schema on error responses, and the value (`Secret`) only in
//! the responses that create or renew a secret. Its precision is checked in
//! `openapi_schemas.rs`, and by a generated client in `generated_client.rs`.

use serde_json::Value;

use crate::harness::*;
use crate::lifecycle::{KINDS, exchange};

pub(crate) async fn document(server: &TestServer) -> Value {
    let (status, headers, doc) = exchange(server.get("/api/openapi.json")).await;
    assert_eq!(status, 200);
    let content_type = headers.get("Content-Type").map(|v| v.to_str().unwrap());
    assert!(
        content_type.is_some_and(|t| t.starts_with("application/json")),
        "{content_type:?}"
    );
    doc
}

/// `{tenantId}` and friends become `{}` so parameter names do not matter.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => in_param = true,
            '}' => {
                in_param = false;
                out.push_str("{}");
            }
            _ if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

/// The path item for `want` (given in `{}` shape), with or without a `/api/v1` server prefix.
pub(crate) fn path_item<'a>(doc: &'a Value, want: &str) -> &'a Value {
    let paths = doc["paths"].as_object().expect("paths");
    paths
        .iter()
        .find(|(p, _)| shape(p) == want || format!("/api/v1{}", shape(p)) == want)
        .map(|(_, item)| item)
        .unwrap_or_else(|| {
            panic!(
                "{want} is not documented; paths: {:?}",
                paths.keys().collect::<Vec<_>>()
            )
        })
}

/// Follows `$ref`s inside the document.
pub(crate) fn resolve<'a>(doc: &'a Value, mut v: &'a Value) -> &'a Value {
    while let Some(r) = v.get("$ref").and_then(Value::as_str) {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external $ref {r}"));
        v = doc
            .pointer(pointer)
            .unwrap_or_else(|| panic!("dangling $ref {r}"));
    }
    v
}

/// Property names of a schema, through `$ref` and `allOf`.
fn properties(doc: &Value, schema: &Value) -> Vec<String> {
    let schema = resolve(doc, schema);
    let mut names: Vec<String> = schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        names.extend(properties(doc, part));
    }
    names
}

/// The JSON schema of `operation`'s `status` response.
pub(crate) fn response_schema<'a>(doc: &'a Value, operation: &'a Value, status: &str) -> &'a Value {
    let response = resolve(doc, &operation["responses"][status]);
    assert!(!response.is_null(), "no {status} response in {operation}");
    &response["content"]["application/json"]["schema"]
}

/// Every route: (path shape, methods, methods with a request body).
pub(crate) fn routes() -> Vec<(String, Vec<&'static str>, Vec<&'static str>)> {
    let mut routes = vec![
        (
            "/api/v1/Tenants".to_owned(),
            vec!["get", "post"],
            vec!["post"],
        ),
        (
            "/api/v1/Tenants/{}".to_owned(),
            vec!["get", "delete"],
            vec![],
        ),
    ];
    for kind in KINDS {
        let clients = format!("/api/v1/Tenants/{{}}/{kind}");
        routes.extend([
            (clients.clone(), vec!["get", "post"], vec!["post"]),
            (
                format!("{clients}/{{}}"),
                vec!["get", "put", "delete"],
                vec!["put"],
            ),
            (
                format!("{clients}/{{}}/Secrets"),
                vec!["get", "post"],
                vec!["post"],
            ),
            (
                format!("{clients}/{{}}/Secrets/{{}}"),
                vec!["get", "put", "delete"],
                vec!["put"],
            ),
            (
                format!("{clients}/{{}}/Secrets/{{}}/Renew"),
                vec!["post"],
                vec!["post"],
            ),
            (
                format!("{clients}/{{}}/Secrets/{{}}/EndGrace"),
                vec!["post"],
                vec![],
            ),
            (
                format!("{clients}/{{}}/Secrets/Self/Renew"),
                vec!["post"],
                vec!["post"],
            ),
        ]);
    }
    routes
}

async fn openapi_document_is_version_3_1(backend: Backend) {
    let server = TestServer::start(backend).await;
    let doc = document(&server).await;
    let version = doc["openapi"].as_str().expect("an openapi version");
    assert!(version.starts_with("3.1"), "{version}");
    assert!(doc["info"]["title"].as_str().is_some_and(|t| !t.is_empty()));
}

async fn openapi_documents_every_route_with_its_methods_and_bodies(backend: Backend) {
    let server = TestServer::start(backend).await;
    let doc = document(&server).await;
    for (path, methods, with_body) in routes() {
        let item = path_item(&doc, &path);
        for method in methods {
            let operation = &item[method];
            assert!(operation.is_object(), "{method} {path} is not documented");
            let body = resolve(&doc, &operation["requestBody"]);
            let wants_body = with_body.contains(&method);
            assert_eq!(
                body["content"]["application/json"].is_object(),
                wants_body,
                "{method} {path} request body"
            );
        }
    }
}

async fn openapi_documents_head_routes(backend: Backend) {
    let server = TestServer::start(backend).await;
    let doc = document(&server).await;
    for kind in KINDS {
        for path in [
            format!("/api/v1/Tenants/{{}}/{kind}"),
            format!("/api/v1/Tenants/{{}}/{kind}/{{}}"),
            format!("/api/v1/Tenants/{{}}/{kind}/{{}}/Secrets"),
            format!("/api/v1/Tenants/{{}}/{kind}/{{}}/Secrets/{{}}"),
        ] {
            assert!(
                path_item(&doc, &path)["head"].is_object(),
                "HEAD {path} is not documented"
            );
        }
    }
}

async fn openapi_error_responses_use_the_error_response_schema(backend: Backend) {
    let server = TestServer::start(backend).await;
    let doc = document(&server).await;
    for (path, methods, with_body) in routes() {
        let item = path_item(&doc, &path);
        let mut statuses = Vec::new();
        if path.contains("{}") {
            statuses.push("404");
        }
        for method in methods {
            let mut wanted = statuses.clone();
            if with_body.contains(&method) {
                wanted.push("400");
            }
            for status in wanted {
                let schema = response_schema(&doc, &item[method], status);
                let name = schema["$ref"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{method} {path} {status}: {schema}"));
                assert!(name.starts_with("#/components/schemas/"), "{name}");
                let mut props = properties(&doc, schema);
                props.sort();
                for field in ["Error", "OperationId", "Reason", "Resolution"] {
                    assert!(
                        props.iter().any(|p| p == field),
                        "{method} {path} {status} lacks {field}: {props:?}"
                    );
                }
            }
        }
    }
}

async fn openapi_shows_the_secret_value_only_on_create_and_renew(backend: Backend) {
    let server = TestServer::start(backend).await;
    let doc = document(&server).await;
    for kind in KINDS {
        let clients = format!("/api/v1/Tenants/{{}}/{kind}");
        let secrets = format!("{clients}/{{}}/Secrets");
        let with_value = [
            (clients.clone(), "post", "201"),
            (secrets.clone(), "post", "201"),
            (format!("{secrets}/{{}}/Renew"), "post", "200"),
            (format!("{secrets}/Self/Renew"), "post", "200"),
        ];
        for (path, method, status) in with_value {
            let schema = response_schema(&doc, &path_item(&doc, &path)[method], status);
            assert!(
                properties(&doc, schema).contains(&"Secret".to_owned()),
                "{method} {path} {status}"
            );
        }
        let without_value = [
            (format!("{secrets}/{{}}"), "get"),
            (format!("{secrets}/{{}}"), "put"),
            (format!("{secrets}/{{}}/EndGrace"), "post"),
        ];
        for (path, method) in without_value {
            let schema = response_schema(&doc, &path_item(&doc, &path)[method], "200");
            let props = properties(&doc, schema);
            assert!(
                props.contains(&"Hint".to_owned()),
                "{method} {path}: {props:?}"
            );
            assert!(
                !props.contains(&"Secret".to_owned()),
                "{method} {path} documents a value"
            );
        }
    }
}

/// The document passes an independent OpenAPI 3.1 validator (`openapi-spec-validator`,
/// in the tests' virtualenv: `LATCHKEY_TEST_PYTHON`, set by scripts/test.sh), and
/// every operation has an `operationId`, every response a description, and the
/// bearer scheme applies to every route but the scanners' signed intake.
async fn openapi_document_passes_an_independent_validator(backend: Backend) {
    let server = TestServer::start(backend).await;
    let doc = document(&server).await;
    let page = server
        .get("/api/docs/")
        .send()
        .await
        .expect("the reference");
    assert_eq!(page.status(), 200, "the interactive reference is served");
    let html = page.text().await.expect("a page");
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(
        !html.contains("https://"),
        "no asset from another origin: {html}"
    );
    let python = std::env::var("LATCHKEY_TEST_PYTHON")
        .or_else(|_| std::env::var("LATCHKEY_TEST_SMTP_PYTHON"))
        .expect(
            "LATCHKEY_TEST_PYTHON names a python with openapi-spec-validator (run scripts/test.sh)",
        );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, doc.to_string()).expect("write the document");
    let out = std::process::Command::new(&python)
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .expect("run openapi-spec-validator");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "the validator refused the document:\n{said}"
    );
    assert!(said.contains("OK"), "{said}");

    assert_eq!(
        doc["security"],
        serde_json::json!([{"bearer": []}]),
        "bearer by default"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let mut ids = std::collections::HashSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(!id.is_empty(), "{method} {path}: no operationId");
            assert!(
                ids.insert(id.to_owned()),
                "{method} {path}: operationId {id} twice"
            );
            for (status, response) in op["responses"].as_object().expect("responses") {
                let text = response["description"].as_str().unwrap_or_default();
                assert!(!text.is_empty(), "{method} {path} {status}: no description");
            }
            let open = path == "/api/v1/LeakReports" && method == "post";
            assert_eq!(
                op.get("security") == Some(&serde_json::json!([])),
                open,
                "{method} {path}: only the signed intake is open"
            );
        }
    }
}

both_backends!(
    openapi_document_passes_an_independent_validator,
    openapi_document_is_version_3_1,
    openapi_documents_every_route_with_its_methods_and_bodies,
    openapi_documents_head_routes,
    openapi_error_responses_use_the_error_response_schema,
    openapi_shows_the_secret_value_only_on_create_and_renew,
);
