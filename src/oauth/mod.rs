//! The OAuth 2.0 / OpenID front end: each tenant is an issuer at
//! `{public_url}/identity/{tenantId}` with discovery, JWKS, the token endpoint
//! (grant `client_credentials`) and introspection (RFC 7662). Handlers parse,
//! call [`crate::service::tokens::Tokens`], and answer in RFC 6749's terms. The token
//! endpoint counts each request in [`METRICS`] under its [`TokenOutcome`] (refusal
//! reason included) and records that outcome on the request's span for its log line.

use std::net::IpAddr;
use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::domain::access::ROLE_IDS;
use crate::domain::ids::{ClientId, TenantId};
use crate::metrics::{METRICS, TokenOutcome};
use crate::service::tokens::ClientAuthentication;
use crate::web::AppState;
use crate::web::error::ApiError;
use crate::web::operation::{ClientAddress, OutcomeRecorded};

mod error;
mod request;

use error::{OAuthError, no_store};
use request::{Form, client_credentials, require_form};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route(
            "/identity/{tenantId}/.well-known/openid-configuration",
            get(discovery),
        )
        .route("/identity/{tenantId}/.well-known/jwks.json", get(jwks))
        .route("/identity/{tenantId}/connect/token", post(token))
        .route("/identity/{tenantId}/connect/introspect", post(introspect))
}

async fn known_tenant(app: &AppState, tenant: &str) -> Result<TenantId, ApiError> {
    let tenant = TenantId::parse(tenant).ok_or(ApiError::NotFound("tenant"))?;
    if app
        .tokens
        .tenant_exists(&tenant)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
    {
        Ok(tenant)
    } else {
        Err(ApiError::NotFound("tenant"))
    }
}

/// The issuer's metadata (RFC 8414 members, served at OpenID's path): only what
/// exists. No ID tokens are issued, so none of OpenID's ID-token members
/// (`id_token_signing_alg_values_supported`, `subject_types_supported`) appear.
async fn discovery(
    State(app): State<AppState>,
    Path(tenant): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let tenant = known_tenant(&app, &tenant).await?;
    let issuer = app.tokens.issuer(&tenant);
    let methods = ["client_secret_basic", "client_secret_post"];
    Ok(Json(json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}/connect/token"),
        "introspection_endpoint": format!("{issuer}/connect/introspect"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": methods,
        "introspection_endpoint_auth_methods_supported": methods,
        // RFC 8414 requires the member; no response type exists (there is no
        // authorization endpoint), so the list is empty.
        "response_types_supported": [],
        "scopes_supported": ROLE_IDS,
    })))
}

async fn jwks(
    State(app): State<AppState>,
    Path(tenant): Path<String>,
) -> Result<Json<Value>, ApiError> {
    known_tenant(&app, &tenant).await?;
    Ok(Json(app.tokens.keys().snapshot().jwks().clone()))
}

/// The authenticated-client part shared by the token and introspection endpoints.
struct Request {
    tenant: TenantId,
    realm: String,
    form: Form,
    credentials: request::ClientCredentials,
}

impl Request {
    fn authentication(&self, source: Option<IpAddr>) -> ClientAuthentication<'_> {
        ClientAuthentication {
            tenant: &self.tenant,
            client_id: &self.credentials.client_id,
            secret: &self.credentials.secret,
            source,
        }
    }
}

/// A JSON answer or an RFC 6749 error, never cached.
fn respond(outcome: Result<Value, OAuthError>) -> Response {
    match outcome {
        Ok(body) => no_store(Json(body).into_response()),
        Err(e) => e.into_response(),
    }
}

fn read_request(
    app: &AppState,
    tenant: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Request, OAuthError> {
    // An unknown or malformed tenant id authenticates nobody: same answer as a wrong secret.
    let tenant_id = TenantId::parse(tenant);
    let realm = tenant_id.map_or_else(
        || format!("{}/identity", app.public_url),
        |t| app.tokens.issuer(&t),
    );
    let form = Form::parse(body)?;
    let credentials = client_credentials(headers, &form)?
        .ok_or_else(|| OAuthError::invalid_client(realm.clone()))?;
    let tenant = tenant_id.ok_or_else(|| OAuthError::invalid_client(realm.clone()))?;
    Ok(Request {
        tenant,
        realm,
        form,
        credentials,
    })
}

async fn token(
    State(app): State<AppState>,
    Path(tenant): Path<String>,
    ClientAddress(source): ClientAddress,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let started = Instant::now();
    // Set when the service answered; otherwise the request failed before it.
    let mut counted = None;
    let outcome: Result<Value, OAuthError> = async {
        require_form(&headers)?;
        let body = body.map_err(|e| OAuthError::invalid_request(e.body_text()))?;
        let form = Form::parse(&body)?;
        match form.get("grant_type") {
            None => return Err(OAuthError::invalid_request("grant_type is required")),
            Some("client_credentials") => {}
            Some(other) => return Err(OAuthError::unsupported_grant_type(other)),
        }
        let (audience, resource) = (form.get("audience"), form.get("resource"));
        if audience.is_some() && resource.is_some() {
            return Err(OAuthError::invalid_request(
                "give audience or resource, not both",
            ));
        }
        let req = read_request(&app, &tenant, &headers, &body)?;
        note_client(&req);
        let auth = req.authentication(source);
        let issued = app
            .tokens
            .issue(auth, req.form.get("scope"), audience.or(resource))
            .await
            .map_err(|e| {
                counted = Some(e.outcome());
                OAuthError::from_token_error(e, req.realm.clone())
            })?;
        Ok(json!({
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "scope": issued.scope,
        }))
    }
    .await;
    let counted = match (&outcome, counted) {
        (_, Some(counted)) => counted,
        (Ok(_), None) => TokenOutcome::Issued,
        (Err(e), None) => e.outcome_before_authentication(),
    };
    let mut response = respond(outcome);
    if response.status().is_success() && !app.tokens.successes_at_info() {
        response
            .extensions_mut()
            .insert(crate::web::operation::QuietSuccess);
    }
    METRICS.token_request(counted, started.elapsed());
    let span = tracing::Span::current();
    let (outcome, reason) = counted.labels();
    span.record("outcome", outcome);
    if let Some(reason) = reason {
        span.record("reason", reason);
    }
    // A zero-sized marker: no allocation on the token path.
    response.extensions_mut().insert(OutcomeRecorded);
    response
}

/// Names the client (when its id is well formed) in the request's log line; the
/// request layer names the tenant from the path.
fn note_client(req: &Request) {
    if let Ok(client) = ClientId::parse(&req.credentials.client_id) {
        tracing::Span::current().record("client.id", tracing::field::display(&client));
    }
}

async fn introspect(
    State(app): State<AppState>,
    Path(tenant): Path<String>,
    ClientAddress(source): ClientAddress,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let outcome: Result<Value, OAuthError> = async {
        require_form(&headers)?;
        let body = body.map_err(|e| OAuthError::invalid_request(e.body_text()))?;
        let req = read_request(&app, &tenant, &headers, &body)?;
        let auth = req.authentication(source);
        app.tokens
            .authenticate(auth)
            .await
            .map_err(|e| OAuthError::from_token_error(e, req.realm.clone()))?;
        let token = req
            .form
            .get("token")
            .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
        let claims = app
            .tokens
            .introspect(&req.tenant, token)
            .await
            .map_err(|e| OAuthError::from_token_error(e, req.realm.clone()))?;
        Ok(match claims {
            Some(Value::Object(mut claims)) => {
                claims.insert("active".into(), Value::Bool(true));
                claims.insert("token_type".into(), Value::from("Bearer"));
                Value::Object(claims)
            }
            _ => json!({ "active": false }),
        })
    }
    .await;
    respond(outcome)
}
