//! `…/SecretPolicy` of a tenant and of a client: how long new and
//! renewed secrets live (a change never alters existing secrets), and whether a
//! tenant's clients may renew their own secrets.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::clients::ClientKindSegment;
use super::enums::Unit;
use super::extract::{Authenticated, BadName, JsonBody, Resource, canonical_names};
use super::patch::Patch;
use crate::domain::ValidationError;
use crate::domain::expiry::{ExpiryPolicy, ExpiryUnit};
use crate::domain::policy::{ClientPolicy, TenantPolicyChange, parse_policy};
use crate::service::policies::{ClientPolicyView, TenantPolicyView};
use crate::web::AppState;
use crate::web::error::{ApiError, ErrorResponse};

/// A unit and a duration: `NONE` (never expires) or 1–100 years' worth of
/// `DAYS`, `WEEKS`, `MONTHS` or `YEARS`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct Lifetime {
    #[schema(value_type = Unit, required = true)]
    pub unit: Option<String>,
    /// Required unless the unit is NONE.
    #[schema(required = true, minimum = 1, maximum = 36500)]
    pub duration: Option<u32>,
}

/// A nested object: its field names match case-insensitively too, as
/// [`JsonBody`] does for the top level.
impl<'de> Deserialize<'de> for Lifetime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;

        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Wire {
            unit: Option<String>,
            duration: Option<u32>,
        }
        let object = serde_json::Map::deserialize(d)?;
        let canonical = canonical_names(object, &["Unit", "Duration"]).map_err(|bad| {
            D::Error::custom(match bad {
                BadName::Repeated(name) => format!("{name} is given more than once"),
                BadName::Unknown(name, Some(near)) => {
                    format!("{name} is not a field of a lifetime; did you mean {near}?")
                }
                BadName::Unknown(name, None) => {
                    format!("{name} is not a field of a lifetime (Unit, Duration)")
                }
            })
        })?;
        let wire =
            Wire::deserialize(serde_json::Value::Object(canonical)).map_err(D::Error::custom)?;
        Ok(Self {
            unit: wire.unit,
            duration: wire.duration,
        })
    }
}

/// Changes to a tenant's secret policy. Each part stays as it is unless the body
/// names it: the default rule (`UsesConfiguredDefault`, or `Unit` with `Duration`),
/// `MaximumLifetime` (null: no maximum) and `AllowSelfRotation` (see README,
/// "Changing a resource: PUT").
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct TenantPolicyUpdate {
    /// True: follow the server's `secrets.defaultExpiry` again (Unit and Duration
    /// are then ignored). False: Unit (and Duration) are the tenant's own.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub uses_configured_default: Patch<bool>,
    /// The tenant's own default rule (any case).
    #[serde(default)]
    #[schema(value_type = Option<Unit>)]
    pub unit: Patch<String>,
    /// Required with a Unit other than NONE (at most 100 years' worth); null with NONE.
    #[serde(default)]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 36500)]
    pub duration: Patch<u32>,
    /// The longest any secret may live from its creation or renewal; null: no maximum.
    #[serde(default)]
    #[schema(value_type = Option<Lifetime>)]
    pub maximum_lifetime: Patch<Lifetime>,
    /// Clients may renew their own secrets (`…/Secrets/Self/Renew`) where their own
    /// `AllowSelfRotation` is true as well. Default false.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub allow_self_rotation: Patch<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct TenantSecretPolicy {
    #[schema(value_type = Unit)]
    pub unit: String,
    /// Null when the unit is NONE.
    #[schema(required = true, minimum = 1, maximum = 36500)]
    pub duration: Option<u32>,
    /// Null: no maximum.
    #[schema(required = true)]
    pub maximum_lifetime: Option<Lifetime>,
    /// True while the tenant follows the server's `secrets.defaultExpiry`.
    pub uses_configured_default: bool,
    /// Clients that allow it themselves may renew their own secrets.
    pub allow_self_rotation: bool,
}

/// Changes to a client's secret policy: the tenant's rules, or its own. An empty
/// body keeps the policy as it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct ClientPolicyUpdate {
    /// True: follow the tenant's policy (then Unit must be absent or null).
    /// Omitted: the Unit decides (a Unit: the client's own rule; null: the tenant's).
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub use_tenant_rules: Patch<bool>,
    /// The client's own rule (any case); null: the tenant's rules.
    #[serde(default)]
    #[schema(value_type = Option<Unit>)]
    pub unit: Patch<String>,
    /// Required with a Unit other than NONE (at most 100 years' worth).
    #[serde(default)]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 36500)]
    pub duration: Patch<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct ClientSecretPolicy {
    pub use_tenant_rules: bool,
    /// The client's own policy (null while it uses the tenant's rules).
    #[schema(value_type = Option<Unit>, required = true)]
    pub unit: Option<String>,
    /// Null while it uses the tenant's rules, or when the unit is NONE.
    #[schema(required = true, minimum = 1, maximum = 36500)]
    pub duration: Option<u32>,
    /// The rule new and renewed secrets of this client follow: the client's own,
    /// else the tenant's, capped by the tenant's maximum lifetime.
    #[schema(value_type = Unit)]
    pub effective_unit: String,
    /// Null when the effective unit is NONE.
    #[schema(required = true, minimum = 1, maximum = 36500)]
    pub effective_duration: Option<u32>,
    /// True when the tenant's maximum lifetime caps the rule (then the effective
    /// rule is that maximum).
    pub effective_capped: bool,
}

fn parts(p: ExpiryPolicy) -> (String, Option<u32>) {
    let duration = (p.unit() != ExpiryUnit::None).then_some(p.duration());
    (p.unit().as_str().to_owned(), duration)
}

fn lifetime(p: ExpiryPolicy) -> Lifetime {
    let (unit, duration) = parts(p);
    Lifetime {
        unit: Some(unit),
        duration,
    }
}

impl From<TenantPolicyView> for TenantSecretPolicy {
    fn from(v: TenantPolicyView) -> Self {
        let (unit, duration) = parts(v.default);
        Self {
            unit,
            duration,
            maximum_lifetime: v.max_lifetime.map(lifetime),
            uses_configured_default: v.configured_default,
            allow_self_rotation: v.allow_self_rotation,
        }
    }
}

impl From<ClientPolicyView> for ClientSecretPolicy {
    fn from(v: ClientPolicyView) -> Self {
        let own = v.policy.own.map(parts);
        let (effective_unit, effective_duration) = parts(v.effective);
        Self {
            use_tenant_rules: v.policy.uses_tenant_rules(),
            unit: own.as_ref().map(|(u, _)| u.clone()),
            duration: own.and_then(|(_, d)| d),
            effective_unit,
            effective_duration,
            effective_capped: v.capped,
        }
    }
}

fn required_unit(unit: Option<String>, field: &'static str) -> Result<String, ValidationError> {
    unit.ok_or_else(|| {
        ValidationError::new(field, "is required (NONE, DAYS, WEEKS, MONTHS or YEARS)")
    })
}

impl TryFrom<TenantPolicyUpdate> for TenantPolicyChange {
    type Error = ValidationError;

    fn try_from(body: TenantPolicyUpdate) -> Result<Self, Self::Error> {
        let configured = body
            .uses_configured_default
            .not_null("UsesConfiguredDefault")?;
        let names_duration = !body.duration.is_keep();
        let unit = body.unit.not_null("Unit")?;
        let duration = body.duration.given();
        let default = match (configured, unit) {
            (Some(true), _) => Some(None),
            (_, Some(unit)) => Some(Some(parse_policy(&unit, duration, "Unit", "Duration")?)),
            (Some(false), None) => {
                return Err(ValidationError::new(
                    "Unit",
                    "is required with UsesConfiguredDefault: false (NONE, DAYS, WEEKS, MONTHS \
                     or YEARS)",
                ));
            }
            (None, None) if names_duration => {
                return Err(ValidationError::new(
                    "Unit",
                    "is required with Duration (NONE, DAYS, WEEKS, MONTHS or YEARS)",
                ));
            }
            (None, None) => None,
        };
        let max_lifetime = match body.maximum_lifetime {
            Patch::Keep => None,
            Patch::Clear => Some(None),
            Patch::Set(l) => {
                let unit = required_unit(l.unit, "MaximumLifetime.Unit")?;
                Some(Some(parse_policy(
                    &unit,
                    l.duration,
                    "MaximumLifetime.Unit",
                    "MaximumLifetime.Duration",
                )?))
            }
        };
        Ok(Self {
            default,
            max_lifetime,
            allow_self_rotation: body.allow_self_rotation.not_null("AllowSelfRotation")?,
        })
    }
}

/// The client policy a body sets, `None` when it names nothing (kept as it is).
fn client_policy(body: ClientPolicyUpdate) -> Result<Option<ClientPolicy>, ValidationError> {
    let use_tenant_rules = body.use_tenant_rules.not_null("UseTenantRules")?;
    let names_duration = !body.duration.is_keep();
    let duration = body.duration.given();
    match (use_tenant_rules, body.unit) {
        (Some(true), Patch::Set(_)) => Err(ValidationError::new(
            "UseTenantRules",
            "is true, which contradicts the Unit given: send UseTenantRules: false (or omit \
             it) to give the client its own rule, or drop Unit and Duration",
        )),
        (Some(true), _) | (None, Patch::Clear) => Ok(Some(ClientPolicy { own: None })),
        (_, Patch::Set(unit)) => Ok(Some(ClientPolicy {
            own: Some(parse_policy(&unit, duration, "Unit", "Duration")?),
        })),
        (Some(false), Patch::Clear) => Err(ValidationError::new(
            "Unit",
            "is null (the tenant's rules), which contradicts UseTenantRules: false; give \
             the client's own Unit (NONE, DAYS, WEEKS, MONTHS or YEARS)",
        )),
        (Some(false), Patch::Keep) => Err(ValidationError::new(
            "Unit",
            "is required with UseTenantRules: false (NONE, DAYS, WEEKS, MONTHS or YEARS)",
        )),
        (None, Patch::Keep) if names_duration => Err(ValidationError::new(
            "Unit",
            "is required with Duration (NONE, DAYS, WEEKS, MONTHS or YEARS)",
        )),
        (None, Patch::Keep) => Ok(None),
    }
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_tenant_policy, put_tenant_policy))
        .routes(routes!(get_client_policy, put_client_policy))
}

/// Get the tenant's secret policy.
#[utoipa::path(get, path = "/api/v1/Tenants/{tenantId}/SecretPolicy", tag = "Policies",
    params(("tenantId" = String, Path)),
    responses((status = 200, body = TenantSecretPolicy), (status = 401, body = ErrorResponse),
              (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn get_tenant_policy(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
) -> Result<Json<TenantSecretPolicy>, ApiError> {
    let view = app.services.policies.tenant(&caller, &at.tenant).await?;
    Ok(Json(view.into()))
}

/// Set the tenant's secret policy (for secrets created or renewed from now on), or
/// with `UsesConfiguredDefault: true` go back to the server's configured default;
/// and whether its clients may renew their own secrets (`AllowSelfRotation`).
/// Parts the body does not name stay as they are; a null `MaximumLifetime` removes it.
#[utoipa::path(put, path = "/api/v1/Tenants/{tenantId}/SecretPolicy", tag = "Policies",
    params(("tenantId" = String, Path)), request_body = TenantPolicyUpdate,
    responses((status = 200, body = TenantSecretPolicy), (status = 400, body = ErrorResponse),
              (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
              (status = 404, body = ErrorResponse)))]
async fn put_tenant_policy(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
    JsonBody(body): JsonBody<TenantPolicyUpdate>,
) -> Result<Json<TenantSecretPolicy>, ApiError> {
    let change = TenantPolicyChange::try_from(body)?;
    let view = app
        .services
        .policies
        .set_tenant(&caller, &at.tenant, change)
        .await?;
    Ok(Json(view.into()))
}

/// Get a client's secret policy.
#[utoipa::path(get, path = "/api/v1/Tenants/{tenantId}/{clientKind}/{clientId}/SecretPolicy", tag = "Policies",
    params(("tenantId" = String, Path), ("clientKind" = ClientKindSegment, Path), ("clientId" = String, Path)),
    responses((status = 200, body = ClientSecretPolicy), (status = 401, body = ErrorResponse),
              (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn get_client_policy(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
) -> Result<Json<ClientSecretPolicy>, ApiError> {
    let view = app.services.policies.client(&caller, at.client()?).await?;
    Ok(Json(view.into()))
}

/// Set a client's secret policy: the tenant's rules, or its own (NONE: never expires).
/// An empty body keeps it as it is.
#[utoipa::path(put, path = "/api/v1/Tenants/{tenantId}/{clientKind}/{clientId}/SecretPolicy", tag = "Policies",
    params(("tenantId" = String, Path), ("clientKind" = ClientKindSegment, Path), ("clientId" = String, Path)),
    request_body = ClientPolicyUpdate,
    responses((status = 200, body = ClientSecretPolicy), (status = 400, body = ErrorResponse),
              (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
              (status = 404, body = ErrorResponse)))]
async fn put_client_policy(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    at: Resource,
    JsonBody(body): JsonBody<ClientPolicyUpdate>,
) -> Result<Json<ClientSecretPolicy>, ApiError> {
    let policy = client_policy(body)?;
    let view = app
        .services
        .policies
        .set_client(&caller, at.client()?, policy)
        .await?;
    Ok(Json(view.into()))
}
