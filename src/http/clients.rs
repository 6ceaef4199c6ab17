//! `/api/v1/Tenants/{tenantId}/{ClientCredentialClients|HybridClients}`: client
//! CRUD. One set of handlers serves both kinds; the kind comes from the path and
//! a client of the other kind is a 404. The OpenAPI document lists both paths.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::enums::RoleId;
use super::extract::{Authenticated, JsonBody, Paging, Resource};
use super::patch::Patch;
use super::{Listed, no_store};
use crate::domain::ValidationError;
use crate::domain::expiry::ExpiryRequest;
use crate::service::clients::{ClientPatch, NewClientRequest};
use crate::service::secrets::NewSecretRequest;
use crate::storage::ClientRecord;
use crate::web::AppState;
use crate::web::error::{ApiError, ErrorResponse};

/// A client to create. Hybrid-only fields are ignored for client-credentials clients.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct ClientCreate {
    /// Unique in the tenant; 1–128 of `A-Z a-z 0-9 - . _ ~`. A GUID when absent.
    #[schema(min_length = 1, max_length = 128, pattern = "^[A-Za-z0-9._~-]+$")]
    pub id: Option<String>,
    /// 1–200 characters.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Default true.
    pub enabled: Option<bool>,
    /// Seconds, 60–86400, default 3600.
    #[schema(minimum = 60, maximum = 86400)]
    pub access_token_lifetime: Option<u32>,
    pub tags: Option<Vec<String>>,
    /// Built-in roles the client's tokens carry.
    #[schema(value_type = Option<Vec<RoleId>>)]
    pub role_ids: Option<Vec<String>>,
    /// Hybrid clients only.
    pub redirect_uris: Option<Vec<String>>,
    /// Hybrid clients only.
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// Hybrid clients only.
    pub client_uri: Option<String>,
    /// Hybrid clients only.
    pub logo_uri: Option<String>,
    /// Hybrid clients only.
    pub allow_offline_access: Option<bool>,
    /// Hybrid clients only.
    pub allow_access_tokens_via_browser: Option<bool>,
    /// The client may renew its own secret with a token that secret issued
    /// (`…/Secrets/Self/Renew`), where the tenant's policy allows it too. Default false.
    pub allow_self_rotation: Option<bool>,
    /// Description of the first secret.
    #[schema(max_length = 1024)]
    pub secret_description: Option<String>,
    /// Expiration of the first secret (the rules of `Expiration` on a secret).
    pub secret_expiration_date: Option<DateTime<Utc>>,
    /// Whether the first secret expires (the rules of `Expires` on a secret).
    pub secret_expires: Option<bool>,
}

/// Changes to a client. An absent field stays as it is; `null` empties a list or
/// a URI, and is refused for the name and the switches (see README, "Changing a
/// resource: PUT").
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct ClientUpdate {
    /// 1–200 characters; cannot be null.
    #[serde(default)]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200)]
    pub name: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub enabled: Patch<bool>,
    /// Seconds, 60–86400; cannot be null.
    #[serde(default)]
    #[schema(value_type = Option<u32>, minimum = 60, maximum = 86400)]
    pub access_token_lifetime: Patch<u32>,
    /// Null: no tags.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub tags: Patch<Vec<String>>,
    /// Null: no roles.
    #[serde(default)]
    #[schema(value_type = Option<Vec<RoleId>>)]
    pub role_ids: Patch<Vec<String>>,
    /// Hybrid clients only; null: none.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub redirect_uris: Patch<Vec<String>>,
    /// Hybrid clients only; null: none.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub post_logout_redirect_uris: Patch<Vec<String>>,
    /// Hybrid clients only; null or an empty string clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub client_uri: Patch<String>,
    /// Hybrid clients only; null or an empty string clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub logo_uri: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub allow_offline_access: Patch<bool>,
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub allow_access_tokens_via_browser: Patch<bool>,
    /// The client may renew its own secret (where the tenant's policy allows it too).
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub allow_self_rotation: Patch<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct Client {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    /// Seconds.
    #[schema(minimum = 60, maximum = 86400)]
    pub access_token_lifetime: u32,
    pub tags: Vec<String>,
    #[schema(value_type = Vec<RoleId>)]
    pub role_ids: Vec<String>,
    // The hybrid-only fields: present (the document requires them) on hybrid
    // clients, absent on client-credentials clients.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub redirect_uris: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub post_logout_redirect_uris: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub client_uri: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub logo_uri: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub allow_offline_access: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub allow_access_tokens_via_browser: Option<bool>,
    /// The client may renew its own secret (where the tenant's policy allows it too).
    pub allow_self_rotation: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ClientRecord> for Client {
    fn from(c: ClientRecord) -> Self {
        let s = c.settings;
        let h = s.hybrid;
        Self {
            id: c.id.to_string(),
            name: s.name,
            enabled: s.enabled,
            access_token_lifetime: s.access_token_lifetime,
            tags: s.tags,
            role_ids: s.role_ids,
            redirect_uris: h.as_ref().map(|h| h.redirect_uris.clone()),
            post_logout_redirect_uris: h.as_ref().map(|h| h.post_logout_redirect_uris.clone()),
            client_uri: h.as_ref().map(|h| h.client_uri.clone()),
            logo_uri: h.as_ref().map(|h| h.logo_uri.clone()),
            allow_offline_access: h.as_ref().map(|h| h.allow_offline_access),
            allow_access_tokens_via_browser: h.as_ref().map(|h| h.allow_access_tokens_via_browser),
            allow_self_rotation: s.allow_self_rotation,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

impl TryFrom<ClientUpdate> for ClientPatch {
    type Error = ValidationError;

    fn try_from(b: ClientUpdate) -> Result<Self, Self::Error> {
        Ok(Self {
            name: b.name.not_null("Name")?,
            enabled: b.enabled.not_null("Enabled")?,
            access_token_lifetime: b.access_token_lifetime.not_null("AccessTokenLifetime")?,
            tags: b.tags.or_empty(Vec::new()),
            role_ids: b.role_ids.or_empty(Vec::new()),
            redirect_uris: b.redirect_uris.or_empty(Vec::new()),
            post_logout_redirect_uris: b.post_logout_redirect_uris.or_empty(Vec::new()),
            client_uri: b.client_uri.or_empty(String::new()),
            logo_uri: b.logo_uri.or_empty(String::new()),
            allow_offline_access: b.allow_offline_access.not_null("AllowOfflineAccess")?,
            allow_access_tokens_via_browser: b
                .allow_access_tokens_via_browser
                .not_null("AllowAccessTokensViaBrowser")?,
            allow_self_rotation: b.allow_self_rotation.not_null("AllowSelfRotation")?,
        })
    }
}

/// A POST reads `null` as absent: the default.
impl From<ClientCreate> for NewClientRequest {
    fn from(b: ClientCreate) -> Self {
        Self {
            id: b.id,
            settings: ClientPatch {
                name: b.name,
                enabled: b.enabled,
                access_token_lifetime: b.access_token_lifetime,
                tags: b.tags,
                role_ids: b.role_ids,
                redirect_uris: b.redirect_uris,
                post_logout_redirect_uris: b.post_logout_redirect_uris,
                client_uri: b.client_uri,
                logo_uri: b.logo_uri,
                allow_offline_access: b.allow_offline_access,
                allow_access_tokens_via_browser: b.allow_access_tokens_via_browser,
                allow_self_rotation: b.allow_self_rotation,
            },
            first_secret: NewSecretRequest {
                description: b.secret_description,
                expiry: ExpiryRequest {
                    expires: b.secret_expires,
                    expiration: b.secret_expiration_date,
                },
                value: None,
            },
        }
    }
}

/// A created client and its first secret; `Secret` is the value, shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct ClientCreated {
    pub secret: String,
    /// The first secret's id.
    pub id: i32,
    pub description: String,
    #[schema(required = true)]
    pub expiration: Option<DateTime<Utc>>,
    pub expires: bool,
    pub client: Client,
}

/// Which kind of client a path addresses.
#[derive(ToSchema)]
#[allow(dead_code)]
pub enum ClientKindSegment {
    ClientCredentialClients,
    HybridClients,
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_clients, count_clients, create_client))
        .routes(routes!(
            get_client,
            head_client,
            update_client,
            delete_client
        ))
}

/// List clients of one kind.
#[utoipa::path(get, path = "/api/v1/Tenants/{tenantId}/{clientKind}", tag = "Clients",
    params(("tenantId" = String, Path), ("clientKind" = ClientKindSegment, Path),
           ("skip" = Option<u32>, Query), ("count" = Option<u32>, Query, description = "0–1000, default 100")),
    responses((status = 200, body = [Client], headers(("Total-Count" = u64))),
              (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn list_clients(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
    Paging(page): Paging,
) -> Result<Listed<Client>, ApiError> {
    let paged = app
        .services
        .clients
        .list(&caller, &at.tenant, at.kind()?, page)
        .await?;
    Ok(Listed::new(
        paged.total,
        paged.items.into_iter().map(Client::from).collect(),
    ))
}

/// Count clients of one kind: `Total-Count` only.
#[utoipa::path(head, path = "/api/v1/Tenants/{tenantId}/{clientKind}", tag = "Clients",
    params(("tenantId" = String, Path), ("clientKind" = ClientKindSegment, Path)),
    responses((status = 200, headers(("Total-Count" = u64))), (status = 401), (status = 404)))]
async fn count_clients(
    State(app): State<AppState>,
    caller: Authenticated,
    at: Resource,
    paging: Paging,
) -> Result<Response, ApiError> {
    Ok(list_clients(State(app), caller, at, paging).await?.head())
}

/// Create a client and its first secret.
#[utoipa::path(post, path = "/api/v1/Tenants/{tenantId}/{clientKind}", tag = "Clients",
    params(("tenantId" = String, Path), ("clientKind" = ClientKindSegment, Path)),
    request_body = ClientCreate,
    responses((status = 201, body = ClientCreated), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
              (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse), (status = 413, body = ErrorResponse)))]
async fn create_client(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
    JsonBody(body): JsonBody<ClientCreate>,
) -> Result<Response, ApiError> {
    let req = NewClientRequest::from(body);
    let created = app
        .services
        .clients
        .create(&caller, &at.tenant, at.kind()?, req)
        .await?;
    let body = ClientCreated {
        secret: created.value.expose().to_owned(),
        id: created.secret.id.0,
        description: created.secret.description,
        expiration: created.secret.expiration,
        expires: created.secret.expiration.is_some(),
        client: created.client.into(),
    };
    Ok(no_store((StatusCode::CREATED, Json(body)).into_response()))
}

/// Get a client.
#[utoipa::path(get, path = "/api/v1/Tenants/{tenantId}/{clientKind}/{clientId}", tag = "Clients",
    params(("tenantId" = String, Path), ("clientKind" = ClientKindSegment, Path), ("clientId" = String, Path)),
    responses((status = 200, body = Client), (status = 401, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn get_client(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
) -> Result<Json<Client>, ApiError> {
    let c = at.client()?;
    Ok(Json(
        app.services
            .clients
            .get(&caller, c.tenant, c.kind, c.client)
            .await?
            .into(),
    ))
}

/// Whether a client exists.
#[utoipa::path(head, path = "/api/v1/Tenants/{tenantId}/{clientKind}/{clientId}", tag = "Clients",
    params(("tenantId" = String, Path), ("clientKind" = ClientKindSegment, Path), ("clientId" = String, Path)),
    responses((status = 200), (status = 401), (status = 404)))]
async fn head_client(
    State(app): State<AppState>,
    caller: Authenticated,
    at: Resource,
) -> Result<StatusCode, ApiError> {
    get_client(State(app), caller, at)
        .await
        .map(|_| StatusCode::OK)
}

/// Update a client: absent or null fields stay as they are.
#[utoipa::path(put, path = "/api/v1/Tenants/{tenantId}/{clientKind}/{clientId}", tag = "Clients",
    params(("tenantId" = String, Path), ("clientKind" = ClientKindSegment, Path), ("clientId" = String, Path)),
    request_body = ClientUpdate,
    responses((status = 200, body = Client), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
              (status = 404, body = ErrorResponse), (status = 413, body = ErrorResponse)))]
async fn update_client(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
    JsonBody(body): JsonBody<ClientUpdate>,
) -> Result<Json<Client>, ApiError> {
    let c = at.client()?;
    let changes = ClientPatch::try_from(body)?;
    let updated = app
        .services
        .clients
        .update(&caller, c.tenant, c.kind, c.client, changes)
        .await?;
    Ok(Json(updated.into()))
}

/// Revoke (delete) a client and all its secrets: none of them gets a token any more (audited as `client.revoke`).
#[utoipa::path(delete, path = "/api/v1/Tenants/{tenantId}/{clientKind}/{clientId}", tag = "Clients",
    params(("tenantId" = String, Path), ("clientKind" = ClientKindSegment, Path), ("clientId" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn delete_client(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
) -> Result<StatusCode, ApiError> {
    let c = at.client()?;
    app.services
        .clients
        .delete(&caller, c.tenant, c.kind, c.client)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
