//! Self-rotation: when a client may renew its own secret with an access token
//! that secret's value issued, without any administrator role. Pure rules; the
//! service applies them to what it read, with the current time as an argument.
//!
//! A token may renew exactly one secret: the one whose value issued it (claim
//! `secret_id`), of the client it names (`sub`), in its tenant (`tid`). Both the
//! tenant's policy and the client's own setting must allow it (each off by
//! default). And the token's value must still be the secret's **current** value
//! when the Renew is written: once a Renew has replaced it, the token cannot renew
//! again, not even while the replaced value is in its grace period. So of any
//! number of concurrent self-renews with one token exactly one succeeds, and a
//! value in grace (possibly the one that leaked) can never take the secret over
//! from whoever holds the new value.

use chrono::{DateTime, Utc};

use super::client::ClientSettings;
use super::ids::{ClientId, CredentialId, SecretId, TenantId};
use super::policy::TenantPolicy;

/// What an access token says about the client presenting it: its tenant, its id,
/// the secret whose value issued the token and that value's credential id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bearer<'a> {
    pub tenant: &'a TenantId,
    pub client: &'a ClientId,
    pub secret: SecretId,
    pub credential: CredentialId,
}

/// Why a client may not renew its own secret (here and now).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The caller is not a client with an access token (a console user, the
    /// bootstrap token).
    #[error("only a client, with an access token its own secret issued, may renew its own secret")]
    NotAClient,
    /// The path names another tenant or another client than the token.
    #[error("a client may renew only its own secret, in its own tenant")]
    NotItsOwn,
    #[error("self-rotation is not allowed by the tenant's policy")]
    TenantPolicy,
    #[error("self-rotation is not allowed for this client")]
    ClientSetting,
    /// The token's value was replaced and is in its grace period: the token still
    /// works for what the client's roles allow, but renews nothing.
    #[error(
        "the value that issued this token has been replaced; only a token issued by the \
         secret's current value may renew it"
    )]
    ValueReplaced,
    /// The token's value no longer works at all: the token is dead.
    #[error("the value that issued this token no longer works")]
    ValueEnded,
}

impl Refusal {
    /// What the caller can do about it.
    pub fn resolution(self) -> &'static str {
        match self {
            Self::NotAClient => {
                "Use the administrator's Renew route (…/Secrets/{secretId}/Renew), or call this \
                 route with the client's own access token."
            }
            Self::NotItsOwn => {
                "Call the route under the tenant and client the access token was issued to."
            }
            Self::TenantPolicy => {
                "Ask a tenant administrator to set AllowSelfRotation in the tenant's SecretPolicy."
            }
            Self::ClientSetting => {
                "Ask a tenant administrator to set AllowSelfRotation on this client."
            }
            Self::ValueReplaced | Self::ValueEnded => {
                "Get a new token with the secret's current value, then renew again if needed."
            }
        }
    }
}

/// Whether the token may address the client the path names (`tenant`, `client`).
/// Decided before anything is read, so nothing of another tenant or client is
/// looked at.
pub fn check_target(bearer: &Bearer<'_>, tenant: &TenantId, client: &str) -> Result<(), Refusal> {
    if bearer.tenant == tenant && bearer.client.as_str() == client {
        Ok(())
    } else {
        Err(Refusal::NotItsOwn)
    }
}

/// Whether the tenant's policy and the client's setting both allow self-rotation.
pub fn check_allowed(tenant: &TenantPolicy, client: &ClientSettings) -> Result<(), Refusal> {
    if !tenant.allow_self_rotation {
        Err(Refusal::TenantPolicy)
    } else if !client.allow_self_rotation {
        Err(Refusal::ClientSetting)
    } else {
        Ok(())
    }
}

/// Whether the token's value is still the secret's current value, given the
/// secret's latest state: `current` is the credential id of its current value,
/// `previous` that of the value a Renew replaced and the end of its grace.
pub fn check_value(
    bearer: &Bearer<'_>,
    current: CredentialId,
    previous: Option<(CredentialId, DateTime<Utc>)>,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    if current == bearer.credential {
        return Ok(());
    }
    match previous {
        Some((credential, until)) if credential == bearer.credential && until > now => {
            Err(Refusal::ValueReplaced)
        }
        _ => Err(Refusal::ValueEnded),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn client(allow: bool) -> ClientSettings {
        ClientSettings {
            name: "svc".into(),
            enabled: true,
            access_token_lifetime: 3600,
            tags: Vec::new(),
            role_ids: Vec::new(),
            hybrid: None,
            allow_self_rotation: allow,
        }
    }

    fn tenant(allow: bool) -> TenantPolicy {
        TenantPolicy {
            allow_self_rotation: allow,
            ..TenantPolicy::default()
        }
    }

    #[test]
    fn the_token_addresses_only_its_own_client_in_its_own_tenant() {
        let (t, other_tenant) = (TenantId::generate(), TenantId::generate());
        let id = ClientId::parse("svc").unwrap();
        let bearer = Bearer {
            tenant: &t,
            client: &id,
            secret: SecretId(1),
            credential: CredentialId::generate(),
        };
        assert_eq!(check_target(&bearer, &t, "svc"), Ok(()));
        assert_eq!(check_target(&bearer, &t, "other"), Err(Refusal::NotItsOwn));
        assert_eq!(check_target(&bearer, &t, "SVC"), Err(Refusal::NotItsOwn));
        assert_eq!(
            check_target(&bearer, &other_tenant, "svc"),
            Err(Refusal::NotItsOwn)
        );
    }

    #[test]
    fn both_the_tenant_and_the_client_must_allow_it() {
        let table = [
            (false, false, Err(Refusal::TenantPolicy)),
            (false, true, Err(Refusal::TenantPolicy)),
            (true, false, Err(Refusal::ClientSetting)),
            (true, true, Ok(())),
        ];
        for (by_tenant, by_client, want) in table {
            assert_eq!(
                check_allowed(&tenant(by_tenant), &client(by_client)),
                want,
                "tenant {by_tenant}, client {by_client}"
            );
        }
        let defaults = (TenantPolicy::default(), client(false));
        assert_eq!(
            check_allowed(&defaults.0, &defaults.1),
            Err(Refusal::TenantPolicy),
            "off by default"
        );
    }

    #[test]
    fn only_the_current_value_renews_a_value_in_grace_does_not() {
        let t = TenantId::generate();
        let id = ClientId::parse("svc").unwrap();
        let mine = CredentialId::generate();
        let newer = CredentialId::generate();
        let bearer = Bearer {
            tenant: &t,
            client: &id,
            secret: SecretId(1),
            credential: mine,
        };
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let later = now + Duration::hours(1);
        assert_eq!(check_value(&bearer, mine, None, now), Ok(()));
        assert_eq!(
            check_value(&bearer, mine, Some((newer, later)), now),
            Ok(())
        );
        assert_eq!(
            check_value(&bearer, newer, Some((mine, later)), now),
            Err(Refusal::ValueReplaced),
            "in grace"
        );
        assert_eq!(
            check_value(&bearer, newer, Some((mine, now)), now),
            Err(Refusal::ValueEnded),
            "the grace ends at its instant"
        );
        assert_eq!(
            check_value(&bearer, newer, None, now),
            Err(Refusal::ValueEnded)
        );
        let other = CredentialId::generate();
        assert_eq!(
            check_value(&bearer, newer, Some((other, later)), now),
            Err(Refusal::ValueEnded)
        );
    }
}
