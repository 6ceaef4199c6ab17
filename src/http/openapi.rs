//! The OpenAPI 3.1 document, generated from the handlers' annotations.
//!
//! Client routes are written once with a `{clientKind}` segment; [`finish`]
//! expands each into its two real paths (`ClientCredentialClients`,
//! `HybridClients`) so the document lists every route as clients call it, each
//! with its own client schemas (`ClientCredentialClient` has no hybrid fields,
//! `HybridClient` always has them). It also declares, on every operation, the
//! error responses that the extractors and the service layer can give it, by
//! rule (see [`declare_errors`]), so annotations need to name only the
//! operation-specific ones (409, 429).

use serde_json::Value;
use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::web::BODY_LIMIT;
use crate::web::error::ErrorResponse;

use super::enums::SecretStatusFilter;
use super::extract::{DEFAULT_COUNT, MAX_COUNT};

// Schemas that only query parameters name are listed here: utoipa registers the
// schemas of bodies, not of parameters.
#[derive(OpenApi)]
#[openapi(
    info(title = "Latchkey management API", description = "Tenants, clients and their secrets."),
    components(schemas(ErrorResponse, SecretStatusFilter)),
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

/// Serialises the document, expands `{clientKind}` paths into both kinds (each
/// with its own client schemas), declares the error responses the rules give
/// each operation, and completes what OpenAPI 3.1 requires and the annotations
/// leave out: a `description` on every response (the status's reason phrase) and
/// an `operationId` on every operation; routes that take no bearer token say so.
pub fn finish(doc: utoipa::openapi::OpenApi) -> Value {
    let mut value = serde_json::to_value(&doc).unwrap_or(Value::Null);
    expand_kinds(&mut value);
    split_client_schemas(&mut value);
    head_takes_gets_query(&mut value);
    declare_errors(&mut value);
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

/// Drops the `clientKind` parameter, points the client schemas at the kind's
/// own, and makes the operation id unique per kind.
fn specialise(operation: &mut Value, kind: &str) {
    rewrite_client_refs(operation, kind_prefix(kind));
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

/// The schemas of client routes that differ by kind: each gets a copy per kind,
/// named with the kind's prefix (`Client` → `HybridClient`, `ClientCreate` →
/// `ClientCredentialClientCreate`).
const CLIENT_SCHEMAS: [&str; 4] = ["Client", "ClientCreate", "ClientUpdate", "ClientCreated"];

/// The properties only hybrid clients have: absent from client-credentials
/// clients' schemas, always present in a hybrid client's.
const HYBRID_ONLY: [&str; 6] = [
    "RedirectUris",
    "PostLogoutRedirectUris",
    "ClientUri",
    "LogoUri",
    "AllowOfflineAccess",
    "AllowAccessTokensViaBrowser",
];

const SCHEMA_REF: &str = "#/components/schemas/";

/// `ClientCredentialClients` → `ClientCredentialClient`.
fn kind_prefix(kind: &str) -> &str {
    kind.strip_suffix('s').unwrap_or(kind)
}

/// The kind's copy of a client schema: `Client…` → `{prefix}…`.
fn kind_schema(base: &str, prefix: &str) -> String {
    format!("{prefix}{}", base.strip_prefix("Client").unwrap_or(base))
}

/// Points every `$ref` to a client schema inside `value` at the kind's copy.
fn rewrite_client_refs(value: &mut Value, prefix: &str) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if key == "$ref"
                    && let Some(name) = v.as_str().and_then(|r| r.strip_prefix(SCHEMA_REF))
                    && CLIENT_SCHEMAS.contains(&name)
                {
                    *v = Value::String(format!("{SCHEMA_REF}{}", kind_schema(name, prefix)));
                } else {
                    rewrite_client_refs(v, prefix);
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| rewrite_client_refs(v, prefix)),
        _ => {}
    }
}

/// Gives each kind its own client schemas: a client-credentials client's
/// without the hybrid-only properties, a hybrid client's with them required (in
/// responses). The shared schemas go when nothing refers to them any more.
fn split_client_schemas(value: &mut Value) {
    let Some(schemas) = value
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for base in CLIENT_SCHEMAS {
        let Some(shared) = schemas.get(base).cloned() else {
            continue;
        };
        for kind in KINDS {
            let prefix = kind_prefix(kind);
            let mut schema = shared.clone();
            rewrite_client_refs(&mut schema, prefix);
            let hybrid = kind == "HybridClients";
            if let Some(object) = schema.as_object_mut() {
                if !hybrid {
                    if let Some(props) = object.get_mut("properties").and_then(Value::as_object_mut)
                    {
                        props.retain(|name, _| !HYBRID_ONLY.contains(&name.as_str()));
                    }
                } else if base == "Client" {
                    let required = object
                        .entry("required")
                        .or_insert_with(|| Value::Array(Vec::new()));
                    if let Some(required) = required.as_array_mut() {
                        for name in HYBRID_ONLY {
                            if !required.iter().any(|r| r == name) {
                                required.push(Value::String(name.to_owned()));
                            }
                        }
                    }
                }
            }
            schemas.insert(kind_schema(base, prefix), schema);
        }
    }
    let Some(schemas) = value
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let shared: Vec<(&str, Value)> = CLIENT_SCHEMAS
        .iter()
        .filter_map(|base| schemas.remove(*base).map(|s| (*base, s)))
        .collect();
    let text = value.to_string();
    if let Some(schemas) = value
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (base, schema) in shared {
            if text.contains(&format!("\"{SCHEMA_REF}{base}\"")) {
                schemas.insert(base.to_owned(), schema);
            }
        }
    }
}

/// An error response the extractors or the service layer can give an operation.
struct ErrorRule {
    status: &'static str,
    description: String,
    applies: fn(&Operation) -> bool,
}

/// What the rules look at.
struct Operation<'a> {
    path: &'a str,
    method: &'a str,
    value: &'a serde_json::Map<String, Value>,
}

impl Operation<'_> {
    fn authenticated(&self) -> bool {
        !(UNAUTHENTICATED.contains(&self.path) && self.method == "post")
    }

    fn has_body(&self) -> bool {
        self.value.contains_key("requestBody")
    }

    fn parameters(&self) -> impl Iterator<Item = &Value> {
        self.value
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    }

    /// Query parameters and numeric path segments are parsed, and refused with a 400.
    fn parses_parameters(&self) -> bool {
        self.parameters()
            .any(|p| p["in"] == "query" || (p["in"] == "path" && p["schema"]["type"] == "integer"))
    }
}

fn error_rules() -> [ErrorRule; 6] {
    [
        ErrorRule {
            status: "400",
            description: "Bad input: `Field` names the offending body field, query parameter or \
                          path segment"
                .into(),
            applies: |op| op.has_body() || op.parses_parameters(),
        },
        ErrorRule {
            status: "401",
            description: "No bearer token, or one that is not (or no longer) valid".into(),
            applies: |_| true,
        },
        ErrorRule {
            status: "403",
            description: "The caller's roles do not allow this (in this tenant)".into(),
            applies: |op| op.authenticated(),
        },
        ErrorRule {
            status: "404",
            description: "Something the path names does not exist (a client of the other kind \
                          included)"
                .into(),
            applies: |op| op.path.contains('{'),
        },
        ErrorRule {
            status: "413",
            description: format!("The body exceeds {} KiB", BODY_LIMIT / 1024),
            applies: |op| op.has_body(),
        },
        ErrorRule {
            status: "503",
            description: "The database is not reachable; retry after the `Retry-After` seconds"
                .into(),
            applies: |_| true,
        },
    ]
}

/// Declares on every operation the error responses the rules say it can give,
/// each with the `ErrorResponse` body (none for HEAD, whose answers have no
/// body), keeping what the annotation says where it declares one itself.
/// Operation-specific errors (409 conflicts, 429 throttling) come from the
/// annotations. Also bounds the paging parameters as the server does.
fn declare_errors(value: &mut Value) {
    let rules = error_rules();
    let Some(paths) = value.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let error_body = serde_json::json!({
        "application/json": {"schema": {"$ref": format!("{SCHEMA_REF}ErrorResponse")}}
    });
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let Some(object) = operation.as_object_mut() else {
                continue;
            };
            let wanted: Vec<&ErrorRule> = {
                let op = Operation {
                    path,
                    method,
                    value: object,
                };
                rules.iter().filter(|r| (r.applies)(&op)).collect()
            };
            bound_paging(object);
            let responses = object
                .entry("responses")
                .or_insert_with(|| Value::Object(Default::default()));
            let Some(responses) = responses.as_object_mut() else {
                continue;
            };
            let head = method == "head";
            for (status, response) in responses.iter_mut() {
                if status.starts_with(['4', '5'])
                    && !head
                    && let Some(response) = response.as_object_mut()
                {
                    response
                        .entry("content")
                        .or_insert_with(|| error_body.clone());
                }
            }
            for rule in wanted {
                let response = responses
                    .entry(rule.status)
                    .or_insert_with(|| Value::Object(Default::default()));
                if let Some(response) = response.as_object_mut() {
                    response
                        .entry("description")
                        .or_insert_with(|| Value::String(rule.description.clone()));
                    if !head {
                        response
                            .entry("content")
                            .or_insert_with(|| error_body.clone());
                    }
                }
            }
        }
    }
}

/// `skip` and `count` take what [`super::extract::Paging`] accepts.
fn bound_paging(operation: &mut serde_json::Map<String, Value>) {
    let Some(params) = operation
        .get_mut("parameters")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for param in params {
        if param["in"] != "query" {
            continue;
        }
        let bounds = match param["name"].as_str() {
            Some("count") => {
                serde_json::json!({"minimum": 0, "maximum": MAX_COUNT, "default": DEFAULT_COUNT})
            }
            Some("skip") => serde_json::json!({"minimum": 0, "maximum": i32::MAX, "default": 0}),
            _ => continue,
        };
        if let (Some(schema), Some(bounds)) = (
            param.get_mut("schema").and_then(Value::as_object_mut),
            bounds.as_object(),
        ) {
            schema.extend(bounds.clone());
        }
    }
}

/// A HEAD answers as its GET without the body (the count handlers call the list
/// handlers), so it takes the GET's query parameters: paging and filters.
fn head_takes_gets_query(value: &mut Value) {
    let Some(paths) = value.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        let query: Vec<Value> = item["get"]["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .cloned()
            .collect();
        let Some(head) = item.get_mut("head").and_then(Value::as_object_mut) else {
            continue;
        };
        if query.is_empty() {
            continue;
        }
        let params = head
            .entry("parameters")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Some(params) = params.as_array_mut() {
            for param in query {
                if !params
                    .iter()
                    .any(|p| p["name"] == param["name"] && p["in"] == "query")
                {
                    params.push(param);
                }
            }
        }
    }
}
