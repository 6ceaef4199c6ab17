//! The show-once page after a redirect (post/redirect/get): a POST that makes a
//! value to show once (Add or Renew secret, New client, a webhook's signing
//! secret) stashes it with [`crate::service::reveals`] and answers 303 to
//! `/console/tenants/{tenant}/shown/{id}?next=…`; the GET takes the value,
//! which deletes it, and renders the show-once dialog. A reload (or any second
//! GET, on any node) finds nothing and goes on to `next` with `reveal=gone`, so
//! the value is never shown twice and the form is never submitted again.
//!
//! The id is a random 256-bit token; the value never appears in a URL or a log.
//! `next` is only ever a path inside the same tenant's console pages.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::frame::{ShownPage, frame};
use super::notifications::{WebhookSecret, WebhookSecretPage};
use super::respond::{failure, render, see_other};
use super::session::Signed;
use super::view::{Layout, ShownOnce};
use crate::domain::ids::TenantId;
use crate::service::ServiceError;
use crate::web::AppState;

/// What a reveal holds besides the value (the value follows the first newline
/// of the sealed text, so it never passes through a serializer).
#[derive(Serialize, Deserialize)]
struct Facts {
    heading: String,
    description: String,
    expiration: String,
    expiration_iso: String,
    /// A webhook's signing secret, shown in its own dialog.
    #[serde(default)]
    webhook: Option<WebhookFacts>,
}

#[derive(Serialize, Deserialize)]
struct WebhookFacts {
    url: String,
    events: String,
}

/// Stashes `shown` for this session and answers 303 to the page that shows it
/// once; `shown.continue_href` (a path under the tenant's pages) is where the
/// page goes on to, and where a reload ends up.
pub async fn redirect_to_shown(
    state: &AppState,
    s: &Signed,
    tenant: &TenantId,
    shown: ShownOnce,
) -> Response {
    let facts = Facts {
        heading: shown.heading,
        description: shown.description,
        expiration: shown.expiration,
        expiration_iso: shown.expiration_iso,
        webhook: None,
    };
    stash(state, s, tenant, facts, &shown.value, &shown.continue_href).await
}

/// [`redirect_to_shown`] for a webhook's signing secret, which has a dialog of
/// its own.
pub async fn redirect_to_webhook_secret(
    state: &AppState,
    s: &Signed,
    tenant: &TenantId,
    shown: WebhookSecret,
) -> Response {
    let facts = Facts {
        heading: "Webhook created: its signing secret".into(),
        description: String::new(),
        expiration: String::new(),
        expiration_iso: String::new(),
        webhook: Some(WebhookFacts {
            url: shown.url,
            events: shown.events,
        }),
    };
    stash(state, s, tenant, facts, &shown.value, &shown.continue_href).await
}

/// Stashes the value and redirects to the page that shows it; when it cannot be
/// kept (the database refused it), shows it on this answer instead, as before
/// post/redirect/get: the secret (or client, or webhook) exists by now, and its
/// value must not be lost.
async fn stash(
    state: &AppState,
    s: &Signed,
    tenant: &TenantId,
    facts: Facts,
    value: &str,
    continue_href: &str,
) -> Response {
    let mut text = match serde_json::to_string(&facts) {
        Ok(json) => Zeroizing::new(json),
        Err(e) => {
            return failure(
                ServiceError::Internal(e.to_string()),
                Layout::new(&s.0, "Secret", "clients"),
            );
        }
    };
    text.push('\n');
    text.push_str(value);
    match state
        .services
        .reveals
        .stash(&s.0.token_hash, text.as_bytes())
        .await
    {
        Ok(id) => see_other(&format!(
            "/console/tenants/{tenant}/shown/{id}?next={}",
            urlencoding(continue_href)
        )),
        Err(e) => {
            tracing::warn!(error = %e, "a value to show once could not be kept for the redirect; it is shown on the answer to the form instead");
            let value = Zeroizing::new(value.to_owned());
            show(
                Layout::new(&s.0, "Secret", "clients"),
                facts,
                value,
                continue_href.to_owned(),
            )
        }
    }
}

#[derive(Deserialize)]
pub struct ShownPath {
    tenant: String,
    id: String,
}

#[derive(Deserialize)]
pub struct ShownQuery {
    next: Option<String>,
}

/// Shows a stashed value once; afterwards goes on to `next` with `reveal=gone`.
pub async fn shown(
    State(state): State<AppState>,
    s: Signed,
    Path(ShownPath { tenant, id }): Path<ShownPath>,
    Query(q): Query<ShownQuery>,
) -> Response {
    let (t, layout) = match frame(&state, &s, &tenant, "Secret", "clients").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let next = safe_next(&t.id, q.next.as_deref());
    let taken = match state.services.reveals.take(&s.0.token_hash, &id).await {
        Ok(taken) => taken,
        Err(e) => return failure(e, layout),
    };
    let Some(bytes) = taken else {
        let sep = if next.contains('?') { '&' } else { '?' };
        return see_other(&format!("{next}{sep}reveal=gone"));
    };
    let parsed = std::str::from_utf8(&bytes)
        .ok()
        .and_then(|text| text.split_once('\n'))
        .and_then(|(json, value)| {
            serde_json::from_str::<Facts>(json)
                .ok()
                .map(|f| (f, Zeroizing::new(value.to_owned())))
        });
    let Some((facts, value)) = parsed else {
        return failure(
            ServiceError::Internal("a reveal holds unreadable text".into()),
            layout,
        );
    };
    show(layout, facts, value, next)
}

/// The show-once dialog of `facts` and `value`, going on to `next`.
fn show(mut layout: Layout, facts: Facts, value: Zeroizing<String>, next: String) -> Response {
    layout.title.clone_from(&facts.heading);
    if let Some(webhook) = facts.webhook {
        let page = WebhookSecretPage {
            layout,
            value,
            url: webhook.url,
            events: webhook.events,
            continue_href: next,
        };
        return render(StatusCode::OK, &page);
    }
    let shown = ShownOnce {
        heading: facts.heading,
        value,
        description: facts.description,
        expiration: facts.expiration,
        expiration_iso: facts.expiration_iso,
        continue_href: next,
    };
    render(StatusCode::OK, &ShownPage { layout, shown })
}

/// `next` when it is a plain path under this tenant's console pages, else the
/// tenant's clients list: a crafted link cannot send the user elsewhere.
fn safe_next(tenant: &TenantId, next: Option<&str>) -> String {
    let prefix = format!("/console/tenants/{tenant}/");
    match next {
        Some(n)
            if n.starts_with(&prefix)
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/-_.~=&?".contains(&b))
                && !n.contains("..")
                && !n.contains("//") =>
        {
            n.to_owned()
        }
        _ => format!("{prefix}clients"),
    }
}

/// Percent-encodes a path for a query parameter.
fn urlencoding(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_inside_the_tenant() {
        let t = TenantId::parse("8a4f2c2e-6a43-4b8e-9f59-5d5c6c1d9a10").unwrap();
        let base = format!("/console/tenants/{t}");
        let ok = format!("{base}/client-credentials/svc/secrets");
        assert_eq!(safe_next(&t, Some(&ok)), ok);
        let fallback = format!("{base}/clients");
        for bad in [
            None,
            Some("https://evil.example/"),
            Some("//evil.example/console/tenants/"),
            Some("/console/tenants/other/clients"),
            Some(&format!("{base}/../../users")),
            Some(&format!("{base}//evil")),
            Some(&format!("{base}/x\"onload=")),
        ] {
            assert_eq!(safe_next(&t, bad), fallback, "{bad:?}");
        }
    }

    #[test]
    fn a_path_survives_the_query_encoding() {
        assert_eq!(urlencoding("/a/b-c_d.e"), "/a/b-c_d.e");
        assert_eq!(urlencoding("/a?x=1&y"), "/a%3Fx%3D1%26y");
    }
}
