//! The bootstrap token: the platform administrator's bearer token, given once
//! through the environment. It is a secret: its `Debug` is redacted, it has no
//! `Display` or `Serialize`, it is wiped from memory when dropped, and a
//! presented token is compared with it in constant time.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// A bearer token from the environment: redacted, compared in constant time.
#[derive(Clone)]
pub struct BootstrapToken(Zeroizing<String>);

impl fmt::Debug for BootstrapToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BootstrapToken(..)")
    }
}

impl BootstrapToken {
    /// Wraps the configured value (the configuration checks its length).
    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// Constant-time equality; hashing first hides the length as well.
    pub fn matches(&self, presented: &str) -> bool {
        let want = Sha256::digest(self.0.as_bytes());
        let got = Sha256::digest(presented.as_bytes());
        want.as_slice().ct_eq(got.as_slice()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_tokens_compare_exactly() {
        let t = BootstrapToken::new("0123456789abcdef".into());
        assert!(t.matches("0123456789abcdef"));
        assert!(!t.matches("0123456789abcdeF"));
        assert!(!t.matches(""));
        assert_eq!(format!("{t:?}"), "BootstrapToken(..)");
    }
}
