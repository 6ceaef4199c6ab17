//! Cookies, the signed-in-user extractor and the CSRF guard.
//!
//! Cookies (all `Path=/console; HttpOnly; SameSite=Strict`, `Secure` on https):
//! - `lk_session`: the session token (256 bits); the database keeps its hash;
//! - `lk_presignin`: a random token the sign-in form echoes (double submit), so
//!   even the sign-in POST carries a CSRF token.

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::form::FormData;
use super::respond::{html, see_other};
use crate::domain::account::{csrf_token, same_token};
use crate::service::accounts::{SessionState, SignedIn};
use crate::web::{AppState, BODY_LIMIT};

pub const SESSION_COOKIE: &str = "lk_session";
pub const PRESIGNIN_COOKIE: &str = "lk_presignin";

/// The value of cookie `name` in the request, if any.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// Session cookies get `Secure` when the public URL is https.
pub fn secure_cookies(state: &AppState) -> bool {
    state.public_url.starts_with("https://")
}

/// A `Set-Cookie` value; `None` as value deletes the cookie.
pub fn set_cookie(name: &str, value: Option<&str>, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = match value {
        Some(v) => format!("{name}={v}; Path=/console; HttpOnly; SameSite=Strict{secure}"),
        None => format!("{name}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    };
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The signed-in user of a request; without a valid session the request is
/// redirected to the sign-in page. The session is looked up once per request:
/// a second extraction (by another extractor) reuses the first.
pub struct Signed(pub SignedIn);

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        if let Some(signed) = parts.extensions.get::<SignedIn>() {
            return Ok(Self(signed.clone()));
        }
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(see_other("/console/signin"));
        };
        match state.accounts.session(token).await {
            Ok(SessionState::Active(signed)) => {
                parts.extensions.insert((*signed).clone());
                Ok(Self(*signed))
            }
            Ok(SessionState::Expired) => {
                let mut r = see_other("/console/signin?expired=1");
                let clear = set_cookie(SESSION_COOKIE, None, secure_cookies(state));
                r.headers_mut().append(header::SET_COOKIE, clear);
                Err(r)
            }
            Ok(SessionState::Unknown) => Err(see_other("/console/signin")),
            Err(e) => {
                tracing::error!(error = %e, "console session lookup failed: {e}");
                Err(html(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "<!doctype html><title>Unavailable</title><p>The console cannot reach its database.</p>".into(),
                ))
            }
        }
    }
}

/// Refuses any console POST whose form lacks the right CSRF token; the handler
/// then reads the same body.
pub async fn csrf_guard(request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, BODY_LIMIT).await else {
        return refused("The form is too large.");
    };
    let form = FormData::parse(&bytes);
    let expected = if parts.uri.path() == "/console/signin" {
        cookie(&parts.headers, PRESIGNIN_COOKIE).map(str::to_owned)
    } else {
        cookie(&parts.headers, SESSION_COOKIE).map(csrf_token)
    };
    let presented = form.get("csrf");
    let ok = match (expected, presented) {
        (Some(want), Some(got)) if !got.is_empty() => same_token(&want, got),
        _ => false,
    };
    if !ok {
        tracing::warn!(http.path = %parts.uri.path(), "console form refused: missing or wrong CSRF token");
        return refused(
            "This form was refused because it did not carry a valid security token. \
             Reload the page and try again.",
        );
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn refused(message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Refused · Latchkey</title>\
         <link rel=\"stylesheet\" href=\"/console/assets/console.css\"></head><body><main id=\"main\">\
         <h1>Form refused</h1><p class=\"error\" role=\"alert\" id=\"csrf-error\">{message}</p>\
         <p><a href=\"/console/tenants\">Back to the console</a></p></main></body></html>"
    );
    let mut r = html(StatusCode::FORBIDDEN, body);
    r.headers_mut()
        .insert("X-Refused", HeaderValue::from_static("csrf"));
    r.into_response()
}
