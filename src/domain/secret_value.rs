//! Secret values: generation, the checksummed format scanners recognise, the
//! rules for supplied values, and hints.
//!
//! A generated value is `lkcs_` + 43 base62 characters (256 bits from the OS
//! CSPRNG) + a 6-character base62 CRC-32 of everything before it, the idea of
//! GitHub's token format: a leaked value can be recognised offline, and a typo
//! is caught without a database look-up. A [`SecretValue`] cannot leak through
//! `Debug`, `Display` or serde; [`SecretValue::expose`] is called only by the
//! hasher and by the one response that returns the value.

use std::fmt;

use zeroize::Zeroizing;

use super::ValidationError;

/// The product prefix of generated values ("Latchkey client secret").
pub const PREFIX: &str = "lkcs_";
/// Base62 characters of randomness: 62^43 > 2^256.
pub const RANDOM_LEN: usize = 43;
pub const CHECKSUM_LEN: usize = 6;
pub const GENERATED_LEN: usize = PREFIX.len() + RANDOM_LEN + CHECKSUM_LEN;
pub const SUPPLIED_MIN_LEN: usize = 32;
pub const SUPPLIED_MAX_LEN: usize = 512;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The operating system could not provide random bytes.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed")]
pub struct RandomnessUnavailable;

/// A secret value in memory: zeroed on drop, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(Zeroizing<String>);

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(..)")
    }
}

impl SecretValue {
    /// A fresh value with 256 bits from the OS CSPRNG.
    pub fn generate() -> Result<Self, RandomnessUnavailable> {
        let mut value = Zeroizing::new(String::with_capacity(GENERATED_LEN));
        value.push_str(PREFIX);
        let mut pool = Zeroizing::new([0u8; 64]);
        while value.len() < PREFIX.len() + RANDOM_LEN {
            getrandom::fill(pool.as_mut_slice()).map_err(|_| RandomnessUnavailable)?;
            // Rejection sampling: 248 = 4 × 62, so every accepted byte maps uniformly.
            for &b in pool.iter().filter(|&&b| b < 248) {
                if value.len() == PREFIX.len() + RANDOM_LEN {
                    break;
                }
                value.push(char::from(BASE62[usize::from(b % 62)]));
            }
        }
        let checksum = checksum(&value);
        value.push_str(&checksum);
        Ok(Self(value))
    }

    /// A value chosen by the caller: 32–512 printable ASCII characters, spaces
    /// allowed inside but not at either end, and not in the generated format
    /// (the product prefix is reserved, so a scanner's match is always ours).
    pub fn supplied(value: &str) -> Result<Self, ValidationError> {
        let len = value.chars().count();
        if !(SUPPLIED_MIN_LEN..=SUPPLIED_MAX_LEN).contains(&len) {
            return Err(ValidationError::new(
                "Value",
                format!(
                    "must be {SUPPLIED_MIN_LEN} to {SUPPLIED_MAX_LEN} characters long (got {len})"
                ),
            ));
        }
        if !value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Err(ValidationError::new(
                "Value",
                "may contain only printable ASCII characters",
            ));
        }
        if value.starts_with(' ') || value.ends_with(' ') {
            return Err(ValidationError::new(
                "Value",
                "must not start or end with a space",
            ));
        }
        if value.starts_with(PREFIX) {
            return Err(ValidationError::new(
                "Value",
                format!("values starting with {PREFIX} are reserved for generated secrets"),
            ));
        }
        Ok(Self(Zeroizing::new(value.to_owned())))
    }

    /// A value presented for verification, taken as it is.
    pub fn presented(value: &str) -> Self {
        Self(Zeroizing::new(value.to_owned()))
    }

    /// The value itself: for the hasher and the one response that returns it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when the value has the generated format with a valid checksum.
    pub fn is_generated(&self) -> bool {
        is_generated_format(&self.0)
    }

    /// A recognisable part that reveals nothing useful: prefix + 4 random
    /// characters for generated values, `…` + the last 4 characters otherwise.
    pub fn hint(&self) -> String {
        if self.is_generated() {
            self.0[..PREFIX.len() + 4].to_owned()
        } else {
            let tail: String = self
                .0
                .chars()
                .rev()
                .take(4)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("…{tail}")
        }
    }
}

/// True when `s` is `PREFIX` + 43 base62 + a matching 6-character checksum.
pub fn is_generated_format(s: &str) -> bool {
    if s.len() != GENERATED_LEN || !s.starts_with(PREFIX) {
        return false;
    }
    let (body, sum) = s.split_at(PREFIX.len() + RANDOM_LEN);
    body[PREFIX.len()..]
        .bytes()
        .all(|b| b.is_ascii_alphanumeric())
        && checksum(body) == sum
}

/// CRC-32 of `body`, as 6 base62 characters (62^6 > 2^32).
fn checksum(body: &str) -> String {
    let mut n = crc32fast::hash(body.as_bytes());
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_values_have_prefix_length_and_valid_checksum() {
        let v = SecretValue::generate().unwrap();
        assert_eq!(v.expose().len(), GENERATED_LEN);
        assert!(v.expose().starts_with(PREFIX));
        assert!(v.is_generated());
        assert_eq!(v.hint(), v.expose()[..9]);
    }

    #[test]
    fn generated_values_differ() {
        let a = SecretValue::generate().unwrap();
        let b = SecretValue::generate().unwrap();
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn a_single_changed_character_breaks_the_checksum() {
        let v = SecretValue::generate().unwrap();
        let mut s = v.expose().to_owned();
        let i = PREFIX.len() + 10;
        let replacement = if &s[i..=i] == "A" { "B" } else { "A" };
        s.replace_range(i..=i, replacement);
        assert!(!is_generated_format(&s));
    }

    #[test]
    fn supplied_values_follow_the_length_and_character_rules() {
        let ok = "a:b+c%d e".repeat(4);
        assert!(SecretValue::supplied(&ok).is_ok());
        assert!(SecretValue::supplied(&"x".repeat(32)).is_ok());
        assert!(SecretValue::supplied(&"x".repeat(512)).is_ok());
        for bad in [
            "x".repeat(31),
            "x".repeat(513),
            format!(" {}", "x".repeat(40)),
            format!("{} ", "x".repeat(40)),
            format!("{}é", "x".repeat(40)),
            format!("{}\n", "x".repeat(40)),
            format!("{PREFIX}{}", "x".repeat(49)),
        ] {
            assert_eq!(
                SecretValue::supplied(&bad).unwrap_err().field,
                "Value",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn supplied_hint_shows_only_the_last_four_characters() {
        let v = SecretValue::supplied(&format!("{}WXYZ", "s".repeat(40))).unwrap();
        assert_eq!(v.hint(), "…WXYZ");
    }

    #[test]
    fn debug_never_shows_the_value() {
        let v = SecretValue::generate().unwrap();
        assert_eq!(format!("{v:?}"), "SecretValue(..)");
    }
}
