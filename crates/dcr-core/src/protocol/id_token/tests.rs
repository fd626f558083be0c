use serde_json::{json, Value};

use super::*;
use crate::test_support::{good_claims, jwks_of, respond, TestKey, CLIENT_ID, ISSUER};

const NOW: i64 = 1_700_000_000;
const NONCE: &str = "n-0S6_WzA2Mj";

fn expect() -> IdTokenExpectations<'static> {
    IdTokenExpectations {
        issuer: ISSUER,
        client_id: CLIENT_ID,
        nonce: Some(NONCE),
        previous_sub: None,
        now: NOW,
    }
}

fn verify_with(key: &TestKey, claims: &Value) -> Result<IdToken, IdTokenError> {
    let token = Secret::new(key.mint("k1", claims));
    verify_id_token(&token, &jwks_of(&[(key, "k1")]), &expect())
}

fn claims_with(change: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    let mut claims = good_claims(NONCE, NOW);
    change(claims.as_object_mut().unwrap());
    claims
}

/// The good claims with `name` set to `value`.
fn with_claim(name: &str, value: Value) -> Value {
    claims_with(|c| {
        c.insert(name.into(), value);
    })
}

/// The good claims without `name`.
fn without_claim(name: &str) -> Value {
    claims_with(|c| {
        c.remove(name);
    })
}

/// Why a token with `claims`, correctly signed, is refused; an accepted one fails the test.
fn refusal(claims: &Value) -> IdTokenError {
    verify_with(&TestKey::p256(), claims).expect_err("the ID token was accepted")
}

/// A token whose `name` claim is `wrong` and one without `name` are both refused, for a reason
/// `is_expected` accepts.
fn assert_wrong_and_missing_refused(
    name: &str,
    wrong: Value,
    is_expected: fn(&IdTokenError) -> bool,
) {
    for claims in [with_claim(name, wrong), without_claim(name)] {
        let error = refusal(&claims);
        assert!(is_expected(&error), "{claims}: {error:?}");
    }
}

#[test]
fn valid_rs256_es256_and_eddsa_tokens_are_accepted() {
    for key in [TestKey::rsa(), TestKey::p256(), TestKey::ed25519()] {
        let token = verify_with(&key, &good_claims(NONCE, NOW)).unwrap();
        assert_eq!(token.claims.sub, "demouser");
        assert_eq!(token.claims.name.as_deref(), Some("Demo User"));
        assert_eq!(token.claims.exp, NOW + 300);
    }
}

#[test]
fn valid_ps256_token_is_accepted() {
    let key = TestKey::rsa();
    let token = key.sign(&json!({"alg":"PS256","kid":"k1"}), &good_claims(NONCE, NOW));
    verify_id_token(&Secret::new(token), &jwks_of(&[(&key, "k1")]), &expect()).unwrap();
}

#[test]
fn i1_bad_signature_is_rejected() {
    let key = TestKey::rsa();
    let token = key.mint("k1", &good_claims(NONCE, NOW));
    // Swap in a different payload under the same signature.
    let other = key.mint("k1", &with_claim("sub", json!("mallory")));
    let parts: Vec<&str> = token.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        other.split('.').nth(1).unwrap(),
        parts[2]
    );
    let result = verify_id_token(&Secret::new(forged), &jwks_of(&[(&key, "k1")]), &expect());
    assert!(matches!(result, Err(IdTokenError::BadSignature)));
    // Signed by a key the server does not publish under that kid.
    let stranger = TestKey::p256();
    let token = stranger.sign(
        &json!({"alg": "RS256", "kid":"k1"}),
        &good_claims(NONCE, NOW),
    );
    let result = verify_id_token(&Secret::new(token), &jwks_of(&[(&key, "k1")]), &expect());
    assert!(matches!(result, Err(IdTokenError::BadSignature)));
}

#[test]
fn i2_alg_none_is_rejected() {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#);
    let payload = URL_SAFE_NO_PAD.encode(good_claims(NONCE, NOW).to_string());
    let token = Secret::new(format!("{header}.{payload}."));
    let key = TestKey::rsa();
    let result = verify_id_token(&token, &jwks_of(&[(&key, "k1")]), &expect());
    assert!(matches!(result, Err(IdTokenError::Unsigned)));
}

#[test]
fn hmac_is_never_accepted_even_keyed_with_public_material() {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","kid":"k1"}"#);
    let payload = URL_SAFE_NO_PAD.encode(good_claims(NONCE, NOW).to_string());
    let token = Secret::new(format!("{header}.{payload}.c2ln"));
    let key = TestKey::rsa();
    let result = verify_id_token(&token, &jwks_of(&[(&key, "k1")]), &expect());
    assert!(matches!(result, Err(IdTokenError::SymmetricAlgorithm(a)) if a == "HS256"));
    assert!(matches!(
        Algorithm::parse("RSA-OAEP"),
        Err(IdTokenError::UnsupportedAlgorithm(_))
    ));
}

#[test]
fn alg_and_key_type_must_agree() {
    // An RS256 header over an EC key set: no key fits, so the key is "unknown".
    let ec = TestKey::p256();
    let rsa = TestKey::rsa();
    let token = rsa.mint("k1", &good_claims(NONCE, NOW));
    let result = verify_id_token(&Secret::new(token), &jwks_of(&[(&ec, "k1")]), &expect());
    assert!(matches!(result, Err(IdTokenError::UnknownKey)));
}

#[test]
fn crit_header_and_malformed_tokens_are_rejected() {
    let key = TestKey::rsa();
    let token = key.sign(
        &json!({"alg":"RS256","kid":"k1","crit":["exp"]}),
        &good_claims(NONCE, NOW),
    );
    let jwks = jwks_of(&[(&key, "k1")]);
    assert!(matches!(
        verify_id_token(&Secret::new(token), &jwks, &expect()),
        Err(IdTokenError::CriticalHeader)
    ));
    for bad in ["", "a.b", "a.b.c.d.e", "!!.??.**"] {
        assert!(
            matches!(
                verify_id_token(&Secret::new(bad), &jwks, &expect()),
                Err(IdTokenError::Malformed(_))
            ),
            "{bad}"
        );
    }
}

#[test]
fn i4_wrong_or_missing_issuer_is_rejected() {
    assert_wrong_and_missing_refused("iss", json!(format!("{ISSUER}/")), |e| {
        matches!(e, IdTokenError::IssuerMismatch)
    });
}

#[test]
fn i5_wrong_missing_or_extra_audience_is_rejected() {
    let key = TestKey::p256();
    let wrong = with_claim("aud", json!("someone-else"));
    assert!(matches!(refusal(&wrong), IdTokenError::AudienceMismatch));
    let missing = without_claim("aud");
    assert!(matches!(refusal(&missing), IdTokenError::Claim("aud")));
    let extra = claims_with(|c| {
        c.insert("aud".into(), json!([CLIENT_ID, "untrusted"]));
        c.insert("azp".into(), json!(CLIENT_ID));
    });
    assert!(matches!(refusal(&extra), IdTokenError::UntrustedAudience));
    let array = with_claim("aud", json!([CLIENT_ID]));
    assert!(verify_with(&key, &array).is_ok());
}

#[test]
fn azp_must_be_this_client_and_is_required_with_several_audiences() {
    let key = TestKey::p256();
    let wrong = with_claim("azp", json!("other"));
    assert!(matches!(
        refusal(&wrong),
        IdTokenError::AuthorizedPartyMismatch
    ));
    let several_without_azp = with_claim("aud", json!([CLIENT_ID, CLIENT_ID]));
    assert!(matches!(
        refusal(&several_without_azp),
        IdTokenError::AuthorizedPartyMismatch
    ));
    let several_with_azp = claims_with(|c| {
        c.insert("aud".into(), json!([CLIENT_ID, CLIENT_ID]));
        c.insert("azp".into(), json!(CLIENT_ID));
    });
    assert!(verify_with(&key, &several_with_azp).is_ok());
}

#[test]
fn i6_missing_subject_is_rejected() {
    assert_wrong_and_missing_refused("sub", json!(""), |e| {
        matches!(e, IdTokenError::SubjectMismatch)
    });
}

#[test]
fn refresh_token_id_token_needs_same_subject_and_no_nonce() {
    let key = TestKey::p256();
    let jwks = jwks_of(&[(&key, "k1")]);
    let claims = without_claim("nonce");
    let token = Secret::new(key.mint("k1", &claims));
    let refresh = IdTokenExpectations {
        nonce: None,
        previous_sub: Some("demouser"),
        ..expect()
    };
    assert!(verify_id_token(&token, &jwks, &refresh).is_ok());
    let changed = IdTokenExpectations {
        previous_sub: Some("someone-else"),
        ..refresh
    };
    assert!(matches!(
        verify_id_token(&token, &jwks, &changed),
        Err(IdTokenError::SubjectMismatch)
    ));
}

#[test]
fn i8_expired_or_missing_exp_is_rejected_and_skew_is_small() {
    let key = TestKey::p256();
    let expired = with_claim("exp", json!(NOW - CLOCK_SKEW_SECS - 1));
    assert!(matches!(refusal(&expired), IdTokenError::Expired));
    let within_skew = with_claim("exp", json!(NOW - CLOCK_SKEW_SECS + 1));
    assert!(verify_with(&key, &within_skew).is_ok());
    let missing = without_claim("exp");
    assert!(matches!(refusal(&missing), IdTokenError::Claim("exp")));
}

#[test]
fn iat_outside_window_or_missing_is_rejected() {
    for iat in [
        json!(NOW + CLOCK_SKEW_SECS + 5),
        json!(NOW - MAX_IAT_AGE_SECS - 5),
        json!("yesterday"),
    ] {
        let claims = with_claim("iat", iat.clone());
        assert!(matches!(refusal(&claims), IdTokenError::IssuedAt), "{iat}");
    }
    let missing = without_claim("iat");
    assert!(matches!(refusal(&missing), IdTokenError::IssuedAt));
}

#[test]
fn i9_wrong_or_missing_nonce_is_rejected() {
    assert_wrong_and_missing_refused("nonce", json!("other"), |e| {
        matches!(e, IdTokenError::NonceMismatch)
    });
}

#[test]
fn i10_kid_absent_single_key_is_accepted_and_multiple_keys_are_tried() {
    let key = TestKey::rsa();
    let other = TestKey::p256();
    let token = Secret::new(key.sign(&json!({"alg":"RS256"}), &good_claims(NONCE, NOW)));
    assert!(verify_id_token(&token, &jwks_of(&[(&key, "k1")]), &expect()).is_ok());
    // A decoy RSA key first (same exponent, altered modulus): it is tried, fails, and the
    // real key is tried next.
    let mut decoy = key.jwk("k0");
    let n = decoy["n"].as_str().unwrap().to_owned();
    decoy["n"] = json!(format!(
        "{}{}",
        &n[..n.len() - 4],
        if n.ends_with("AAAA") { "BBBB" } else { "AAAA" }
    ));
    let body = json!({"keys": [other.jwk("e1"), decoy, key.jwk("k1")]});
    let several = jwks_response(respond(200, &body)).unwrap();
    assert_eq!(several.len(), 3);
    assert!(verify_id_token(&token, &several, &expect()).is_ok());
    let only_decoy =
        jwks_response(respond(200, &json!({"keys": [body["keys"][1].clone()]}))).unwrap();
    assert!(matches!(
        verify_id_token(&token, &only_decoy, &expect()),
        Err(IdTokenError::BadSignature)
    ));
}

#[test]
fn d6_unknown_kid_is_reported_for_a_rate_limited_refetch() {
    let key = TestKey::p256();
    let token = Secret::new(key.mint("new-key", &good_claims(NONCE, NOW)));
    let result = verify_id_token(&token, &jwks_of(&[(&key, "old-key")]), &expect());
    assert!(matches!(result, Err(IdTokenError::UnknownKey)));
    assert!(!should_refetch(NOW, NOW + 1), "just fetched: no refetch");
    assert!(should_refetch(NOW, NOW + JWKS_MIN_REFETCH_SECS));
}

#[test]
fn d5_unparseable_keys_beside_the_real_key_are_ignored() {
    let key = TestKey::p256();
    let body = json!({"keys": [
        {"kty":"RSA","kid":"bad1","n":"!!!","e":"AQAB"},
        {"kty":"EC","crv":"P-521","kid":"bad2","x":"AA","y":"AA"},
        {"kty":"oct","kid":"bad3","k":"c2VjcmV0"},
        {"kty":"EC","crv":"P-256","kid":"enc","use":"enc","x":"AA","y":"AA"},
        "not an object",
        key.jwk("k1"),
    ]});
    let jwks = jwks_response(respond(200, &body)).unwrap();
    assert_eq!(jwks.len(), 1);
    let token = Secret::new(key.mint("k1", &good_claims(NONCE, NOW)));
    assert!(verify_id_token(&token, &jwks, &expect()).is_ok());
}

#[test]
fn jwks_errors_are_reported() {
    assert!(matches!(
        jwks_response(respond(500, &json!({}))),
        Err(IdTokenError::JwksStatus(500))
    ));
    assert!(matches!(
        jwks_response(respond(200, &json!([1]))),
        Err(IdTokenError::JwksParse)
    ));
    let request = prepare_jwks(&url::Url::parse("https://idp.example/jwks").unwrap());
    assert_eq!(request.url.as_str(), "https://idp.example/jwks");
}

#[test]
fn errors_never_contain_the_token() {
    let key = TestKey::p256();
    let token = key.mint("k1", &with_claim("nonce", json!("other")));
    let error = verify_id_token(
        &Secret::new(token.clone()),
        &jwks_of(&[(&key, "k1")]),
        &expect(),
    )
    .unwrap_err();
    assert!(!format!("{error} {error:?}").contains(&token[..20]));
}

mod attacker;
