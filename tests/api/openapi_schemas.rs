//! How precise the OpenAPI document is, checked against the server: every
//! operation declares the error statuses it can answer with the `ErrorResponse`
//! body; units, statuses, event types and client kinds are enums, durations and
//! paging have their real ranges; the fields a real answer carries are exactly the
//! required ones (null only where nullable), each client kind with its own
//! schemas; schema names are public words and descriptions cite no outside
//! document.

use serde_json::Value;

use crate::harness::*;
use crate::lifecycle::{KINDS, call, exchange};
use crate::openapi::{document, path_item, resolve, response_schema, routes};

/// Statuses an operation declares with the `ErrorResponse` body.
fn error_statuses(doc: &Value, operation: &Value) -> Vec<String> {
    let responses = operation["responses"].as_object().expect("responses");
    responses
        .iter()
        .filter(|(status, response)| {
            status.starts_with('4')
                && resolve(doc, response)["content"]["application/json"]["schema"]["$ref"]
                    == "#/components/schemas/ErrorResponse"
        })
        .map(|(status, _)| status.clone())
        .collect()
}

async fn openapi_declares_each_operations_errors(backend: Backend) {
    let server = TestServer::start(backend).await;
    let doc = document(&server).await;
    for (path, methods, with_body) in routes() {
        let item = path_item(&doc, &path);
        for method in methods {
            let declared = error_statuses(&doc, &item[method]);
            let mut wanted = vec!["401", "403"];
            if path.contains("{}") {
                wanted.push("404");
            }
            if with_body.contains(&method) {
                wanted.extend(["400", "413"]);
            }
            for status in wanted {
                assert!(
                    declared.iter().any(|d| d == status),
                    "{method} {path} lacks {status}: {declared:?}"
                );
            }
        }
    }
    for kind in KINDS {
        let clients = format!("/api/v1/Tenants/{{}}/{kind}");
        let secret = format!("{clients}/{{}}/Secrets/{{}}");
        let conflicts = [
            (clients.clone(), "post"),
            (secret.clone(), "put"),
            (format!("{secret}/Renew"), "post"),
            (format!("{secret}/EndGrace"), "post"),
            (format!("{clients}/{{}}/Secrets/Self/Renew"), "post"),
        ];
        for (path, method) in conflicts {
            let declared = error_statuses(&doc, &path_item(&doc, &path)[method]);
            assert!(
                declared.contains(&"409".to_owned()),
                "{method} {path}: {declared:?}"
            );
        }
        let declared = error_statuses(&doc, &path_item(&doc, &secret)["delete"]);
        assert!(
            !declared.contains(&"409".to_owned()),
            "a revoke has no conflict"
        );
        let list = &path_item(&doc, &format!("{clients}/{{}}/Secrets"))["head"];
        let names: Vec<&Value> = list["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .map(|p| &p["name"])
            .collect();
        assert!(
            names.contains(&&Value::from("status")) && names.contains(&&Value::from("count")),
            "HEAD takes the list's filters: {names:?}"
        );
        assert!(list["responses"]["400"].is_object(), "{list}");
        let head = &path_item(&doc, &secret)["head"]["responses"];
        assert!(head["404"].is_object(), "{head}");
        assert!(
            head["404"]["content"].is_null(),
            "HEAD answers have no body: {head}"
        );
    }
    for path in ["/api/v1/SecretLookup", "/api/v1/Tenants/{}/SecretLookup"] {
        let declared = error_statuses(&doc, &path_item(&doc, path)["post"]);
        assert!(declared.contains(&"429".to_owned()), "{path}: {declared:?}");
    }
    let tenants = error_statuses(&doc, &path_item(&doc, "/api/v1/Tenants")["get"]);
    assert!(
        !tenants.contains(&"404".to_owned()),
        "no id in the path: {tenants:?}"
    );
}

/// A component schema by name.
fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    let schema = &doc["components"]["schemas"][name];
    assert!(schema.is_object(), "no schema {name}");
    schema
}

/// The `enum` values of a property (through `$ref` and a nullable `oneOf`).
fn enum_values(doc: &Value, property: &Value) -> Vec<String> {
    let mut target = resolve(doc, property);
    if let Some(first) = target["oneOf"].as_array().and_then(|o| o.first()) {
        target = resolve(doc, first);
    }
    target["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("not an enum: {property}"))
        .iter()
        .map(|v| v.as_str().expect("a string value").to_owned())
        .collect()
}

async fn openapi_has_enums_and_ranges(backend: Backend) {
    let server = TestServer::start(backend).await;
    let doc = document(&server).await;
    let units = ["NONE", "DAYS", "WEEKS", "MONTHS", "YEARS"];
    for (name, field) in [
        ("TenantPolicyUpdate", "Unit"),
        ("TenantSecretPolicy", "Unit"),
        ("ClientPolicyUpdate", "Unit"),
        ("ClientSecretPolicy", "EffectiveUnit"),
        ("Lifetime", "Unit"),
    ] {
        let values = enum_values(&doc, &schema(&doc, name)["properties"][field]);
        assert_eq!(values, units, "{name}.{field}");
    }
    for name in [
        "TenantPolicyUpdate",
        "ClientPolicyUpdate",
        "Lifetime",
        "TenantSecretPolicy",
    ] {
        let duration = &schema(&doc, name)["properties"]["Duration"];
        assert_eq!(
            (&duration["minimum"], &duration["maximum"]),
            (&1.into(), &36500.into()),
            "{name}"
        );
    }
    let status = enum_values(&doc, &schema(&doc, "Secret")["properties"]["Status"]);
    assert_eq!(status, ["Active", "Expired"]);
    let events = &schema(&doc, "Webhook")["properties"]["EventTypes"]["items"];
    let events = enum_values(&doc, events);
    assert!(
        events.contains(&"secret.renewed".to_owned()) && events.len() == 8,
        "{events:?}"
    );
    let kinds = enum_values(&doc, &properties_of(&doc, "InventorySecret")["ClientType"]);
    assert_eq!(kinds, ["ClientCredentialClients", "HybridClients"]);
    let lifetime = &schema(&doc, "HybridClientCreate")["properties"]["AccessTokenLifetime"];
    assert_eq!(
        (&lifetime["minimum"], &lifetime["maximum"]),
        (&60.into(), &86400.into())
    );
    for kind in KINDS {
        for path in [
            format!("/api/v1/Tenants/{{}}/{kind}"),
            format!("/api/v1/Tenants/{{}}/{kind}/{{}}/Secrets"),
        ] {
            let params = path_item(&doc, &path)["get"]["parameters"]
                .as_array()
                .expect("parameters");
            let count = params
                .iter()
                .find(|p| p["name"] == "count")
                .expect("a count parameter");
            assert_eq!(count["schema"]["maximum"], 1000, "{path}");
            assert_eq!(count["schema"]["minimum"], 0, "{path}");
            if path.ends_with("Secrets") {
                let filter = params
                    .iter()
                    .find(|p| p["name"] == "status")
                    .expect("a status filter");
                assert_eq!(
                    enum_values(&doc, &filter["schema"]),
                    ["active", "expired", "leaked"]
                );
            }
        }
    }
    for name in [
        "TenantCreate",
        "ClientCredentialClientCreate",
        "HybridClientCreate",
    ] {
        let create = schema(&doc, name);
        assert!(
            create["required"]
                .as_array()
                .is_some_and(|r| r.contains(&"Name".into())),
            "{name}: {create}"
        );
        assert_eq!(
            create["properties"]["Name"]["type"], "string",
            "{name}: not nullable"
        );
    }
}

/// Properties of a schema (through `allOf`) by name.
fn properties_of(doc: &Value, name: &str) -> serde_json::Map<String, Value> {
    fn collect(doc: &Value, schema: &Value, into: &mut serde_json::Map<String, Value>) {
        let schema = resolve(doc, schema);
        if let Some(props) = schema["properties"].as_object() {
            into.extend(props.clone());
        }
        for part in schema["allOf"].as_array().into_iter().flatten() {
            collect(doc, part, into);
        }
    }
    let mut into = serde_json::Map::new();
    collect(doc, schema(doc, name), &mut into);
    into
}

/// Required property names of a schema (through `allOf`).
fn required_of(doc: &Value, schema: &Value) -> Vec<String> {
    let schema = resolve(doc, schema);
    let mut names: Vec<String> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| v.as_str().expect("a name").to_owned())
        .collect();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        names.extend(required_of(doc, part));
    }
    names.sort();
    names
}

/// A real answer has exactly the schema's required fields; null only where nullable.
fn assert_answer_fits(doc: &Value, name: &str, body: &Value) {
    let mut keys: Vec<String> = body
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    let required = required_of(doc, schema(doc, name));
    assert_eq!(keys, required, "{name}: answer keys vs required\n{body}");
    let props = properties_of(doc, name);
    for (key, value) in body.as_object().expect("an object") {
        let prop = resolve(doc, &props[key]);
        let nullable = prop["type"]
            .as_array()
            .is_some_and(|t| t.contains(&"null".into()))
            || prop["oneOf"]
                .as_array()
                .is_some_and(|o| o.iter().any(|s| s["type"] == "null"));
        if value.is_null() {
            assert!(
                nullable,
                "{name}.{key} is null in the answer but not nullable"
            );
        }
    }
}

async fn openapi_required_fields_match_real_answers(backend: Backend) {
    let server = TestServer::start(backend).await;
    let doc = document(&server).await;
    let tenant = server.create_tenant().await;
    let body = call(server.get(&format!("/api/v1/Tenants/{tenant}")), 200).await;
    assert_answer_fits(&doc, "Tenant", &body);
    let body = call(
        server.get(&format!("/api/v1/Tenants/{tenant}/SecretPolicy")),
        200,
    )
    .await;
    assert_answer_fits(&doc, "TenantSecretPolicy", &body);
    for (kind, prefix) in [
        ("ClientCredentialClients", "ClientCredentialClient"),
        ("HybridClients", "HybridClient"),
    ] {
        let created = server
            .create_client(&tenant, kind, serde_json::json!({"Name": "app"}))
            .await;
        assert_answer_fits(&doc, &format!("{prefix}Created"), &created);
        let id = created["Client"]["Id"].as_str().expect("an id");
        let client = format!("/api/v1/Tenants/{tenant}/{kind}/{id}");
        let body = call(server.get(&client), 200).await;
        assert_answer_fits(&doc, prefix, &body);
        let schema_ref = &response_schema(
            &doc,
            &path_item(&doc, &format!("/api/v1/Tenants/{{}}/{kind}/{{}}"))["get"],
            "200",
        )["$ref"];
        assert_eq!(
            schema_ref,
            &Value::from(format!("#/components/schemas/{prefix}"))
        );
        let body = call(server.get(&format!("{client}/SecretPolicy")), 200).await;
        assert_answer_fits(&doc, "ClientSecretPolicy", &body);
        let secret = created["Id"].as_i64().expect("a secret id");
        let body = call(server.get(&format!("{client}/Secrets/{secret}")), 200).await;
        assert_answer_fits(&doc, "Secret", &body);
        let added = call(
            server
                .post(&format!("{client}/Secrets"))
                .json(&serde_json::json!({})),
            201,
        )
        .await;
        assert_answer_fits(&doc, "SecretWithValue", &added);
    }
    let at = format!("/api/v1/Tenants/{tenant}");
    let body = call(server.get(&format!("{at}/Secrets?count=1")), 200).await;
    assert_answer_fits(&doc, "InventorySecret", &body[0]);
    let body = call(server.get(&format!("{at}/SecretSummary")), 200).await;
    assert_answer_fits(&doc, "SecretSummary", &body);
    assert_answer_fits(&doc, "WeekCount", &body["ExpirationsPerWeek"][0]);
    let body = call(server.get(&format!("{at}/NotificationRecipients")), 200).await;
    assert_answer_fits(&doc, "NotificationRecipients", &body);
    let body = call(server.get(&format!("{at}/LeakPolicy")), 200).await;
    assert_answer_fits(&doc, "LeakPolicy", &body);
    let hook = serde_json::json!({"Url": "https://hooks.example.com/latchkey"});
    let body = call(server.post(&format!("{at}/Webhooks")).json(&hook), 201).await;
    assert_answer_fits(&doc, "WebhookWithSecret", &body);
    let body = call(server.get("/api/v1/SigningKeys"), 200).await;
    assert_answer_fits(&doc, "SigningKey", &body[0]);
    let body = call(
        server.get(&format!("/api/v1/Tenants/{tenant}/AuditEvents?count=1")),
        200,
    )
    .await;
    assert_answer_fits(&doc, "AuditEvent", &body[0]);
    let (status, _, body) =
        exchange(server.get(&format!("/api/v1/Tenants/{tenant}/HybridClients/nobody"))).await;
    assert_eq!(status, 404);
    assert_answer_fits(&doc, "ErrorResponse", &body);
    let missing =
        serde_json::json!({"Value": "lkcs_0000000000000000000000000000000000000000000000000000"});
    let body = call(
        server
            .post(&format!("/api/v1/Tenants/{tenant}/SecretLookup"))
            .json(&missing),
        200,
    )
    .await;
    assert_answer_fits(&doc, "SecretNotFound", &body);
}

async fn openapi_uses_public_names_and_no_outside_references(backend: Backend) {
    let server = TestServer::start(backend).await;
    let doc = document(&server).await;
    for name in doc["components"]["schemas"]
        .as_object()
        .expect("schemas")
        .keys()
    {
        for internal in ["Wire", "Body", "Segment", "Record"] {
            assert!(!name.contains(internal), "schema name {name}");
        }
    }
    fn descriptions<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value.as_str()) {
                        ("description" | "summary", Some(text)) => out.push(text),
                        _ => descriptions(value, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| descriptions(v, out)),
            _ => {}
        }
    }
    let mut texts = Vec::new();
    descriptions(&doc, &mut texts);
    assert!(texts.len() > 100, "{}", texts.len());
    for text in texts {
        for outside in [".md", "[`", "Standard Webhooks"] {
            assert!(
                !text.contains(outside),
                "a description cites {outside:?}: {text}"
            );
        }
        for word in text.split(|c: char| !c.is_alphanumeric()) {
            let outside = ["SPEC", "RFC", "GitHub", "issue", "issues", "seed", "seeds"];
            assert!(
                !outside.contains(&word),
                "a description cites {word:?}: {text}"
            );
        }
    }
}

both_backends!(
    openapi_declares_each_operations_errors,
    openapi_has_enums_and_ranges,
    openapi_required_fields_match_real_answers,
    openapi_uses_public_names_and_no_outside_references,
);
