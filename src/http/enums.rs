//! The closed sets of words the management API sends and accepts (expiry units,
//! statuses, event types, client kinds, states), as enum schemas for the OpenAPI
//! document. The request and response types keep plain strings for these fields
//! (their JSON does not change); they point their schema here with
//! `#[schema(value_type = …)]`. The tests below tie each set to the rules that
//! produce or accept its words, so the document cannot drift from the server.

#![allow(dead_code, reason = "schema-only types: never built, only described")]

use serde::Serialize;
use utoipa::ToSchema;

/// The unit of a secret lifetime: `NONE` (never expires) or a calendar unit
/// (the server also accepts lower case and singular forms).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Unit {
    None,
    Days,
    Weeks,
    Months,
    Years,
}

/// How many units a lifetime lasts: at most 100 years' worth (36500 days, 5214
/// weeks, 1200 months or 100 years).
pub const DURATION_MAX: u32 = 36500;

/// The kind of client, as its routes spell it.
#[derive(Serialize, ToSchema)]
pub enum ClientType {
    ClientCredentialClients,
    HybridClients,
}

/// A built-in role a client's tokens may carry.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RoleId {
    TenantAdministrator,
    AccountAdministrator,
    TenantMember,
    TenantAuditor,
}

/// What happened to a secret: the type of a webhook event.
#[derive(Serialize, ToSchema)]
pub enum EventType {
    #[serde(rename = "secret.created")]
    Created,
    #[serde(rename = "secret.updated")]
    Updated,
    #[serde(rename = "secret.renewed")]
    Renewed,
    #[serde(rename = "secret.revoked")]
    Revoked,
    #[serde(rename = "secret.expiring")]
    Expiring,
    #[serde(rename = "secret.expired")]
    Expired,
    #[serde(rename = "secret.leaked")]
    Leaked,
    #[serde(rename = "secret.refused-use")]
    RefusedUse,
}

/// The `status` filter of secret lists (case-insensitive).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SecretStatusFilter {
    Active,
    Expired,
    Leaked,
}

/// Who acted: the bootstrap token, a client's access token, a console user, or
/// the server itself.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ActorType {
    Platform,
    Client,
    User,
    System,
}

/// Whether an audited attempt was done or refused.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Refused,
}

/// Where a webhook delivery is: `failed` once its retries are spent.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    Pending,
    Delivered,
    Failed,
}

/// Where a token-signing key is in its lifecycle.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SigningKeyState {
    Next,
    Current,
    Retired,
    Removed,
    Revoked,
}

/// What happens to a secret whose value a scanner reports.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LeakAction {
    Revoke,
    Alert,
}

/// The verdict on a reported token.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LeakLabel {
    TruePositive,
    FalsePositive,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use utoipa::PartialSchema;

    use super::*;
    use crate::domain::audit::Outcome as DomainOutcome;
    use crate::domain::events::EventType as DomainEventType;
    use crate::domain::expiry::{ExpiryPolicy, ExpiryUnit};
    use crate::domain::ids::ClientKind;
    use crate::domain::leaks::{Label, LeakPolicy};
    use crate::domain::signing_keys::KeyState;
    use crate::storage::DeliveryState as StoredDeliveryState;

    /// The `enum` values of a schema, in order.
    fn values<T: PartialSchema>() -> Vec<String> {
        let schema = serde_json::to_value(T::schema()).unwrap();
        schema["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("not an enum: {schema}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn units_are_the_ones_the_policy_parser_accepts_in_its_spelling() {
        let units = values::<Unit>();
        assert_eq!(units, ["NONE", "DAYS", "WEEKS", "MONTHS", "YEARS"]);
        for unit in &units {
            let parsed = ExpiryUnit::parse(unit).unwrap();
            assert_eq!(parsed.as_str(), unit);
        }
    }

    #[test]
    fn the_longest_duration_is_100_years_of_days() {
        assert!(ExpiryPolicy::new(ExpiryUnit::Days, DURATION_MAX).is_ok());
        assert!(ExpiryPolicy::new(ExpiryUnit::Days, DURATION_MAX + 1).is_err());
        for unit in [ExpiryUnit::Weeks, ExpiryUnit::Months, ExpiryUnit::Years] {
            assert!(ExpiryPolicy::new(unit, DURATION_MAX).is_err(), "{unit:?}");
            assert!(ExpiryPolicy::new(unit, 1).is_ok(), "{unit:?}");
        }
        assert!(ExpiryPolicy::new(ExpiryUnit::Days, 0).is_err());
    }

    #[test]
    fn role_ids_are_the_built_in_roles() {
        assert_eq!(values::<RoleId>(), crate::domain::client::ROLE_IDS);
    }

    #[test]
    fn event_types_are_every_event_the_server_raises() {
        let all: Vec<&str> = DomainEventType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(values::<EventType>(), all);
    }

    #[test]
    fn client_types_are_the_route_segments() {
        let segments: Vec<&str> = [ClientKind::ClientCredentials, ClientKind::Hybrid]
            .iter()
            .map(|k| k.route_segment())
            .collect();
        assert_eq!(values::<ClientType>(), segments);
    }

    #[test]
    fn states_and_outcomes_match_what_responses_carry() {
        assert_eq!(
            values::<Outcome>(),
            [DomainOutcome::Success, DomainOutcome::Refused].map(|o| o.as_str())
        );
        assert_eq!(
            values::<DeliveryState>(),
            [
                StoredDeliveryState::Pending,
                StoredDeliveryState::Delivered,
                StoredDeliveryState::Failed
            ]
            .map(|s| s.as_str())
        );
        assert_eq!(
            values::<SigningKeyState>(),
            [
                KeyState::Next,
                KeyState::Current,
                KeyState::Retired,
                KeyState::Removed,
                KeyState::Revoked
            ]
            .map(|s| s.as_str())
        );
        assert_eq!(
            values::<LeakAction>(),
            [LeakPolicy::Revoke, LeakPolicy::Alert].map(|p| p.as_str())
        );
        let labels: Vec<String> = [Label::TruePositive, Label::FalsePositive]
            .iter()
            .map(|l| {
                serde_json::to_value(l)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(values::<LeakLabel>(), labels);
    }
}
