//! Edit Client, its Details tab: the settings form (Save) and Revoke client
//! with its confirmation dialog (the client's name or the word `revoke`, any
//! case, as for a secret). The page both tabs render is `client_page.rs`.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::client_page::{ClientPage, Details, DialogQuery};
use super::extract::At;
use super::form::FormData;
use super::form::confirms;
use super::frame::load;
use super::respond::{failure, render, see_other};
use super::session::Signed;
use super::view::{Layout, kind_slug, service_message};
use crate::service::ServiceError;
use crate::web::AppState;

pub async fn edit(
    State(state): State<AppState>,
    s: Signed,
    at: At,
    Query(q): Query<DialogQuery>,
) -> Response {
    let (layout, c) = match load(&state, &s, &at, "Edit Client").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut page = ClientPage::new(&s, layout, &at, &c, "details");
    if q.dialog.as_deref() == Some("remove") && page.may_write {
        page.dialog = "remove";
    }
    if q.saved.is_some() {
        page.notice = "Saved.".into();
    }
    render(StatusCode::OK, &page)
}

pub async fn save(State(state): State<AppState>, s: Signed, at: At, form: FormData) -> Response {
    let (layout, c) = match load(&state, &s, &at, "Edit Client").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let details = Details::from_form(&form, c.settings.hybrid.is_some());
    let result = match details.patch() {
        Ok(patch) => state
            .services
            .clients
            .update(&s.0.caller(), &at.tenant, at.kind, &at.client, patch)
            .await
            .map_err(|e| match e {
                ServiceError::Forbidden => Err(e),
                e => Ok(service_message(&e)),
            }),
        Err(message) => Err(Ok(message)),
    };
    match result {
        Ok(_) => see_other(&format!("{}?saved=1", at.base())),
        Err(Err(e)) => failure(e, layout),
        Err(Ok(message)) => {
            let mut page = ClientPage::new(&s, layout, &at, &c, "details");
            page.details = details;
            page.errors = vec![message];
            render(StatusCode::BAD_REQUEST, &page)
        }
    }
}

/// Revokes the client and all its secrets once the user typed its name or
/// `revoke`; the clients list then says so.
pub async fn remove(State(state): State<AppState>, s: Signed, at: At, form: FormData) -> Response {
    let (layout, c) = match load(&state, &s, &at, "Edit Client").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let typed = form.text("confirmation");
    if !confirms(&typed, &c.settings.name) {
        let mut page = ClientPage::new(&s, layout, &at, &c, "details");
        if page.may_write {
            page.dialog = "remove";
        }
        page.confirmation = typed;
        page.errors = vec![
            "The text you typed is neither the client's name nor the word revoke. \
             The client was not revoked."
                .to_owned(),
        ];
        return render(StatusCode::BAD_REQUEST, &page);
    }
    match state
        .services
        .clients
        .delete(&s.0.caller(), &at.tenant, at.kind, &at.client)
        .await
    {
        Ok(()) => see_other(&format!(
            "/console/tenants/{}/clients?type={}&revoked={}",
            at.tenant,
            kind_slug(at.kind),
            at.client
        )),
        Err(e) => failure(e, Layout::new(&s.0, "Edit Client", "clients")),
    }
}
