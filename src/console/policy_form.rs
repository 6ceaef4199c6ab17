//! Expiry policies as the forms show them (a unit and a duration), and a
//! client's Secret settings card on the Secrets tab ("Use tenant rules", or its
//! own policy, `NONE` included), read and saved through `services.policies`,
//! with the rule a Renew applies as the Renew dialog names it (resolved by
//! `domain::expiry`, never re-stated here).

use super::extract::At;
use super::form::FormData;
use super::session::Signed;
use super::view::{date_utc, first_field_in_error, service_message};
use crate::domain::expiry::{self, ExpiryPolicy, ExpiryRequest, ExpiryRules, ExpiryUnit};
use crate::domain::policy::{ClientPolicy, parse_policy};
use crate::service::ServiceError;
use crate::web::AppState;
use chrono::{DateTime, Utc};

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
        // NONE takes no duration: one typed anyway (sent where script is off) is ignored.
        let none = self.unit.trim().eq_ignore_ascii_case("NONE");
        let duration = match self.duration.as_str() {
            _ if none => None,
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

/// How a policy reads in a sentence ("expire after 1 year", "never expire").
pub fn describe(p: ExpiryPolicy) -> String {
    match span(p) {
        Some(span) => format!("expire after {span}"),
        None => "never expire".into(),
    }
}

/// A policy's length ("1 year", "30 days"); `None` for NONE.
pub fn span(p: ExpiryPolicy) -> Option<String> {
    let n = p.duration();
    let unit = match p.unit() {
        ExpiryUnit::None => return None,
        ExpiryUnit::Days => "day",
        ExpiryUnit::Weeks => "week",
        ExpiryUnit::Months => "month",
        ExpiryUnit::Years => "year",
    };
    Some(format!("{n} {unit}{}", if n == 1 { "" } else { "s" }))
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
    /// What a Renew now follows (none on a card re-rendered from a refused form).
    pub renewal_rules: Option<RenewalRules>,
    /// The longest grace period a Renew may keep the old value working, in hours.
    pub max_grace_hours: u64,
}

/// The rules a secret renewed at `now` is resolved against, and the rule in
/// force as the services state it (`effective`, the maximum when `capped`).
#[derive(Debug, Clone, Copy)]
pub struct RenewalRules {
    pub rules: ExpiryRules,
    pub effective: ExpiryPolicy,
    pub capped: bool,
    pub now: DateTime<Utc>,
}

impl ClientPolicyCard {
    /// Which of the own rule's fields (`unit`, `duration`) the first error is
    /// about, to take the focus; empty when none.
    pub fn focus(&self) -> &'static str {
        first_field_in_error(&self.errors, &[("Unit", "unit"), ("Duration", "duration")])
            .unwrap_or_default()
    }

    /// What a Renew without a date gives a secret (`never`: one that never
    /// expires) and which rule decides it, for the Renew dialog.
    pub fn renewal(&self, secret: &super::secret_form::SecretForm) -> String {
        let never = secret.never_original;
        let Some(RenewalRules {
            rules,
            effective,
            capped,
            now,
        }) = self.renewal_rules
        else {
            return String::new();
        };
        let whose = if self.use_tenant_rules {
            "the tenant's rule"
        } else {
            "this client's own rule"
        };
        // `renewal` only asks whether the secret expires now, not when.
        let current = (!never).then_some(now);
        let asked = expiry::renewal(ExpiryRequest::default(), current, &rules);
        let rule = format!("{whose} (secrets {})", describe(rules.policy));
        let cap = match span(effective) {
            Some(max) if capped => format!(", capped by the tenant's maximum lifetime of {max}"),
            _ => String::new(),
        };
        match expiry::resolve(asked, rules, now) {
            Ok(Some(at)) => format!("The new expiration follows {rule}{cap}: {}.", date_utc(at)),
            Ok(None) if never => format!(
                "This secret never expires, and a Renew keeps it so ({whose}: new secrets {}).",
                describe(rules.policy)
            ),
            Ok(None) => format!("The new value follows {rule}: it never expires."),
            Err(e) => format!("{}: {}", e.field, e.reason),
        }
    }
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
    // Unticking "Use tenant rules" starts from the rule in force.
    let card = ClientPolicyCard {
        use_tenant_rules: view.policy.uses_tenant_rules(),
        own: PolicyFields::of(Some(view.policy.own.unwrap_or(view.effective))),
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
        renewal_rules: Some(RenewalRules {
            rules: view.rules,
            effective: view.effective,
            capped: view.capped,
            now: state.services.now(),
        }),
        max_grace_hours: super::secret_form::grace_hours_max(state),
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
        renewal_rules: None,
        max_grace_hours: super::secret_form::grace_hours_max(state),
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
