//! A client generated from the OpenAPI document works: `openapi-python-client` (pinned in
//! scripts/smtp-venv.sh, in the tests' virtualenv: `LATCHKEY_TEST_PYTHON`) generates a
//! package from `/api/openapi.json` with warnings as errors, and `generated_client.py`
//! walks tenant → client (both kinds) → secret → renew → revoke with its functions and
//! models, which parse every answer by the document's schemas (a required field missing,
//! a wrong type or a missing client kind fails there). The output goes to a temporary
//! directory, never into the checkout. Like the validator test, it never skips: without
//! the variable it fails, naming it.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::harness::*;
use crate::lifecycle::{call, exchange};
use crate::oauth::{Cred, invalid_client, token_request, token_response};

/// The variable naming the interpreter (the one the validator test uses).
const PYTHON_VARIABLE: &str = "LATCHKEY_TEST_PYTHON";

fn python() -> String {
    std::env::var(PYTHON_VARIABLE).unwrap_or_else(|_| {
        panic!(
            "{PYTHON_VARIABLE} names a python with openapi-python-client \
             (run scripts/test.sh, or export {PYTHON_VARIABLE}=\"$(bash scripts/smtp-venv.sh)\")"
        )
    })
}

/// `what`'s output, for a failure message.
fn said(what: &str, out: &Output) -> String {
    format!(
        "{what} exited with {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Generates the package `latchkey_client` from `doc` into `dir`; any warning fails.
fn generate(python: &str, doc: &Value, dir: &Path) {
    let spec = dir.join("openapi.json");
    std::fs::write(&spec, doc.to_string()).expect("write the document");
    // No formatter run afterwards: the generated code is only imported.
    let config = dir.join("generator.yml");
    std::fs::write(&config, "post_hooks: []\n").expect("write the generator config");
    let out = Command::new(python)
        .args(["-m", "openapi_python_client", "generate", "--meta", "none"])
        .arg("--path")
        .arg(&spec)
        .arg("--output-path")
        .arg(dir.join("latchkey_client"))
        .arg("--config")
        .arg(&config)
        .arg("--fail-on-warning")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .current_dir(dir)
        .output()
        .expect("run openapi-python-client");
    let text = said("openapi-python-client generate", &out);
    assert!(out.status.success(), "{text}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("Warning"),
        "{text}"
    );
    assert!(
        dir.join("latchkey_client/api/secrets").is_dir(),
        "no secrets module: {text}"
    );
}

async fn generated_client_walks_the_secret_lifecycle(backend: Backend) {
    let server = TestServer::start(backend).await;
    let python = python();
    let doc = call(server.get("/api/openapi.json"), 200).await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    generate(&python, &doc, dir.path());

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/generated_client.py");
    let out = Command::new(&python)
        .arg(&script)
        .env("PYTHONPATH", dir.path())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("LATCHKEY_URL", &server.base_url)
        .env("LATCHKEY_TOKEN", &server.token)
        .current_dir(dir.path())
        .output()
        .expect("run generated_client.py");
    let text = said("generated_client.py", &out);
    assert!(out.status.success(), "{text}");
    let walked: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {text}"));

    // What the generated client did, seen over plain HTTP and at the token endpoint.
    let tenant = walked["tenant"].as_str().expect("a tenant id");
    let client = walked["client"].as_str().expect("a client id");
    assert_eq!(client, "billing-worker");
    let secret = walked["secret"].as_i64().expect("a secret id");
    let clients = format!("/api/v1/Tenants/{tenant}/ClientCredentialClients");
    let (status, _, body) =
        exchange(server.get(&format!("{clients}/{client}/Secrets/{secret}"))).await;
    assert_eq!(
        (status, &body["Error"]),
        (404, &Value::from("NotFound")),
        "{body}"
    );
    let hybrid = walked["hybrid"].as_str().expect("a hybrid client id");
    let body = call(
        server.get(&format!("/api/v1/Tenants/{tenant}/HybridClients/{hybrid}")),
        200,
    )
    .await;
    assert_eq!(
        body["RedirectUris"],
        serde_json::json!(["https://app.example/callback"])
    );

    let first = Cred {
        tenant: tenant.to_owned(),
        id: client.to_owned(),
        secret: walked["first_value"].as_str().expect("a value").to_owned(),
        secret_id: 1,
    };
    token_response(token_request(&server, &first, &[])).await;
    let revoked = Cred {
        secret: walked["renewed_value"]
            .as_str()
            .expect("a value")
            .to_owned(),
        ..first
    };
    invalid_client(&server, tenant, token_request(&server, &revoked, &[])).await;
}

both_backends!(generated_client_walks_the_secret_lifecycle);
