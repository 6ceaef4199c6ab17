//! Rules of console accounts, with no I/O: what a user name and a password may
//! be, how a session token is kept and checked, when a session ends, and how
//! many failed sign-ins are allowed.
//!
//! A session token is 256 bits from the OS ([`random_token`], the one call that
//! reaches the OS, kept fallible), sent only as the cookie; the database keeps
//! its SHA-256 ([`token_hash`]). The CSRF token of a session is derived from the
//! session token ([`csrf_token`]), so it needs no storage and changes with it.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::ValidationError;
use super::access::ROLE_IDS;
use super::password;
use super::secret_value::RandomnessUnavailable;

/// Failed sign-ins allowed per user name, then per source address, per window.
pub const FAILURES_PER_NAME: u32 = 5;
pub const FAILURES_PER_ADDRESS: u32 = 20;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(300);
/// A session ends this long after sign-in, however active it is.
pub const SESSION_LIFETIME_HOURS: i64 = 12;
/// The longest idle timeout a session may have (configuration validates the same bound).
const MAX_IDLE_DAYS: i64 = 7;
/// The first administrator's user name.
pub const ADMIN: &str = "admin";

/// A user name: 1 to 64 ASCII letters, digits or `- . _ @`.
pub fn validate_user_name(name: &str) -> Result<(), ValidationError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(
            "User name",
            "1 to 64 letters, digits or - . _ @",
        ))
    }
}

/// A password a user may set: [`password::MIN_LEN`] to [`password::MAX_LEN`] characters.
pub fn validate_password(p: &str) -> Result<(), ValidationError> {
    if (password::MIN_LEN..=password::MAX_LEN).contains(&p.chars().count()) {
        Ok(())
    } else {
        Err(ValidationError::new(
            "Password",
            format!("{} to {} characters", password::MIN_LEN, password::MAX_LEN),
        ))
    }
}

/// Every role of a user's tenant roles is a known role id.
pub fn validate_roles<'a>(roles: impl IntoIterator<Item = &'a str>) -> Result<(), ValidationError> {
    match roles.into_iter().find(|r| !ROLE_IDS.contains(r)) {
        Some(role) => Err(ValidationError::new(
            "Role",
            format!("unknown role {role:?}"),
        )),
        None => Ok(()),
    }
}

/// The SHA-256 of a session token: what the database keeps.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The CSRF token of the session whose token is `token`.
pub fn csrf_token(token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"latchkey-console-csrf\0");
    h.update(token.as_bytes());
    B64.encode(h.finalize())
}

/// Constant-time equality of two tokens.
pub fn same_token(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.as_slice().ct_eq(b.as_slice()).into()
}

/// 256 random bits, URL-safe.
pub fn random_token() -> Result<Zeroizing<String>, RandomnessUnavailable> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    getrandom::fill(bytes.as_mut_slice()).map_err(|_| RandomnessUnavailable)?;
    Ok(Zeroizing::new(B64.encode(bytes.as_slice())))
}

/// `idle_timeout` as a time span (at most [`MAX_IDLE_DAYS`]).
pub fn idle_span(idle_timeout: Duration) -> chrono::Duration {
    chrono::Duration::from_std(idle_timeout).unwrap_or(chrono::Duration::days(MAX_IDLE_DAYS))
}

/// A session has ended when it was idle for `idle_timeout` or is older than
/// [`SESSION_LIFETIME_HOURS`], however active.
pub fn session_ended(
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    now: DateTime<Utc>,
    idle_timeout: Duration,
) -> bool {
    let too_old = created_at + chrono::Duration::hours(SESSION_LIFETIME_HOURS) <= now;
    last_seen_at + idle_span(idle_timeout) <= now || too_old
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_and_passwords_name_the_field() {
        assert!(validate_user_name("alice.o'hara").is_err());
        assert!(validate_user_name("alice-1@example.org").is_ok());
        assert_eq!(
            validate_user_name("").unwrap_err().to_string(),
            "User name: 1 to 64 letters, digits or - . _ @"
        );
        assert!(validate_password(&"x".repeat(8)).is_ok());
        assert_eq!(
            validate_password("short").unwrap_err().to_string(),
            "Password: 8 to 256 characters"
        );
        assert!(validate_roles(ROLE_IDS).is_ok());
        assert_eq!(
            validate_roles(["nobody"]).unwrap_err().to_string(),
            "Role: unknown role \"nobody\""
        );
    }

    #[test]
    fn a_session_ends_when_idle_or_too_old() {
        let t0 = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        let idle = Duration::from_secs(600);
        let at = |secs: i64| t0 + chrono::Duration::seconds(secs);
        assert!(!session_ended(t0, t0, at(599), idle));
        assert!(session_ended(t0, t0, at(600), idle));
        let hours = SESSION_LIFETIME_HOURS * 3600;
        assert!(!session_ended(t0, at(hours - 1), at(hours - 1), idle));
        assert!(session_ended(t0, at(hours), at(hours), idle));
    }

    #[test]
    fn tokens_are_random_and_checked_by_their_hashes() {
        let (a, b) = (random_token().unwrap(), random_token().unwrap());
        assert_ne!(*a, *b);
        assert_eq!(a.len(), 43);
        assert!(same_token(&a, &a.clone()));
        assert!(!same_token(&a, &b));
        assert_eq!(token_hash(&a).len(), 32);
        assert_ne!(csrf_token(&a), csrf_token(&b));
    }
}
