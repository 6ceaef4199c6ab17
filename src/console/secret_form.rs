//! The fields of the secret dialogs (Add, Edit, Renew, Delete), how a
//! dialog's Expiration and Never expires become an [`ExpiryRequest`] (as the
//! API reads `Expires` and `Expiration`), and which field a refusal is about.

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

/// The secret dialogs' fields, by the label their refusals start with.
const FIELDS: [(&str, &str); 8] = [
    ("The form is empty", "description"),
    ("Description", "description"),
    ("Expiration", "expiration"),
    ("Never expires", "never_expires"),
    ("Value", "value"),
    ("Grace period", "grace_hours"),
    ("The text you typed", "confirmation"),
    ("Confirmation", "confirmation"),
];

/// The longest grace period a Renew may ask for, in whole hours (the unit the
/// Renew dialog's field, hint and errors all speak).
pub fn grace_hours_max(state: &crate::web::AppState) -> u64 {
    state.services.secrets.max_grace_period().as_secs() / 3600
}

/// The Renew dialog's grace period, typed in hours, as the seconds the service
/// takes; a refusal speaks hours too.
pub fn grace_seconds(typed: &str, max_hours: u64) -> Result<Option<u64>, String> {
    match typed.trim() {
        "" => Ok(None),
        h => match h.parse::<u64>() {
            Ok(h) if h <= max_hours => Ok(Some(h * 3600)),
            _ => Err(grace_refusal(max_hours)),
        },
    }
}

/// Why a grace period was refused, in hours.
pub fn grace_refusal(max_hours: u64) -> String {
    format!("Grace period: enter a whole number of hours from 0 to {max_hours}, or leave it empty.")
}

impl SecretForm {
    /// Whether field `id` gets the focus when the dialog opens: the field the
    /// first error is about, else `default` (the dialog's first field or action).
    pub fn autofocus(&self, id: &str, default: &str) -> bool {
        match super::view::first_field_in_error(&self.errors, &FIELDS) {
            Some(field) => field == id,
            None => id == default,
        }
    }

    /// The field the first error is about, if any (for `aria-invalid`).
    pub fn invalid(&self, id: &str) -> bool {
        super::view::first_field_in_error(&self.errors, &FIELDS) == Some(id)
    }

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

/// The expiry a dialog asks for, as the API reads `Expires` and `Expiration`:
/// "Never expires" means never (the date, then disabled and not sent, is ignored);
/// a date means the end of that day in the viewer's zone; an empty date means
/// the default of the rules in force. For Edit, `original` is the (date, never) the
/// dialog opened with: unchanged means "keep", and an empty date keeps the current
/// expiration (a secret that never expired takes the rules' default), as a PUT
/// with `Expires: true` and no `Expiration`.
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
    if never {
        return Ok(ExpiryRequest {
            expires: Some(false),
            expiration: None,
        });
    }
    if text.is_empty() {
        return Ok(ExpiryRequest {
            expires: original.map(|_| true),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn expiry(body: &str, original: Option<(&str, bool)>) -> ExpiryRequest {
        expiry_from_form(&FormData::parse(body.as_bytes()), original).unwrap()
    }

    #[test]
    fn an_empty_date_means_the_rules_default_and_never_expires_wins() {
        let default = ExpiryRequest::default();
        let never = ExpiryRequest {
            expires: Some(false),
            expiration: None,
        };
        assert_eq!(
            expiry("expiration=", None),
            default,
            "Add: the policy's default"
        );
        assert_eq!(expiry("", None), default, "a disabled date is not sent");
        assert_eq!(expiry("never_expires=on", None), never);
        assert_eq!(
            expiry("never_expires=on&expiration=31%2F12%2F2030", None),
            never,
            "a date left beside Never expires is ignored"
        );
        let dated = expiry("expiration=31%2F12%2F2030", None);
        assert_eq!(dated.expires, Some(true));
        assert_eq!(
            dated.expiration.map(|e| e.to_rfc3339()).as_deref(),
            Some("2030-12-31T23:59:59+00:00")
        );
        // Edit: unchanged keeps; a cleared date keeps a date (or takes the default).
        let original = Some(("31/12/2030", false));
        assert_eq!(expiry("expiration=31%2F12%2F2030", original), default);
        assert_eq!(
            expiry("expiration=", original),
            ExpiryRequest {
                expires: Some(true),
                expiration: None
            }
        );
    }

    #[test]
    fn grace_periods_are_typed_and_refused_in_hours() {
        assert_eq!(grace_seconds("", 168), Ok(None));
        assert_eq!(grace_seconds("0", 168), Ok(Some(0)));
        assert_eq!(grace_seconds("2", 168), Ok(Some(7200)));
        assert_eq!(grace_seconds("168", 168), Ok(Some(168 * 3600)));
        for bad in ["169", "1.5", "-1", "two", "99999999999999999999"] {
            let refused = grace_seconds(bad, 168).unwrap_err();
            assert_eq!(
                refused,
                "Grace period: enter a whole number of hours from 0 to 168, or leave it empty.",
                "{bad}"
            );
        }
    }

    #[test]
    fn the_focus_goes_to_the_field_the_first_error_is_about() {
        let mut f = SecretForm::default();
        assert!(f.autofocus("description", "description"));
        f.errors = vec!["Expiration: must be in the future".into()];
        assert!(f.autofocus("expiration", "description"));
        assert!(!f.autofocus("description", "description"));
        assert!(f.invalid("expiration") && !f.invalid("description"));
        f.errors = vec!["Never expires: secrets must expire".into()];
        assert!(f.autofocus("never_expires", "description"));
        f.errors = vec!["This client already has the maximum of 1 secrets.".into()];
        assert!(
            f.autofocus("description", "description"),
            "no field: the default"
        );
    }
}
