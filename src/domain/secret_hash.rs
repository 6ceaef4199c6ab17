//! How secret values are stored: only as hashes.
//!
//! - Generated values (256 bits of entropy) are stored as SHA-256: brute force is
//!   hopeless, and a check costs about a microsecond.
//! - Supplied values may be weak, so they are stored as Argon2id with fixed
//!   parameters ([`ARGON2_PARAMS`]) and a salt **per client**. All supplied secrets
//!   of one client share that salt, so checking a presented value against every
//!   one of them costs exactly one Argon2id run (bounded work whatever the number of secrets). The
//!   salt still differs between clients, so no precomputation spans clients.
//!
//! Comparisons are constant-time ([`subtle`]). Argon2id runs in memory the caller
//! provides ([`Block`]s, [`ARGON2_BLOCKS`] of them), so a server can reuse a fixed
//! set of buffers instead of allocating 19 MiB per run.

pub use argon2::Block;
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::ids::CredentialId;
use super::secret_value::SecretValue;

/// Argon2id parameters: 19 MiB, 2 passes, 1 lane (OWASP's first recommendation),
/// 32-byte output. Changing them needs a new [`HashKind`] so old hashes still verify.
pub const ARGON2_PARAMS: (u32, u32, u32) = (19 * 1024, 2, 1);
/// The memory one Argon2id run with [`ARGON2_PARAMS`] needs, in 1 KiB blocks.
pub const ARGON2_BLOCKS: usize = ARGON2_PARAMS.0 as usize;
pub const SALT_LEN: usize = 16;
/// The salt used for clients that do not exist, so they cost the same work.
pub const UNKNOWN_CLIENT_SALT: [u8; SALT_LEN] = *b"latchkey-nobody!";

/// Which hash a stored digest is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashKind {
    Sha256,
    /// Argon2id with [`ARGON2_PARAMS`] and the client's salt.
    Argon2idV1,
}

impl HashKind {
    pub fn as_db(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Argon2idV1 => "argon2id-m19456-t2-p1",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        match s {
            "sha256" => Some(Self::Sha256),
            "argon2id-m19456-t2-p1" => Some(Self::Argon2idV1),
            _ => None,
        }
    }
}

/// A stored hash of a secret value, and the credential id that names this value
/// (a new one with every new value; tokens minted with the value carry it).
#[derive(Clone, PartialEq, Eq)]
pub struct StoredHash {
    pub kind: HashKind,
    pub digest: Vec<u8>,
    pub credential: CredentialId,
}

impl std::fmt::Debug for StoredHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoredHash({:?})", self.kind)
    }
}

/// Argon2id failed: only possible with invalid parameters, which are constants here.
#[derive(Debug, thiserror::Error)]
#[error("argon2id hashing failed")]
pub struct HashingFailed;

/// Memory for one Argon2id run ([`ARGON2_BLOCKS`] zeroed blocks, 19 MiB).
pub fn argon2_memory() -> Box<[Block]> {
    vec![Block::new(); ARGON2_BLOCKS].into_boxed_slice()
}

/// Hashes a new value for storage, under a fresh credential id. Runs Argon2id in
/// `memory` for supplied values: call it off the async runtime (`spawn_blocking`).
/// Generated values need no memory (an empty slice will do).
pub fn hash_for_storage(
    value: &SecretValue,
    client_salt: &[u8],
    memory: &mut [Block],
) -> Result<StoredHash, HashingFailed> {
    if value.is_generated() {
        Ok(StoredHash {
            kind: HashKind::Sha256,
            digest: sha256(value.expose()).to_vec(),
            credential: CredentialId::generate(),
        })
    } else {
        Ok(StoredHash {
            kind: HashKind::Argon2idV1,
            digest: argon2id(value.expose(), client_salt, memory)?.to_vec(),
            credential: CredentialId::generate(),
        })
    }
}

/// The digest of a presented value, computed once per attempt: SHA-256 when the
/// value is in the generated format, else one Argon2id run with the client's salt.
#[derive(Clone)]
pub struct PresentedDigest {
    kind: HashKind,
    digest: [u8; 32],
}

impl PresentedDigest {
    /// Blocking when the value is not in the generated format (one Argon2id run
    /// in `memory`): call it off the runtime. Generated values need no memory.
    pub fn compute(
        value: &SecretValue,
        client_salt: &[u8],
        memory: &mut [Block],
    ) -> Result<Self, HashingFailed> {
        if value.is_generated() {
            Ok(Self {
                kind: HashKind::Sha256,
                digest: sha256(value.expose()),
            })
        } else {
            Ok(Self {
                kind: HashKind::Argon2idV1,
                digest: argon2id(value.expose(), client_salt, memory)?,
            })
        }
    }

    /// Constant-time match against a stored hash (a kind mismatch never matches).
    pub fn matches(&self, stored: &StoredHash) -> bool {
        let same_kind = self.kind == stored.kind;
        let same_digest: bool = self
            .digest
            .as_slice()
            .ct_eq(stored.digest.as_slice())
            .into();
        same_kind & same_digest
    }

    pub fn needs_argon2(value: &SecretValue) -> bool {
        !value.is_generated()
    }
}

/// The SHA-256 digest a generated value is stored under, found by an index without
/// knowing its client; `None` for a value not in the generated format.
pub fn generated_digest(value: &SecretValue) -> Option<[u8; 32]> {
    value.is_generated().then(|| sha256(value.expose()))
}

fn sha256(value: &str) -> [u8; 32] {
    Sha256::digest(value.as_bytes()).into()
}

fn argon2id(value: &str, salt: &[u8], memory: &mut [Block]) -> Result<[u8; 32], HashingFailed> {
    let (m, t, p) = ARGON2_PARAMS;
    let params = Params::new(m, t, p, Some(32)).map_err(|_| HashingFailed)?;
    let mut out = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into_with_memory(value.as_bytes(), salt, &mut out, memory)
        .map_err(|_| HashingFailed)?;
    Ok(out)
}

/// A fresh per-client salt.
pub fn new_salt() -> Result<Vec<u8>, super::secret_value::RandomnessUnavailable> {
    let mut salt = vec![0u8; SALT_LEN];
    getrandom::fill(&mut salt).map_err(|_| super::secret_value::RandomnessUnavailable)?;
    Ok(salt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_values_use_sha256_and_verify() {
        let v = SecretValue::generate().unwrap();
        let stored = hash_for_storage(&v, &[1; 16], &mut []).unwrap();
        assert_eq!(stored.kind, HashKind::Sha256);
        assert!(
            PresentedDigest::compute(&v, &[1; 16], &mut [])
                .unwrap()
                .matches(&stored)
        );
        let other = SecretValue::generate().unwrap();
        assert!(
            !PresentedDigest::compute(&other, &[1; 16], &mut [])
                .unwrap()
                .matches(&stored)
        );
    }

    #[test]
    fn supplied_values_use_argon2id_with_the_client_salt() {
        let v = SecretValue::supplied("correct horse battery staple!!!!").unwrap();
        let mut memory = argon2_memory();
        let stored = hash_for_storage(&v, &[7; 16], &mut memory).unwrap();
        assert_eq!(stored.kind, HashKind::Argon2idV1);
        let digest = PresentedDigest::compute(&v, &[7; 16], &mut memory).unwrap();
        assert!(
            digest.matches(&stored),
            "the reused memory gives the same hash"
        );
        assert!(
            !PresentedDigest::compute(&v, &[8; 16], &mut memory)
                .unwrap()
                .matches(&stored)
        );
        assert!(
            PresentedDigest::compute(&v, &[7; 16], &mut [][..]).is_err(),
            "Argon2id needs its memory"
        );
    }

    #[test]
    fn hash_kinds_round_trip_through_the_database_names() {
        for kind in [HashKind::Sha256, HashKind::Argon2idV1] {
            assert_eq!(HashKind::from_db(kind.as_db()), Some(kind));
        }
    }
}
