//! The Secrets tab of Edit Client and its dialogs: Add, Edit,
//! Renew, Delete, and the show-once dialog after Add and Renew.
//!
//! Dialogs are states of the page (`?dialog=add`, `?dialog=edit&secret=3`, …),
//! rendered open by the server, so they work with the keyboard alone and
//! without script. A refused form re-renders its dialog with the error above
//! the form. Add and Renew answer with a redirect to the show-once page
//! (`reveal.rs`), the only page that renders a secret value, once; typed values
//! are never echoed back. Revoke asks for the secret's description or the word
//! `revoke` (any case) and says on the next page that it is done.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::client_page::{ClientPage, DialogQuery};
use super::extract::At;
use super::form::{FormData, confirms, ddmmyyyy};
use super::frame::load;
use super::policy_form::{ClientPolicyCard, client_card, save_client_policy};
use super::respond::{failure, render, see_other};
use super::reveal::redirect_to_shown;
use super::secret_form::{
    SecretForm, expiry_from_form, grace_hours_max, grace_refusal, grace_seconds,
    proposed_expiration,
};
use super::session::Signed;
use super::view::{Layout, SecretRow, ShownOnce, service_message};
use crate::domain::expiry::ExpiryRequest;
use crate::domain::ids::SecretId;
use crate::domain::secret_value::SecretValue;
use crate::service::secrets::{NewSecretRequest, RenewRequest, SecretPatch, SecretQuery};
use crate::service::{Page, SecretRecord, ServiceError};
use crate::web::AppState;

/// The secret a dialog's path names (`…/secrets/{id}`).
#[derive(Deserialize)]
pub struct SecretPath {
    id: i32,
}

/// Renders the Secrets tab, with `dialog` open and `form` in it.
async fn secrets_page(
    state: &AppState,
    s: &Signed,
    at: &At,
    status: StatusCode,
    dialog: &'static str,
    form: Option<SecretForm>,
) -> Response {
    secrets_page_with(state, s, at, status, dialog, form, None, "").await
}

/// [`secrets_page`], with the Secret settings card as submitted (when refused)
/// and a notice above the list (after a revoke, or a reload of a shown value).
#[expect(
    clippy::too_many_arguments,
    reason = "the page's parts as each caller has them"
)]
async fn secrets_page_with(
    state: &AppState,
    s: &Signed,
    at: &At,
    status: StatusCode,
    dialog: &'static str,
    form: Option<SecretForm>,
    card: Option<ClientPolicyCard>,
    notice: &str,
) -> Response {
    let (layout, client) = match load(state, s, at, "Edit Client").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let page_size = Page {
        skip: 0,
        count: 1000,
    };
    let secrets = match state
        .services
        .secrets
        .list(
            &s.0.caller(),
            at.secrets_ref(),
            SecretQuery::default(),
            page_size,
        )
        .await
    {
        Ok(p) => p.items,
        Err(e) => return failure(e, layout),
    };
    let now = state.services.now();
    let (current_card, effective) = match client_card(state, s, at).await {
        Ok(x) => x,
        Err(e) => return failure(e, Layout::new(&s.0, "Edit Client", "clients")),
    };
    let mut page = ClientPage::new(s, layout, at, &client, "secrets");
    page.policy = match card {
        Some(mut submitted) => {
            submitted.effective = current_card.effective;
            submitted
        }
        None => current_card,
    };
    page.notice = notice.to_owned();
    page.secrets_max = state.services.secrets.max_per_client();
    page.secrets = secrets.iter().map(|r| SecretRow::new(r, now)).collect();
    let writable = page.may_write_secrets;
    page.dialog = if writable { dialog } else { "" };
    page.secret = match (dialog, form) {
        (_, Some(f)) => f,
        ("add", None) => SecretForm::for_add(proposed_expiration(effective.0, effective.1, now)),
        _ => SecretForm::default(),
    };
    render(status, &page)
}

/// The secret a dialog is about, with its fields.
/// Shows the dialog of secret `typed.id` again with the refusal above the form,
/// `fill` taking what the dialog shows of the stored secret (never its value).
async fn refused_dialog(
    state: &AppState,
    s: &Signed,
    at: &At,
    dialog: &'static str,
    mut typed: SecretForm,
    message: String,
    fill: impl FnOnce(&mut SecretForm, SecretRecord),
) -> Response {
    if let Ok(secret) = secret_for_dialog(state, s, at, typed.id).await {
        fill(&mut typed, secret);
    }
    typed.errors = vec![message];
    secrets_page(state, s, at, StatusCode::BAD_REQUEST, dialog, Some(typed)).await
}

async fn secret_for_dialog(
    state: &AppState,
    s: &Signed,
    at: &At,
    id: i32,
) -> Result<SecretRecord, ServiceError> {
    state
        .services
        .secrets
        .get(&s.0.caller(), at.secrets_ref(), SecretId(id))
        .await
}

pub async fn tab(
    State(state): State<AppState>,
    s: Signed,
    at: At,
    Query(q): Query<DialogQuery>,
) -> Response {
    let (dialog, form): (&'static str, Option<SecretForm>) = match (q.dialog.as_deref(), q.secret) {
        (Some("add"), _) => ("add", None),
        (Some(d @ ("edit" | "renew" | "delete" | "end-grace")), Some(id)) => {
            match secret_for_dialog(&state, &s, &at, id).await {
                Ok(secret) => {
                    let d = match d {
                        "edit" => "edit",
                        "renew" => "renew",
                        "end-grace" => "end-grace",
                        _ => "delete",
                    };
                    let mut f = SecretForm::for_secret(&secret);
                    f.notes = super::view::presentation_notes(&secret, state.services.now());
                    if d == "delete" {
                        f.expiration.clear();
                    }
                    (d, Some(f))
                }
                Err(e) => {
                    return failure(e, Layout::new(&s.0, "Edit Client", "clients"));
                }
            }
        }
        _ => ("", None),
    };
    let notice = match (q.done.as_deref(), q.reveal.as_deref()) {
        (Some("revoked"), _) => "Secret revoked: its value no longer gets tokens.",
        (_, Some("gone")) => "That secret value was already shown once; it is never shown again.",
        _ => "",
    };
    if q.saved.is_some() && dialog.is_empty() {
        let (mut card, _) = match client_card(&state, &s, &at).await {
            Ok(x) => x,
            Err(e) => return failure(e, Layout::new(&s.0, "Edit Client", "clients")),
        };
        card.notice = "Saved. New and renewed secrets follow these rules; existing secrets keep their expiration.".into();
        return secrets_page_with(&state, &s, &at, StatusCode::OK, "", None, Some(card), "").await;
    }
    secrets_page_with(&state, &s, &at, StatusCode::OK, dialog, form, None, notice).await
}

/// Saves the client's Secret settings (Use tenant rules, or its own policy).
pub async fn save_policy(
    State(state): State<AppState>,
    s: Signed,
    at: At,
    form: FormData,
) -> Response {
    match save_client_policy(&state, &s, &at, &form).await {
        Ok(()) => see_other(&format!("{}/secrets?saved=1", at.base())),
        Err(Ok(card)) => {
            secrets_page_with(
                &state,
                &s,
                &at,
                StatusCode::BAD_REQUEST,
                "",
                None,
                Some(card),
                "",
            )
            .await
        }
        Err(Err(e)) => failure(e, Layout::new(&s.0, "Edit Client", "clients")),
    }
}

fn shown(heading: String, secret: &SecretRecord, value: &str, at: &At) -> ShownOnce {
    ShownOnce {
        heading,
        value: zeroize::Zeroizing::new(value.to_owned()),
        description: secret.description.clone(),
        expiration: secret.expiration.map(ddmmyyyy).unwrap_or_default(),
        expiration_iso: secret
            .expiration
            .map(|e| e.to_rfc3339())
            .unwrap_or_default(),
        continue_href: format!("{}/secrets", at.base()),
    }
}

/// The form's Value, as typed, checked into a redacting [`SecretValue`] here at
/// the edge (`None` when empty); a refusal is the sentence for the error box.
fn supplied_value(form: &FormData) -> Result<Option<SecretValue>, String> {
    let raw = zeroize::Zeroizing::new(form.raw("value"));
    if raw.is_empty() {
        return Ok(None);
    }
    SecretValue::supplied(&raw)
        .map(Some)
        .map_err(|e| service_message(&ServiceError::Invalid(e)))
}

pub async fn add(State(state): State<AppState>, s: Signed, at: At, form: FormData) -> Response {
    let mut typed = SecretForm::from_form(&form);
    let value = supplied_value(&form);
    let empty = typed.description.is_empty()
        && typed.expiration.is_empty()
        && !typed.never
        && matches!(value, Ok(None));
    let outcome = if empty {
        Err(
            "The form is empty: enter at least a Description (Expiration and Value are optional)."
                .to_owned(),
        )
    } else if typed.description.is_empty() {
        Err("Description: enter a description, so that you can recognise this secret.".into())
    } else {
        match (expiry_from_form(&form, None), value) {
            (Err(message), _) | (_, Err(message)) => Err(message),
            (Ok(expiry), Ok(value)) => {
                let req = NewSecretRequest {
                    description: Some(typed.description.clone()),
                    expiry,
                    value,
                };
                state
                    .services
                    .secrets
                    .add(&s.0.caller(), at.secrets_ref(), req)
                    .await
                    .map_err(|e| service_message(&e))
            }
        }
    };
    match outcome {
        Ok((secret, value)) => {
            let heading = "Secret added".to_owned();
            redirect_to_shown(
                &state,
                &s,
                &at.tenant,
                shown(heading, &secret, value.expose(), &at),
            )
            .await
        }
        Err(message) => {
            typed.errors = vec![message];
            secrets_page(&state, &s, &at, StatusCode::BAD_REQUEST, "add", Some(typed)).await
        }
    }
}

pub async fn edit(
    State(state): State<AppState>,
    s: Signed,
    at: At,
    Path(SecretPath { id }): Path<SecretPath>,
    form: FormData,
) -> Response {
    let mut typed = SecretForm::from_form(&form);
    typed.id = id;
    let value = supplied_value(&form);
    let original = (typed.expiration_original.clone(), typed.never_original);
    let outcome = match (
        expiry_from_form(&form, Some((&original.0, original.1))),
        value,
    ) {
        (Err(message), _) | (_, Err(message)) => Err(message),
        (Ok(expiry), Ok(value)) => {
            let patch = SecretPatch {
                description: Some(typed.description.clone()),
                expiry,
                value,
            };
            state
                .services
                .secrets
                .update(&s.0.caller(), at.secrets_ref(), SecretId(id), patch)
                .await
                .map_err(|e| service_message(&e))
        }
    };
    match outcome {
        Ok(_) => see_other(&format!("{}/secrets", at.base())),
        Err(message) => {
            let fill = |typed: &mut SecretForm, secret: SecretRecord| typed.hint = secret.hint;
            refused_dialog(&state, &s, &at, "edit", typed, message, fill).await
        }
    }
}

pub async fn renew(
    State(state): State<AppState>,
    s: Signed,
    at: At,
    Path(SecretPath { id }): Path<SecretPath>,
    form: FormData,
) -> Response {
    let mut typed = SecretForm::from_form(&form);
    typed.id = id;
    let max_hours = grace_hours_max(&state);
    let grace = grace_seconds(&typed.grace_hours, max_hours);
    let outcome = match grace {
        Err(message) => Err(message),
        Ok(grace_period_seconds) => {
            let req = RenewRequest {
                expiry: ExpiryRequest::default(),
                grace_period_seconds,
            };
            state
                .services
                .secrets
                .renew(&s.0.caller(), at.secrets_ref(), SecretId(id), req)
                .await
                .map_err(|e| match e {
                    // The service counts seconds; the dialog speaks hours.
                    ServiceError::Invalid(v) if v.field == "GracePeriodSeconds" => {
                        grace_refusal(max_hours)
                    }
                    e => service_message(&e),
                })
        }
    };
    match outcome {
        Ok((secret, value)) => {
            let heading = "Secret renewed".to_owned();
            redirect_to_shown(
                &state,
                &s,
                &at.tenant,
                shown(heading, &secret, value.expose(), &at),
            )
            .await
        }
        Err(message) => {
            let fill = |typed: &mut SecretForm, secret: SecretRecord| {
                typed.description = secret.description
            };
            refused_dialog(&state, &s, &at, "renew", typed, message, fill).await
        }
    }
}

/// Ends a running grace: the value replaced by the last Renew stops working now.
pub async fn end_grace(
    State(state): State<AppState>,
    s: Signed,
    at: At,
    Path(SecretPath { id }): Path<SecretPath>,
    _form: FormData,
) -> Response {
    match state
        .services
        .secrets
        .end_grace(&s.0.caller(), at.secrets_ref(), SecretId(id))
        .await
    {
        Ok(_) => see_other(&format!("{}/secrets", at.base())),
        Err(e) => failure(e, Layout::new(&s.0, "Edit Client", "clients")),
    }
}

/// Revokes a secret once the user typed its description or `revoke` (any case).
pub async fn delete(
    State(state): State<AppState>,
    s: Signed,
    at: At,
    Path(SecretPath { id }): Path<SecretPath>,
    form: FormData,
) -> Response {
    let secret = match secret_for_dialog(&state, &s, &at, id).await {
        Ok(secret) => secret,
        Err(e) => return failure(e, Layout::new(&s.0, "Edit Client", "clients")),
    };
    let typed = form.text("confirmation");
    let confirmed = confirms(&typed, &secret.description);
    if !confirmed {
        let mut f = SecretForm::for_secret(&secret);
        f.expiration.clear();
        f.confirmation = typed;
        f.errors = vec![format!(
            "The text you typed is neither the secret's description nor the word revoke. \
             The secret was not revoked."
        )];
        return secrets_page(&state, &s, &at, StatusCode::BAD_REQUEST, "delete", Some(f)).await;
    }
    match state
        .services
        .secrets
        .revoke(&s.0.caller(), at.secrets_ref(), SecretId(id))
        .await
    {
        Ok(()) => see_other(&format!("{}/secrets?done=revoked", at.base())),
        Err(e) => failure(e, Layout::new(&s.0, "Edit Client", "clients")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoke_is_confirmed_by_the_word_in_any_case_or_the_exact_name() {
        for (typed, name, ok) in [
            ("revoke", "billing", true),
            ("REVOKE", "billing", true),
            ("Revoke ", "billing", true),
            ("billing", "billing", true),
            ("Billing", "billing", false),
            ("", "", false),
            ("revok", "billing", false),
            ("delete", "billing", false),
        ] {
            assert_eq!(confirms(typed, name), ok, "{typed:?} for {name:?}");
        }
    }

    #[test]
    fn the_value_field_is_checked_at_the_edge_and_never_echoed() {
        let parse = |body: &[u8]| supplied_value(&FormData::parse(body));
        assert!(matches!(parse(b"value="), Ok(None)));
        assert!(matches!(parse(b"description=x"), Ok(None)));
        let good = parse(b"value=a+value+of+my+own+long+enough+to+pass+1234");
        assert!(
            matches!(&good, Ok(Some(v)) if v.expose() == "a value of my own long enough to pass 1234")
        );
        let refused = parse(b"value=short+1234");
        assert!(
            matches!(&refused, Err(m) if m.starts_with("Value:") && !m.contains("1234")),
            "{refused:?}"
        );
    }
}
