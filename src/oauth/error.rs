//! RFC 6749 §5.2 error responses of the token and introspection endpoints:
//! `{"error", "error_description"}`, `Cache-Control: no-store`, 401 with
//! `WWW-Authenticate` when client authentication fails, 429 with `Retry-After`
//! when failures are throttled, 503 `temporarily_unavailable` with `Retry-After`
//! when the check queue is full or the database is unreachable.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::metrics::{RefusalReason, TokenOutcome};
use crate::service::tokens::TokenError;
use crate::web::error::ErrorBodyWritten;

#[derive(Debug)]
pub struct OAuthError {
    status: StatusCode,
    code: &'static str,
    description: String,
    /// The realm for `WWW-Authenticate` (the issuer), on 401.
    realm: Option<String>,
    retry_after: Option<u64>,
}

impl OAuthError {
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    pub fn unsupported_grant_type(grant: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!("grant_type {grant:?} is not supported; use client_credentials"),
        )
    }

    pub fn invalid_client(realm: String) -> Self {
        Self {
            realm: Some(realm),
            ..Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client authentication failed",
            )
        }
    }

    pub fn from_token_error(e: TokenError, realm: String) -> Self {
        match e {
            TokenError::InvalidRequest(d) => Self::invalid_request(d),
            TokenError::InvalidClient(_) => Self::invalid_client(realm),
            TokenError::UnauthorizedClient => Self::new(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                "this client may not use the client_credentials grant",
            ),
            TokenError::InvalidScope(d) => Self::new(StatusCode::BAD_REQUEST, "invalid_scope", d),
            TokenError::TooManyAttempts(wait) => Self {
                retry_after: Some(wait.as_secs().max(1)),
                ..Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "temporarily_unavailable",
                    "too many failed authentications; retry later",
                )
            },
            TokenError::Busy => Self {
                retry_after: Some(1),
                ..Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    "too many secret checks in progress; retry shortly",
                )
            },
            TokenError::Unavailable(cause) => {
                // Logged once by the storage breaker when it opens, not per request.
                tracing::debug!(error = %cause, "token request refused: {cause}");
                Self {
                    retry_after: Some(1),
                    ..Self::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "temporarily_unavailable",
                        "the server cannot reach its database; retry later",
                    )
                }
            }
            TokenError::Internal(cause) => {
                tracing::error!(error = %cause, "token request failed: {cause}");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "an unexpected error occurred",
                )
            }
        }
    }

    /// How a token request that failed before reaching the service is counted: no
    /// usable client authentication (none sent, or a tenant id that cannot exist),
    /// or a malformed request.
    pub fn outcome_before_authentication(&self) -> TokenOutcome {
        if self.code == "invalid_client" {
            TokenOutcome::Refused(RefusalReason::NoCredentials)
        } else {
            TokenOutcome::InvalidRequest
        }
    }

    fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            code,
            description: description.into(),
            realm: None,
            retry_after: None,
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.code, "error_description": self.description });
        let mut response = no_store((self.status, Json(body)).into_response());
        let headers = response.headers_mut();
        if let Some(realm) = self.realm
            && let Ok(value) = HeaderValue::from_str(&format!("Basic realm=\"{realm}\""))
        {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response.extensions_mut().insert(ErrorBodyWritten);
        response
    }
}

/// `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1).
pub fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
