//! Supplied values verified once are decided without Argon2id while in force;
//! every change of the row stops them at once, and every refusal costs the run.

use chrono::Duration;

use super::*;

/// Adds a supplied secret (id 2, after the generated first one) and verifies it
/// once, with its single Argon2id run.
async fn verified_supplied(f: &Fixture, expiry: ExpiryRequest) -> (SecretId, SecretValue) {
    let req = NewSecretRequest {
        value: Some(SecretValue::supplied(&supplied(1)).unwrap()),
        expiry,
        ..NewSecretRequest::default()
    };
    let caller = Caller::PlatformAdministrator;
    let (secret, _) = f.services.secrets.add(&caller, f.at(), req).await.unwrap();
    let value = SecretValue::presented(&supplied(1));
    let runs = f.services.argon2_runs();
    assert_eq!(f.verify(&value).await, Ok(secret.id));
    assert_eq!(
        f.services.argon2_runs() - runs,
        1,
        "the first check runs Argon2id"
    );
    (secret.id, value)
}

impl Fixture {
    /// The outcome of one attempt and the Argon2id runs it cost.
    async fn attempt(&self, value: &SecretValue) -> (Result<SecretId, Refusal>, u64) {
        let before = self.services.argon2_runs();
        let outcome = self.verify(value).await;
        (outcome, self.services.argon2_runs() - before)
    }
}

#[tokio::test]
async fn a_verified_supplied_value_needs_no_more_argon2_runs() {
    let f = Fixture::new().await;
    let (id, value) = verified_supplied(&f, ExpiryRequest::default()).await;
    let before = f.services.argon2_runs();
    for _ in 0..20 {
        assert_eq!(f.verify(&value).await, Ok(id));
    }
    assert_eq!(
        f.services.argon2_runs() - before,
        0,
        "twenty checks, no run"
    );
    let wrong = SecretValue::presented(&supplied(2));
    assert_eq!(f.attempt(&wrong).await, (Err(Refusal::NoMatch), 1));
    assert_eq!(
        f.attempt(&value).await,
        (Ok(id), 0),
        "a wrong value evicts nothing"
    );
    let nobody = ClientId::parse("nobody").unwrap();
    let before = f.services.argon2_runs();
    let got = f.services.verifier.verify(&f.tenant, &nobody, &value).await;
    assert_eq!(got.unwrap(), Err(Refusal::UnknownClient));
    assert_eq!(
        f.services.argon2_runs() - before,
        1,
        "an unknown client costs one run"
    );
}

#[tokio::test]
async fn renew_stops_the_remembered_value_at_once() {
    let f = Fixture::new().await;
    let (id, value) = verified_supplied(&f, ExpiryRequest::default()).await;
    assert_eq!(f.attempt(&value).await, (Ok(id), 0), "remembered");
    let caller = Caller::PlatformAdministrator;
    let (_, renewed) = f
        .services
        .secrets
        .renew(&caller, f.at(), id, RenewRequest::default())
        .await
        .unwrap();
    assert_eq!(f.attempt(&value).await, (Err(Refusal::Superseded(id)), 1));
    assert_eq!(f.attempt(&value).await, (Err(Refusal::Superseded(id)), 1));
    assert_eq!(
        f.attempt(&renewed).await,
        (Ok(id), 0),
        "generated: no Argon2id"
    );
}

#[tokio::test]
async fn a_value_in_grace_stays_remembered_until_end_grace() {
    let f = Fixture::new().await;
    let (id, value) = verified_supplied(&f, ExpiryRequest::default()).await;
    let caller = Caller::PlatformAdministrator;
    let req = RenewRequest {
        grace_period_seconds: Some(600),
        ..RenewRequest::default()
    };
    f.services
        .secrets
        .renew(&caller, f.at(), id, req)
        .await
        .unwrap();
    assert_eq!(f.attempt(&value).await, (Ok(id), 0), "in grace");
    f.services
        .secrets
        .end_grace(&caller, f.at(), id)
        .await
        .unwrap();
    assert_eq!(f.attempt(&value).await, (Err(Refusal::Superseded(id)), 1));
}

#[tokio::test]
async fn a_grace_that_runs_out_stops_the_remembered_value() {
    let f = Fixture::new().await;
    let (id, value) = verified_supplied(&f, ExpiryRequest::default()).await;
    let caller = Caller::PlatformAdministrator;
    let req = RenewRequest {
        grace_period_seconds: Some(60),
        ..RenewRequest::default()
    };
    f.services
        .secrets
        .renew(&caller, f.at(), id, req)
        .await
        .unwrap();
    assert_eq!(f.attempt(&value).await, (Ok(id), 0));
    f.advance(Duration::seconds(60));
    assert_eq!(f.attempt(&value).await, (Err(Refusal::Superseded(id)), 1));
}

#[tokio::test]
async fn a_new_value_set_by_update_stops_the_remembered_one() {
    let f = Fixture::new().await;
    let (id, value) = verified_supplied(&f, ExpiryRequest::default()).await;
    let caller = Caller::PlatformAdministrator;
    let patch = SecretPatch {
        value: Some(SecretValue::supplied(&supplied(3)).unwrap()),
        ..SecretPatch::default()
    };
    f.services
        .secrets
        .update(&caller, f.at(), id, patch)
        .await
        .unwrap();
    assert_eq!(f.attempt(&value).await, (Err(Refusal::Superseded(id)), 1));
    let new = SecretValue::presented(&supplied(3));
    assert_eq!(f.attempt(&new).await, (Ok(id), 1));
    assert_eq!(f.attempt(&new).await, (Ok(id), 0));
    // Setting the very same value again is a new credential: verified afresh.
    let patch = SecretPatch {
        value: Some(SecretValue::supplied(&supplied(3)).unwrap()),
        ..SecretPatch::default()
    };
    f.services
        .secrets
        .update(&caller, f.at(), id, patch)
        .await
        .unwrap();
    assert_eq!(f.attempt(&new).await, (Ok(id), 1));
}

#[tokio::test]
async fn revoke_stops_the_remembered_value_at_once() {
    let f = Fixture::new().await;
    let (id, value) = verified_supplied(&f, ExpiryRequest::default()).await;
    let caller = Caller::PlatformAdministrator;
    f.services
        .secrets
        .revoke(&caller, f.at(), id)
        .await
        .unwrap();
    assert_eq!(f.attempt(&value).await, (Err(Refusal::Revoked(id)), 1));
    assert_eq!(f.attempt(&value).await, (Err(Refusal::Revoked(id)), 1));
}

#[tokio::test]
async fn expiry_stops_the_remembered_value_without_any_job() {
    let f = Fixture::new().await;
    let expiry = ExpiryRequest {
        expires: None,
        expiration: Some(f.clock.now() + Duration::seconds(5)),
    };
    let (id, value) = verified_supplied(&f, expiry).await;
    assert_eq!(f.attempt(&value).await, (Ok(id), 0));
    f.advance(Duration::seconds(5));
    assert_eq!(f.attempt(&value).await, (Err(Refusal::Expired(id)), 1));
}

#[tokio::test]
async fn a_disabled_client_stops_the_remembered_value() {
    let f = Fixture::new().await;
    let (id, value) = verified_supplied(&f, ExpiryRequest::default()).await;
    let caller = Caller::PlatformAdministrator;
    let kind = ClientKind::ClientCredentials;
    let enabled = |on: bool| ClientPatch {
        enabled: Some(on),
        ..ClientPatch::default()
    };
    f.services
        .clients
        .update(&caller, &f.tenant, kind, "svc", enabled(false))
        .await
        .unwrap();
    assert_eq!(f.attempt(&value).await, (Err(Refusal::ClientDisabled), 1));
    f.services
        .clients
        .update(&caller, &f.tenant, kind, "svc", enabled(true))
        .await
        .unwrap();
    assert_eq!(f.attempt(&value).await, (Ok(id), 1), "verified afresh");
    assert_eq!(f.attempt(&value).await, (Ok(id), 0));
}

#[tokio::test]
async fn a_deleted_and_recreated_client_verifies_its_value_afresh() {
    let f = Fixture::new().await;
    let (id, value) = verified_supplied(&f, ExpiryRequest::default()).await;
    assert_eq!(f.attempt(&value).await, (Ok(id), 0), "remembered");
    let caller = Caller::PlatformAdministrator;
    let kind = ClientKind::ClientCredentials;
    f.services
        .clients
        .delete(&caller, &f.tenant, kind, "svc")
        .await
        .unwrap();
    assert_eq!(f.attempt(&value).await, (Err(Refusal::UnknownClient), 1));
    let req = NewClientRequest {
        id: Some("svc".into()),
        settings: ClientPatch {
            name: Some("svc".into()),
            ..ClientPatch::default()
        },
        first_secret: NewSecretRequest {
            value: Some(SecretValue::supplied(&supplied(1)).unwrap()),
            ..NewSecretRequest::default()
        },
    };
    f.services
        .clients
        .create(&caller, &f.tenant, kind, req)
        .await
        .unwrap();
    assert_eq!(
        f.attempt(&value).await,
        (Ok(SecretId(1)), 1),
        "a new credential"
    );
    assert_eq!(f.attempt(&value).await, (Ok(SecretId(1)), 0));
}
