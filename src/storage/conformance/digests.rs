//! Conformance of finding secrets by the digest of a generated value: the
//! current and the replaced hash, across tenants, never a revoked secret or an
//! Argon2id hash with the same bytes.

use super::{Store, client, hash, j, new_secret};
use crate::domain::ids::SecretId;
use crate::domain::secret_hash::HashKind;

pub(super) async fn secrets_are_found_by_digest(s: Store) {
    let (tenant, pk) = client(&s, "svc").await;
    let (other_tenant, other_pk) = client(&s, "svc").await;
    s.insert_secret_within_limit(other_pk, &new_secret(7), 10, &j())
        .await
        .unwrap();
    let found = s.find_secrets_by_digest(&[7; 32]).await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (
            found[0].tenant_id,
            found[0].client_pk,
            found[0].client_id.as_str()
        ),
        (other_tenant, other_pk, "svc")
    );
    assert_eq!(
        (found[0].secret.id, found[0].previous),
        (SecretId(2), false)
    );
    assert!(s.find_secrets_by_digest(&[9; 32]).await.unwrap().is_empty());

    // A Renew moves the old digest to the replaced hash.
    let mut secret = s.get_secret(pk, SecretId(1)).await.unwrap().unwrap();
    secret.previous_hash = Some(secret.hash.clone());
    secret.hash = hash(8);
    s.update_secret(pk, &secret, &j()).await.unwrap();
    let found = s.find_secrets_by_digest(&[1; 32]).await.unwrap();
    assert_eq!(found.len(), 2, "client 1 of both tenants: {found:?}");
    let mine = found.iter().find(|f| f.tenant_id == tenant).unwrap();
    assert!(mine.previous);
    let current = s.find_secrets_by_digest(&[8; 32]).await.unwrap();
    assert_eq!((current.len(), current[0].previous), (1, false));

    // Argon2id hashes are never matched by a SHA-256 digest; revoked secrets are gone.
    let mut secret = s.get_secret(pk, SecretId(1)).await.unwrap().unwrap();
    secret.hash.kind = HashKind::Argon2idV1;
    s.update_secret(pk, &secret, &j()).await.unwrap();
    assert!(s.find_secrets_by_digest(&[8; 32]).await.unwrap().is_empty());
    s.revoke_secret(other_pk, SecretId(2), super::t(40), &j())
        .await
        .unwrap();
    assert!(s.find_secrets_by_digest(&[7; 32]).await.unwrap().is_empty());
}
