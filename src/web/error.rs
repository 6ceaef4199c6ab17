//! The one place where failures become HTTP statuses and `ErrorResponse` bodies.
//!
//! Every 4xx/5xx carries `{OperationId, Error, Reason, Resolution}` (plus `Field`
//! for bad input and `Status`). Internal causes are logged once, here, and never
//! sent to the client, who gets the `OperationId` to quote instead.

use axum::Json;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::operation;
use crate::domain::ValidationError;
use crate::domain::self_rotation::Refusal;
use crate::service::ServiceError;

/// The error body of every failed request (the classic shape, plus `Field` and `Status`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct ErrorResponse {
    /// Identifies this request in the server's logs; also in the `OperationId` header.
    pub operation_id: String,
    /// A stable code, one per kind of failure.
    #[schema(value_type = ErrorCode)]
    pub error: String,
    /// What went wrong, naming the field for bad input.
    pub reason: String,
    /// What to do about it.
    pub resolution: String,
    /// The offending input field (400 only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The HTTP status, as in the status line.
    pub status: u16,
}

/// The codes `ErrorResponse.Error` takes: its schema (the field is a string).
#[derive(Serialize, ToSchema)]
#[allow(dead_code, reason = "schema-only: never built, only described")]
pub enum ErrorCode {
    InvalidInput,
    LimitReached,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    MethodNotAllowed,
    PayloadTooLarge,
    TooManyRequests,
    Unavailable,
    InternalError,
}

/// `Retry-After` of a 503 (the database is unreachable): the breaker probes
/// more often than this, so a retry after it finds the database back if it is.
pub const RETRY_AFTER_SECONDS: &str = "1";

/// Marks a response whose error body was written here, so the middleware
/// leaves it alone.
#[derive(Clone, Copy)]
pub struct ErrorBodyWritten;

#[derive(Debug)]
pub enum ApiError {
    InvalidInput {
        field: String,
        reason: String,
    },
    LimitReached(String),
    Unauthorized,
    Forbidden,
    /// 403 with its own reason and resolution.
    Refused {
        reason: String,
        resolution: &'static str,
    },
    NotFound(&'static str),
    /// 404 for a path no route serves: the method and path when known.
    UnknownRoute(Option<String>),
    Conflict(String),
    MethodNotAllowed,
    PayloadTooLarge,
    Unavailable,
    /// 429 with `Retry-After` (seconds).
    TooManyRequests(std::time::Duration),
    Internal(String),
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The error for a response produced outside our handlers (router, limits, panics).
    pub fn from_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => Self::UnknownRoute(None),
            StatusCode::METHOD_NOT_ALLOWED => Self::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            StatusCode::UNAUTHORIZED => Self::Unauthorized,
            StatusCode::FORBIDDEN => Self::Forbidden,
            StatusCode::SERVICE_UNAVAILABLE => Self::Unavailable,
            s if s.is_client_error() => {
                Self::invalid("request", s.canonical_reason().unwrap_or("bad request"))
            }
            s => Self::Internal(format!("response status {s}")),
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, String, String, Option<String>) {
        match self {
            Self::InvalidInput { field, reason } => (
                StatusCode::BAD_REQUEST,
                "InvalidInput",
                format!("{field}: {reason}"),
                format!("Correct {field} and send the request again."),
                Some(field.clone()),
            ),
            Self::LimitReached(reason) => (
                StatusCode::BAD_REQUEST,
                "LimitReached",
                reason.clone(),
                "Delete an entry you no longer need, or ask the operator to raise the limit."
                    .into(),
                None,
            ),
            Self::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "missing or invalid credentials".into(),
                "Send a valid bearer token in the Authorization header.".into(),
                None,
            ),
            Self::Forbidden => (
                StatusCode::FORBIDDEN,
                "Forbidden",
                "the caller may not perform this operation".into(),
                "Use credentials with a role that allows it.".into(),
                None,
            ),
            Self::Refused { reason, resolution } => (
                StatusCode::FORBIDDEN,
                "Forbidden",
                reason.clone(),
                (*resolution).into(),
                None,
            ),
            Self::NotFound(what) => (
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("{what} not found"),
                format!("Check the {what} id in the URL."),
                None,
            ),
            Self::UnknownRoute(request) => (
                StatusCode::NOT_FOUND,
                "NotFound",
                match request {
                    Some(request) => format!("no route matches {request}"),
                    None => "no route matches this path".into(),
                },
                "Check the method and path against the API reference at /api/docs \
                 (the document: /api/openapi.json)."
                    .into(),
                None,
            ),
            Self::Conflict(reason) => (
                StatusCode::CONFLICT,
                "Conflict",
                reason.clone(),
                "Choose another id or name, or update the existing resource.".into(),
                None,
            ),
            Self::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "this method is not allowed on this resource".into(),
                "See /api/openapi.json for the methods each route accepts.".into(),
                None,
            ),
            Self::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "PayloadTooLarge",
                "the request body exceeds 64 KiB".into(),
                "Send a smaller body.".into(),
                None,
            ),
            Self::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Unavailable",
                "the database is not reachable".into(),
                "Retry later; the operator should check the database.".into(),
                None,
            ),
            Self::TooManyRequests(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "too many lookups by this caller found nothing".into(),
                "Wait for the time in the Retry-After header, then retry.".into(),
                None,
            ),
            Self::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "an unexpected error occurred".into(),
                "Retry later, and quote the OperationId to the operator if it persists.".into(),
                None,
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            tracing::error!(error = %cause, "request failed: {cause}");
        }
        let (status, error, reason, resolution, field) = self.parts();
        let body = ErrorResponse {
            operation_id: operation::current()
                .map(|id| id.to_string())
                .unwrap_or_default(),
            error: error.into(),
            reason,
            resolution,
            field,
            status: status.as_u16(),
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
        }
        if let Self::TooManyRequests(wait) = &self
            && let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"latchkey\""),
            );
        }
        response.extensions_mut().insert(ErrorBodyWritten);
        response
    }
}

/// The answer for a path no route serves. Machine clients (`/api/…`, the issuers
/// under `/identity/…`, the probes and `/metrics`) get the JSON `ErrorResponse`;
/// anything else, most likely a browser, a plain-text page naming the path and
/// where to go instead.
pub async fn unknown_route(method: Method, uri: Uri) -> Response {
    let path = uri.path();
    let machine = ["/api/", "/identity/", "/healthz", "/readyz", "/metrics"]
        .iter()
        .any(|prefix| path.starts_with(prefix));
    if machine {
        return ApiError::UnknownRoute(Some(format!("{method} {path}"))).into_response();
    }
    let text = format!(
        "Not found: Latchkey serves nothing at {path}.\n\
         The console is at /console, the management API's reference at /api/docs.\n"
    );
    let mut response = (
        StatusCode::NOT_FOUND,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        text,
    )
        .into_response();
    response.extensions_mut().insert(ErrorBodyWritten);
    response
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        Self::invalid(e.field, e.reason)
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(v) => v.into(),
            ServiceError::TenantNotFound => Self::NotFound("tenant"),
            ServiceError::ClientNotFound => Self::NotFound("client"),
            ServiceError::SecretNotFound => Self::NotFound("secret"),
            ServiceError::Contended => Self::Conflict(
                "the secret is being changed by many other requests at once; nothing was \
                 changed, retry"
                    .into(),
            ),
            ServiceError::RotationRefused(reason) => Self::Conflict(reason),
            e @ ServiceError::DeliveryInFlight => Self::Conflict(e.to_string()),
            ServiceError::DuplicateClient => {
                Self::Conflict("a client with this Id already exists in the tenant".into())
            }
            ServiceError::DuplicateTenant => {
                Self::Conflict("Name: another tenant already has this name".into())
            }
            ServiceError::ClientLimitReached(max) => Self::LimitReached(format!(
                "the tenant already has the maximum of {max} clients (tenants.clientsMax)"
            )),
            ServiceError::SecretLimitReached(max) => Self::LimitReached(format!(
                "the client already has the maximum of {max} secrets (applications.secretsMax)"
            )),
            ServiceError::WebhookLimitReached(max) => Self::LimitReached(format!(
                "the tenant already has the maximum of {max} webhooks \
                 (notifications.webhooks.maxPerTenant)"
            )),
            ServiceError::NotFound(what) => Self::NotFound(what),
            ServiceError::Forbidden => Self::Forbidden,
            // The token's value no longer works: the token is dead, as at any other route.
            ServiceError::SelfRotation(Refusal::ValueEnded) => Self::Unauthorized,
            ServiceError::SelfRotation(refusal) => Self::Refused {
                reason: refusal.to_string(),
                resolution: refusal.resolution(),
            },
            ServiceError::Unauthenticated => Self::Unauthorized,
            ServiceError::Busy => Self::Unavailable,
            ServiceError::Unavailable(cause) => {
                // Logged once by the storage breaker when it opens, not per request.
                tracing::debug!(error = %cause, "request refused: {cause}");
                Self::Unavailable
            }
            ServiceError::TooManyAttempts(wait) => Self::TooManyRequests(wait),
            ServiceError::Internal(cause) => Self::Internal(cause),
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::PayloadTooLarge
        } else {
            Self::invalid("body", rejection.body_text())
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::invalid("path", rejection.body_text())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use utoipa::PartialSchema;

    use super::*;

    #[test]
    fn the_error_code_schema_lists_exactly_the_codes_errors_carry() {
        let errors = [
            ApiError::invalid("f", "r"),
            ApiError::LimitReached("r".into()),
            ApiError::Unauthorized,
            ApiError::Forbidden,
            ApiError::Refused {
                reason: "r".into(),
                resolution: "r",
            },
            ApiError::NotFound("client"),
            ApiError::Conflict("r".into()),
            ApiError::MethodNotAllowed,
            ApiError::PayloadTooLarge,
            ApiError::Unavailable,
            ApiError::TooManyRequests(std::time::Duration::from_secs(1)),
            ApiError::Internal("c".into()),
        ];
        let mut carried: Vec<&str> = errors.iter().map(|e| e.parts().1).collect();
        carried.sort_unstable();
        carried.dedup();
        let schema = serde_json::to_value(ErrorCode::schema()).unwrap();
        let mut listed: Vec<&str> = schema["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        listed.sort_unstable();
        assert_eq!(carried, listed);
    }
}
