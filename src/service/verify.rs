//! Verification of a presented secret: the library function the token endpoint
//! calls. Bounded work whatever the number of secrets: one storage read, one
//! digest (SHA-256, or a single Argon2id run with the client's salt), and a
//! constant-time comparison with every candidate. An unknown client gets the same
//! digest work, with a fixed salt, so it costs the same as a wrong secret.
//!
//! A supplied value that a full Argon2id verification proved is remembered in
//! memory as a keyed digest ([`VerifiedCache`]): presented again while still in
//! force by the row read for that request, it is decided without the Argon2id
//! run; any other value, and every refusal, costs the run.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;

use super::journal::{self, Target};
use super::usage_log::UsageLog;
use super::verified_cache::{self, VerifiedCache};
use super::{Context, ServiceError};
use crate::domain::audit_actions::AuditAction;
use crate::domain::ids::{ClientId, ClientKind, CredentialId, SecretId, TenantId};
use crate::domain::secret_hash::{PresentedDigest, UNKNOWN_CLIENT_SALT};
use crate::domain::secret_value::SecretValue;
use crate::domain::verification::{self, Refusal};
use crate::storage::ClientCredentials;
use crate::storage::failures::{FailureLimit, FailureVerdict, KeyFailures};

#[derive(Clone)]
pub struct Verifier {
    ctx: Arc<Context>,
    verified: Arc<VerifiedCache>,
    usage: UsageLog,
}

impl Verifier {
    pub(crate) fn new(ctx: Arc<Context>) -> Self {
        Self {
            usage: UsageLog::new(ctx.store.clone()),
            ctx,
            verified: Arc::new(VerifiedCache::new(verified_cache::CAPACITY)),
        }
    }

    /// `Ok(Ok(id))`: the secret `id` of the client proves the caller; `Ok(Err(why))`:
    /// refused; `Err(_)`: the check itself failed (database unreachable).
    pub async fn verify(
        &self,
        tenant: &TenantId,
        client: &ClientId,
        presented: &SecretValue,
    ) -> Result<Result<SecretId, Refusal>, ServiceError> {
        let p = Presented {
            tenant,
            client,
            secret: presented,
            source: None,
        };
        Ok(self.verify_client(p).await?.map(|v| v.secret_id))
    }

    /// Like [`Self::verify`], with what a token needs of the client. A refused
    /// presentation of a former value (replaced, revoked, expired) is noted for
    /// that secret with its source ([`UsageLog`]).
    pub async fn verify_client(
        &self,
        p: Presented<'_>,
    ) -> Result<Result<VerifiedClient, Refusal>, ServiceError> {
        let credentials = self.ctx.store.load_credentials(p.tenant, p.client).await?;
        self.decide_client(p.tenant, p.client, p.secret, credentials, p.source)
            .await
    }

    /// [`Self::verify_client`], reading with the credentials (in the same round
    /// trip, where the storage can) the failures of `failure_key` every node
    /// shares. When they fill the limit (`max`), nothing is checked (`None`).
    pub(crate) async fn verify_client_unless_full(
        &self,
        p: Presented<'_>,
        failure_key: &str,
        max: u32,
    ) -> Result<(Option<KeyFailures>, Option<Result<VerifiedClient, Refusal>>), ServiceError> {
        let (credentials, failures) = self
            .ctx
            .store
            .load_credentials_and_failures(p.tenant, p.client, failure_key)
            .await?;
        if failures.as_ref().is_some_and(|f| f.count >= max) {
            return Ok((failures, None));
        }
        let decided = self
            .decide_client(p.tenant, p.client, p.secret, credentials, p.source)
            .await?;
        Ok((failures, Some(decided)))
    }

    async fn decide_client(
        &self,
        tenant: &TenantId,
        client: &ClientId,
        presented: &SecretValue,
        credentials: Option<Arc<ClientCredentials>>,
        source: Option<IpAddr>,
    ) -> Result<Result<VerifiedClient, Refusal>, ServiceError> {
        let now = self.ctx.clock.now();
        let key = (*tenant, client.clone());
        let mac = PresentedDigest::needs_argon2(presented)
            .then(|| self.verified.mac(presented))
            .flatten();
        let recalled = match (&mac, &credentials) {
            (Some(mac), Some(c)) => self
                .verified
                .recall(&key, &c.candidates, c.enabled, now, mac),
            (Some(_), None) => {
                self.verified.forget_client(&key);
                None
            }
            (None, _) => None,
        };
        let digest = match recalled {
            Some(digest) => digest,
            None => {
                let salt = credentials
                    .as_ref()
                    .map_or(&UNKNOWN_CLIENT_SALT[..], |c| &c.argon_salt[..]);
                self.ctx.hasher.digest(presented, salt).await?
            }
        };
        let Some(credentials) = credentials else {
            return Ok(Err(Refusal::UnknownClient));
        };
        let decision =
            verification::decide(&digest, &credentials.candidates, credentials.enabled, now);
        if let (Ok(proof), Some(mac)) = (&decision, &mac) {
            self.verified
                .remember(&key, proof.secret, proof.credential, mac, &digest);
        }
        if let Err(Refusal::Expired(id) | Refusal::Revoked(id) | Refusal::Superseded(id)) = decision
        {
            self.usage.note_refused(credentials.pk, id, now, source);
        }
        Ok(decision.map(|proof| VerifiedClient {
            client_pk: credentials.pk,
            secret_id: proof.secret,
            credential: proof.credential,
            kind: credentials.kind,
            role_ids: credentials.role_ids.clone(),
            access_token_lifetime: credentials.access_token_lifetime,
        }))
    }

    /// The client's credentials when the exact value `credential` (of secret
    /// `secret_id`) still works at `now`: current or in grace, the secret neither
    /// revoked nor expired, the client enabled. One storage read; what an access
    /// token's check needs, the client's current roles included.
    pub(crate) async fn credential_in_force(
        &self,
        tenant: &TenantId,
        client: &ClientId,
        secret_id: SecretId,
        credential: CredentialId,
        now: DateTime<Utc>,
    ) -> Result<Option<Arc<ClientCredentials>>, ServiceError> {
        let Some(credentials) = self.ctx.store.load_credentials(tenant, client).await? else {
            return Ok(None);
        };
        let in_force = verification::credential_in_force(
            &credentials.candidates,
            credentials.enabled,
            secret_id,
            credential,
            now,
        );
        Ok(in_force.then_some(credentials))
    }

    /// Records a refused client authentication in the tenant's audit trail. The
    /// client id is recorded only when it is a well-formed id that is not a secret
    /// value pasted into the wrong field.
    pub(crate) async fn audit_refusal(
        &self,
        tenant: &TenantId,
        client_id: &str,
        source: Option<IpAddr>,
        reason: &str,
    ) {
        let presented = ClientId::parse(client_id)
            .ok()
            .filter(|id| !id.as_str().starts_with(crate::domain::secret_value::PREFIX));
        let actor = presented
            .as_ref()
            .map_or_else(|| "(malformed client id)".into(), ToString::to_string);
        let mut entry = journal::entry_by(
            "client",
            actor,
            Some(*tenant),
            AuditAction::TokenRequest,
            self.ctx.clock.now(),
        );
        entry.source = source.map(|a| a.to_string());
        let target = Target {
            client_id: presented.map(|id| id.to_string()),
            ..Target::default()
        };
        journal::record_refusal(&self.ctx, entry, target, reason).await;
    }

    /// Counts a failed authentication in the record every node shares (`None`:
    /// the database has one process, whose limiter is the whole count).
    pub(crate) async fn record_failure(
        &self,
        limits: &[FailureLimit],
        window: std::time::Duration,
    ) -> Result<Option<FailureVerdict>, ServiceError> {
        Ok(self.ctx.store.record_failure(limits, window).await?)
    }

    /// The failures every node counts, as announced (`None` on SQLite).
    pub(crate) fn failure_feed(&self) -> Option<broadcast::Receiver<KeyFailures>> {
        self.ctx.store.failure_feed()
    }

    /// The coalescing writer of secret uses and refused presentations.
    pub fn usage(&self) -> &UsageLog {
        &self.usage
    }
}

/// A value presented for a client of a tenant, from a source address.
#[derive(Debug, Clone, Copy)]
pub struct Presented<'a> {
    pub tenant: &'a TenantId,
    pub client: &'a ClientId,
    pub secret: &'a SecretValue,
    pub source: Option<IpAddr>,
}

/// A client whose secret was verified, with what a token needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedClient {
    pub client_pk: i64,
    pub secret_id: SecretId,
    /// The exact value that was presented (current, or the one in grace).
    pub credential: CredentialId,
    pub kind: ClientKind,
    pub role_ids: Vec<String>,
    pub access_token_lifetime: u32,
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use chrono::{DateTime, Duration, Utc};

    use super::*;
    use crate::domain::expiry::ExpiryRequest;
    use crate::domain::ids::ClientKind;
    use crate::service::clients::{ClientPatch, NewClientRequest};
    use crate::service::secrets::{ClientRef, NewSecretRequest, RenewRequest, SecretPatch};
    use crate::service::settings::Limits;
    use crate::service::{Caller, Clock, Services};

    /// A clock the test moves by hand.
    struct TestClock(Mutex<DateTime<Utc>>);

    impl Clock for TestClock {
        fn now(&self) -> DateTime<Utc> {
            *self.0.lock().unwrap()
        }
    }

    struct Fixture {
        services: Services,
        clock: Arc<TestClock>,
        tenant: TenantId,
        client: ClientId,
        first_value: SecretValue,
        _dir: tempfile::TempDir,
    }

    impl Fixture {
        async fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}/verify.db", dir.path().display());
            let store = crate::storage::open(&url).await.unwrap();
            let clock = Arc::new(TestClock(Mutex::new(Utc::now())));
            let services = Services::new(store, Limits::default(), clock.clone());
            let caller = Caller::PlatformAdministrator;
            let tenant = services.tenants.create(&caller, "t").await.unwrap().id;
            let req = NewClientRequest {
                id: Some("svc".into()),
                settings: ClientPatch {
                    name: Some("svc".into()),
                    ..ClientPatch::default()
                },
                first_secret: NewSecretRequest::default(),
            };
            let created = services
                .clients
                .create(&caller, &tenant, ClientKind::ClientCredentials, req)
                .await
                .unwrap();
            Self {
                services,
                clock,
                tenant,
                client: created.client.id,
                first_value: created.value,
                _dir: dir,
            }
        }

        fn at(&self) -> ClientRef<'_> {
            ClientRef {
                tenant: &self.tenant,
                kind: ClientKind::ClientCredentials,
                client: self.client.as_str(),
            }
        }

        async fn verify(&self, value: &SecretValue) -> Result<SecretId, Refusal> {
            self.services
                .verifier
                .verify(&self.tenant, &self.client, value)
                .await
                .unwrap()
        }

        /// Verifies `value` as the token endpoint does, from address `source`.
        async fn present(
            &self,
            value: &SecretValue,
            source: &str,
        ) -> Result<Result<VerifiedClient, Refusal>, ServiceError> {
            let p = Presented {
                tenant: &self.tenant,
                client: &self.client,
                secret: value,
                source: Some(source.parse().unwrap()),
            };
            self.services.verifier.verify_client(p).await
        }

        fn advance(&self, by: Duration) {
            *self.clock.0.lock().unwrap() += by;
        }
    }

    fn supplied(n: usize) -> String {
        format!("supplied secret number {n:04} with spaces: + % inside")
    }

    #[tokio::test]
    async fn a_generated_secret_verifies_and_names_its_id() {
        let f = Fixture::new().await;
        assert_eq!(f.verify(&f.first_value).await, Ok(SecretId(1)));
        let wrong = SecretValue::generate().unwrap();
        assert_eq!(f.verify(&wrong).await, Err(Refusal::NoMatch));
    }

    #[tokio::test]
    async fn an_unknown_client_is_refused_after_the_same_work() {
        let f = Fixture::new().await;
        let before = f.services.argon2_runs();
        let nobody = ClientId::parse("nobody").unwrap();
        let weak = SecretValue::presented(&supplied(1));
        let got = f
            .services
            .verifier
            .verify(&f.tenant, &nobody, &weak)
            .await
            .unwrap();
        assert_eq!(got, Err(Refusal::UnknownClient));
        assert_eq!(
            f.services.argon2_runs() - before,
            1,
            "an unknown client still costs one Argon2id run"
        );
        let other_tenant = TenantId::generate();
        let got = f
            .services
            .verifier
            .verify(&other_tenant, &f.client, &f.first_value)
            .await
            .unwrap();
        assert_eq!(got, Err(Refusal::UnknownClient));
    }

    #[tokio::test]
    async fn supplied_secrets_cost_one_argon2_run_whatever_their_number() {
        let f = Fixture::new().await;
        let caller = Caller::PlatformAdministrator;
        for n in 0..9 {
            let req = NewSecretRequest {
                value: Some(SecretValue::supplied(&supplied(n)).unwrap()),
                ..NewSecretRequest::default()
            };
            f.services.secrets.add(&caller, f.at(), req).await.unwrap();
        }
        let before = f.services.argon2_runs();
        assert_eq!(
            f.verify(&SecretValue::presented(&supplied(7))).await,
            Ok(SecretId(9))
        );
        assert_eq!(
            f.verify(&SecretValue::presented(&supplied(99))).await,
            Err(Refusal::NoMatch)
        );
        assert_eq!(
            f.services.argon2_runs() - before,
            2,
            "one run per attempt, ten secrets"
        );
        f.verify(&f.first_value).await.unwrap();
        assert_eq!(
            f.services.argon2_runs() - before,
            2,
            "a generated value needs no Argon2id"
        );
    }

    #[tokio::test]
    async fn a_secret_stops_at_its_expiration_without_any_job() {
        let f = Fixture::new().await;
        let caller = Caller::PlatformAdministrator;
        let soon = f.clock.now() + Duration::seconds(5);
        let req = NewSecretRequest {
            expiry: ExpiryRequest {
                expires: None,
                expiration: Some(soon),
            },
            ..NewSecretRequest::default()
        };
        let (secret, value) = f.services.secrets.add(&caller, f.at(), req).await.unwrap();
        assert_eq!(f.verify(&value).await, Ok(secret.id));
        f.advance(Duration::seconds(5));
        assert_eq!(f.verify(&value).await, Err(Refusal::Expired(secret.id)));
    }

    #[tokio::test]
    async fn revoked_and_disabled_are_reported() {
        let f = Fixture::new().await;
        let caller = Caller::PlatformAdministrator;
        let patch = ClientPatch {
            enabled: Some(false),
            ..ClientPatch::default()
        };
        let kind = ClientKind::ClientCredentials;
        f.services
            .clients
            .update(&caller, &f.tenant, kind, "svc", patch)
            .await
            .unwrap();
        assert_eq!(f.verify(&f.first_value).await, Err(Refusal::ClientDisabled));
        f.services
            .secrets
            .revoke(&caller, f.at(), SecretId(1))
            .await
            .unwrap();
        assert_eq!(
            f.verify(&f.first_value).await,
            Err(Refusal::Revoked(SecretId(1)))
        );
    }

    #[tokio::test]
    async fn renew_replaces_the_value_with_an_optional_grace() {
        let f = Fixture::new().await;
        let caller = Caller::PlatformAdministrator;
        let req = RenewRequest {
            grace_period_seconds: Some(60),
            ..RenewRequest::default()
        };
        let (_, renewed) = f
            .services
            .secrets
            .renew(&caller, f.at(), SecretId(1), req)
            .await
            .unwrap();
        assert_eq!(f.verify(&renewed).await, Ok(SecretId(1)));
        assert_eq!(
            f.verify(&f.first_value).await,
            Ok(SecretId(1)),
            "old value during grace"
        );
        f.advance(Duration::seconds(61));
        assert_eq!(
            f.verify(&f.first_value).await,
            Err(Refusal::Superseded(SecretId(1)))
        );
        let (_, again) = f
            .services
            .secrets
            .renew(&caller, f.at(), SecretId(1), RenewRequest::default())
            .await
            .unwrap();
        assert_eq!(
            f.verify(&renewed).await,
            Err(Refusal::Superseded(SecretId(1))),
            "no grace: at once"
        );
        assert_eq!(f.verify(&again).await, Ok(SecretId(1)));
    }

    #[tokio::test]
    async fn a_value_set_by_update_replaces_the_old_one_at_once() {
        let f = Fixture::new().await;
        let caller = Caller::PlatformAdministrator;
        let patch = SecretPatch {
            value: Some(SecretValue::supplied(&supplied(5)).unwrap()),
            ..SecretPatch::default()
        };
        f.services
            .secrets
            .update(&caller, f.at(), SecretId(1), patch)
            .await
            .unwrap();
        assert_eq!(
            f.verify(&SecretValue::presented(&supplied(5))).await,
            Ok(SecretId(1))
        );
        assert_eq!(
            f.verify(&f.first_value).await,
            Err(Refusal::Superseded(SecretId(1))),
            "the replaced value is recognised, and refused"
        );
    }

    /// Refused presentations of a replaced value are noted with their source and
    /// flushed as counts; one `secret.refused-use` event per hour; a use of the
    /// value in grace is written as that value's last use.
    #[tokio::test]
    async fn refused_presentations_and_uses_in_grace_are_flushed() {
        let f = Fixture::new().await;
        let caller = Caller::PlatformAdministrator;
        let req = RenewRequest {
            grace_period_seconds: Some(60),
            ..RenewRequest::default()
        };
        let (_, renewed) = f
            .services
            .secrets
            .renew(&caller, f.at(), SecretId(1), req)
            .await
            .unwrap();
        let verifier = &f.services.verifier;
        let from: IpAddr = "10.0.0.7".parse().unwrap();
        let proof = f
            .present(&f.first_value, "10.0.0.1")
            .await
            .unwrap()
            .unwrap();
        verifier.usage().note_use(
            proof.client_pk,
            proof.secret_id,
            proof.credential,
            f.services.now(),
        );
        let flushed = verifier.usage().flush(f.services.now()).await.unwrap();
        assert_eq!((flushed.uses, flushed.refused), (1, 0));
        let secret = f
            .services
            .secrets
            .get(&caller, f.at(), SecretId(1))
            .await
            .unwrap();
        assert_eq!(secret.previous_last_used_at, Some(f.services.now()));

        f.advance(Duration::seconds(61));
        for source in ["10.0.0.2", "10.0.0.3", "10.0.0.7"] {
            f.advance(Duration::seconds(1));
            let refused = f.present(&f.first_value, source).await.unwrap();
            assert_eq!(refused, Err(Refusal::Superseded(SecretId(1))));
        }
        assert!(f.present(&renewed, "10.0.0.9").await.unwrap().is_ok());
        let flushed = verifier.usage().flush(f.services.now()).await.unwrap();
        assert_eq!((flushed.refused, flushed.events), (1, 1));
        let secret = f
            .services
            .secrets
            .get(&caller, f.at(), SecretId(1))
            .await
            .unwrap();
        assert_eq!(secret.refused.count, 3);
        assert_eq!(secret.refused.last_from, Some(from.to_string()));
        assert_eq!(secret.refused.last_at, Some(f.services.now()));

        f.present(&f.first_value, "10.0.0.4")
            .await
            .unwrap()
            .unwrap_err();
        let flushed = verifier.usage().flush(f.services.now()).await.unwrap();
        assert_eq!(
            (flushed.refused, flushed.events),
            (1, 0),
            "one event an hour"
        );
        f.advance(Duration::minutes(61));
        f.present(&f.first_value, "10.0.0.5")
            .await
            .unwrap()
            .unwrap_err();
        let flushed = verifier.usage().flush(f.services.now()).await.unwrap();
        assert_eq!(flushed.events, 1, "the next hour raises again");
        let secret = f
            .services
            .secrets
            .get(&caller, f.at(), SecretId(1))
            .await
            .unwrap();
        assert_eq!(secret.refused.count, 5);
        let wrong = SecretValue::generate().unwrap();
        f.present(&wrong, "10.0.0.6").await.unwrap().unwrap_err();
        let flushed = verifier.usage().flush(f.services.now()).await.unwrap();
        assert_eq!(
            flushed.refused, 0,
            "a value that never worked is not a refused use"
        );
    }

    mod supplied_cache;
}
