//! Leak reports from secret scanners, in the format of GitHub's secret scanning
//! partner program: the trusted scanner keys (GitHub's `public_keys` document),
//! the signature over a report's exact body, the reported tokens, the feedback
//! labels, and a tenant's leak policy. Pure rules, no I/O.
//!
//! A report is a JSON array of `{"token", "type", "url", "source"}`, signed with
//! ECDSA P-256 / SHA-256 (DER, base64) by the key its `key_identifier` names.

use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use super::ValidationError;

/// What happens to a secret whose value a scanner reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LeakPolicy {
    /// Revoke the secret at once (the default).
    #[default]
    Revoke,
    /// Keep the secret; raise the event so people rotate it.
    Alert,
}

impl LeakPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Revoke => "revoke",
            Self::Alert => "alert",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "revoke" => Some(Self::Revoke),
            "alert" => Some(Self::Alert),
            _ => None,
        }
    }
}

/// A scanner key trusted to sign reports.
#[derive(Clone, PartialEq, Eq)]
pub struct ScannerKey {
    pub key_identifier: String,
    /// The key as published (PEM, `PUBLIC KEY`).
    pub pem: String,
    pub is_current: bool,
    /// The uncompressed P-256 point inside the PEM.
    point: Vec<u8>,
}

impl std::fmt::Debug for ScannerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ScannerKey({})", self.key_identifier)
    }
}

/// The DER prefix of a P-256 `SubjectPublicKeyInfo` (id-ecPublicKey, prime256v1,
/// then a 66-byte BIT STRING holding the 65-byte uncompressed point).
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

impl ScannerKey {
    /// A key from its identifier and PEM; only ECDSA P-256 keys are accepted.
    pub fn new(key_identifier: &str, pem: &str, is_current: bool) -> Result<Self, String> {
        if key_identifier.is_empty() || key_identifier.len() > 512 {
            return Err("key_identifier must be 1 to 512 characters".into());
        }
        let body: String = pem
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("-----"))
            .collect();
        let der = B64
            .decode(body.as_bytes())
            .map_err(|_| format!("key {key_identifier:?} is not base64 PEM"))?;
        let point = der
            .strip_prefix(&P256_SPKI_PREFIX[..])
            .filter(|p| p.len() == 65 && p[0] == 4)
            .ok_or_else(|| format!("key {key_identifier:?} is not an ECDSA P-256 public key"))?
            .to_vec();
        Ok(Self {
            key_identifier: key_identifier.to_owned(),
            pem: pem.to_owned(),
            is_current,
            point,
        })
    }

    /// True when `signature_b64` (base64 of a DER ECDSA signature) signs `body`.
    pub fn verifies(&self, body: &[u8], signature_b64: &str) -> bool {
        let Ok(signature) = B64.decode(signature_b64.trim().as_bytes()) else {
            return false;
        };
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &self.point)
            .verify(body, &signature)
            .is_ok()
    }
}

/// GitHub's `public_keys` document, as published and as the route takes it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeysDocument {
    pub public_keys: Vec<KeyEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyEntry {
    pub key_identifier: String,
    pub key: String,
    #[serde(default)]
    pub is_current: bool,
}

/// The most keys a document may hold.
pub const MAX_KEYS: usize = 32;

impl KeysDocument {
    /// The trusted keys it names (each one checked).
    pub fn keys(&self) -> Result<Vec<ScannerKey>, ValidationError> {
        if self.public_keys.len() > MAX_KEYS {
            return Err(ValidationError::new(
                "public_keys",
                format!("may hold at most {MAX_KEYS} keys"),
            ));
        }
        self.public_keys
            .iter()
            .map(|k| {
                ScannerKey::new(&k.key_identifier, &k.key, k.is_current)
                    .map_err(|e| ValidationError::new("public_keys", e))
            })
            .collect()
    }

    pub fn of(keys: &[ScannerKey]) -> Self {
        Self {
            public_keys: keys
                .iter()
                .map(|k| KeyEntry {
                    key_identifier: k.key_identifier.clone(),
                    key: k.pem.clone(),
                    is_current: k.is_current,
                })
                .collect(),
        }
    }
}

/// One reported match. `token` is the value; it is never logged or stored.
#[derive(Clone, Deserialize)]
pub struct ReportedToken {
    pub token: String,
    #[serde(rename = "type", default)]
    pub token_type: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub source: String,
}

impl std::fmt::Debug for ReportedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ReportedToken({}, {}, {})",
            self.token_type, self.url, self.source
        )
    }
}

/// The most tokens one report may carry.
pub const MAX_TOKENS: usize = 1000;

/// The tokens of a report body (a JSON array), or why it is not one.
pub fn parse_report(body: &[u8]) -> Result<Vec<ReportedToken>, ValidationError> {
    let tokens: Vec<ReportedToken> = serde_json::from_slice(body).map_err(|_| {
        ValidationError::new(
            "body",
            "must be a JSON array of {\"token\", \"type\", \"url\", \"source\"}",
        )
    })?;
    if tokens.len() > MAX_TOKENS {
        return Err(ValidationError::new(
            "body",
            format!("may report at most {MAX_TOKENS} tokens"),
        ));
    }
    Ok(tokens)
}

/// The scanner's verdict on one reported token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    TruePositive,
    FalsePositive,
}

/// What a report did to a secret, as the event and the audit trail say.
pub fn action_text(policy: LeakPolicy) -> &'static str {
    match policy {
        LeakPolicy::Revoke => "revoked",
        LeakPolicy::Alert => "alerted (not revoked)",
    }
}

/// Where a leaked value was found, as the event carries it (never the value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeakDetails {
    pub token_type: String,
    pub url: String,
    pub source: String,
    /// `revoked` or `alerted`.
    pub action: String,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};

    use super::*;

    fn pem_of(pair: &EcdsaKeyPair) -> String {
        let mut der = P256_SPKI_PREFIX.to_vec();
        der.extend_from_slice(pair.public_key().as_ref());
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            B64.encode(der)
        )
    }

    #[test]
    fn a_signature_verifies_only_over_the_exact_body_with_its_key() {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, doc.as_ref()).unwrap();
        let key = ScannerKey::new("k1", &pem_of(&pair), true).unwrap();
        let body = br#"[{"token":"x","type":"t","url":"u","source":"s"}]"#;
        let sig = B64.encode(pair.sign(&rng, body).unwrap().as_ref());
        assert!(key.verifies(body, &sig));
        assert!(!key.verifies(
            br#"[{"token":"y","type":"t","url":"u","source":"s"}]"#,
            &sig
        ));
        assert!(!key.verifies(body, "not base64!"));
        let other = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let other =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, other.as_ref()).unwrap();
        let other_sig = B64.encode(other.sign(&rng, body).unwrap().as_ref());
        assert!(!key.verifies(body, &other_sig));
    }

    #[test]
    fn only_p256_keys_are_accepted() {
        assert!(
            ScannerKey::new(
                "k",
                "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
                true
            )
            .is_err()
        );
        assert!(ScannerKey::new("", "", true).is_err());
    }

    #[test]
    fn a_reported_token_never_prints_its_value() {
        let tokens =
            parse_report(br#"[{"token":"lkcs_secret","type":"t","url":"u","source":"s"}]"#)
                .unwrap();
        assert!(!format!("{tokens:?}").contains("lkcs_secret"));
        assert!(parse_report(b"{}").is_err());
    }
}
