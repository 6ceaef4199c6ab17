//! Sign-in, sign-out and the tenants list (with New tenant, and Manage for a
//! platform administrator: `tenant_admin.rs`).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;

use super::form::FormData;
use super::respond::{failure, render, see_other};
use super::session::{
    PRESIGNIN_COOKIE, SESSION_COOKIE, Signed, cookie, secure_cookies, set_cookie,
};
use super::view::{Layout, service_message};
use crate::domain::account::random_token;
use crate::service::accounts::AccountError;
use crate::service::{Page, ServiceError, TenantRecord};
use crate::web::AppState;
use crate::web::operation::ClientAddress;

#[derive(Template)]
#[template(path = "console/signin.html")]
struct SignInPage {
    layout: Layout,
    error: String,
    notice: String,
    name: String,
}

#[derive(Deserialize)]
pub struct SignInQuery {
    expired: Option<String>,
    signedout: Option<String>,
}

fn signin_response(
    state: &AppState,
    status: StatusCode,
    existing: Option<&str>,
    error: String,
    notice: String,
    name: String,
) -> Response {
    let token = match existing {
        Some(t) => t.to_owned(),
        None => match random_token() {
            Ok(t) => t.to_string(),
            Err(_) => String::new(),
        },
    };
    let mut layout = Layout::anonymous("Sign in");
    layout.csrf = token.clone();
    let mut r = render(
        status,
        &SignInPage {
            layout,
            error,
            notice,
            name,
        },
    );
    if existing.is_none() {
        let c = set_cookie(PRESIGNIN_COOKIE, Some(&token), secure_cookies(state));
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

pub async fn signin_page(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Query(q): Query<SignInQuery>,
) -> Response {
    let notice = if q.expired.is_some() {
        "Your session ended after a period of inactivity. Sign in again."
    } else if q.signedout.is_some() {
        "You are signed out."
    } else {
        ""
    };
    let existing = cookie(&headers, PRESIGNIN_COOKIE);
    signin_response(
        &state,
        StatusCode::OK,
        existing,
        String::new(),
        notice.into(),
        String::new(),
    )
}

pub async fn signin(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: axum::http::HeaderMap,
    form: FormData,
) -> Response {
    let name = form.text("username");
    let password = form.raw("password");
    let existing = cookie(&headers, PRESIGNIN_COOKIE);
    match state.accounts.sign_in(&name, &password, address).await {
        Ok(token) => {
            let mut r = see_other("/console/tenants");
            let secure = secure_cookies(&state);
            let h = r.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, Some(&token), secure),
            );
            h.append(
                header::SET_COOKIE,
                set_cookie(PRESIGNIN_COOKIE, None, secure),
            );
            r
        }
        Err(e) => {
            let (status, retry_after) = match e {
                AccountError::Throttled(seconds) => (StatusCode::TOO_MANY_REQUESTS, Some(seconds)),
                AccountError::Busy => (StatusCode::SERVICE_UNAVAILABLE, Some(1)),
                AccountError::WrongCredentials => (StatusCode::UNAUTHORIZED, None),
                _ => (StatusCode::INTERNAL_SERVER_ERROR, None),
            };
            let message = match e {
                AccountError::WrongCredentials => "Wrong user name or password.".to_owned(),
                AccountError::Throttled(seconds) => {
                    format!("Too many failed sign-ins. Try again in {seconds} seconds.")
                }
                AccountError::Busy => {
                    "The server is busy checking other sign-ins. Try again shortly.".to_owned()
                }
                e => {
                    tracing::error!(error = %e, "console sign-in failed: {e}");
                    "Sign-in is unavailable; try again.".into()
                }
            };
            let mut r = signin_response(&state, status, existing, message, String::new(), name);
            if let Some(seconds) = retry_after {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            r
        }
    }
}

pub async fn signout(State(state): State<AppState>, Signed(s): Signed) -> Response {
    if let Err(e) = state.accounts.sign_out(&s).await {
        tracing::error!(error = %e, "console sign-out failed: {e}");
    }
    let mut r = see_other("/console/signin?signedout=1");
    let clear = set_cookie(SESSION_COOKIE, None, secure_cookies(&state));
    r.headers_mut().append(header::SET_COOKIE, clear);
    r
}

#[derive(Template)]
#[template(path = "console/tenants.html")]
struct TenantsPage {
    layout: Layout,
    tenants: Vec<TenantRecord>,
    error: String,
    name: String,
    notice: String,
}

#[derive(Deserialize)]
pub struct TenantsQuery {
    /// Set after a tenant was deleted (the notice says so).
    deleted: Option<String>,
}

/// The tenants the user may open: all for a platform administrator, else those
/// it holds a role in.
async fn visible_tenants(state: &AppState, s: &Signed) -> Result<Vec<TenantRecord>, ServiceError> {
    let caller = s.0.caller();
    if s.0.user.platform_admin {
        let page = Page {
            skip: 0,
            count: 1000,
        };
        return Ok(state.services.tenants.list(&caller, page).await?.items);
    }
    let mut out = Vec::new();
    for (tenant, _) in &s.0.user.tenant_roles {
        match state.services.tenants.get(&caller, tenant).await {
            Ok(t) => out.push(t),
            Err(ServiceError::TenantNotFound | ServiceError::Forbidden) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

pub async fn tenants(
    State(state): State<AppState>,
    s: Signed,
    Query(q): Query<TenantsQuery>,
) -> Response {
    let layout = Layout::new(&s.0, "Tenants", "tenants");
    let notice = match q.deleted {
        Some(_) => "Tenant deleted, with all its clients and their secrets.".to_owned(),
        None => String::new(),
    };
    match visible_tenants(&state, &s).await {
        Ok(tenants) => render(
            StatusCode::OK,
            &TenantsPage {
                layout,
                tenants,
                error: String::new(),
                name: String::new(),
                notice,
            },
        ),
        Err(e) => failure(e, layout),
    }
}

pub async fn create_tenant(State(state): State<AppState>, s: Signed, form: FormData) -> Response {
    let name = form.text("name");
    match state.services.tenants.create(&s.0.caller(), &name).await {
        Ok(t) => see_other(&format!("/console/tenants/{}/clients", t.id)),
        Err(e) => {
            let layout = Layout::new(&s.0, "Tenants", "tenants");
            let status = match e {
                ServiceError::DuplicateTenant => StatusCode::CONFLICT,
                ServiceError::Forbidden => StatusCode::FORBIDDEN,
                _ => StatusCode::BAD_REQUEST,
            };
            let error = service_message(&e);
            match visible_tenants(&state, &s).await {
                Ok(tenants) => render(
                    status,
                    &TenantsPage {
                        layout,
                        tenants,
                        error,
                        name,
                        notice: String::new(),
                    },
                ),
                Err(e) => failure(e, layout),
            }
        }
    }
}
