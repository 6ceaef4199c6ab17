//! The OpenAPI 3.1 document, generated from the handlers' annotations.
//!
//! Client routes are written once with a `{clientKind}` segment; [`finish`]
//! expands each into its two real paths (`ClientCredentialClients`,
//! `HybridClients`) so the document lists every route as clients call it.

use serde_json::Value;
use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::web::error::ErrorResponse;

#[derive(OpenApi)]
#[openapi(
    info(title = "Latchkey management API", description = "Tenants, clients and their secrets."),
    components(schemas(ErrorResponse)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

const KIND_SEGMENT: &str = "{clientKind}";
const KINDS: [&str; 2] = ["ClientCredentialClients", "HybridClients"];

/// Routes that do not take the bearer token: the scanners' intake is
/// authenticated by the report's signature.
const UNAUTHENTICATED: [&str; 1] = ["/api/v1/LeakReports"];

/// Serialises the document, expands `{clientKind}` paths into both kinds, and
/// completes what OpenAPI 3.1 requires and the annotations leave out: a
/// `description` on every response (the status's reason phrase) and an
/// `operationId` on every operation; routes that take no bearer token say so.
pub fn finish(doc: utoipa::openapi::OpenApi) -> Value {
    let mut value = serde_json::to_value(&doc).unwrap_or(Value::Null);
    expand_kinds(&mut value);
    complete(&mut value);
    value
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn complete(value: &mut Value) {
    let Some(paths) = value.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let Some(operation) = operation.as_object_mut() else {
                continue;
            };
            if !operation.contains_key("operationId") {
                let id = format!("{method}{}", path.replace(['/', '{', '}'], "_"));
                operation.insert("operationId".into(), Value::String(id));
            }
            if UNAUTHENTICATED.contains(&path.as_str()) && method == "post" {
                operation.insert("security".into(), Value::Array(Vec::new()));
            }
            let Some(responses) = operation
                .get_mut("responses")
                .and_then(Value::as_object_mut)
            else {
                continue;
            };
            for (status, response) in responses.iter_mut() {
                if let Some(response) = response.as_object_mut()
                    && !response.contains_key("description")
                {
                    response.insert("description".into(), Value::String(reason(status)));
                }
            }
        }
    }
}

/// The reason phrase of a status code (`"200"` → `"OK"`), or the code itself.
fn reason(status: &str) -> String {
    status
        .parse::<u16>()
        .ok()
        .and_then(|code| axum::http::StatusCode::from_u16(code).ok())
        .and_then(|code| code.canonical_reason())
        .map_or_else(|| status.to_owned(), str::to_owned)
}

fn expand_kinds(value: &mut Value) {
    let Some(paths) = value.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let generic: Vec<String> = paths
        .keys()
        .filter(|p| p.contains(KIND_SEGMENT))
        .cloned()
        .collect();
    for path in generic {
        let Some(item) = paths.remove(&path) else {
            continue;
        };
        for kind in KINDS {
            let mut item = item.clone();
            if let Some(operations) = item.as_object_mut() {
                for operation in operations.values_mut() {
                    specialise(operation, kind);
                }
            }
            paths.insert(path.replace(KIND_SEGMENT, kind), item);
        }
    }
}

/// Drops the `clientKind` parameter and makes the operation id unique per kind.
fn specialise(operation: &mut Value, kind: &str) {
    if let Some(params) = operation
        .get_mut("parameters")
        .and_then(Value::as_array_mut)
    {
        params.retain(|p| p.get("name").and_then(Value::as_str) != Some("clientKind"));
    }
    if let Some(id) = operation.get_mut("operationId")
        && let Some(text) = id.as_str()
    {
        *id = Value::String(format!("{text}_{kind}"));
    }
}
