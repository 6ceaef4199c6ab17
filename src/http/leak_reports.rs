//! `POST /api/v1/LeakReports`: the intake for secret scanners, in the format of
//! GitHub's secret scanning partner program (signed with the headers
//! `Github-Public-Key-Identifier` and `Github-Public-Key-Signature`); the trusted
//! scanner keys (`/api/v1/LeakReports/ScannerKeys`, platform administrators) and
//! each tenant's leak policy (`/api/v1/Tenants/{tenantId}/LeakPolicy`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::enums::{LeakAction, LeakLabel};
use super::extract::{Authenticated, JsonBody, Resource};
use crate::domain::leaks::{KeyEntry, KeysDocument, Label, LeakPolicy};
use crate::web::AppState;
use crate::web::error::{ApiError, ErrorResponse};

/// The header naming the key that signed a report.
pub const KEY_ID_HEADER: &str = "Github-Public-Key-Identifier";
/// The header carrying the signature (base64 DER ECDSA P-256 / SHA-256 over the body).
pub const SIGNATURE_HEADER: &str = "Github-Public-Key-Signature";

/// One reported token, as the scanner sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = ReportedToken)]
#[allow(dead_code)]
pub struct ReportedTokenWire {
    /// The value found.
    token: String,
    #[serde(rename = "type")]
    token_type: String,
    /// Where it was found.
    url: String,
    /// Where the scanner looked (`content`, `commit`, …).
    source: String,
}

/// The verdict on one reported token.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeakFeedback {
    /// Hex SHA-256 of the reported token.
    token_hash: String,
    token_type: String,
    /// `true_positive`: a live secret's value, acted on; `false_positive`: not a value
    /// of a live secret here (malformed, unknown or already revoked alike).
    #[schema(value_type = LeakLabel)]
    label: Label,
}

/// A key trusted to sign reports.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = ScannerKey)]
pub struct ScannerKeyWire {
    key_identifier: String,
    /// PEM (`-----BEGIN PUBLIC KEY-----`), ECDSA P-256.
    key: String,
    #[serde(default)]
    is_current: bool,
}

/// The keys trusted to sign reports, in the shape scanners publish them.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ScannerKeys {
    public_keys: Vec<ScannerKeyWire>,
}

impl From<KeysDocument> for ScannerKeys {
    fn from(doc: KeysDocument) -> Self {
        Self {
            public_keys: doc
                .public_keys
                .into_iter()
                .map(|k| ScannerKeyWire {
                    key_identifier: k.key_identifier,
                    key: k.key,
                    is_current: k.is_current,
                })
                .collect(),
        }
    }
}

/// What happens to a secret whose value a scanner reports.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
#[schema(as = LeakPolicy)]
pub struct LeakPolicyWire {
    /// `revoke` (default): revoke the secret at once; `alert`: keep it, raise the event.
    #[schema(value_type = LeakAction)]
    pub action: String,
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(report_leaks))
        .routes(routes!(get_scanner_keys, put_scanner_keys))
        .routes(routes!(get_leak_policy, put_leak_policy))
}

/// Report leaked values: a secret scanner posts the tokens it found, signed with a
/// trusted scanner key (ECDSA P-256), and gets a verdict per token.
#[utoipa::path(post, path = "/api/v1/LeakReports", tag = "Leaks", security(()),
    params(("Github-Public-Key-Identifier" = String, Header), ("Github-Public-Key-Signature" = String, Header, description = "base64 DER ECDSA P-256 / SHA-256 over the exact body")),
    request_body = [ReportedTokenWire],
    responses((status = 200, body = [LeakFeedback]), (status = 400, body = ErrorResponse),
              (status = 401, body = ErrorResponse, description = "Unsigned, or not signed by a trusted scanner key: nothing changed")))]
async fn report_leaks(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Vec<LeakFeedback>>, ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let feedback = app
        .services
        .leaks
        .report(header(KEY_ID_HEADER), header(SIGNATURE_HEADER), &body)
        .await?;
    Ok(Json(
        feedback
            .into_iter()
            .map(|f| LeakFeedback {
                token_hash: f.token_hash,
                token_type: f.token_type,
                label: f.label,
            })
            .collect(),
    ))
}

/// The scanner keys trusted to sign leak reports.
#[utoipa::path(get, path = "/api/v1/LeakReports/ScannerKeys", tag = "Leaks",
    responses((status = 200, body = ScannerKeys), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
async fn get_scanner_keys(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<ScannerKeys>, ApiError> {
    Ok(Json(app.services.leaks.keys(&caller).await?.into()))
}

/// Replace the trusted scanner keys (the `public_keys` list a scanner publishes);
/// an empty list goes back to the keys of `leaks.scannerKeys`.
#[utoipa::path(put, path = "/api/v1/LeakReports/ScannerKeys", tag = "Leaks", request_body = ScannerKeys,
    responses((status = 200, body = ScannerKeys), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
              (status = 403, body = ErrorResponse)))]
async fn put_scanner_keys(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonBody(body): JsonBody<ScannerKeys>,
) -> Result<Json<ScannerKeys>, ApiError> {
    let doc = KeysDocument {
        public_keys: body
            .public_keys
            .into_iter()
            .map(|k| KeyEntry {
                key_identifier: k.key_identifier,
                key: k.key,
                is_current: k.is_current,
            })
            .collect(),
    };
    Ok(Json(
        app.services.leaks.replace_keys(&caller, doc).await?.into(),
    ))
}

/// The tenant's leak policy.
#[utoipa::path(get, path = "/api/v1/Tenants/{tenantId}/LeakPolicy", tag = "Leaks",
    params(("tenantId" = String, Path)),
    responses((status = 200, body = LeakPolicyWire), (status = 401, body = ErrorResponse),
              (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn get_leak_policy(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
) -> Result<Json<LeakPolicyWire>, ApiError> {
    let policy = app.services.leaks.policy(&caller, &at.tenant).await?;
    Ok(Json(LeakPolicyWire {
        action: policy.as_str().to_owned(),
    }))
}

/// Set what happens when a scanner reports one of the tenant's values.
#[utoipa::path(put, path = "/api/v1/Tenants/{tenantId}/LeakPolicy", tag = "Leaks",
    params(("tenantId" = String, Path)), request_body = LeakPolicyWire,
    responses((status = 200, body = LeakPolicyWire), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
              (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn put_leak_policy(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
    JsonBody(body): JsonBody<LeakPolicyWire>,
) -> Result<Json<LeakPolicyWire>, ApiError> {
    let policy = LeakPolicy::parse(&body.action)
        .ok_or_else(|| ApiError::invalid("Action", "must be revoke or alert"))?;
    let policy = app
        .services
        .leaks
        .set_policy(&caller, &at.tenant, policy)
        .await?;
    Ok(Json(LeakPolicyWire {
        action: policy.as_str().to_owned(),
    }))
}
