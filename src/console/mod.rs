//! The web console: server-rendered pages at `/console`
//! for tenants, clients and their secrets, and console users.
//!
//! It owns the sign-in pages, session cookies, CSRF protection, its templates
//! (`templates/console/`) and its embedded assets (`assets/console/`, served by
//! the binary: no CDN, no web font). It holds no rules about tenants, clients
//! or secrets: every change goes through the same [`crate::service`] methods as
//! the management API, with the signed-in user as [`crate::service::Caller`];
//! users, passwords and sessions are [`crate::service::accounts`].
//!
//! Layout: each page module (`clients`, `client_edit`, `secrets`, `settings`,
//! `tenant_admin`, …)
//! is a leaf that imports only the shared modules: [`respond`] (every response),
//! [`frame`] (the tenant frame of a page), [`extract`] (a client page's path),
//! [`session`], [`view`], [`form`] and the form models shared by two pages
//! ([`client_page`], [`policy_form`], [`secret_form`]).
//!
//! Invariants:
//! - a secret value appears only in the show-once page, once: the POST that
//!   creates or renews it stashes it sealed and redirects (post/redirect/get,
//!   [`reveal`]); the page carries `Cache-Control: no-store` (every console page
//!   does), and the value is never in a log line, a URL or a later page;
//! - every POST that succeeds answers with a redirect, so a reload never
//!   submits it again (a refused form is re-rendered with a 4xx);
//! - every POST carries the session's CSRF token (sign-in: a pre-session
//!   token), checked by [`session::csrf_guard`] before any handler runs;
//! - the session cookie is `HttpOnly; SameSite=Strict` (plus `Secure` when the
//!   public URL is https) and ends after `console.idleTimeout` without use.

use axum::Router;
use axum::response::Redirect;
use axum::routing::{get, post};

use crate::web::AppState;

mod assets;
mod audit;
mod client_edit;
mod client_page;
mod clients;
mod extract;
mod form;
mod frame;
mod inventory;
mod lookup;
mod notifications;
mod overview;
mod pages;
mod policy_form;
mod respond;
mod reveal;
mod secret_form;
mod secrets;
mod session;
mod settings;
mod tenant_admin;
mod users;
mod view;

/// The console's routes, mounted by [`crate::app::router`].
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
        .route(t, get(overview::overview))
        .route(&format!("{t}/shown/{{id}}"), get(reveal::shown))
        .route(&format!("{t}/manage"), get(tenant_admin::page))
        .route(&format!("{t}/rename"), post(tenant_admin::rename))
        .route(&format!("{t}/delete"), post(tenant_admin::delete))
        .route(
            &format!("{t}/clients"),
            get(clients::list).post(clients::create),
        )
        .route(&format!("{t}/clients/new"), get(clients::new_form))
        .route(&format!("{t}/audit"), get(audit::audit))
        .route(&format!("{t}/inventory"), get(inventory::inventory))
        .route(
            &format!("{t}/lookup"),
            get(lookup::form).post(lookup::lookup),
        )
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
        .route(
            &format!("{c}/secrets/{{id}}/end-grace"),
            post(secrets::end_grace),
        )
        .route("/console/users", get(users::list).post(users::create))
        .route("/console/users/{name}", get(users::edit).post(users::save))
        .route("/console/users/{name}/delete", post(users::delete))
        .layer(axum::middleware::from_fn(session::csrf_guard))
}
