//! Access tokens: authenticating clients with their secrets (throttled), issuing
//! ES256 JWTs, and deciding whether a token is still active.
//!
//! A token is active while its signature verifies, its issuer is its tenant's,
//! it has not expired, **and the exact value that minted it still works**: the
//! token carries the value's credential id (claim `cid`, new with every value, see
//! [`CredentialId`]), and that value must still be the secret's current one (or the
//! one in grace after a Renew), the secret not revoked or expired, its client
//! enabled and existing. A re-created client or a reused secret id has other
//! credential ids, so nothing revives a token. That check reads the client's
//! credentials, so a change on any node holds on every node at the next request.
//!
//! Failed authentications are limited per client id and per source address on
//! each node ([`Limiter`]) and, with several nodes on one PostgreSQL database,
//! across them: each failure is also counted in the shared record, which
//! confirms at most the limit's number of failures per key and window over all
//! nodes (a failure beyond it is answered as throttled, not as a wrong secret),
//! and announced to every node, which folds it into its own limiter. Successes
//! touch only the local limiter.
//!
//! The roles a token grants are at most those its client holds **at the moment of
//! use**: the claim is intersected with the client's current `RoleIds`, so demoting
//! a client takes effect at its next request (introspection reports the same).

use std::net::IpAddr;
use std::time::Duration;

use serde_json::Value;
use uuid::Uuid;

use super::keys::KeyRing;
use super::limiter::Limiter;
use super::settings::TokenSettings;
use super::shared_failures as shared;
use super::usage_log::UsageLog;
use super::verify::{Presented, VerifiedClient};
use super::{Caller, ServiceError, Services};
use crate::domain::access;
use crate::domain::ids::{ClientId, ClientKind, CredentialId, SecretId, TenantId};
use crate::domain::jws;
use crate::domain::secret_value::SecretValue;
use crate::domain::throttle::FailureWindow;
use crate::domain::verification::Refusal;
use crate::metrics::{RefusalReason, TokenOutcome};
use shared::WINDOW;

/// Why a token request failed, as RFC 6749 names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// Client authentication failed, for this reason (never told to the client).
    #[error("client authentication failed")]
    InvalidClient(Refusal),
    #[error("the client may not use this grant")]
    UnauthorizedClient,
    #[error("invalid scope: {0}")]
    InvalidScope(String),
    /// Too many failed authentications; retry after this long.
    #[error("too many failed attempts")]
    TooManyAttempts(Duration),
    /// Too many secret checks in progress on this server (`argon2.queue`); retry shortly.
    #[error("too many checks in progress")]
    Busy,
    /// The database is unreachable; retry later.
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl TokenError {
    /// The outcome a token request that failed so is counted under.
    pub fn outcome(&self) -> TokenOutcome {
        match self {
            Self::InvalidRequest(_) => TokenOutcome::InvalidRequest,
            Self::InvalidClient(refusal) => TokenOutcome::Refused(match refusal {
                Refusal::UnknownClient => RefusalReason::UnknownClient,
                Refusal::NoMatch => RefusalReason::WrongSecret,
                Refusal::Expired(_) => RefusalReason::Expired,
                Refusal::Revoked(_) => RefusalReason::Revoked,
                Refusal::Superseded(_) => RefusalReason::Superseded,
                Refusal::ClientDisabled => RefusalReason::ClientDisabled,
            }),
            Self::UnauthorizedClient => TokenOutcome::UnauthorizedClient,
            Self::InvalidScope(_) => TokenOutcome::InvalidScope,
            Self::TooManyAttempts(_) => TokenOutcome::Throttled,
            Self::Busy => TokenOutcome::Busy,
            Self::Unavailable(_) => TokenOutcome::Unavailable,
            Self::Internal(_) => TokenOutcome::Error,
        }
    }
}

impl From<crate::storage::StorageError> for TokenError {
    fn from(e: crate::storage::StorageError) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<ServiceError> for TokenError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Unavailable(cause) => Self::Unavailable(cause),
            ServiceError::Busy => Self::Busy,
            e => Self::Internal(e.to_string()),
        }
    }
}

/// A client's claim to be itself: tenant, client id, presented secret, from where.
pub struct ClientAuthentication<'a> {
    pub tenant: &'a TenantId,
    pub client_id: &'a str,
    pub secret: &'a SecretValue,
    pub source: Option<IpAddr>,
}

/// A token issued to a client.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: u32,
    pub scope: String,
}

#[derive(Clone)]
pub struct Tokens {
    services: Services,
    keys: KeyRing,
    public_url: String,
    usage: UsageLog,
    /// Failures per client id and per source address.
    throttle: Limiter<(TenantId, String), IpAddr>,
    /// The limits' `max`: failures per client id, per address.
    failures_max: (u32, u32),
    /// `logging.tokenSuccessLevel: info` (otherwise successes are logged at `debug`).
    successes_at_info: bool,
}

impl Tokens {
    pub fn new(
        services: Services,
        keys: KeyRing,
        public_url: &str,
        settings: TokenSettings,
    ) -> Self {
        let throttle = Limiter::new(
            FailureWindow::new(settings.failed_attempts_per_client, WINDOW),
            FailureWindow::new(settings.failed_attempts_per_address, WINDOW),
        );
        if let Some(feed) = services.verifier.failure_feed() {
            tokio::spawn(shared::fold_announcements(feed, throttle.downgrade()));
        }
        Self {
            usage: services.verifier.usage().clone(),
            services,
            keys,
            public_url: public_url.trim_end_matches('/').to_owned(),
            successes_at_info: settings.successes_at_info,
            throttle,
            failures_max: (
                settings.failed_attempts_per_client,
                settings.failed_attempts_per_address,
            ),
        }
    }

    /// True when successful token requests are logged at `info` (see
    /// [`TokenSettings::successes_at_info`]).
    pub fn successes_at_info(&self) -> bool {
        self.successes_at_info
    }

    /// The tenant's issuer URL.
    pub fn issuer(&self, tenant: &TenantId) -> String {
        format!("{}/identity/{tenant}", self.public_url)
    }

    /// The audience of tokens for the management API (the default audience).
    pub fn management_audience(&self) -> String {
        format!("{}/api", self.public_url)
    }

    /// True when the tenant exists (for discovery documents).
    pub async fn tenant_exists(&self, tenant: &TenantId) -> Result<bool, TokenError> {
        self.services
            .tenants
            .exists(tenant)
            .await
            .map_err(TokenError::from)
    }

    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// The coalescing writer of secret uses and refused presentations, for the
    /// server's flush loop.
    pub fn usage(&self) -> &UsageLog {
        &self.usage
    }

    /// Checks a client's secret, throttling failures per client id and per
    /// source address. The attempt takes its place in both limits before the
    /// check runs (so a burst cannot run more checks than the limit allows) and
    /// gives it back on success. A success is noted for LastUsedAt (memory only).
    pub async fn authenticate(
        &self,
        auth: ClientAuthentication<'_>,
    ) -> Result<VerifiedClient, TokenError> {
        let attempt = self
            .throttle
            .reserve((*auth.tenant, auth.client_id.to_owned()), auth.source)
            .await
            .map_err(TokenError::TooManyAttempts)?;
        // An id that cannot exist still costs the full check (a fresh GUID finds no client).
        let (client, well_formed) = match ClientId::parse(auth.client_id) {
            Ok(client) => (client, true),
            Err(_) => (ClientId::generate(), false),
        };
        let verifier = &self.services.verifier;
        let outcome = match shared::verify(
            verifier,
            &self.throttle,
            self.failures_max.0,
            well_formed.then_some(auth.client_id),
            Presented {
                tenant: auth.tenant,
                client: &client,
                secret: auth.secret,
                source: auth.source,
            },
        )
        .await
        {
            Ok(outcome) => outcome,
            // Other nodes filled the window: refused without a check.
            Err(wait) => {
                attempt.release();
                return Err(TokenError::TooManyAttempts(wait));
            }
        };
        match outcome {
            Ok(Ok(verified)) => {
                attempt.release();
                self.usage.note_use(
                    verified.client_pk,
                    verified.secret_id,
                    verified.credential,
                    self.services.now(),
                );
                Ok(verified)
            }
            Ok(Err(refusal)) => {
                attempt.fail();
                let full = shared::share_failure(
                    verifier,
                    &self.throttle,
                    self.failures_max,
                    auth.tenant,
                    (refusal != Refusal::UnknownClient).then_some(auth.client_id),
                    auth.source,
                )
                .await;
                tracing::info!(tenant.id = %auth.tenant, client.id = %client, reason = %refusal, "client authentication refused: {refusal}");
                self.services
                    .verifier
                    .audit_refusal(
                        auth.tenant,
                        auth.client_id,
                        auth.source,
                        &refusal.to_string(),
                    )
                    .await;
                Err(full.map_or(
                    TokenError::InvalidClient(refusal),
                    TokenError::TooManyAttempts,
                ))
            }
            // Not judged (the check queue is full, the database failed): not a failure.
            Err(e) => {
                attempt.release();
                Err(TokenError::from(e))
            }
        }
    }

    /// The client-credentials grant: authenticate, then sign a token.
    pub async fn issue(
        &self,
        auth: ClientAuthentication<'_>,
        scope: Option<&str>,
        audience: Option<&str>,
    ) -> Result<IssuedToken, TokenError> {
        let tenant = *auth.tenant;
        let client_id = auth.client_id.to_owned();
        let client = self.authenticate(auth).await?;
        if client.kind != ClientKind::ClientCredentials {
            return Err(TokenError::UnauthorizedClient);
        }
        let roles = granted_roles(scope, &client.role_ids)?;
        let audience = match audience {
            Some(a) => validate_audience(a)?.to_owned(),
            None => self.management_audience(),
        };
        let iat = self.services.now().timestamp();
        let scope = roles.join(" ");
        let issuer = self.issuer(&tenant);
        let claims = Claims {
            iss: &issuer,
            sub: &client_id,
            client_id: &client_id,
            aud: &audience,
            iat,
            exp: iat + i64::from(client.access_token_lifetime),
            jti: Uuid::new_v4(),
            tid: tenant,
            roles: &roles,
            scope: &scope,
            secret_id: client.secret_id.0,
            cid: client.credential,
        };
        let access_token = self
            .keys
            .snapshot()
            .current()
            .sign(&claims)
            .map_err(|e| TokenError::Internal(e.to_string()))?;
        if self.successes_at_info {
            tracing::info!(tenant.id = %tenant, client.id = %client_id, secret.id = %client.secret_id, "issued a token to {client_id}");
        } else {
            tracing::debug!(tenant.id = %tenant, client.id = %client_id, secret.id = %client.secret_id, "issued a token to {client_id}");
        }
        Ok(IssuedToken {
            access_token,
            expires_in: client.access_token_lifetime,
            scope,
        })
    }

    /// The claims of `token` when it is active and belongs to `tenant`.
    pub async fn introspect(
        &self,
        tenant: &TenantId,
        token: &str,
    ) -> Result<Option<Value>, TokenError> {
        Ok(self
            .active_claims(token)
            .await?
            .filter(|(tid, _)| tid == tenant)
            .map(|(_, claims)| claims))
    }

    /// The management API caller an access token stands for: active, and issued
    /// for the management audience. `None` means 401.
    pub async fn caller(&self, token: &str) -> Result<Option<Caller>, TokenError> {
        let Some((tenant, claims)) = self.active_claims(token).await? else {
            return Ok(None);
        };
        if claims.get("aud").and_then(Value::as_str) != Some(self.management_audience().as_str()) {
            return Ok(None);
        }
        let (Some(sub), Some(roles), Some((secret, credential))) = (
            claims
                .get("sub")
                .and_then(Value::as_str)
                .and_then(|s| ClientId::parse(s).ok()),
            claims.get("roles").and_then(Value::as_array),
            issuing_value(&claims),
        ) else {
            return Ok(None);
        };
        let roles = roles
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        Ok(Some(Caller::Client {
            tenant,
            client: sub,
            roles,
            secret,
            credential,
        }))
    }

    /// Signature, issuer, expiry, then the minting secret, in that order.
    async fn active_claims(&self, token: &str) -> Result<Option<(TenantId, Value)>, TokenError> {
        let Ok(claims) = jws::verify(token, self.keys.snapshot().verifying_keys()) else {
            return Ok(None);
        };
        let text = |name: &str| claims.get(name).and_then(Value::as_str);
        let Some(tenant) = text("tid").and_then(TenantId::parse) else {
            return Ok(None);
        };
        let now = self.services.now();
        let expired = claims
            .get("exp")
            .and_then(Value::as_i64)
            .is_none_or(|exp| exp <= now.timestamp());
        if text("iss") != Some(self.issuer(&tenant).as_str()) || expired {
            return Ok(None);
        }
        let (Some(client), Some((secret_id, credential))) = (
            text("sub").and_then(|s| ClientId::parse(s).ok()),
            issuing_value(&claims),
        ) else {
            return Ok(None);
        };
        let Some(credentials) = self
            .services
            .verifier
            .credential_in_force(&tenant, &client, secret_id, credential, now)
            .await
            .map_err(TokenError::from)?
        else {
            return Ok(None);
        };
        let mut claims = claims;
        restrict_roles(&mut claims, &credentials.role_ids);
        Ok(Some((tenant, claims)))
    }
}

/// The secret whose value issued a token (claim `secret_id`) and that value's
/// credential id (claim `cid`).
fn issuing_value(claims: &Value) -> Option<(SecretId, CredentialId)> {
    let secret = claims
        .get("secret_id")
        .and_then(Value::as_i64)
        .and_then(|id| i32::try_from(id).ok())
        .map(SecretId)?;
    let credential = claims
        .get("cid")
        .and_then(Value::as_str)
        .and_then(CredentialId::parse)?;
    Some((secret, credential))
}

/// The claims of an access token (serialised straight into the JWS payload).
#[derive(serde::Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    client_id: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
    jti: Uuid,
    #[serde(serialize_with = "display")]
    tid: TenantId,
    roles: &'a [String],
    scope: &'a str,
    secret_id: i32,
    #[serde(serialize_with = "display")]
    cid: CredentialId,
}

fn display<S: serde::Serializer, T: std::fmt::Display>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

/// The roles a token carries: those requested in `scope` (each must be one of the
/// client's), or all of the client's when no scope is asked for.
fn granted_roles(scope: Option<&str>, role_ids: &[String]) -> Result<Vec<String>, TokenError> {
    let requested: Vec<&str> = scope
        .map(|s| s.split_whitespace().collect())
        .unwrap_or_default();
    if requested.is_empty() {
        return Ok(role_ids.to_vec());
    }
    let mut granted = Vec::with_capacity(requested.len());
    for r in requested {
        if !role_ids.iter().any(|id| id == r) {
            return Err(TokenError::InvalidScope(format!(
                "the client may not request scope {r:?}"
            )));
        }
        if !granted.iter().any(|g| g == r) {
            granted.push(r.to_owned());
        }
    }
    Ok(granted)
}

/// Narrows the `roles` (and `scope`) claims to the roles the client holds now: a
/// token never grants more than its client has at the moment of use.
fn restrict_roles(claims: &mut Value, held: &[String]) {
    let roles = claims
        .get("roles")
        .and_then(Value::as_array)
        .map(|claimed| access::roles_in_force(claimed.iter().filter_map(Value::as_str), held))
        .unwrap_or_default();
    if let Some(object) = claims.as_object_mut() {
        object.insert("scope".into(), Value::from(roles.join(" ")));
        object.insert("roles".into(), Value::from(roles));
    }
}

fn validate_audience(audience: &str) -> Result<&str, TokenError> {
    if audience.is_empty() || audience.len() > 512 || audience.chars().any(char::is_control) {
        return Err(TokenError::InvalidRequest(
            "audience/resource must be 1 to 512 characters without control characters".into(),
        ));
    }
    Ok(audience)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_grants_a_subset_of_the_client_roles() {
        let roles = vec!["tenant-member".to_owned(), "tenant-auditor".to_owned()];
        assert_eq!(granted_roles(None, &roles), Ok(roles.clone()));
        assert_eq!(granted_roles(Some("  "), &roles), Ok(roles.clone()));
        assert_eq!(
            granted_roles(Some("tenant-auditor tenant-auditor"), &roles),
            Ok(vec!["tenant-auditor".to_owned()])
        );
        assert!(matches!(
            granted_roles(Some("tenant-administrator"), &roles),
            Err(TokenError::InvalidScope(_))
        ));
    }
}
