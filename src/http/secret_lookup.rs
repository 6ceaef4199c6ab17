//! `POST /api/v1/Tenants/{tenantId}/SecretLookup` and `POST /api/v1/SecretLookup`:
//! "which secret is this?". The value is read straight into a redacting
//! [`SecretValue`] and never appears in the response, the log or an error.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::enums::ClientType;
use super::extract::{Authenticated, JsonBody, Resource};
use super::no_store;
use super::secrets::Secret;
use crate::domain::ids::{ClientKind, TenantId};
use crate::domain::secret_value::SecretValue;
use crate::service::secret_lookup::{LookupMatch, LookupRequest, LookupScope, NamedClient};
use crate::web::AppState;
use crate::web::error::{ApiError, ErrorResponse};

/// A value to identify.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct SecretLookupRequest {
    /// The value. A generated value (`lkcs_…`) is found on its own; a supplied
    /// value only within the client named by `ClientType` and `ClientId`.
    #[serde(deserialize_with = "presented_value")]
    #[schema(value_type = String)]
    pub value: SecretValue,
    /// The kind of the client a supplied value is checked against.
    #[schema(value_type = Option<ClientType>)]
    pub client_type: Option<String>,
    /// The client a supplied value is checked against.
    pub client_id: Option<String>,
    /// The client's tenant (supplied values, `POST /api/v1/SecretLookup` only).
    #[schema(value_type = Option<String>)]
    pub tenant_id: Option<String>,
}

fn presented_value<'de, D: Deserializer<'de>>(d: D) -> Result<SecretValue, D::Error> {
    let raw = zeroize::Zeroizing::new(String::deserialize(d)?);
    Ok(SecretValue::presented(&raw))
}

/// What the value belongs to: `Found` false (nothing else) when no live secret
/// of the tenant (or of any tenant, for a platform administrator) has it.
/// The schema is written by hand below: one shape for each answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecretLookupResult {
    pub found: bool,
    // The other fields are present exactly when `Found` is true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced_value: Option<bool>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
}

impl utoipa::PartialSchema for SecretLookupResult {
    /// `SecretFound` or `SecretNotFound`.
    fn schema() -> RefOr<Schema> {
        schema(serde_json::json!({
            "description": "What the value belongs to: the secret and its client, or \
                            `Found` false when no live secret of the tenant (or of any \
                            tenant, for a platform administrator) has it.",
            "oneOf": [
                {"$ref": "#/components/schemas/SecretFound"},
                {"$ref": "#/components/schemas/SecretNotFound"}
            ]
        }))
    }
}

/// The secret's metadata with `Found` true and the client it belongs to.
fn found_schema() -> RefOr<Schema> {
    schema(serde_json::json!({
        "description": "A live secret has the value: its metadata, and the client it belongs to.",
        "allOf": [
            {"$ref": "#/components/schemas/Secret"},
            {
                "type": "object",
                "properties": {
                    "Found": {"type": "boolean", "description": "True."},
                    "TenantId": {"type": "string"},
                    "ClientType": {"$ref": "#/components/schemas/ClientType"},
                    "ClientId": {"type": "string"},
                    "ReplacedValue": {
                        "type": "boolean",
                        "description": "True when the value is the one a Renew replaced, \
                                        still in its grace period."
                    }
                },
                "required": ["Found", "TenantId", "ClientType", "ClientId", "ReplacedValue"]
            }
        ]
    }))
}

/// `{"Found": false}` and nothing else.
fn not_found_schema() -> RefOr<Schema> {
    schema(serde_json::json!({
        "description": "No live secret has the value.",
        "type": "object",
        "properties": {"Found": {"type": "boolean", "description": "False."}},
        "required": ["Found"]
    }))
}

/// A schema written as JSON (the tests check each one reads).
fn schema(json: serde_json::Value) -> RefOr<Schema> {
    serde_json::from_value(json).unwrap_or_else(|_| RefOr::T(Schema::default()))
}

impl ToSchema for SecretLookupResult {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push(("SecretFound".into(), found_schema()));
        schemas.push(("SecretNotFound".into(), not_found_schema()));
        schemas.push((Secret::name().into(), Secret::schema()));
        <Secret as ToSchema>::schemas(schemas);
        schemas.push((ClientType::name().into(), ClientType::schema()));
    }
}

impl SecretLookupResult {
    fn of(found: Option<LookupMatch>, now: chrono::DateTime<chrono::Utc>) -> Self {
        match found {
            None => Self {
                found: false,
                tenant_id: None,
                client_type: None,
                client_id: None,
                replaced_value: None,
                secret: None,
            },
            Some(m) => Self {
                found: true,
                tenant_id: Some(m.tenant.to_string()),
                client_type: Some(m.client_kind.route_segment().to_owned()),
                client_id: Some(m.client_id),
                replaced_value: Some(m.previous),
                secret: Some(Secret::from_record(m.secret, now)),
            },
        }
    }
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(tenant_lookup))
        .routes(routes!(platform_lookup))
}

/// Which secret of the tenant has this value? For tenant administrators and auditors.
#[utoipa::path(post, path = "/api/v1/Tenants/{tenantId}/SecretLookup", tag = "Secrets",
    params(("tenantId" = String, Path)),
    request_body = SecretLookupRequest,
    responses((status = 200, body = SecretLookupResult), (status = 400, body = ErrorResponse, description = "A supplied value without its client, or bad input"),
              (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
              (status = 429, body = ErrorResponse, description = "Too many lookups by this caller found nothing")))]
async fn tenant_lookup(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
    JsonBody(body): JsonBody<SecretLookupRequest>,
) -> Result<Response, ApiError> {
    let req = request(body, false)?;
    let found = app
        .services
        .lookups
        .lookup(&caller, LookupScope::Tenant(&at.tenant), req)
        .await?;
    Ok(answer(found, &app))
}

/// Which secret, in any tenant, has this value? For platform administrators.
#[utoipa::path(post, path = "/api/v1/SecretLookup", tag = "Secrets",
    request_body = SecretLookupRequest,
    responses((status = 200, body = SecretLookupResult), (status = 400, body = ErrorResponse, description = "A supplied value without its client, or bad input"),
              (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
              (status = 429, body = ErrorResponse, description = "Too many lookups by this caller found nothing")))]
async fn platform_lookup(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonBody(body): JsonBody<SecretLookupRequest>,
) -> Result<Response, ApiError> {
    let req = request(body, true)?;
    let found = app
        .services
        .lookups
        .lookup(&caller, LookupScope::Platform, req)
        .await?;
    Ok(answer(found, &app))
}

fn answer(found: Option<LookupMatch>, app: &AppState) -> Response {
    no_store(Json(SecretLookupResult::of(found, app.services.now())).into_response())
}

fn request(body: SecretLookupRequest, platform: bool) -> Result<LookupRequest, ApiError> {
    let client = match (body.client_type.as_deref(), body.client_id) {
        (None, None) => None,
        (Some(kind), Some(id)) => {
            let kind = ClientKind::from_route_segment(kind).ok_or_else(|| {
                ApiError::invalid(
                    "ClientType",
                    "must be ClientCredentialClients or HybridClients",
                )
            })?;
            let tenant = match body.tenant_id.as_deref() {
                Some(t) if platform => Some(
                    TenantId::parse(t)
                        .ok_or_else(|| ApiError::invalid("TenantId", "must be a tenant id"))?,
                ),
                _ => None,
            };
            Some(NamedClient { tenant, kind, id })
        }
        (None, Some(_)) => return Err(ApiError::invalid("ClientType", "is needed with ClientId")),
        (Some(_), None) => return Err(ApiError::invalid("ClientId", "is needed with ClientType")),
    };
    Ok(LookupRequest {
        value: body.value,
        client,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_result_schema_has_one_shape_per_answer() {
        let schema = serde_json::to_value(SecretLookupResult::schema()).unwrap();
        let shapes = schema["oneOf"].as_array().unwrap();
        assert_eq!(shapes.len(), 2, "{schema}");
        let found = serde_json::to_value(found_schema()).unwrap();
        assert_eq!(found["allOf"][0]["$ref"], "#/components/schemas/Secret");
        assert_eq!(found["allOf"][1]["required"].as_array().unwrap().len(), 5);
        let not_found = serde_json::to_value(not_found_schema()).unwrap();
        assert_eq!(not_found["required"], serde_json::json!(["Found"]));
    }
}
