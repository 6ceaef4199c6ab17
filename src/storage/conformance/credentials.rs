//! Conformance of what the token endpoint reads: a client's credentials.

use super::{Store, hash, j, new_client, new_secret, t, tenant};
use crate::domain::ids::{ClientId, ClientKind, SecretId, TenantId};
use crate::storage::RECENTLY_REVOKED;

pub(super) async fn load_credentials_returns_candidates(s: Store) {
    let tenant = tenant(&s, 0).await;
    let mut new = new_client(tenant, "svc", ClientKind::ClientCredentials);
    new.settings.enabled = false;
    new.argon_salt = b"salt-of-svc-0001".to_vec();
    let (c, _) = s
        .insert_client_with_secret(&new, &new_secret(1), 100, &j())
        .await
        .unwrap();
    for n in 2..=21 {
        s.insert_secret_within_limit(c.pk, &new_secret(n), 100, &j())
            .await
            .unwrap();
    }
    for id in 2..=19 {
        s.revoke_secret(c.pk, SecretId(id), t(40), &j())
            .await
            .unwrap();
    }
    let mut first = s.get_secret(c.pk, SecretId(1)).await.unwrap().unwrap();
    first.previous_hash = Some(hash(200));
    first.grace_until = Some(t(600));
    s.update_secret(c.pk, &first, &j()).await.unwrap();

    let creds = s.load_credentials(&tenant, &new.id).await.unwrap().unwrap();
    assert!(!creds.enabled);
    assert_eq!(creds.argon_salt, new.argon_salt);
    let mut seen: Vec<_> = creds
        .candidates
        .iter()
        .map(|c| (c.id.0, c.revoked))
        .collect();
    seen.sort_unstable();
    let newest_revoked = 19 - i32::try_from(RECENTLY_REVOKED).unwrap() + 1;
    let mut expected = vec![(1, false), (20, false), (21, false)];
    expected.extend((newest_revoked..=19).map(|id| (id, true)));
    expected.sort_unstable();
    assert_eq!(seen, expected);
    for c in &creds.candidates {
        let n = u8::try_from(c.id.0).unwrap();
        assert_eq!((&c.hash, c.expiration), (&hash(n), Some(t(100_000))));
        let previous = (c.id.0 == 1).then(|| (hash(200), t(600)));
        assert_eq!(c.previous, previous);
    }
    assert!(
        s.load_credentials(&TenantId::generate(), &new.id)
            .await
            .unwrap()
            .is_none()
    );
    let nobody = ClientId::parse("nobody").unwrap();
    assert!(
        s.load_credentials(&tenant, &nobody)
            .await
            .unwrap()
            .is_none()
    );
}
