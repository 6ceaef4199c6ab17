//! `…/{clientKind}/{clientId}/Secrets`: the secret lifecycle (list, add, get, update, Renew, EndGrace, revoke),
//! and a client renewing its own secret (`Secrets/Self/Renew`). The
//! value appears only in the responses of add and Renew (`Secret`), with
//! `Cache-Control: no-store`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::clients::ClientKindSegment;
use super::enums::SecretStatusFilter;
use super::extract::{Authenticated, JsonBody, Paging, Resource};
use super::filters::SecretFilters;
use super::patch::Patch;
use super::{Listed, no_store};
use crate::domain::ValidationError;
use crate::domain::expiry::ExpiryRequest;
use crate::domain::secret_status::{SecretStatus, active_grace};
use crate::domain::secret_value::SecretValue;
use crate::service::secrets::{NewSecretRequest, RenewRequest, SecretPatch};
use crate::storage::SecretRecord;
use crate::web::AppState;
use crate::web::error::{ApiError, ErrorResponse};

/// A secret to add (`null` reads as absent).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct SecretCreate {
    /// At most 1024 characters.
    #[schema(max_length = 1024)]
    pub description: Option<String>,
    /// When the secret expires (must be in the future). Ignored when `Expires` is false.
    pub expiration: Option<DateTime<Utc>>,
    /// False: never expires. Absent with no `Expiration`: the expiry policy decides.
    pub expires: Option<bool>,
    /// A value of your own (32–512 printable ASCII characters); generated when absent.
    // Checked as it is read, and held only as a redacting `SecretValue`.
    #[serde(default, deserialize_with = "supplied_value")]
    #[schema(value_type = Option<String>, min_length = 32, max_length = 512)]
    pub value: Option<SecretValue>,
}

/// Changes to a secret. An absent field stays as it is; `null` empties the
/// description or the expiration (never expires, where the policy allows it), and is
/// refused for `Expires` and `Value` (see README, "Changing a resource: PUT").
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct SecretUpdate {
    /// At most 1024 characters; null: empty.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub description: Patch<String>,
    /// When the secret expires (must be in the future); null: never (as `Expires: false`).
    #[serde(default)]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expiration: Patch<DateTime<Utc>>,
    /// False: never expires. True without `Expiration`: keeps the expiration, or takes
    /// the policy's when the secret had none.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub expires: Patch<bool>,
    /// A new value of your own (32–512 printable ASCII characters); the old value
    /// stops working at once.
    #[serde(default, deserialize_with = "supplied_patch")]
    #[schema(value_type = Option<String>)]
    pub value: Patch<SecretValue>,
}

impl TryFrom<SecretUpdate> for SecretPatch {
    type Error = ValidationError;

    fn try_from(b: SecretUpdate) -> Result<Self, Self::Error> {
        let expires = b.expires.not_null("Expires")?;
        let expiry = match b.expiration {
            Patch::Keep => ExpiryRequest {
                expires,
                expiration: None,
            },
            Patch::Set(at) => ExpiryRequest {
                expires,
                expiration: Some(at),
            },
            Patch::Clear if expires == Some(true) => {
                return Err(ValidationError::new(
                    "Expiration",
                    "is null (never expires), which contradicts Expires: true; give a date \
                     or drop one of the two",
                ));
            }
            Patch::Clear => ExpiryRequest {
                expires: Some(false),
                expiration: None,
            },
        };
        Ok(Self {
            description: b.description.or_empty(String::new()),
            expiry,
            value: b.value.not_null("Value")?,
        })
    }
}

/// Reads a supplied `Value` straight into a [`SecretValue`] (32–512 printable
/// ASCII characters...): a refusal is a 400 naming `Value`, without the value.
fn supplied_value<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretValue>, D::Error> {
    let raw = Option::<String>::deserialize(d)?.map(zeroize::Zeroizing::new);
    raw.map(|v| SecretValue::supplied(&v).map_err(|e| D::Error::custom(e.reason)))
        .transpose()
}

/// [`supplied_value`] for a PUT: `null` is told apart from absence (`#[serde(default)]`).
fn supplied_patch<'de, D: Deserializer<'de>>(d: D) -> Result<Patch<SecretValue>, D::Error> {
    Ok(supplied_value(d)?.map_or(Patch::Clear, Patch::Set))
}

/// A Renew: a new generated value under the same id.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct SecretRenew {
    pub expiration: Option<DateTime<Utc>>,
    pub expires: Option<bool>,
    /// How long the old value keeps working (default 0, at most `secrets.maxGracePeriod`).
    pub grace_period_seconds: Option<u64>,
}

/// A client renewing its own secret: only a grace period may be asked for (the
/// expiration comes from the effective policy); any other field is refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct SelfRenew {
    /// How long the old value keeps working (default 0, at most `secrets.maxGracePeriod`).
    pub grace_period_seconds: Option<u64>,
}

/// Whether a secret's value still works at the token endpoint.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SecretStatus)]
pub enum SecretStatusWire {
    Active,
    Expired,
}

/// A secret's metadata: never its value.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct Secret {
    pub id: i32,
    pub description: String,
    /// Null: never expires.
    #[schema(required = true)]
    pub expiration: Option<DateTime<Utc>>,
    pub expires: bool,
    /// Recognises the value without revealing it.
    pub hint: String,
    pub created_at: DateTime<Utc>,
    /// Null: never used at the token endpoint.
    #[schema(required = true)]
    pub last_used_at: Option<DateTime<Utc>>,
    pub status: SecretStatusWire,
    /// Until when the value replaced by the last Renew still works (null: no
    /// grace running).
    #[schema(required = true)]
    pub grace_until: Option<DateTime<Utc>>,
    /// While a grace runs: the last use of the replaced value since the Renew
    /// (`null`: not used since), so you know when ending the grace is safe.
    #[schema(required = true)]
    pub previous_value_last_used_at: Option<DateTime<Utc>>,
    /// How often values of this secret that no longer work (replaced after any
    /// grace, revoked, expired) were presented to the token endpoint.
    #[schema(minimum = 0)]
    pub refused_count: i64,
    #[schema(required = true)]
    pub last_refused_at: Option<DateTime<Utc>>,
    /// The source address of the last refused presentation.
    #[schema(required = true)]
    pub last_refused_from: Option<String>,
}

impl Secret {
    pub(super) fn from_record(s: SecretRecord, now: DateTime<Utc>) -> Self {
        Self {
            id: s.id.0,
            description: s.description,
            expiration: s.expiration,
            expires: s.expiration.is_some(),
            hint: s.hint,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            status: match SecretStatus::at(s.expiration, now) {
                SecretStatus::Active => SecretStatusWire::Active,
                SecretStatus::Expired => SecretStatusWire::Expired,
            },
            previous_value_last_used_at: active_grace(s.grace_until, now)
                .and(s.previous_last_used_at),
            grace_until: active_grace(s.grace_until, now),
            refused_count: s.refused.count,
            last_refused_at: s.refused.last_at,
            last_refused_from: s.refused.last_from,
        }
    }
}

/// A secret with its value (`Secret`), returned once by add and Renew.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct SecretWithValue {
    pub secret: String,
    #[serde(flatten)]
    pub metadata: Secret,
}

fn with_value(
    status: StatusCode,
    record: SecretRecord,
    value: &SecretValue,
    now: DateTime<Utc>,
) -> Response {
    let body = SecretWithValue {
        secret: value.expose().to_owned(),
        metadata: Secret::from_record(record, now),
    };
    no_store((status, Json(body)).into_response())
}

/// The 409 of a change to one secret that concurrent changes kept beating.
const CONTENDED: &str =
    "Other changes to the secret kept winning; nothing was changed, send it again";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_secrets, count_secrets, add_secret))
        .routes(routes!(
            get_secret,
            head_secret,
            update_secret,
            delete_secret
        ))
        .routes(routes!(renew_secret))
        .routes(routes!(renew_own_secret))
        .routes(routes!(end_grace))
}

/// List a client's secrets.
#[utoipa::path(get, path = "/api/v1/Tenants/{tenantId}/{clientKind}/{clientId}/Secrets", tag = "Secrets",
    params(("tenantId" = String, Path), ("clientKind" = ClientKindSegment, Path), ("clientId" = String, Path),
           ("query" = Option<String>, Query, description = "Text the description contains (case-insensitive)"),
           ("status" = Option<SecretStatusFilter>, Query, description = "active, expired, or leaked (reported by a secret scanner under the alert policy and not rotated since)"),
           ("neverUsed" = Option<bool>, Query, description = "Only secrets never used at the token endpoint"),
           ("unusedForDays" = Option<u32>, Query, description = "Only secrets not used (or, never used, created) in the last N days"),
           ("expiringWithinDays" = Option<u32>, Query, description = "Only secrets expiring in the next N days"),
           ("refusedSince" = Option<DateTime<Utc>>, Query, description = "Date-time with an offset (2026-01-31T00:00:00Z): only secrets a former value of which (replaced, revoked, expired) was presented since then"),
           ("skip" = Option<u32>, Query), ("count" = Option<u32>, Query, description = "0–1000, default 100")),
    responses((status = 200, body = [Secret], headers(("Total-Count" = u64))), (status = 400, body = ErrorResponse),
              (status = 401, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn list_secrets(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
    Paging(page): Paging,
    SecretFilters(query): SecretFilters,
) -> Result<Listed<Secret>, ApiError> {
    let paged = app
        .services
        .secrets
        .list(&caller, at.client()?, query, page)
        .await?;
    let now = app.services.now();
    Ok(Listed::new(
        paged.total,
        paged
            .items
            .into_iter()
            .map(|s| Secret::from_record(s, now))
            .collect(),
    ))
}

/// Count a client's secrets: `Total-Count` only.
#[utoipa::path(head, path = "/api/v1/Tenants/{tenantId}/{clientKind}/{clientId}/Secrets", tag = "Secrets",
    params(("tenantId" = String, Path), ("clientKind" = ClientKindSegment, Path), ("clientId" = String, Path)),
    responses((status = 200, headers(("Total-Count" = u64))), (status = 401), (status = 404)))]
async fn count_secrets(
    State(app): State<AppState>,
    caller: Authenticated,
    at: Resource,
    paging: Paging,
    filters: SecretFilters,
) -> Result<Response, ApiError> {
    Ok(list_secrets(State(app), caller, at, paging, filters)
        .await?
        .head())
}

/// Add a secret; the response carries its value, this once.
#[utoipa::path(post, path = "/api/v1/Tenants/{tenantId}/{clientKind}/{clientId}/Secrets", tag = "Secrets",
    params(("tenantId" = String, Path), ("clientKind" = ClientKindSegment, Path), ("clientId" = String, Path)),
    request_body = SecretCreate,
    responses((status = 201, body = SecretWithValue), (status = 400, body = ErrorResponse, description = "Bad input, or the client's secret limit is reached"),
              (status = 401, body = ErrorResponse), (status = 404, body = ErrorResponse), (status = 413, body = ErrorResponse)))]
async fn add_secret(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
    JsonBody(body): JsonBody<SecretCreate>,
) -> Result<Response, ApiError> {
    let req = NewSecretRequest {
        description: body.description,
        expiry: ExpiryRequest {
            expires: body.expires,
            expiration: body.expiration,
        },
        value: body.value,
    };
    let (secret, value) = app.services.secrets.add(&caller, at.client()?, req).await?;
    Ok(with_value(
        StatusCode::CREATED,
        secret,
        &value,
        app.services.now(),
    ))
}

/// Get a secret's metadata.
#[utoipa::path(get, path = "/api/v1/Tenants/{tenantId}/{clientKind}/{clientId}/Secrets/{secretId}", tag = "Secrets",
    params(("tenantId" = String, Path), ("clientKind" = ClientKindSegment, Path), ("clientId" = String, Path), ("secretId" = i32, Path)),
    responses((status = 200, body = Secret), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn get_secret(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
) -> Result<Json<Secret>, ApiError> {
    let secret = app
        .services
        .secrets
        .get(&caller, at.client()?, at.secret()?)
        .await?;
    Ok(Json(Secret::from_record(secret, app.services.now())))
}

/// Whether a secret exists.
#[utoipa::path(head, path = "/api/v1/Tenants/{tenantId}/{clientKind}/{clientId}/Secrets/{secretId}", tag = "Secrets",
    params(("tenantId" = String, Path), ("clientKind" = ClientKindSegment, Path), ("clientId" = String, Path), ("secretId" = i32, Path)),
    responses((status = 200), (status = 401), (status = 404)))]
async fn head_secret(
    State(app): State<AppState>,
    caller: Authenticated,
    at: Resource,
) -> Result<StatusCode, ApiError> {
    get_secret(State(app), caller, at)
        .await
        .map(|_| StatusCode::OK)
}

/// Update a secret: description, expiry, or a new supplied value.
#[utoipa::path(put, path = "/api/v1/Tenants/{tenantId}/{clientKind}/{clientId}/Secrets/{secretId}", tag = "Secrets",
    params(("tenantId" = String, Path), ("clientKind" = ClientKindSegment, Path), ("clientId" = String, Path), ("secretId" = i32, Path)),
    request_body = SecretUpdate,
    responses((status = 200, body = Secret), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
              (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse, description = CONTENDED),
              (status = 413, body = ErrorResponse)))]
async fn update_secret(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
    JsonBody(body): JsonBody<SecretUpdate>,
) -> Result<Json<Secret>, ApiError> {
    let patch = SecretPatch::try_from(body)?;
    let secret = app
        .services
        .secrets
        .update(&caller, at.client()?, at.secret()?, patch)
        .await?;
    Ok(Json(Secret::from_record(secret, app.services.now())))
}

/// Renew a secret: a new value under the same id, shown this once.
#[utoipa::path(post, path = "/api/v1/Tenants/{tenantId}/{clientKind}/{clientId}/Secrets/{secretId}/Renew", tag = "Secrets",
    params(("tenantId" = String, Path), ("clientKind" = ClientKindSegment, Path), ("clientId" = String, Path), ("secretId" = i32, Path)),
    request_body(content = SecretRenew, description = "Optional: an empty body renews with the policy's expiration and no grace"),
    responses((status = 200, body = SecretWithValue), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
              (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse, description = CONTENDED)))]
async fn renew_secret(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
    JsonBody(body): JsonBody<SecretRenew>,
) -> Result<Response, ApiError> {
    let req = RenewRequest {
        expiry: ExpiryRequest {
            expires: body.expires,
            expiration: body.expiration,
        },
        grace_period_seconds: body.grace_period_seconds,
    };
    let (secret, value) = app
        .services
        .secrets
        .renew(&caller, at.client()?, at.secret()?, req)
        .await?;
    Ok(with_value(
        StatusCode::OK,
        secret,
        &value,
        app.services.now(),
    ))
}

/// A client renews its own secret: the one whose value issued the bearer token, of
/// the client and tenant the token names (the path must name them too). No role is
/// needed, but the tenant's policy and the client must both have
/// `AllowSelfRotation`. The new value is shown this once; the token's value stops
/// working now, or when the grace period ends.
#[utoipa::path(post, path = "/api/v1/Tenants/{tenantId}/{clientKind}/{clientId}/Secrets/Self/Renew", tag = "Secrets",
    params(("tenantId" = String, Path), ("clientKind" = ClientKindSegment, Path), ("clientId" = String, Path)),
    request_body(content = SelfRenew, description = "Optional: an empty body renews with no grace"),
    responses((status = 200, body = SecretWithValue), (status = 400, body = ErrorResponse),
              (status = 401, body = ErrorResponse, description = "No token, or its value no longer works"),
              (status = 403, body = ErrorResponse, description = "Not the token's own client, self-rotation not allowed, or the token's value was replaced"),
              (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse, description = CONTENDED)))]
async fn renew_own_secret(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
    JsonBody(body): JsonBody<SelfRenew>,
) -> Result<Response, ApiError> {
    let (secret, value) = app
        .services
        .secrets
        .renew_own(&caller, at.client()?, body.grace_period_seconds)
        .await?;
    Ok(with_value(
        StatusCode::OK,
        secret,
        &value,
        app.services.now(),
    ))
}

/// End a Renew's grace period now: the replaced value stops working.
#[utoipa::path(post, path = "/api/v1/Tenants/{tenantId}/{clientKind}/{clientId}/Secrets/{secretId}/EndGrace", tag = "Secrets",
    params(("tenantId" = String, Path), ("clientKind" = ClientKindSegment, Path), ("clientId" = String, Path), ("secretId" = i32, Path)),
    responses((status = 200, body = Secret), (status = 401, body = ErrorResponse), (status = 404, body = ErrorResponse),
              (status = 409, body = ErrorResponse, description = CONTENDED)))]
async fn end_grace(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
) -> Result<Json<Secret>, ApiError> {
    let secret = app
        .services
        .secrets
        .end_grace(&caller, at.client()?, at.secret()?)
        .await?;
    Ok(Json(Secret::from_record(secret, app.services.now())))
}

/// Revoke (delete) a secret: immediate and permanent; its id is never reused.
#[utoipa::path(delete, path = "/api/v1/Tenants/{tenantId}/{clientKind}/{clientId}/Secrets/{secretId}", tag = "Secrets",
    params(("tenantId" = String, Path), ("clientKind" = ClientKindSegment, Path), ("clientId" = String, Path), ("secretId" = i32, Path)),
    responses((status = 204, description = "Revoked"), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
              (status = 404, body = ErrorResponse)))]
async fn delete_secret(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
) -> Result<StatusCode, ApiError> {
    app.services
        .secrets
        .revoke(&caller, at.client()?, at.secret()?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const RAW: &str = "a supplied value that must never be printed 1234";

    fn read(body: serde_json::Value) -> Result<SecretCreate, (String, String)> {
        serde_path_to_error::deserialize(body).map_err(|e| (e.path().to_string(), e.to_string()))
    }

    #[test]
    fn a_supplied_value_is_held_redacted_and_never_printed() {
        let body = read(serde_json::json!({ "Value": RAW, "Description": "d" })).unwrap();
        assert_eq!(body.value.as_ref().map(SecretValue::expose), Some(RAW));
        for shown in [format!("{body:?}"), format!("{body:#?}")] {
            assert!(!shown.contains(RAW) && !shown.contains("1234"), "{shown}");
        }
        assert!(read(serde_json::json!({})).unwrap().value.is_none());
        assert!(
            read(serde_json::json!({ "Value": null }))
                .unwrap()
                .value
                .is_none()
        );
    }

    #[test]
    fn a_refused_value_names_the_field_and_not_the_value() {
        let short = "too short 1234";
        for bad in [short, " leading space, long enough to be accepted 1234"] {
            let (field, message) = read(serde_json::json!({ "Value": bad })).unwrap_err();
            assert_eq!(field, "Value");
            assert!(!message.contains("1234"), "{message}");
        }
    }

    #[test]
    fn an_update_holds_its_value_redacted_and_refuses_a_null_value() {
        let body: SecretUpdate =
            serde_path_to_error::deserialize(serde_json::json!({ "Value": RAW })).unwrap();
        assert!(!format!("{body:?}").contains("1234"));
        let patch = SecretPatch::try_from(body).unwrap();
        assert_eq!(patch.value.as_ref().map(SecretValue::expose), Some(RAW));
        let null: SecretUpdate =
            serde_path_to_error::deserialize(serde_json::json!({ "Value": null })).unwrap();
        assert_eq!(SecretPatch::try_from(null).unwrap_err().field, "Value");
    }
}
