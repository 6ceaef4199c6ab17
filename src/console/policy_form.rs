//! Expiry policies as the forms show them (a unit and a duration), and a
//! client's Secret settings card on the Secrets tab ("Use tenant rules", or its
//! own policy, `NONE` included), read and saved through `services.policies`.

use super::extract::At;
use super::form::FormData;
use super::session::Signed;
use super::view::service_message;
use crate::domain::expiry::{ExpiryPolicy, ExpiryUnit};
use crate::domain::policy::{ClientPolicy, parse_policy};
use crate::service::ServiceError;
use crate::web::AppState;

/// The units a policy may have, as the forms offer them.
pub const UNITS: [(&str, &str); 5] = [
    ("NONE", "Never expires (NONE)"),
    ("DAYS", "Days"),
    ("WEEKS", "Weeks"),
    ("MONTHS", "Months"),
    ("YEARS", "Years"),
];

/// A policy as a form shows it: a unit and a duration.
#[derive(Debug, Clone, Default)]
pub struct PolicyFields {
    pub unit: String,
    pub duration: String,
}

impl PolicyFields {
    pub fn of(p: Option<ExpiryPolicy>) -> Self {
        match p {
            None => Self::default(),
            Some(p) if p.unit() == ExpiryUnit::None => Self {
                unit: "NONE".into(),
                duration: String::new(),
            },
            Some(p) => Self {
                unit: p.unit().as_str().into(),
                duration: p.duration().to_string(),
            },
        }
    }

    pub fn from_form(form: &FormData, prefix: &str) -> Self {
        Self {
            unit: form.text(&format!("{prefix}_unit")),
            duration: form.text(&format!("{prefix}_duration")),
        }
    }

    /// The policy, or a sentence for the error box.
    pub fn parse(
        &self,
        unit_label: &'static str,
        duration_label: &'static str,
    ) -> Result<ExpiryPolicy, String> {
        let duration = match self.duration.as_str() {
            "" => None,
            d => Some(
                d.parse::<u32>()
                    .map_err(|_| format!("{duration_label}: enter a whole number"))?,
            ),
        };
        parse_policy(&self.unit, duration, unit_label, duration_label)
            .map_err(|e| format!("{}: {}", e.field, e.reason))
    }
}

/// How a policy reads in a sentence ("1 year", "30 days", "never").
pub fn describe(p: ExpiryPolicy) -> String {
    let n = p.duration();
    let unit = match p.unit() {
        ExpiryUnit::None => return "never expire".into(),
        ExpiryUnit::Days => "day",
        ExpiryUnit::Weeks => "week",
        ExpiryUnit::Months => "month",
        ExpiryUnit::Years => "year",
    };
    format!("expire after {n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// The client's Secret settings card on the Secrets tab.
#[derive(Debug, Clone, Default)]
pub struct ClientPolicyCard {
    pub use_tenant_rules: bool,
    pub own: PolicyFields,
    /// "New and renewed secrets expire after 1 year."
    pub effective: String,
    pub errors: Vec<String>,
    pub notice: String,
}

/// The card for `at`'s current policy, and the effective policy itself.
pub async fn client_card(
    state: &AppState,
    s: &Signed,
    at: &At,
) -> Result<(ClientPolicyCard, (ExpiryPolicy, bool)), ServiceError> {
    let view = state
        .services
        .policies
        .client(&s.0.caller(), at.secrets_ref())
        .await?;
    let card = ClientPolicyCard {
        use_tenant_rules: view.policy.uses_tenant_rules(),
        own: PolicyFields::of(view.policy.own),
        effective: format!(
            "New and renewed secrets of this client {}{}.",
            describe(view.effective),
            if view.capped {
                " (the tenant's maximum lifetime caps the rule)"
            } else {
                ""
            }
        ),
        errors: Vec::new(),
        notice: String::new(),
    };
    Ok((card, (view.effective, view.capped)))
}

/// Saves the client's Secret settings; on bad input, the card with the error.
pub async fn save_client_policy(
    state: &AppState,
    s: &Signed,
    at: &At,
    form: &FormData,
) -> Result<(), Result<ClientPolicyCard, ServiceError>> {
    let use_tenant = form.checked("use_tenant_rules");
    let fields = PolicyFields::from_form(form, "own");
    let own = if use_tenant {
        Ok(None)
    } else {
        fields.parse("Unit", "Duration").map(Some)
    };
    let failed = |errors: Vec<String>| ClientPolicyCard {
        use_tenant_rules: use_tenant,
        own: fields.clone(),
        effective: String::new(),
        errors,
        notice: String::new(),
    };
    let own = own.map_err(|message| Ok(failed(vec![message])))?;
    state
        .services
        .policies
        .set_client(&s.0.caller(), at.secrets_ref(), Some(ClientPolicy { own }))
        .await
        .map(|_| ())
        .map_err(|e| match e {
            ServiceError::Invalid(_) => Ok(failed(vec![service_message(&e)])),
            e => Err(e),
        })
}
