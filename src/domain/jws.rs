//! Token-signing cryptography: the master key that seals private keys at rest
//! (AES-256-GCM), ES256 signing keys, and compact JWS signing and verification.
//!
//! Owns only bytes and JSON; no storage, clock or configuration (the caller
//! checks `exp`, `iss` and the rest of the claims). Invariants:
//! - key material never leaves through `Debug`, `Display`, serde or an error
//!   message, and private bytes live in `Zeroizing` buffers;
//! - a [`SigningKey`] parses its key pair once, at construction, never per
//!   signature;
//! - [`verify`] accepts exactly ES256, picks the one key the header's `kid`
//!   names (no trying every key) and checks the signature before it parses the
//!   claims;
//! - signatures are low-S: [`SigningKey::sign`] issues only `s <= n / 2` and
//!   [`verify`] refuses a high `s`, so a token has exactly one valid string.

mod low_s;

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    ParsedPublicKey,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::secret_value::RandomnessUnavailable;

/// The only signature algorithm issued and accepted.
pub const ALGORITHM: &str = "ES256";
/// The `typ` of every token signed here (RFC 9068 access tokens).
pub const TOKEN_TYPE: &str = "at+jwt";
/// Longer tokens are refused before any decoding.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;
const MASTER_KEY_LEN: usize = 32;
const COORDINATE_LEN: usize = 32;
const TAG_LEN: usize = 16;
const NOT_A_KEY: &str = "is neither 64 hexadecimal characters nor base64 of 32 bytes";

/// Why a key or token was refused. Messages never contain key material or token text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    #[error("unsupported token algorithm or type (only ES256 at+jwt is accepted)")]
    UnsupportedAlgorithm,
    #[error("the token's kid names no known key")]
    UnknownKey,
    #[error("the token's signature is not valid")]
    BadSignature,
    #[error("the sealed data does not open with this key and associated data")]
    Unsealable,
    #[error("cryptographic operation failed: {0}")]
    Crypto(&'static str),
    #[error("key has the wrong format: {0}")]
    KeyFormat(&'static str),
}

impl From<RandomnessUnavailable> for JwsError {
    fn from(_: RandomnessUnavailable) -> Self {
        Self::Crypto("the operating system's random number generator failed")
    }
}

fn random<const N: usize>() -> Result<Zeroizing<[u8; N]>, RandomnessUnavailable> {
    let mut bytes = Zeroizing::new([0u8; N]);
    getrandom::fill(bytes.as_mut_slice()).map_err(|_| RandomnessUnavailable)?;
    Ok(bytes)
}

/// The 256-bit key that seals signing keys at rest. Never printed or serialized.
#[derive(Clone)]
pub struct MasterKey(Zeroizing<[u8; MASTER_KEY_LEN]>);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// Reads 64 hexadecimal characters or base64 (standard or URL-safe, padded
    /// or not) of exactly 32 bytes; surrounding whitespace is ignored. The error
    /// never repeats the input.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        // Buffers are sized up front so no unzeroed copy is left behind by a reallocation.
        let bytes = if text.len() == 2 * MASTER_KEY_LEN {
            // 64 base64 characters would be 48 bytes, so this length can only be hex.
            let digit = |b: u8| char::from(b).to_digit(16);
            let mut bytes = Zeroizing::new(Vec::with_capacity(MASTER_KEY_LEN));
            for pair in text.as_bytes().chunks(2) {
                match (digit(pair[0]), digit(pair[1])) {
                    (Some(high), Some(low)) => bytes.extend(u8::try_from(high << 4 | low).ok()),
                    _ => return Err(NOT_A_KEY.to_owned()),
                }
            }
            bytes
        } else {
            // One alphabet for both spellings; padding is optional.
            let mut url_safe = Zeroizing::new(String::with_capacity(text.len()));
            url_safe.extend(text.trim_end_matches('=').chars().map(|c| match c {
                '+' => '-',
                '/' => '_',
                c => c,
            }));
            Zeroizing::new(
                B64.decode(url_safe.as_bytes())
                    .map_err(|_| NOT_A_KEY.to_owned())?,
            )
        };
        if bytes.len() != MASTER_KEY_LEN {
            return Err(format!(
                "must be 32 bytes (64 hexadecimal characters or base64), got {} bytes",
                bytes.len()
            ));
        }
        let mut key = Zeroizing::new([0u8; MASTER_KEY_LEN]);
        key.copy_from_slice(&bytes);
        Ok(Self(key))
    }

    /// A fresh key from the OS CSPRNG.
    pub fn generate() -> Result<Self, RandomnessUnavailable> {
        random::<MASTER_KEY_LEN>().map(Self)
    }

    /// The key as URL-safe base64 without padding, which [`MasterKey::parse`] reads back.
    pub fn to_text(&self) -> Zeroizing<String> {
        Zeroizing::new(B64.encode(self.0.as_slice()))
    }

    fn aead_key(&self) -> Result<LessSafeKey, JwsError> {
        UnboundKey::new(&AES_256_GCM, self.0.as_slice())
            .map(LessSafeKey::new)
            .map_err(|_| JwsError::Crypto("AES-256-GCM key setup"))
    }

    /// AES-256-GCM with a random 96-bit nonce: `nonce || ciphertext || tag`.
    /// `aad` binds the result to its context (the kid, for a signing key).
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, JwsError> {
        let nonce = random::<NONCE_LEN>()?;
        let mut body = Zeroizing::new(plaintext.to_vec());
        let tag = self
            .aead_key()?
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(*nonce),
                Aad::from(aad),
                body.as_mut_slice(),
            )
            .map_err(|_| JwsError::Crypto("AES-256-GCM seal"))?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + body.len() + TAG_LEN);
        sealed.extend_from_slice(nonce.as_slice());
        sealed.extend_from_slice(&body);
        sealed.extend_from_slice(tag.as_ref());
        Ok(sealed)
    }

    /// Reverses [`MasterKey::seal`]; `Unsealable` for another key, other `aad`
    /// or altered bytes.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, JwsError> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(JwsError::Unsealable);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| JwsError::Unsealable)?;
        let mut buffer = Zeroizing::new(body.to_vec());
        let len = self
            .aead_key()?
            .open_in_place(nonce, Aad::from(aad), buffer.as_mut_slice())
            .map_err(|_| JwsError::Unsealable)?
            .len();
        buffer.truncate(len);
        Ok(buffer)
    }
}

/// The public JWK of a P-256 point, with exactly the published fields.
fn public_jwk_of(kid: &str, x: &[u8], y: &[u8]) -> Value {
    json!({
        "kty": "EC", "crv": "P-256", "x": B64.encode(x), "y": B64.encode(y),
        "kid": kid, "use": "sig", "alg": ALGORITHM,
    })
}

fn check_kid(kid: &str) -> Result<(), JwsError> {
    let url_safe = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    if (1..=128).contains(&kid.len()) && kid.bytes().all(url_safe) {
        Ok(())
    } else {
        Err(JwsError::KeyFormat(
            "kid must be 1 to 128 URL-safe characters",
        ))
    }
}

/// An ES256 private key with its kid, parsed once and kept for every signature.
pub struct SigningKey {
    kid: String,
    key_pair: EcdsaKeyPair,
    pkcs8: Zeroizing<Vec<u8>>,
    public_jwk: Value,
    /// The encoded header, the same for every token this key signs.
    header: String,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({}, ..)", self.kid)
    }
}

impl SigningKey {
    /// A fresh P-256 key with a random kid (16 random bytes, base64url).
    pub fn generate() -> Result<Self, JwsError> {
        let kid = B64.encode(random::<16>()?.as_slice());
        let key_pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .map_err(|_| JwsError::Crypto("P-256 key generation"))?;
        let document = key_pair
            .to_pkcs8v1()
            .map_err(|_| JwsError::Crypto("PKCS#8 encoding"))?;
        Self::from_pkcs8(&kid, document.as_ref())
    }

    /// The key stored under `kid` as an unencrypted PKCS#8 v1 P-256 document.
    pub fn from_pkcs8(kid: &str, pkcs8: &[u8]) -> Result<Self, JwsError> {
        check_kid(kid)?;
        let key_pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
            .map_err(|_| JwsError::KeyFormat("not a PKCS#8 P-256 private key"))?;
        let point = key_pair.public_key().as_ref();
        if point.len() != 1 + 2 * COORDINATE_LEN || point[0] != 0x04 {
            return Err(JwsError::KeyFormat("unexpected public point encoding"));
        }
        let (x, y) = point[1..].split_at(COORDINATE_LEN);
        let public_jwk = public_jwk_of(kid, x, y);
        // Written by hand to keep the field order alg, typ, kid.
        let header = format!(
            r#"{{"alg":"{ALGORITHM}","typ":"{TOKEN_TYPE}","kid":{}}}"#,
            Value::from(kid)
        );
        Ok(Self {
            kid: kid.to_owned(),
            key_pair,
            pkcs8: Zeroizing::new(pkcs8.to_vec()),
            public_jwk,
            header: B64.encode(header),
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// `{"kty":"EC","crv":"P-256","x":..,"y":..,"kid":..,"use":"sig","alg":"ES256"}`.
    pub fn public_jwk(&self) -> &Value {
        &self.public_jwk
    }

    /// The PKCS#8 document sealed under `master`, bound to this kid.
    pub fn seal_with(&self, master: &MasterKey) -> Result<Vec<u8>, JwsError> {
        master.seal(&self.pkcs8, self.kid.as_bytes())
    }

    #[cfg(test)]
    pub(crate) fn pkcs8_for_tests(&self) -> &[u8] {
        &self.pkcs8
    }

    /// A compact JWS of `claims` (a JSON object): header
    /// `{"alg":"ES256","typ":"at+jwt","kid":..}`, 64-byte `r || s` signature.
    pub fn sign<C: serde::Serialize + ?Sized>(&self, claims: &C) -> Result<String, JwsError> {
        let payload = serde_json::to_vec(claims)
            .map_err(|_| JwsError::Malformed("claims cannot be serialized"))?;
        if payload.first() != Some(&b'{') {
            return Err(JwsError::Malformed("claims must be a JSON object"));
        }
        let mut token = String::with_capacity(self.header.len() + payload.len() * 4 / 3 + 100);
        token.push_str(&self.header);
        token.push('.');
        B64.encode_string(&payload, &mut token);
        let signature = self
            .key_pair
            .sign(&SystemRandom::new(), token.as_bytes())
            .map_err(|_| JwsError::Crypto("ECDSA signature"))?;
        let mut signature = signature.as_ref().to_vec();
        low_s::normalize(&mut signature);
        token.push('.');
        B64.encode_string(&signature, &mut token);
        Ok(token)
    }
}

/// A published ES256 public key, parsed once, with the kid tokens name it by.
#[derive(Clone)]
pub struct VerifyingKey {
    kid: String,
    key: ParsedPublicKey,
    jwk: Value,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey({})", self.kid)
    }
}

impl VerifyingKey {
    /// Reads a public JWK: `kty` EC, `crv` P-256, `alg` ES256 and `use` sig when
    /// present, a kid, and 32-byte `x`/`y` forming a point on the curve.
    pub fn from_jwk(jwk: &Value) -> Result<Self, JwsError> {
        let field = |name| jwk.get(name).and_then(Value::as_str);
        if !jwk.is_object() || field("kty") != Some("EC") || field("crv") != Some("P-256") {
            return Err(JwsError::KeyFormat("not an EC P-256 JWK"));
        }
        if jwk
            .get("alg")
            .is_some_and(|a| a.as_str() != Some(ALGORITHM))
        {
            return Err(JwsError::KeyFormat("JWK alg is not ES256"));
        }
        if jwk.get("use").is_some_and(|u| u.as_str() != Some("sig")) {
            return Err(JwsError::KeyFormat("JWK use is not sig"));
        }
        let kid = field("kid").ok_or(JwsError::KeyFormat("JWK has no kid"))?;
        check_kid(kid)?;
        let coordinate = |name| {
            field(name)
                .and_then(|c| B64.decode(c).ok())
                .filter(|c| c.len() == COORDINATE_LEN)
                .ok_or(JwsError::KeyFormat(
                    "JWK x and y must be 32 bytes, base64url",
                ))
        };
        let (x, y) = (coordinate("x")?, coordinate("y")?);
        let mut point = Vec::with_capacity(1 + 2 * COORDINATE_LEN);
        point.push(0x04);
        point.extend_from_slice(&x);
        point.extend_from_slice(&y);
        let key = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
            .map_err(|_| JwsError::KeyFormat("JWK x and y are not a point on P-256"))?;
        Ok(Self {
            kid: kid.to_owned(),
            key,
            jwk: public_jwk_of(kid, &x, &y),
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The key as a public JWK rebuilt from the checked fields only, fit for a JWKS.
    pub fn jwk(&self) -> &Value {
        &self.jwk
    }
}

/// Checks a compact ES256 JWS against the key its `kid` names and returns its
/// claims object. Claim values (`exp`, `iss`, ...) are the caller's to check.
pub fn verify(token: &str, keys: &[VerifyingKey]) -> Result<Value, JwsError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwsError::Malformed("longer than 8 KiB"));
    }
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwsError::Malformed("not three dot-separated parts"));
    };
    let header: Value = B64
        .decode(header_b64)
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok())
        .filter(Value::is_object)
        .ok_or(JwsError::Malformed("header is not a base64url JSON object"))?;
    if header.get("alg").and_then(Value::as_str) != Some(ALGORITHM) {
        return Err(JwsError::UnsupportedAlgorithm);
    }
    // RFC 9068 §4: only access tokens, so no other JWT we might sign is taken for one.
    let typ = header.get("typ").and_then(Value::as_str).unwrap_or("");
    if !typ.eq_ignore_ascii_case(TOKEN_TYPE) && !typ.eq_ignore_ascii_case("application/at+jwt") {
        return Err(JwsError::UnsupportedAlgorithm);
    }
    // RFC 7515 §4.1.11: no extension is understood here, so none may be critical.
    if header.get("crit").is_some() {
        return Err(JwsError::Malformed(
            "critical header extensions are not supported",
        ));
    }
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or(JwsError::Malformed("header has no kid"))?;
    let key = keys
        .iter()
        .find(|k| k.kid == kid)
        .ok_or(JwsError::UnknownKey)?;
    let signature = B64
        .decode(signature_b64)
        .map_err(|_| JwsError::BadSignature)?;
    // The high-S twin of a valid signature also verifies: refuse it (one string per token).
    if low_s::is_high(&signature) {
        return Err(JwsError::BadSignature);
    }
    let signed = &token[..header_b64.len() + 1 + payload_b64.len()];
    key.key
        .verify_sig(signed.as_bytes(), &signature)
        .map_err(|_| JwsError::BadSignature)?;
    B64.decode(payload_b64)
        .ok()
        .and_then(|p| serde_json::from_slice::<Value>(&p).ok())
        .filter(Value::is_object)
        .ok_or(JwsError::Malformed(
            "payload is not a base64url JSON object",
        ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
