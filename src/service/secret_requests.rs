//! What callers ask of secrets (a new secret, a change, a Renew, a list query),
//! and the preparation of a new secret that adding a secret and creating a
//! client share: its expiration rules, its validation and its hash.

use chrono::{DateTime, Duration, Utc};

use super::{Context, ServiceError};
use crate::domain::ValidationError;
use crate::domain::client::validate_description;
use crate::domain::expiry::{self, ExpiryRequest, ExpiryRules};
use crate::domain::policy::{ClientPolicy, effective_rules};
use crate::domain::secret_value::SecretValue;
use crate::storage::{NewSecret, SecretFilter, SecretStatusFilter, TenantRecord};

/// A secret to add: everything optional (the expiry rules decide the expiration).
#[derive(Debug, Clone, Default)]
pub struct NewSecretRequest {
    pub description: Option<String>,
    pub expiry: ExpiryRequest,
    /// A supplied value, checked by [`SecretValue::supplied`] where it entered
    /// (HTTP, console); generated when `None`.
    pub value: Option<SecretValue>,
}

/// Changes to a secret: `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct SecretPatch {
    pub description: Option<String>,
    pub expiry: ExpiryRequest,
    /// A new supplied value (checked by [`SecretValue::supplied`]): the old one
    /// stops working at once.
    pub value: Option<SecretValue>,
}

/// A Renew: a new generated value, the expiration from policy unless given, and
/// optionally a grace period for the old value.
#[derive(Debug, Clone, Default)]
pub struct RenewRequest {
    pub expiry: ExpiryRequest,
    pub grace_period_seconds: Option<u64>,
}

/// Which secrets a list shows, as a caller asks for it (days count back or
/// ahead from now).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretQuery {
    pub status: Option<SecretStatusFilter>,
    pub never_used: bool,
    pub unused_for_days: Option<u32>,
    pub expiring_within_days: Option<u32>,
    /// Text the description contains (case-insensitive).
    pub text: Option<String>,
    /// Only secrets a former value of which was refused at or after this instant.
    pub refused_since: Option<DateTime<Utc>>,
}

impl SecretQuery {
    pub(crate) fn at(self, now: DateTime<Utc>) -> SecretFilter {
        let days = |n: u32| Duration::days(i64::from(n));
        SecretFilter {
            status: self.status,
            never_used: self.never_used,
            unused_since: self.unused_for_days.map(|n| now - days(n)),
            expiring_before: self.expiring_within_days.map(|n| now + days(n)),
            text: self.text,
            refused_since: self.refused_since,
            now: Some(now),
        }
    }
}

/// The grace period a Renew asks for, bounded by `secrets.maxGracePeriod`.
pub(crate) fn grace_period(
    seconds: Option<u64>,
    max: std::time::Duration,
) -> Result<Option<Duration>, ValidationError> {
    match seconds {
        None | Some(0) => Ok(None),
        Some(s) if s > max.as_secs() => Err(ValidationError::new(
            "GracePeriodSeconds",
            format!(
                "must be at most {} seconds (secrets.maxGracePeriod)",
                max.as_secs()
            ),
        )),
        Some(s) => Ok(Some(Duration::seconds(
            i64::try_from(s).unwrap_or(i64::MAX),
        ))),
    }
}

/// The rules a secret created or renewed at `now` follows: the client's policy,
/// the tenant's, or the configured default, and the tenant's maximum lifetime.
pub(crate) fn expiry_rules(
    ctx: &Context,
    tenant: &TenantRecord,
    client: &ClientPolicy,
    now: DateTime<Utc>,
) -> ExpiryRules {
    effective_rules(ctx.limits.default_expiry, &tenant.policy, client, now)
}

/// Validates a new secret and hashes its value (shared by add and client creation).
pub(crate) async fn prepare_secret(
    ctx: &Context,
    req: NewSecretRequest,
    salt: &[u8],
    rules: ExpiryRules,
    now: DateTime<Utc>,
) -> Result<(NewSecret, SecretValue), ServiceError> {
    let description = req.description.unwrap_or_default();
    validate_description("Description", &description)?;
    let expiration = expiry::resolve(req.expiry, rules, now)?;
    let value = match req.value {
        Some(v) => v,
        None => SecretValue::generate()?,
    };
    let hash = ctx.hasher.hash_for_storage(&value, salt).await?;
    let new = NewSecret {
        description,
        expiration,
        hint: value.hint(),
        hash,
        created_at: now,
    };
    Ok((new, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_of_requests_never_shows_a_supplied_value() {
        let raw = "a supplied value that must never be printed 1234";
        let value = || Some(SecretValue::supplied(raw).unwrap_or_else(|e| panic!("{e}")));
        let add = NewSecretRequest {
            value: value(),
            ..NewSecretRequest::default()
        };
        let patch = SecretPatch {
            value: value(),
            ..SecretPatch::default()
        };
        for shown in [
            format!("{add:?}"),
            format!("{patch:?}"),
            format!("{add:#?}"),
        ] {
            assert!(!shown.contains(raw), "{shown}");
            assert!(!shown.contains("1234"), "{shown}");
        }
    }

    #[test]
    fn grace_periods_are_bounded_by_configuration() {
        let max = std::time::Duration::from_secs(100);
        assert_eq!(grace_period(None, max), Ok(None));
        assert_eq!(grace_period(Some(0), max), Ok(None));
        assert_eq!(
            grace_period(Some(100), max),
            Ok(Some(Duration::seconds(100)))
        );
        assert_eq!(
            grace_period(Some(101), max).unwrap_err().field,
            "GracePeriodSeconds"
        );
    }
}
