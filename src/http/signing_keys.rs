//! `/api/v1/SigningKeys`: the token-signing keys and their lifecycle, and
//! rotation on demand (platform administrators). Never a private key.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::enums::SigningKeyState;
use super::extract::{Authenticated, JsonBody};
use crate::service::keys::KeyInfo;
use crate::web::AppState;
use crate::web::error::{ApiError, ErrorResponse};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct SigningKeyRotate {
    /// `true`: the new key signs at once and the current key is withdrawn (removed
    /// from the JWKS, its tokens refused) — for a compromised key. `false` or absent:
    /// the new key is published now and signs after `tokens.signingKeyOverlap`.
    pub emergency: Option<bool>,
    /// The kid of the key to replace: the rotation happens only while it is the
    /// current key (409 otherwise), so repeated or racing requests to replace one
    /// key add one key in all.
    pub kid: Option<String>,
}

/// A token-signing key and where it is in its lifecycle.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct SigningKey {
    /// The key id (`kid` in token headers and the JWKS).
    pub kid: String,
    pub generation: i64,
    /// `next` (published, not signing yet), `current` (signs), `retired` (published
    /// until its tokens have expired), `removed`, or `revoked` (emergency rotation).
    #[schema(value_type = SigningKeyState)]
    pub state: String,
    pub created_at: DateTime<Utc>,
    /// When it starts (or started) signing.
    pub activates_at: DateTime<Utc>,
    /// When it stops (or stopped) signing: its successor's activation.
    #[schema(required = true)]
    pub retires_at: Option<DateTime<Utc>>,
    /// When it leaves (or left) the JWKS.
    #[schema(required = true)]
    pub removed_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<KeyInfo> for SigningKey {
    fn from(k: KeyInfo) -> Self {
        Self {
            kid: k.kid,
            generation: k.generation,
            state: k.state.as_str().to_owned(),
            created_at: k.created_at,
            activates_at: k.activates_at,
            retires_at: k.retires_at,
            removed_at: k.removed_at,
            revoked_at: k.revoked_at,
        }
    }
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_signing_keys))
        .routes(routes!(rotate_signing_keys))
}

/// List the token-signing keys, oldest first.
#[utoipa::path(get, path = "/api/v1/SigningKeys", tag = "SigningKeys",
    responses((status = 200, body = [SigningKey]), (status = 401, body = ErrorResponse),
              (status = 403, body = ErrorResponse)))]
async fn list_signing_keys(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Vec<SigningKey>>, ApiError> {
    let keys = app.tokens.keys().list_for(&caller).await?;
    Ok(Json(keys.into_iter().map(SigningKey::from).collect()))
}

/// Rotate the token-signing key. Of rotations that start from the same keys (on
/// any nodes) exactly one succeeds; the others get 409, as does a manual rotation
/// while one is pending, and a rotation whose `Kid` is no longer the current key.
#[utoipa::path(post, path = "/api/v1/SigningKeys/Rotate", tag = "SigningKeys",
    request_body = SigningKeyRotate,
    responses((status = 200, body = SigningKey, description = "The new key"),
              (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
              (status = 403, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
async fn rotate_signing_keys(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonBody(body): JsonBody<SigningKeyRotate>,
) -> Result<Json<SigningKey>, ApiError> {
    let emergency = body.emergency.unwrap_or(false);
    let key = app
        .tokens
        .keys()
        .rotate_for(&caller, emergency, body.kid.as_deref())
        .await?;
    Ok(Json(key.into()))
}
