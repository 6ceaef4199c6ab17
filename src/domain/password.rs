//! Console passwords: Argon2id (19 MiB, t=2, p=1, 16-byte random salt per
//! password), encoded as a PHC-style string
//! `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>` (unpadded base64).
//! Verification is constant-time and an unknown user costs one run too
//! ([`verify_unknown`]). Blocking: call these off the async runtime. Argon2id
//! runs in memory the caller provides
//! ([`ARGON2_BLOCKS`](super::secret_hash::ARGON2_BLOCKS) blocks), so the server
//! hashes passwords in the same fixed pool of buffers as supplied secrets.

use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::secret_hash::ARGON2_PARAMS;

const PREFIX: &str = "$argon2id$v=19$m=19456,t=2,p=1$";
/// Shortest password a user may set.
pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 256;

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed")]
pub struct HashingFailed;

fn argon2id(password: &str, salt: &[u8], memory: &mut [Block]) -> Result<[u8; 32], HashingFailed> {
    let (m, t, p) = ARGON2_PARAMS;
    let params = Params::new(m, t, p, Some(32)).map_err(|_| HashingFailed)?;
    let mut out = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, memory)
        .map_err(|_| HashingFailed)?;
    Ok(out)
}

/// The encoded hash of a new password.
pub fn hash(password: &str, memory: &mut [Block]) -> Result<String, HashingFailed> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| HashingFailed)?;
    let digest = argon2id(password, &salt, memory)?;
    Ok(format!(
        "{PREFIX}{}${}",
        B64.encode(salt),
        B64.encode(digest)
    ))
}

/// True when `password` matches `encoded` (false for anything malformed).
pub fn verify(password: &str, encoded: &str, memory: &mut [Block]) -> bool {
    let Some((salt, digest)) = encoded
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.split_once('$'))
    else {
        return false;
    };
    let (Ok(salt), Ok(digest)) = (B64.decode(salt), B64.decode(digest)) else {
        return false;
    };
    match argon2id(password, &salt, memory) {
        Ok(computed) => computed.as_slice().ct_eq(digest.as_slice()).into(),
        Err(_) => false,
    }
}

/// The same work as [`verify`] for a user that does not exist; always false.
pub fn verify_unknown(password: &str, memory: &mut [Block]) -> bool {
    let _ = argon2id(password, b"latchkey-nobody!", memory);
    false
}

/// A generated password for the first administrator: 24 base62 characters (~143 bits).
pub fn generate() -> Result<Zeroizing<String>, HashingFailed> {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = Zeroizing::new(String::with_capacity(24));
    let mut pool = Zeroizing::new([0u8; 64]);
    while out.len() < 24 {
        getrandom::fill(pool.as_mut_slice()).map_err(|_| HashingFailed)?;
        for &b in pool.iter().filter(|&&b| b < 248) {
            if out.len() == 24 {
                break;
            }
            out.push(char::from(ALPHABET[usize::from(b % 62)]));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::domain::secret_hash::argon2_memory;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let m = &mut argon2_memory();
        let h = hash("correct horse", m).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse", &h, m));
        assert!(!verify("correct horsE", &h, m));
        assert!(!verify("correct horse", "garbage", m));
        assert!(!verify_unknown("correct horse", m));
        assert_ne!(hash("correct horse", m).unwrap(), h, "salted");
    }

    #[test]
    fn generated_passwords_are_long_and_distinct() {
        let (a, b) = (generate().unwrap(), generate().unwrap());
        assert_eq!(a.len(), 24);
        assert_ne!(*a, *b);
    }
}
