//! The verification decision: given the digest of a presented value and a
//! client's stored hashes, which secret (if any) it proves, or why not.
//!
//! Every candidate is compared, with no early exit, so the time taken does not
//! depend on which secret matched. The caller computes the digest exactly once
//! per attempt (see [`super::secret_hash::PresentedDigest`]), also for unknown
//! clients, so an unknown client costs the same as a wrong secret.

use chrono::{DateTime, Utc};

use super::ids::{CredentialId, SecretId};
use super::secret_hash::{PresentedDigest, StoredHash};

/// One stored secret of the client, as verification sees it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: SecretId,
    pub hash: StoredHash,
    pub expiration: Option<DateTime<Utc>>,
    /// The value replaced by a Renew and until when it still works.
    pub previous: Option<(StoredHash, DateTime<Utc>)>,
    pub revoked: bool,
}

/// Why a presented secret was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("unknown client")]
    UnknownClient,
    #[error("no secret of the client matches")]
    NoMatch,
    #[error("secret {0} has expired")]
    Expired(SecretId),
    #[error("secret {0} was revoked")]
    Revoked(SecretId),
    #[error("secret {0} was renewed and its old value no longer works")]
    Superseded(SecretId),
    #[error("the client is disabled")]
    ClientDisabled,
}

/// What a presented value proved: which secret, and which of its values (the
/// current one or the one in grace), named by its credential id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proof {
    pub secret: SecretId,
    pub credential: CredentialId,
}

/// Decides the outcome for a known client. `now` decides expiry and grace, so a
/// secret stops working at its expiration whether or not any job has run.
pub fn decide(
    digest: &PresentedDigest,
    candidates: &[Candidate],
    client_enabled: bool,
    now: DateTime<Utc>,
) -> Result<Proof, Refusal> {
    let mut current: Option<&Candidate> = None;
    let mut previous: Option<(&Candidate, &StoredHash, bool)> = None;
    for candidate in candidates {
        if digest.matches(&candidate.hash) {
            current = Some(candidate);
        }
        if let Some((hash, until)) = &candidate.previous
            && digest.matches(hash)
        {
            previous = Some((candidate, hash, *until > now));
        }
    }
    let proof = match (current, previous) {
        (Some(c), _) if c.revoked => return Err(Refusal::Revoked(c.id)),
        (Some(c), _) if c.expiration.is_some_and(|at| at <= now) => {
            return Err(Refusal::Expired(c.id));
        }
        (Some(c), _) => (c.id, &c.hash),
        (None, Some((c, _, _))) if c.revoked => return Err(Refusal::Revoked(c.id)),
        // A grace never outlives the secret: once it expires, both values stop.
        (None, Some((c, _, _))) if c.expiration.is_some_and(|at| at <= now) => {
            return Err(Refusal::Expired(c.id));
        }
        (None, Some((c, hash, true))) => (c.id, hash),
        (None, Some((c, _, false))) => return Err(Refusal::Superseded(c.id)),
        (None, None) => return Err(Refusal::NoMatch),
    };
    if client_enabled {
        Ok(Proof {
            secret: proof.0,
            credential: proof.1.credential,
        })
    } else {
        Err(Refusal::ClientDisabled)
    }
}

/// Whether a token minted with credential `credential` of secret `secret_id` may
/// still be honoured: the client is enabled, the secret is not revoked and has not
/// expired, and that exact value still works — it is the secret's current value,
/// or the value a Renew replaced while its grace lasts. The same rule as
/// [`decide`], so a token works exactly as long as the value that minted it.
pub fn credential_in_force(
    candidates: &[Candidate],
    client_enabled: bool,
    secret_id: SecretId,
    credential: CredentialId,
    now: DateTime<Utc>,
) -> bool {
    client_enabled
        && candidates.iter().any(|c| {
            let value_works = c.hash.credential == credential
                || c.previous
                    .as_ref()
                    .is_some_and(|(h, until)| h.credential == credential && *until > now);
            c.id == secret_id && value_works && !c.revoked && c.expiration.is_none_or(|at| at > now)
        })
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::domain::secret_hash::hash_for_storage;
    use crate::domain::secret_value::SecretValue;

    const SALT: [u8; 16] = [3; 16];

    fn secret(id: i32) -> (SecretValue, Candidate) {
        let v = SecretValue::generate().unwrap();
        let hash = hash_for_storage(&v, &SALT, &mut []).unwrap();
        let c = Candidate {
            id: SecretId(id),
            hash,
            expiration: None,
            previous: None,
            revoked: false,
        };
        (v, c)
    }

    /// The secret a decision names (the tests about ids and refusals).
    fn decided(
        d: &PresentedDigest,
        candidates: &[Candidate],
        enabled: bool,
        now: DateTime<Utc>,
    ) -> Result<SecretId, Refusal> {
        decide(d, candidates, enabled, now).map(|p| p.secret)
    }

    fn digest(v: &SecretValue) -> PresentedDigest {
        PresentedDigest::compute(v, &SALT, &mut []).unwrap()
    }

    #[test]
    fn the_matching_secret_is_named_among_several() {
        let (_, a) = secret(1);
        let (vb, b) = secret(2);
        let now = Utc::now();
        assert_eq!(decided(&digest(&vb), &[a, b], true, now), Ok(SecretId(2)));
    }

    #[test]
    fn refusals_say_why() {
        let now = Utc::now();
        let (v, mut c) = secret(1);
        let (other, _) = secret(9);
        assert_eq!(
            decided(&digest(&other), &[c.clone()], true, now),
            Err(Refusal::NoMatch)
        );
        assert_eq!(
            decided(&digest(&v), &[c.clone()], false, now),
            Err(Refusal::ClientDisabled)
        );
        c.expiration = Some(now);
        assert_eq!(
            decided(&digest(&v), &[c.clone()], true, now),
            Err(Refusal::Expired(SecretId(1)))
        );
        c.expiration = Some(now + Duration::seconds(1));
        assert_eq!(
            decided(&digest(&v), &[c.clone()], true, now),
            Ok(SecretId(1))
        );
        c.revoked = true;
        assert_eq!(
            decided(&digest(&v), &[c], true, now),
            Err(Refusal::Revoked(SecretId(1)))
        );
    }

    #[test]
    fn a_token_lives_only_while_its_minting_secret_does() {
        let now = Utc::now();
        let (_, mut c) = secret(2);
        let cid = c.hash.credential;
        assert!(credential_in_force(
            &[c.clone()],
            true,
            SecretId(2),
            cid,
            now
        ));
        assert!(
            !credential_in_force(&[c.clone()], true, SecretId(3), cid, now),
            "other secret"
        );
        assert!(
            !credential_in_force(&[c.clone()], false, SecretId(2), cid, now),
            "client disabled"
        );
        c.expiration = Some(now);
        assert!(
            !credential_in_force(&[c.clone()], true, SecretId(2), cid, now),
            "expired"
        );
        c.expiration = None;
        c.revoked = true;
        assert!(
            !credential_in_force(&[c], true, SecretId(2), cid, now),
            "revoked"
        );
    }

    #[test]
    fn a_token_is_bound_to_the_value_not_to_the_secret_id() {
        let now = Utc::now();
        let (_, minted) = secret(1);
        let cid = minted.hash.credential;
        // Same numeric id, another value (a re-created client, or an update's new value).
        let (_, reborn) = secret(1);
        assert!(!credential_in_force(&[reborn], true, SecretId(1), cid, now));
        // Renewed: the old value's tokens live exactly as long as its grace.
        let (_, fresh) = secret(1);
        let mut renewed = minted.clone();
        renewed.hash = fresh.hash;
        renewed.previous = Some((minted.hash.clone(), now + Duration::seconds(30)));
        assert!(credential_in_force(
            &[renewed.clone()],
            true,
            SecretId(1),
            cid,
            now
        ));
        let later = now + Duration::seconds(30);
        assert!(!credential_in_force(
            &[renewed.clone()],
            true,
            SecretId(1),
            cid,
            later
        ));
        renewed.previous = Some((minted.hash.clone(), now));
        assert!(
            !credential_in_force(&[renewed], true, SecretId(1), cid, now),
            "renewed without grace: at once"
        );
    }

    #[test]
    fn a_renewed_value_works_only_during_its_grace_period() {
        let now = Utc::now();
        let (old, mut c) = secret(4);
        let (new, fresh) = secret(4);
        c.previous = Some((c.hash.clone(), now + Duration::seconds(30)));
        c.hash = fresh.hash;
        assert_eq!(
            decided(&digest(&new), &[c.clone()], true, now),
            Ok(SecretId(4))
        );
        assert_eq!(
            decided(&digest(&old), &[c.clone()], true, now),
            Ok(SecretId(4))
        );
        let later = now + Duration::seconds(30);
        assert_eq!(
            decided(&digest(&old), &[c.clone()], true, later),
            Err(Refusal::Superseded(SecretId(4)))
        );
        let mut expired = c.clone();
        expired.expiration = Some(now);
        assert_eq!(
            decided(&digest(&old), &[expired], true, now),
            Err(Refusal::Expired(SecretId(4))),
            "a grace never outlives the secret's expiration"
        );
    }
}
