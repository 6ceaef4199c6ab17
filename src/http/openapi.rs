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

/// Serialises the document and expands `{clientKind}` paths into both kinds.
pub fn finish(doc: utoipa::openapi::OpenApi) -> Value {
    let mut value = serde_json::to_value(&doc).unwrap_or(Value::Null);
    let Some(paths) = value.get_mut("paths").and_then(Value::as_object_mut) else {
        return value;
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
    value
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
