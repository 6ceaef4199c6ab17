//! Unit tests of [`super`]: signing, verification, sealing and key parsing.

use super::*;

fn key() -> SigningKey {
    SigningKey::generate().unwrap()
}

fn verifier(key: &SigningKey) -> VerifyingKey {
    VerifyingKey::from_jwk(key.public_jwk()).unwrap()
}

fn claims() -> Value {
    json!({ "iss": "https://latchkey.example", "sub": "client-1", "exp": 2_000_000_000 })
}

/// A token with the given header and claims, signed by `key` over exactly those bytes.
fn forge(key: &SigningKey, header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let sig = key
        .key_pair
        .sign(&SystemRandom::new(), input.as_bytes())
        .unwrap();
    let mut sig = sig.as_ref().to_vec();
    low_s::normalize(&mut sig);
    format!("{input}.{}", B64.encode(sig))
}

fn replace_part(token: &str, index: usize, part: &str) -> String {
    let mut parts: Vec<&str> = token.split('.').collect();
    parts[index] = part;
    parts.join(".")
}

#[test]
fn a_signed_token_verifies_with_the_key_made_from_its_public_jwk() {
    let k = key();
    let token = k.sign(&claims()).unwrap();
    assert_eq!(verify(&token, &[verifier(&k)]).unwrap(), claims());
}

#[test]
fn the_header_is_exactly_alg_typ_kid_and_the_signature_is_64_bytes() {
    let k = key();
    let token = k.sign(&claims()).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header = String::from_utf8(B64.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(
        header,
        format!(r#"{{"alg":"ES256","typ":"at+jwt","kid":"{}"}}"#, k.kid())
    );
    assert_eq!(B64.decode(parts[2]).unwrap().len(), 64);
    assert!(!token.contains('='));
}

#[test]
fn tampered_header_payload_or_signature_fails() {
    let k = key();
    let keys = [verifier(&k)];
    let token = k.sign(&claims()).unwrap();
    let other = k.sign(&json!({ "sub": "client-2" })).unwrap();
    let other_parts: Vec<&str> = other.split('.').collect();
    // Another valid payload under this token's signature.
    let swapped = replace_part(&token, 1, other_parts[1]);
    assert_eq!(verify(&swapped, &keys), Err(JwsError::BadSignature));
    // The same header with another field order still changes the signed bytes.
    let header = B64.encode(format!(
        r#"{{"kid":"{}","alg":"ES256","typ":"at+jwt"}}"#,
        k.kid()
    ));
    assert_eq!(
        verify(&replace_part(&token, 0, &header), &keys),
        Err(JwsError::BadSignature)
    );
    let mut sig = B64.decode(token.split('.').nth(2).unwrap()).unwrap();
    sig[10] ^= 1;
    let flipped = replace_part(&token, 2, &B64.encode(&sig));
    assert_eq!(verify(&flipped, &keys), Err(JwsError::BadSignature));
    assert_eq!(
        verify(&replace_part(&token, 2, ""), &keys),
        Err(JwsError::BadSignature)
    );
}

#[test]
fn only_es256_access_tokens_are_accepted() {
    let k = key();
    let keys = [verifier(&k)];
    for alg in [
        json!("none"),
        json!("HS256"),
        json!("RS256"),
        json!("es256"),
        json!(null),
    ] {
        let header = json!({ "alg": alg, "typ": "at+jwt", "kid": k.kid() });
        let token = forge(&k, &header, &claims());
        assert_eq!(
            verify(&token, &keys),
            Err(JwsError::UnsupportedAlgorithm),
            "{alg}"
        );
    }
    let no_alg = forge(&k, &json!({ "typ": "at+jwt", "kid": k.kid() }), &claims());
    assert_eq!(verify(&no_alg, &keys), Err(JwsError::UnsupportedAlgorithm));
    let unsigned = format!(
        "{}.{}.",
        B64.encode(r#"{"alg":"none","typ":"at+jwt"}"#),
        B64.encode(claims().to_string())
    );
    assert_eq!(
        verify(&unsigned, &keys),
        Err(JwsError::UnsupportedAlgorithm)
    );
    let id_token = forge(
        &k,
        &json!({ "alg": "ES256", "typ": "JWT", "kid": k.kid() }),
        &claims(),
    );
    assert_eq!(
        verify(&id_token, &keys),
        Err(JwsError::UnsupportedAlgorithm)
    );
    let long_typ = json!({ "alg": "ES256", "typ": "application/at+jwt", "kid": k.kid() });
    assert_eq!(
        verify(&forge(&k, &long_typ, &claims()), &keys),
        Ok(claims())
    );
    let crit = json!({ "alg": "ES256", "typ": "at+jwt", "kid": k.kid(), "crit": ["exp"] });
    assert!(matches!(
        verify(&forge(&k, &crit, &claims()), &keys),
        Err(JwsError::Malformed(_))
    ));
}

#[test]
fn the_kid_must_name_a_known_key_and_that_key_must_have_signed() {
    let (k, other) = (key(), key());
    let token = k.sign(&claims()).unwrap();
    assert_eq!(
        verify(&token, &[verifier(&other)]),
        Err(JwsError::UnknownKey)
    );
    assert_eq!(verify(&token, &[]), Err(JwsError::UnknownKey));
    // `other`'s public key published under `k`'s kid: the kid picks it, the signature fails.
    let mut impostor = other.public_jwk().clone();
    impostor["kid"] = json!(k.kid());
    let keys = [verifier(&other), VerifyingKey::from_jwk(&impostor).unwrap()];
    assert_eq!(verify(&token, &keys), Err(JwsError::BadSignature));
    let no_kid = forge(&k, &json!({ "alg": "ES256", "typ": "at+jwt" }), &claims());
    assert!(matches!(
        verify(&no_kid, &[verifier(&k)]),
        Err(JwsError::Malformed(_))
    ));
}

#[test]
fn malformed_tokens_are_refused() {
    let k = key();
    let keys = [verifier(&k)];
    let token = k.sign(&claims()).unwrap();
    let oversized = k
        .sign(&json!({ "pad": "x".repeat(MAX_TOKEN_LEN) }))
        .unwrap();
    let array_claims = forge(
        &k,
        &json!({"alg":"ES256","typ":"at+jwt","kid":k.kid()}),
        &json!([1]),
    );
    for bad in [
        String::new(),
        "a.b".to_owned(),
        format!("{token}.x"),
        format!("{token}="),
        format!("!{token}"),
        oversized,
        array_claims,
    ] {
        let err = verify(&bad, &keys).unwrap_err();
        assert!(
            matches!(err, JwsError::Malformed(_) | JwsError::BadSignature),
            "{err:?}"
        );
        assert!(!err.to_string().contains(&token[..20]));
    }
}

#[test]
fn sign_refuses_claims_that_are_not_an_object() {
    assert!(matches!(
        key().sign(&json!("x")),
        Err(JwsError::Malformed(_))
    ));
}

#[test]
fn public_jwk_has_exactly_the_published_fields() {
    let k = key();
    let jwk = k.public_jwk();
    let mut names: Vec<&str> = jwk
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["alg", "crv", "kid", "kty", "use", "x", "y"]);
    assert_eq!(jwk["kty"], "EC");
    assert_eq!(jwk["crv"], "P-256");
    assert_eq!(jwk["alg"], "ES256");
    assert_eq!(jwk["use"], "sig");
    assert_eq!(jwk["kid"], k.kid());
    let point = k.key_pair.public_key().as_ref();
    assert_eq!(
        B64.decode(jwk["x"].as_str().unwrap()).unwrap(),
        point[1..33]
    );
    assert_eq!(B64.decode(jwk["y"].as_str().unwrap()).unwrap(), point[33..]);
    assert_eq!(k.kid().len(), 22);
    assert_eq!(verifier(&k).jwk(), jwk);
}

#[test]
fn from_jwk_checks_type_curve_algorithm_and_coordinates() {
    let good = key().public_jwk().clone();
    let with = |field: &str, value: Value| {
        let mut jwk = good.clone();
        jwk[field] = value;
        jwk
    };
    let mut no_kid = good.clone();
    no_kid.as_object_mut().unwrap().remove("kid");
    let mut no_alg = good.clone();
    no_alg.as_object_mut().unwrap().remove("alg");
    assert!(VerifyingKey::from_jwk(&no_alg).is_ok());
    let short = B64.encode([7u8; 31]);
    for bad in [
        with("kty", json!("RSA")),
        with("crv", json!("P-384")),
        with("alg", json!("RS256")),
        with("use", json!("enc")),
        with("x", json!(short)),
        with("y", json!("!!")),
        with("x", json!(B64.encode([0u8; 32]))),
        no_kid,
        json!("EC"),
    ] {
        assert!(
            matches!(VerifyingKey::from_jwk(&bad), Err(JwsError::KeyFormat(_))),
            "{bad}"
        );
    }
}

#[test]
fn a_signing_key_survives_sealing_and_reopening() {
    let (k, master) = (key(), MasterKey::generate().unwrap());
    let sealed = k.seal_with(&master).unwrap();
    let pkcs8 = master.open(&sealed, k.kid().as_bytes()).unwrap();
    let reopened = SigningKey::from_pkcs8(k.kid(), &pkcs8).unwrap();
    assert_eq!(reopened.public_jwk(), k.public_jwk());
    let token = reopened.sign(&claims()).unwrap();
    assert_eq!(verify(&token, &[verifier(&k)]).unwrap(), claims());
    assert!(matches!(
        SigningKey::from_pkcs8("k", b"junk"),
        Err(JwsError::KeyFormat(_))
    ));
    assert!(matches!(
        SigningKey::from_pkcs8("a b", &pkcs8),
        Err(JwsError::KeyFormat(_))
    ));
}

#[test]
fn seal_and_open_round_trip_and_refuse_another_aad_key_or_byte() {
    let master = MasterKey::generate().unwrap();
    let sealed = master.seal(b"private bytes", b"kid-1").unwrap();
    assert_eq!(sealed.len(), NONCE_LEN + 13 + TAG_LEN);
    assert_eq!(
        master.open(&sealed, b"kid-1").unwrap().as_slice(),
        b"private bytes"
    );
    assert_ne!(
        master.seal(b"private bytes", b"kid-1").unwrap(),
        sealed,
        "fresh nonce"
    );
    assert_eq!(master.open(&sealed, b"kid-2"), Err(JwsError::Unsealable));
    let other = MasterKey::generate().unwrap();
    assert_eq!(other.open(&sealed, b"kid-1"), Err(JwsError::Unsealable));
    let mut altered = sealed.clone();
    altered[NONCE_LEN] ^= 1;
    assert_eq!(master.open(&altered, b"kid-1"), Err(JwsError::Unsealable));
    assert_eq!(
        master.open(&sealed[..20], b"kid-1"),
        Err(JwsError::Unsealable)
    );
}

#[test]
fn master_key_parses_hex_and_every_base64_spelling() {
    let bytes: Vec<u8> = (0u8..32)
        .map(|i| i.wrapping_mul(37).wrapping_add(250))
        .collect();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE};
    for text in [
        hex.clone(),
        hex.to_uppercase(),
        format!("  {hex}\n"),
        STANDARD.encode(&bytes),
        STANDARD_NO_PAD.encode(&bytes),
        URL_SAFE.encode(&bytes),
        B64.encode(&bytes),
    ] {
        let key = MasterKey::parse(&text).unwrap();
        assert_eq!(key.0.as_slice(), bytes.as_slice(), "{text}");
        assert_eq!(MasterKey::parse(&key.to_text()).unwrap().0, key.0);
    }
    assert!(
        STANDARD.encode(&bytes).contains(['+', '/']),
        "both alphabets exercised"
    );
}

#[test]
fn master_key_parse_errors_never_echo_the_input() {
    let thirty_one = B64.encode([0xAB; 31]);
    let sixty_three = "a".repeat(63);
    let garbage = "correct horse battery staple!!".to_owned();
    for bad in [
        thirty_one,
        B64.encode([0xCD; 33]),
        sixty_three,
        "g".repeat(64),
        garbage,
        String::new(),
    ] {
        let err = MasterKey::parse(&bad).unwrap_err();
        if !bad.is_empty() {
            assert!(!err.contains(&bad), "{err}");
        }
        assert!(err.contains("32 bytes"), "{err}");
    }
    assert!(
        MasterKey::parse(&B64.encode([0xAB; 31]))
            .unwrap_err()
            .contains("got 31 bytes")
    );
}

#[test]
fn debug_output_is_redacted() {
    let (k, master) = (key(), MasterKey::generate().unwrap());
    assert_eq!(format!("{master:?}"), "MasterKey(..)");
    assert_eq!(format!("{k:?}"), format!("SigningKey({}, ..)", k.kid()));
    assert_eq!(
        format!("{:?}", verifier(&k)),
        format!("VerifyingKey({})", k.kid())
    );
    assert!(!format!("{k:?}").contains(&B64.encode(k.pkcs8_for_tests())));
}

/// `n - s` for a low `s`, by schoolbook subtraction from the P-256 order (test-side twin).
fn high_twin(signature: &[u8]) -> Vec<u8> {
    const ORDER: &str = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
    let n: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&ORDER[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let mut out = signature.to_vec();
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(n[i]) - i16::from(signature[32 + i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        out[32 + i] = u8::try_from(d).unwrap();
    }
    out
}

#[test]
fn every_issued_signature_is_low_s() {
    let k = key();
    for i in 0..200 {
        let token = k.sign(&json!({ "n": i })).unwrap();
        let sig = B64.decode(token.rsplit('.').next().unwrap()).unwrap();
        assert!(!low_s::is_high(&sig), "token {i} carries a high S");
    }
}

#[test]
fn the_high_s_twin_of_a_valid_token_is_refused() {
    let k = key();
    let keys = [verifier(&k)];
    for i in 0..20 {
        let token = k.sign(&json!({ "n": i })).unwrap();
        assert!(verify(&token, &keys).is_ok());
        let sig = B64.decode(token.rsplit('.').next().unwrap()).unwrap();
        let twin = replace_part(&token, 2, &B64.encode(high_twin(&sig)));
        assert_ne!(twin, token);
        assert_eq!(
            verify(&twin, &keys),
            Err(JwsError::BadSignature),
            "token {i}"
        );
    }
}
