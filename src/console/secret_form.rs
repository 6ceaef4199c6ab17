//! The fields of the secret dialogs (Add, Edit, Renew, Delete) and how a
//! dialog's Expiration and Never expires become an [`ExpiryRequest`].

use super::form::{FormData, ddmmyyyy, end_of_day, parse_ddmmyyyy};
use chrono::{DateTime, Duration, Utc};

use crate::domain::expiry::{ExpiryPolicy, ExpiryRequest};
use crate::service::SecretRecord;

/// What a secret dialog shows in its fields (never a value).
#[derive(Debug, Clone, Default)]
pub struct SecretForm {
    pub id: i32,
    pub description: String,
    /// DD/MM/YYYY or empty.
    pub expiration: String,
    /// The expiration the Edit dialog opened with, to tell "unchanged" apart.
    pub expiration_original: String,
    /// RFC 3339 of the stored expiration (Edit), for the script to show it in the
    /// viewer's zone; empty otherwise.
    pub expiration_iso: String,
    pub never: bool,
    pub never_original: bool,
    /// The hint of the current value (Edit), never the value.
    pub hint: String,
    /// What the user typed in Delete's confirmation field.
    pub confirmation: String,
    pub grace_hours: String,
    pub errors: Vec<String>,
    /// Renew and Delete: [`super::view::presentation_notes`] of the secret.
    pub notes: Vec<String>,
}

/// The date the Add dialog proposes (DD/MM/YYYY, or `None`: never expires): the
/// effective rule's expiration; when a maximum lifetime caps the rule, two days
/// earlier, so that the end of that day in any time zone stays within the cap.
pub fn proposed_expiration(
    effective: ExpiryPolicy,
    capped: bool,
    now: DateTime<Utc>,
) -> Option<String> {
    let at = effective.expiration_from(now)?;
    let at = if capped { at - Duration::days(2) } else { at };
    Some(ddmmyyyy(at))
}

impl SecretForm {
    /// The Add dialog, pre-filled from the effective policy.
    pub fn for_add(default_expiration: Option<String>) -> Self {
        Self {
            never: default_expiration.is_none(),
            expiration: default_expiration.unwrap_or_default(),
            ..Self::default()
        }
    }

    pub fn for_secret(s: &SecretRecord) -> Self {
        let expiration = s.expiration.map(ddmmyyyy).unwrap_or_default();
        Self {
            id: s.id.0,
            description: s.description.clone(),
            expiration_original: expiration.clone(),
            expiration_iso: s.expiration.map(|e| e.to_rfc3339()).unwrap_or_default(),
            never: s.expiration.is_none(),
            never_original: s.expiration.is_none(),
            expiration,
            hint: s.hint.clone(),
            ..Self::default()
        }
    }

    /// The fields as typed (the value field is never echoed).
    pub fn from_form(form: &FormData) -> Self {
        Self {
            description: form.text("description"),
            expiration: form.text("expiration"),
            expiration_original: form.text("expiration_original"),
            never: form.checked("never_expires"),
            never_original: form.text("never_original") == "1",
            confirmation: form.text("confirmation"),
            grace_hours: form.text("grace_hours"),
            ..Self::default()
        }
    }
}

/// The expiry a dialog asks for: "Never expires", or an empty date,
/// means never; a date means the end of that day in the viewer's zone. For Edit,
/// `original` is the (date, never) the dialog opened with: unchanged means "keep".
pub fn expiry_from_form(
    form: &FormData,
    original: Option<(&str, bool)>,
) -> Result<ExpiryRequest, String> {
    let text = form.text("expiration");
    let never = form.checked("never_expires");
    if let Some((date, was_never)) = original
        && date == text
        && was_never == never
    {
        return Ok(ExpiryRequest::default());
    }
    if never || text.is_empty() {
        return Ok(ExpiryRequest {
            expires: Some(false),
            expiration: None,
        });
    }
    let day = parse_ddmmyyyy(&text).ok_or_else(|| {
        "Expiration: enter a date as DD/MM/YYYY, for example 31/12/2027.".to_owned()
    })?;
    let viewer = form.get("expiration_utc").filter(|v| !v.is_empty());
    Ok(ExpiryRequest {
        expires: Some(true),
        expiration: Some(end_of_day(day, viewer)),
    })
}
