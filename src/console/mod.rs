//! The web console (issue 5, SPEC §8): server-rendered pages at `/console`
//! for tenants, clients and their secrets, and console users.
//!
//! It owns sign-in, sessions, CSRF protection, its templates
//! (`templates/console/`) and its embedded assets (`assets/console/`, served by
//! the binary: no CDN, no web font). It holds no rules about tenants, clients
//! or secrets: every change goes through the same [`crate::service`] methods as
//! the management API, with the signed-in user as [`crate::service::Caller`].
//!
//! Invariants:
//! - a secret value appears only in the one response that creates or renews it
//!   (the show-once dialog), always with `Cache-Control: no-store` (every console
//!   page carries it), and never in a log line, a URL or a later page;
//! - every POST carries the session's CSRF token (sign-in: a pre-session
//!   token), checked by [`session::csrf_guard`] before any handler runs;
//! - the session cookie is `HttpOnly; SameSite=Strict` (plus `Secure` when the
//!   public URL is https) and ends after `console.idleTimeout` without use.

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::service::settings::ConsoleSettings;
use crate::service::{ServiceError, Services};
use crate::web::AppState;
use crate::web::error::ErrorBodyWritten;

pub mod accounts;
mod assets;
mod audit;
mod client_edit;
mod clients;
mod form;
mod inventory;
mod notifications;
mod pages;
pub mod password;
mod secret_form;
mod secrets;
mod session;
mod settings;
mod users;
mod view;

use accounts::Accounts;

/// The console's shared state (part of [`AppState`]).
#[derive(Clone)]
pub struct Console {
    pub accounts: Accounts,
    /// Session cookies get `Secure` when the public URL is https.
    secure_cookies: bool,
}

impl Console {
    pub fn new(services: &Services, settings: &ConsoleSettings, public_url: &str) -> Self {
        Self {
            accounts: Accounts::new(services, settings.idle_timeout),
            secure_cookies: public_url.starts_with("https://"),
        }
    }
}

/// The console's routes, mounted inside [`crate::http::router`].
pub fn routes() -> Router<AppState> {
    let t = "/console/tenants/{tenant}";
    let c = "/console/tenants/{tenant}/{kind}/{client}";
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::to("/console/tenants") }),
        )
        .route(
            "/console/",
            get(|| async { Redirect::to("/console/tenants") }),
        )
        .route("/console/assets/{*path}", get(assets::serve))
        .route(
            "/console/signin",
            get(pages::signin_page).post(pages::signin),
        )
        .route("/console/signout", post(pages::signout))
        .route(
            "/console/tenants",
            get(pages::tenants).post(pages::create_tenant),
        )
        .route(t, get(clients::tenant_home))
        .route(
            &format!("{t}/clients"),
            get(clients::list).post(clients::create),
        )
        .route(&format!("{t}/clients/new"), get(clients::new_form))
        .route(&format!("{t}/audit"), get(audit::audit))
        .route(&format!("{t}/inventory"), get(inventory::inventory))
        .route(
            &format!("{t}/webhooks"),
            get(notifications::webhooks).post(notifications::create_webhook),
        )
        .route(
            &format!("{t}/webhooks/{{id}}/delete"),
            post(notifications::delete_webhook),
        )
        .route(
            &format!("{t}/notifications"),
            get(notifications::recipients).post(notifications::save_recipients),
        )
        .route(
            &format!("{t}/settings"),
            get(settings::tenant_settings).post(settings::save_tenant_settings),
        )
        .route(c, get(client_edit::edit).post(client_edit::save))
        .route(&format!("{c}/remove"), post(client_edit::remove))
        .route(
            &format!("{c}/secrets"),
            get(secrets::tab).post(secrets::add),
        )
        .route(&format!("{c}/policy"), post(secrets::save_policy))
        .route(&format!("{c}/secrets/{{id}}"), post(secrets::edit))
        .route(&format!("{c}/secrets/{{id}}/renew"), post(secrets::renew))
        .route(&format!("{c}/secrets/{{id}}/delete"), post(secrets::delete))
        .route("/console/users", get(users::list).post(users::create))
        .route("/console/users/{name}", get(users::edit).post(users::save))
        .route("/console/users/{name}/delete", post(users::delete))
        .layer(axum::middleware::from_fn(session::csrf_guard))
}

/// Renders a template as an HTML response with the console's headers.
fn render(status: StatusCode, template: &impl askama::Template) -> Response {
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
fn html(status: StatusCode, body: String) -> Response {
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
fn see_other(location: &str) -> Response {
    let mut response = Redirect::to(location).into_response();
    secure_headers(response.headers_mut());
    response
}

/// The page for a failure that is not a form error.
fn failure(e: ServiceError, layout: view::Layout) -> Response {
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
    render(status, &pages::ErrorPage { layout, message })
}
