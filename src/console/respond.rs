//! Every console response goes out through here: pages rendered with the
//! console's headers (never cached, no framing, resources from this server
//! only), redirects after a POST, and the page for a failure that is not a
//! form error.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::view::{self, Layout};
use crate::service::ServiceError;
use crate::web::error::ErrorBodyWritten;

/// The generic error page.
#[derive(Template)]
#[template(path = "console/error.html")]
pub struct ErrorPage {
    pub layout: Layout,
    pub message: String,
}

/// Renders a template as an HTML response with the console's headers.
pub fn render(status: StatusCode, template: &impl askama::Template) -> Response {
    match template.render() {
        Ok(body) => html(status, body),
        Err(e) => {
            tracing::error!(error = %e, "console template failed: {e}");
            html(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!doctype html><title>Error</title><p>The page could not be rendered.</p>".into(),
            )
        }
    }
}

/// An HTML response: never cached (pages may show a secret once), no framing,
/// scripts and styles from this server only.
pub fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure_headers(h);
    response.extensions_mut().insert(ErrorBodyWritten);
    response
}

fn secure_headers(h: &mut axum::http::HeaderMap) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

/// A 303 to `location` (after a POST), marked so the API middleware leaves it alone.
pub fn see_other(location: &str) -> Response {
    let mut response = Redirect::to(location).into_response();
    secure_headers(response.headers_mut());
    response
}

/// The page for a failure that is not a form error.
pub fn failure(e: ServiceError, layout: Layout) -> Response {
    let (status, message) = match e {
        ServiceError::Forbidden => (
            StatusCode::FORBIDDEN,
            "You do not have permission to see or change this.".to_owned(),
        ),
        ServiceError::TenantNotFound => (StatusCode::NOT_FOUND, "No such tenant.".into()),
        ServiceError::ClientNotFound => (StatusCode::NOT_FOUND, "No such client.".into()),
        ServiceError::SecretNotFound => (StatusCode::NOT_FOUND, "No such secret.".into()),
        ServiceError::NotFound(what) => (StatusCode::NOT_FOUND, format!("No such {what}.")),
        ServiceError::Internal(cause) => {
            tracing::error!(error = %cause, "console request failed: {cause}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong. Try again; if it persists, tell the operator the OperationId of this request."
                    .into(),
            )
        }
        other => (StatusCode::BAD_REQUEST, view::service_message(&other)),
    };
    render(status, &ErrorPage { layout, message })
}
