//! `LATCHKEY_LOG_FORMAT=json`: every log line is one JSON object, and a request's
//! line carries its OperationId, tenant, client and outcome as top-level fields
//! (for a token request issued and refused, and a management request); no secret
//! value appears in any line.

use serde_json::{Value, json};

use crate::harness::*;
use crate::oauth::{Cred, cc_client, invalid_client, options, token_request, token_response};

/// The banner `latchkey serve` prints on stdout (not log lines).
fn is_banner(line: &str) -> bool {
    line.starts_with("Latchkey listening on ") || line.starts_with("  ")
}

/// The `answered` line of the request with `operation_id`.
fn answered<'a>(lines: &'a [Value], operation_id: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| {
            l["operation_id"] == operation_id
                && l["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("answered"))
        })
        .unwrap_or_else(|| panic!("no answered line for {operation_id}"))
}

fn operation_id(res: &reqwest::Response) -> String {
    res.headers()["OperationId"].to_str().unwrap().to_owned()
}

async fn json_lines_carry_the_request_fields(backend: Backend) {
    let mut opts = options(backend, None);
    opts.env.push(("LATCHKEY_LOG_FORMAT".into(), "json".into()));
    let server = TestServer::start_with(backend, opts).await;
    let tenant = server.create_tenant().await;
    let cred = cc_client(&server, &tenant, &[]).await;

    let issued = token_request(&server, &cred, &[]).send().await.unwrap();
    let issued_op = operation_id(&issued);
    token_response(token_request(&server, &cred, &[])).await;
    let wrong = Cred {
        secret: "not the secret at all, but 32+ chars".to_owned(),
        ..cred.clone()
    };
    let refused = token_request(&server, &wrong, &[]).send().await.unwrap();
    let refused_op = operation_id(&refused);
    invalid_client(&server, &tenant, token_request(&server, &wrong, &[])).await;
    let path = format!(
        "/api/v1/Tenants/{tenant}/ClientCredentialClients/{}",
        cred.id
    );
    let managed = server.get(&path).send().await.unwrap();
    assert_eq!(managed.status(), 200);
    let managed_op = operation_id(&managed);
    assert_eq!(issued.status(), 200);
    assert_eq!(refused.status(), 401);
    // The last request's line is written right after its response.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let logs = server.logs();
    let mut lines = Vec::new();
    for line in logs.lines().filter(|l| !is_banner(l)) {
        match serde_json::from_str::<Value>(line) {
            Ok(object @ Value::Object(_)) => lines.push(object),
            _ => panic!("not a JSON object: {line:?}"),
        }
    }
    assert!(lines.len() > 5, "{logs}");
    for line in &lines {
        for key in ["timestamp", "level", "target"] {
            assert!(line.get(key).is_some(), "{key} missing in {line}");
        }
    }

    let line = answered(&lines, &issued_op);
    assert_eq!(line["tenant.id"], json!(tenant), "{line}");
    assert_eq!(line["client.id"], json!(cred.id), "{line}");
    assert_eq!(line["outcome"], "issued", "{line}");
    assert_eq!(line["http.status"], 200, "{line}");
    let line = answered(&lines, &refused_op);
    assert_eq!(line["tenant.id"], json!(tenant), "{line}");
    assert_eq!(line["client.id"], json!(cred.id), "{line}");
    assert_eq!(line["outcome"], "refused", "{line}");
    assert_eq!(line["reason"], "wrong_secret", "{line}");
    assert_eq!(line["http.status"], 401, "{line}");
    let line = answered(&lines, &managed_op);
    assert_eq!(line["tenant.id"], json!(tenant), "{line}");
    assert_eq!(line["client.id"], json!(cred.id), "{line}");
    assert_eq!(line["outcome"], "succeeded", "{line}");

    for secret in [&cred.secret, &wrong.secret] {
        assert!(
            !logs.contains(secret.as_str()),
            "a secret value in the logs"
        );
    }
}

both_backends!(json_lines_carry_the_request_fields);
