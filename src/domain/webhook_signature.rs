//! Webhook signatures, following the Standard Webhooks convention: a signing
//! secret `whsec_<base64 of 32 random bytes>`, and for each delivery the headers
//! `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`
//! = `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// The prefix of a webhook signing secret.
pub const PREFIX: &str = "whsec_";

/// A webhook's signing key (the decoded bytes of its `whsec_` secret).
pub struct SigningSecret(Zeroizing<Vec<u8>>);

impl SigningSecret {
    /// A new random key.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut key = Zeroizing::new(vec![0u8; 32]);
        getrandom::fill(&mut key)?;
        Ok(Self(key))
    }

    /// From the raw key bytes (as stored, after unsealing).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Parses `whsec_<base64>`.
    pub fn parse(text: &str) -> Option<Self> {
        let encoded = text.strip_prefix(PREFIX)?;
        STANDARD.decode(encoded).ok().map(Self::from_bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret as shown once to its owner.
    pub fn expose(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(self.0.as_slice()))
    }

    /// The `webhook-signature` header value for one delivery.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        format!("v1,{}", STANDARD.encode(self.mac(id, timestamp, body)))
    }

    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.finalize().into_bytes().to_vec()
    }
}

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification (its test vector).
    #[test]
    fn signs_the_standard_webhooks_test_vector() {
        let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_generated_secret_round_trips_through_its_text() {
        let secret = SigningSecret::generate().unwrap();
        let text = secret.expose();
        assert!(text.starts_with(PREFIX));
        assert_eq!(
            SigningSecret::parse(&text).unwrap().as_bytes(),
            secret.as_bytes()
        );
        assert!(!format!("{secret:?}").contains(&text[PREFIX.len()..]));
    }
}
