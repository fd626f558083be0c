//! I3: an ID token that brings its own key. JWS lets a header carry the key (`jwk`, RFC 7515
//! §4.1.3), point at one (`jku` §4.1.2, `x5u` §4.1.5) or carry a certificate chain (`x5c`
//! §4.1.6). A relying party that trusts any of them accepts whatever an attacker signs. This
//! engine takes keys from the discovered `jwks_uri` only, so each token below, validly signed by
//! the attacker's own key, is refused, whatever key id it names.

use serde_json::{json, Value};

use super::*;

/// The server publishes `k1`; the attacker has a key of the same type and algorithm.
fn server_and_attacker() -> (TestKey, TestKey) {
    (TestKey::p256(), TestKey::p256())
}

/// The attacker's token under `header` (plus `alg`), with the attacker's key in `jwk`.
fn forged(attacker: &TestKey, extra: Value) -> Secret {
    let mut header = json!({"alg": "ES256", "jwk": attacker.jwk("attacker")});
    for (name, value) in extra.as_object().unwrap() {
        header[name] = value.clone();
    }
    Secret::new(attacker.sign(&header, &good_claims(NONCE, NOW)))
}

#[test]
fn i3_the_attackers_signature_is_real() {
    // The forgeries below fail only because the key is not trusted: with the attacker's key in
    // the key set, the very same token verifies.
    let (_, attacker) = server_and_attacker();
    let token = forged(&attacker, json!({"kid": "attacker"}));
    verify_id_token(&token, &jwks_of(&[(&attacker, "attacker")]), &expect()).unwrap();
}

#[test]
fn i3_jwk_header_with_the_attackers_key_is_refused() {
    let (server, attacker) = server_and_attacker();
    let jwks = jwks_of(&[(&server, "k1")]);
    // Naming the server's key id: that key does not verify the signature.
    let result = verify_id_token(&forged(&attacker, json!({"kid": "k1"})), &jwks, &expect());
    assert!(
        matches!(result, Err(IdTokenError::BadSignature)),
        "{result:?}"
    );
    // No key id: every published key that fits is tried, and none verifies.
    let result = verify_id_token(&forged(&attacker, json!({})), &jwks, &expect());
    assert!(
        matches!(result, Err(IdTokenError::BadSignature)),
        "{result:?}"
    );
    // Its own key id: not published, so unknown (the session refetches the real key set at
    // most once, and never takes the header's key).
    let result = verify_id_token(
        &forged(&attacker, json!({"kid": "attacker"})),
        &jwks,
        &expect(),
    );
    assert!(
        matches!(result, Err(IdTokenError::UnknownKey)),
        "{result:?}"
    );
}

#[test]
fn i3_jku_and_x5u_headers_are_refused_and_never_fetched() {
    let (server, attacker) = server_and_attacker();
    let jwks = jwks_of(&[(&server, "k1")]);
    // verify_id_token is pure: it has no way to fetch these URLs, so the only keys it can
    // use are the ones passed in.
    for header in [
        json!({"kid": "k1", "jku": "https://attacker.example/jwks.json"}),
        json!({"jku": "https://attacker.example/jwks.json"}),
        json!({"kid": "k1", "x5u": "https://attacker.example/cert.pem"}),
        json!({"x5u": "https://attacker.example/cert.pem"}),
        json!({"kid": "k1", "x5c": ["MIIBfake"]}),
    ] {
        let result = verify_id_token(&forged(&attacker, header.clone()), &jwks, &expect());
        assert!(
            matches!(result, Err(IdTokenError::BadSignature)),
            "{header}: {result:?}"
        );
    }
}
