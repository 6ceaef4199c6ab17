//! Secret policies: the tenant's rule for how long new and renewed
//! secrets live, with an optional maximum lifetime and whether its clients may
//! renew their own secrets (self-rotation, off by default), and a client's choice
//! to keep the tenant's rules or set its own (including `NONE`: never expires).
//!
//! [`effective_rules`] turns them into the [`ExpiryRules`] that
//! [`super::expiry::resolve`] applies. Changing a policy never touches existing
//! secrets: policies are read only when a secret is created or renewed.

use chrono::{DateTime, Utc};

use super::ValidationError;
use super::expiry::{ExpiryPolicy, ExpiryRules, ExpiryUnit};

/// A tenant's secret policy. `default` `None` means the configured default
/// (`secrets.defaultExpiry`), which a tenant keeps until it sets its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TenantPolicy {
    pub default: Option<ExpiryPolicy>,
    /// The longest a secret may live, counted from creation or renewal.
    pub max_lifetime: Option<ExpiryPolicy>,
    /// Clients that allow it themselves may renew their own secret with a token
    /// that secret's value issued (see [`super::self_rotation`]).
    pub allow_self_rotation: bool,
}

/// A change to a tenant's policy: each part `None` stays as it is, so changing the
/// default rule keeps the maximum lifetime and the self-rotation switch, and the
/// other way round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TenantPolicyChange {
    /// `Some(None)`: back to the configured default.
    pub default: Option<Option<ExpiryPolicy>>,
    /// `Some(None)`: no maximum.
    pub max_lifetime: Option<Option<ExpiryPolicy>>,
    pub allow_self_rotation: Option<bool>,
}

impl TenantPolicyChange {
    /// The change that sets every part to `policy`'s.
    pub fn whole(policy: TenantPolicy) -> Self {
        Self {
            default: Some(policy.default),
            max_lifetime: Some(policy.max_lifetime),
            allow_self_rotation: Some(policy.allow_self_rotation),
        }
    }

    /// `policy` with this change made.
    pub fn apply(&self, policy: TenantPolicy) -> TenantPolicy {
        TenantPolicy {
            default: self.default.unwrap_or(policy.default),
            max_lifetime: self.max_lifetime.unwrap_or(policy.max_lifetime),
            allow_self_rotation: self
                .allow_self_rotation
                .unwrap_or(policy.allow_self_rotation),
        }
    }

    /// Checks the expiry rules it sets (see [`validate_tenant_policy`]).
    pub fn validate(&self) -> Result<(), ValidationError> {
        validate_tenant_policy(&self.apply(TenantPolicy::default()))
    }
}

/// A client's secret policy: the tenant's rules (`None`) or its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientPolicy {
    pub own: Option<ExpiryPolicy>,
}

impl ClientPolicy {
    pub fn uses_tenant_rules(&self) -> bool {
        self.own.is_none()
    }
}

/// Reads a policy from its wire parts: a unit name and a duration (ignored for
/// NONE). Errors name `unit_field` or `duration_field`.
pub fn parse_policy(
    unit: &str,
    duration: Option<u32>,
    unit_field: &'static str,
    duration_field: &'static str,
) -> Result<ExpiryPolicy, ValidationError> {
    let unit = ExpiryUnit::parse(unit.trim()).ok_or_else(|| {
        ValidationError::new(
            unit_field,
            "must be one of NONE, DAYS, WEEKS, MONTHS, YEARS",
        )
    })?;
    if unit == ExpiryUnit::None {
        return Ok(ExpiryPolicy::NEVER);
    }
    let duration = duration.ok_or_else(|| {
        ValidationError::new(duration_field, "is required unless the unit is NONE")
    })?;
    ExpiryPolicy::new(unit, duration).map_err(|reason| ValidationError::new(duration_field, reason))
}

/// Checks a tenant policy: a maximum lifetime must itself be a real duration.
pub fn validate_tenant_policy(policy: &TenantPolicy) -> Result<(), ValidationError> {
    if policy
        .max_lifetime
        .is_some_and(|max| max.unit() == ExpiryUnit::None)
    {
        return Err(ValidationError::new(
            "MaximumLifetime",
            "must be a duration (omit it or send null for no maximum)",
        ));
    }
    Ok(())
}

/// The rule a new secret actually follows under a tenant's maximum lifetime:
/// `policy`, or the maximum when the policy would give a later expiration (or
/// none) — with `true` when the maximum caps it.
pub fn capped(
    policy: ExpiryPolicy,
    max_lifetime: Option<ExpiryPolicy>,
    now: DateTime<Utc>,
) -> (ExpiryPolicy, bool) {
    let Some(max) = max_lifetime else {
        return (policy, false);
    };
    match (policy.expiration_from(now), max.expiration_from(now)) {
        (Some(own), Some(latest)) if own <= latest => (policy, false),
        (_, Some(_)) => (max, true),
        (_, None) => (policy, false),
    }
}

/// The rules for a secret created or renewed at `now`: the client's own policy,
/// else the tenant's, else the configured default; plus the tenant's maximum
/// lifetime, which also caps an expiration taken from a policy.
pub fn effective_rules(
    configured_default: ExpiryPolicy,
    tenant: &TenantPolicy,
    client: &ClientPolicy,
    now: DateTime<Utc>,
) -> ExpiryRules {
    let policy = client.own.or(tenant.default).unwrap_or(configured_default);
    let max_lifetime = tenant
        .max_lifetime
        .and_then(|max| max.expiration_from(now))
        .map(|latest| latest - now);
    ExpiryRules {
        policy,
        max_lifetime,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
    }

    fn days(n: u32) -> ExpiryPolicy {
        ExpiryPolicy::new(ExpiryUnit::Days, n).unwrap()
    }

    #[test]
    fn the_client_policy_wins_over_the_tenant_and_the_tenant_over_the_default() {
        let tenant = TenantPolicy {
            default: Some(days(30)),
            ..TenantPolicy::default()
        };
        let own = ClientPolicy { own: Some(days(7)) };
        let inherit = ClientPolicy::default();
        let year = ExpiryPolicy::ONE_YEAR;
        assert_eq!(effective_rules(year, &tenant, &own, now()).policy, days(7));
        assert_eq!(
            effective_rules(year, &tenant, &inherit, now()).policy,
            days(30)
        );
        let plain = TenantPolicy::default();
        assert_eq!(effective_rules(year, &plain, &inherit, now()).policy, year);
    }

    #[test]
    fn a_client_may_choose_never_expiring_secrets() {
        let own = ClientPolicy {
            own: Some(ExpiryPolicy::NEVER),
        };
        let rules = effective_rules(
            ExpiryPolicy::ONE_YEAR,
            &TenantPolicy {
                default: Some(days(30)),
                ..TenantPolicy::default()
            },
            &own,
            now(),
        );
        assert_eq!(rules.policy.expiration_from(now()), None);
    }

    #[test]
    fn the_maximum_lifetime_counts_calendar_units_from_now() {
        let tenant = TenantPolicy {
            max_lifetime: Some(ExpiryPolicy::new(ExpiryUnit::Months, 1).unwrap()),
            ..TenantPolicy::default()
        };
        let rules = effective_rules(days(1), &tenant, &ClientPolicy::default(), now());
        // March has 31 days.
        assert_eq!(rules.max_lifetime, Some(Duration::days(31)));
    }

    #[test]
    fn policies_parse_from_wire_parts_and_name_the_bad_field() {
        assert_eq!(
            parse_policy("days", Some(90), "Unit", "Duration"),
            Ok(days(90))
        );
        assert_eq!(
            parse_policy("NONE", None, "Unit", "Duration"),
            Ok(ExpiryPolicy::NEVER)
        );
        assert_eq!(
            parse_policy("FORTNIGHTS", Some(1), "Unit", "Duration")
                .unwrap_err()
                .field,
            "Unit"
        );
        assert_eq!(
            parse_policy("DAYS", Some(0), "Unit", "Duration")
                .unwrap_err()
                .field,
            "Duration"
        );
        assert_eq!(
            parse_policy("YEARS", Some(101), "Unit", "Duration")
                .unwrap_err()
                .field,
            "Duration"
        );
        assert_eq!(
            parse_policy("DAYS", None, "Unit", "Duration")
                .unwrap_err()
                .field,
            "Duration"
        );
    }

    #[test]
    fn a_maximum_lifetime_of_none_is_refused() {
        let policy = TenantPolicy {
            max_lifetime: Some(ExpiryPolicy::NEVER),
            ..TenantPolicy::default()
        };
        assert_eq!(
            validate_tenant_policy(&policy).unwrap_err().field,
            "MaximumLifetime"
        );
    }

    #[test]
    fn a_policy_change_keeps_the_parts_it_does_not_name() {
        let before = TenantPolicy {
            default: Some(days(30)),
            max_lifetime: Some(days(90)),
            allow_self_rotation: true,
        };
        let switch_only = TenantPolicyChange {
            allow_self_rotation: Some(false),
            ..TenantPolicyChange::default()
        };
        assert_eq!(
            switch_only.apply(before),
            TenantPolicy {
                allow_self_rotation: false,
                ..before
            }
        );
        let default_only = TenantPolicyChange {
            default: Some(None),
            ..TenantPolicyChange::default()
        };
        assert_eq!(
            default_only.apply(before),
            TenantPolicy {
                default: None,
                ..before
            },
            "the maximum lifetime stays when only the default rule changes"
        );
        let no_maximum = TenantPolicyChange {
            max_lifetime: Some(None),
            ..TenantPolicyChange::default()
        };
        assert_eq!(
            no_maximum.apply(before),
            TenantPolicy {
                max_lifetime: None,
                ..before
            }
        );
        assert_eq!(TenantPolicyChange::default().apply(before), before);
        let never_max = TenantPolicyChange {
            max_lifetime: Some(Some(ExpiryPolicy::NEVER)),
            ..TenantPolicyChange::default()
        };
        assert_eq!(never_max.validate().unwrap_err().field, "MaximumLifetime");
    }

    #[test]
    fn a_maximum_lifetime_caps_longer_and_endless_rules() {
        let month = ExpiryPolicy::new(ExpiryUnit::Months, 1).unwrap();
        let week = ExpiryPolicy::new(ExpiryUnit::Weeks, 1).unwrap();
        assert_eq!(
            capped(ExpiryPolicy::NEVER, Some(month), now()),
            (month, true)
        );
        assert_eq!(
            capped(ExpiryPolicy::ONE_YEAR, Some(month), now()),
            (month, true)
        );
        assert_eq!(capped(week, Some(month), now()), (week, false));
        assert_eq!(
            capped(ExpiryPolicy::NEVER, None, now()),
            (ExpiryPolicy::NEVER, false)
        );
    }
}
