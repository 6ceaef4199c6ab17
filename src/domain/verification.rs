//! The verification decision: given the digest of a presented value and a
//! client's stored hashes, which secret (if any) it proves, or why not.
//!
//! Every candidate is compared, with no early exit, so the time taken does not
//! depend on which secret matched. The caller computes the digest exactly once
//! per attempt (see [`super::secret_hash::PresentedDigest`]), also for unknown
//! clients, so an unknown client costs the same as a wrong secret.

use chrono::{DateTime, Utc};

use super::ids::SecretId;
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

/// Decides the outcome for a known client. `now` decides expiry and grace, so a
/// secret stops working at its expiration whether or not any job has run.
pub fn decide(
    digest: &PresentedDigest,
    candidates: &[Candidate],
    client_enabled: bool,
    now: DateTime<Utc>,
) -> Result<SecretId, Refusal> {
    let mut current: Option<&Candidate> = None;
    let mut previous: Option<(&Candidate, bool)> = None;
    for candidate in candidates {
        if digest.matches(&candidate.hash) {
            current = Some(candidate);
        }
        if let Some((hash, until)) = &candidate.previous
            && digest.matches(hash)
        {
            previous = Some((candidate, *until > now));
        }
    }
    let id = match (current, previous) {
        (Some(c), _) if c.revoked => return Err(Refusal::Revoked(c.id)),
        (Some(c), _) if c.expiration.is_some_and(|at| at <= now) => {
            return Err(Refusal::Expired(c.id));
        }
        (Some(c), _) => c.id,
        (None, Some((c, _))) if c.revoked => return Err(Refusal::Revoked(c.id)),
        // A grace never outlives the secret: once it expires, both values stop.
        (None, Some((c, _))) if c.expiration.is_some_and(|at| at <= now) => {
            return Err(Refusal::Expired(c.id));
        }
        (None, Some((c, true))) => c.id,
        (None, Some((c, false))) => return Err(Refusal::Superseded(c.id)),
        (None, None) => return Err(Refusal::NoMatch),
    };
    if client_enabled {
        Ok(id)
    } else {
        Err(Refusal::ClientDisabled)
    }
}

/// Whether a token minted by secret `secret_id` may still be honoured: the client
/// is enabled and that secret exists, is not revoked and has not expired.
pub fn minting_secret_valid(
    candidates: &[Candidate],
    client_enabled: bool,
    secret_id: SecretId,
    now: DateTime<Utc>,
) -> bool {
    client_enabled
        && candidates
            .iter()
            .any(|c| c.id == secret_id && !c.revoked && c.expiration.is_none_or(|at| at > now))
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
        let hash = hash_for_storage(&v, &SALT).unwrap();
        let c = Candidate {
            id: SecretId(id),
            hash,
            expiration: None,
            previous: None,
            revoked: false,
        };
        (v, c)
    }

    fn digest(v: &SecretValue) -> PresentedDigest {
        PresentedDigest::compute(v, &SALT).unwrap()
    }

    #[test]
    fn the_matching_secret_is_named_among_several() {
        let (_, a) = secret(1);
        let (vb, b) = secret(2);
        let now = Utc::now();
        assert_eq!(decide(&digest(&vb), &[a, b], true, now), Ok(SecretId(2)));
    }

    #[test]
    fn refusals_say_why() {
        let now = Utc::now();
        let (v, mut c) = secret(1);
        let (other, _) = secret(9);
        assert_eq!(
            decide(&digest(&other), &[c.clone()], true, now),
            Err(Refusal::NoMatch)
        );
        assert_eq!(
            decide(&digest(&v), &[c.clone()], false, now),
            Err(Refusal::ClientDisabled)
        );
        c.expiration = Some(now);
        assert_eq!(
            decide(&digest(&v), &[c.clone()], true, now),
            Err(Refusal::Expired(SecretId(1)))
        );
        c.expiration = Some(now + Duration::seconds(1));
        assert_eq!(
            decide(&digest(&v), &[c.clone()], true, now),
            Ok(SecretId(1))
        );
        c.revoked = true;
        assert_eq!(
            decide(&digest(&v), &[c], true, now),
            Err(Refusal::Revoked(SecretId(1)))
        );
    }

    #[test]
    fn a_token_lives_only_while_its_minting_secret_does() {
        let now = Utc::now();
        let (_, mut c) = secret(2);
        assert!(minting_secret_valid(&[c.clone()], true, SecretId(2), now));
        assert!(
            !minting_secret_valid(&[c.clone()], true, SecretId(3), now),
            "other secret"
        );
        assert!(
            !minting_secret_valid(&[c.clone()], false, SecretId(2), now),
            "client disabled"
        );
        c.expiration = Some(now);
        assert!(
            !minting_secret_valid(&[c.clone()], true, SecretId(2), now),
            "expired"
        );
        c.expiration = None;
        c.revoked = true;
        assert!(
            !minting_secret_valid(&[c], true, SecretId(2), now),
            "revoked"
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
            decide(&digest(&new), &[c.clone()], true, now),
            Ok(SecretId(4))
        );
        assert_eq!(
            decide(&digest(&old), &[c.clone()], true, now),
            Ok(SecretId(4))
        );
        let later = now + Duration::seconds(30);
        assert_eq!(
            decide(&digest(&old), &[c.clone()], true, later),
            Err(Refusal::Superseded(SecretId(4)))
        );
        let mut expired = c.clone();
        expired.expiration = Some(now);
        assert_eq!(
            decide(&digest(&old), &[expired], true, now),
            Err(Refusal::Expired(SecretId(4))),
            "a grace never outlives the secret's expiration"
        );
    }
}
