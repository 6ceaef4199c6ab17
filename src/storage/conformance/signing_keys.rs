//! Conformance of the signing-key rows, on both databases: a generation is
//! stored once however many inserts race for it, the revocation of an emergency
//! rotation (which erases the revoked key's private half) is written only with
//! the key that replaces it, and every field reads back as written, in generation
//! order.

use super::{Store, t};
use crate::storage::SigningKeyRecord;

fn key(kid: &str, generation: i64) -> SigningKeyRecord {
    SigningKeyRecord {
        kid: kid.to_owned(),
        algorithm: "ES256".to_owned(),
        private_key_sealed: vec![generation as u8; 40],
        public_jwk: format!("{{\"kid\":\"{kid}\"}}"),
        created_at: t(generation),
        generation,
        activates_at: t(generation + 100),
        revoked_at: None,
    }
}

pub(super) async fn signing_key_generations_are_stored_once(s: Store) {
    assert!(s.signing_keys().await.unwrap().is_empty());
    let first = key("k1", 1);
    assert!(s.insert_signing_key(&first, None).await.unwrap());
    // The same kid, or another key of the same generation: nothing is stored.
    assert!(!s.insert_signing_key(&first, None).await.unwrap());
    assert!(!s.insert_signing_key(&key("k1b", 1), None).await.unwrap());
    // Concurrent rotations to generation 2, each revoking k1: exactly one stores its key.
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                s.insert_signing_key(&key(&format!("k2-{i}"), 2), Some(("k1", t(50 + i))))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut won = vec![];
    for (i, task) in tasks.into_iter().enumerate() {
        if task.await.unwrap() {
            won.push(i as i64);
        }
    }
    assert_eq!(won.len(), 1, "{won:?}");
    let stored = s.signing_keys().await.unwrap();
    let mut second = key(&format!("k2-{}", won[0]), 2);
    let mut revoked = first.clone();
    revoked.revoked_at = Some(t(50 + won[0]));
    revoked.private_key_sealed.clear();
    assert_eq!(stored, vec![revoked.clone(), second.clone()]);
    // A refused insert revokes nothing.
    assert!(
        !s.insert_signing_key(&key("k2-late", 2), Some((second.kid.as_str(), t(99))))
            .await
            .unwrap()
    );
    second.revoked_at = None;
    assert_eq!(s.signing_keys().await.unwrap()[1], second);
}
