//! The device key's JWTs, checked by verifying them as a server would.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
use serde_json::Value;

use super::*;

/// A fixed key, so failures are reproducible (a P-256 PKCS#8 document made once with openssl, test-only).
fn fixed_key() -> DeviceKey {
    DeviceKey::from_pkcs8(Secret::new(FIXED_PKCS8)).expect("the fixed key loads")
}

const FIXED_PKCS8: &str = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgRiXMZsf8lffLEnt_MLfhCzc8Fn5tP7mB4-0DfZsTncChRANCAAQAegGs-2L_fkl1OD3oBBjviJW76hCrjJVljmNXkJcD5tLFTX1qv0RWnUiPnrEbnCmwYkACzxok0Dou8X9ReESY";

/// Splits a compact JWS, verifies its ES256 signature with `jwk`, returns (header, claims).
fn verify(jwt: &Secret, jwk: &Value) -> (Value, Value) {
    let parts: Vec<&str> = jwt.expose().split('.').collect();
    assert_eq!(parts.len(), 3);
    let decode = |part: &str| -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    };
    let coordinate = |name: &str| URL_SAFE_NO_PAD.decode(jwk[name].as_str().unwrap()).unwrap();
    let mut point = vec![4u8];
    point.extend(coordinate("x"));
    point.extend(coordinate("y"));
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    assert_eq!(signature.len(), 64, "ES256 is R || S");
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
        .expect("the signature verifies with the public key");
    (decode(parts[0]), decode(parts[1]))
}

#[test]
fn a_generated_key_round_trips_through_its_stored_form() {
    let key = DeviceKey::generate().unwrap();
    let stored: String = serde_json::from_str(key.stored_form().expose()).unwrap();
    let again = DeviceKey::from_pkcs8(Secret::new(stored)).unwrap();
    assert_eq!(key.thumbprint(), again.thumbprint());
    assert_ne!(
        key.thumbprint(),
        DeviceKey::generate().unwrap().thumbprint()
    );
    assert_eq!(
        DeviceKey::from_pkcs8(Secret::new("bm90IGEga2V5")).unwrap_err(),
        DeviceKeyError::Unreadable
    );
}

#[test]
fn the_thumbprint_follows_rfc7638() {
    // RFC 7638 §3.1's example is an RSA key; this checks the EC member order (crv, kty, x, y)
    // against a value computed independently from the canonical JSON.
    let key = fixed_key();
    let jwk = &key.public_jwks()["keys"][0];
    let canonical = format!(
        r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
        jwk["x"].as_str().unwrap(),
        jwk["y"].as_str().unwrap()
    );
    let expected = URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        canonical.as_bytes(),
    ));
    assert_eq!(key.thumbprint(), expected);
    assert_eq!(jwk["kid"], expected.as_str());
}

#[test]
fn the_registration_jwks_holds_only_the_public_key() {
    let key = fixed_key();
    let jwks = key.public_jwks();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let mut members: Vec<&str> = keys[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    members.sort_unstable();
    assert_eq!(
        members,
        ["alg", "crv", "kid", "kty", "use", "x", "y"],
        "no `d`"
    );
    assert_eq!(keys[0]["alg"], "ES256");
    let pkcs8: String = serde_json::from_str(key.stored_form().expose()).unwrap();
    assert!(!format!("{key:?}").contains(&pkcs8));
}

#[test]
fn the_client_assertion_has_the_rfc7523_claims_and_a_short_life() {
    let key = fixed_key();
    let jwk = key.public_jwks()["keys"][0].clone();
    let assertion = key
        .client_assertion("client-1", "https://idp.example/oauth", 1_000)
        .unwrap();
    let (header, claims) = verify(&assertion, &jwk);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["kid"], key.thumbprint());
    assert_eq!(claims["iss"], "client-1");
    assert_eq!(claims["sub"], "client-1");
    assert_eq!(claims["aud"], "https://idp.example/oauth");
    assert_eq!(claims["iat"], 1_000);
    assert_eq!(claims["exp"], 1_000 + 60);
    assert!(claims["jti"].as_str().unwrap().len() >= 16);
}

#[test]
fn every_assertion_and_proof_has_a_unique_jti() {
    let key = fixed_key();
    let jwk = key.public_jwks()["keys"][0].clone();
    let url = Url::parse("https://idp.example/token").unwrap();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..50 {
        let (_, a) = verify(&key.client_assertion("c", "aud", 1).unwrap(), &jwk);
        let (_, p) = verify(&key.dpop_proof("POST", &url, 1, None, None).unwrap(), &jwk);
        assert!(seen.insert(a["jti"].as_str().unwrap().to_owned()));
        assert!(seen.insert(p["jti"].as_str().unwrap().to_owned()));
    }
}

#[test]
fn a_dpop_proof_carries_the_public_key_and_the_rfc9449_claims() {
    let key = fixed_key();
    let url = Url::parse("HTTPS://IdP.Example:443/token?x=1#frag").unwrap();
    let proof = key
        .dpop_proof("POST", &url, 2_000, None, Some("server-nonce"))
        .unwrap();
    let parts: Vec<&str> = proof.expose().split('.').collect();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["typ"], "dpop+jwt");
    assert_eq!(header["alg"], "ES256");
    // §4.2: the public key, and nothing private.
    assert!(header["jwk"].get("d").is_none());
    let (_, claims) = verify(&proof, &header["jwk"]);
    assert_eq!(claims["htm"], "POST");
    assert_eq!(
        claims["htu"], "https://idp.example/token",
        "no query, fragment or default port"
    );
    assert_eq!(claims["iat"], 2_000);
    assert_eq!(claims["nonce"], "server-nonce");
    assert!(claims.get("ath").is_none());
}

#[test]
fn a_dpop_proof_for_a_resource_binds_the_access_token() {
    let key = fixed_key();
    let url = Url::parse("https://idp.example/me").unwrap();
    let token = Secret::new("an-access-token");
    let proof = key.dpop_proof("GET", &url, 1, Some(&token), None).unwrap();
    let parts: Vec<&str> = proof.expose().split('.').collect();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    // §4.2: base64url(SHA-256(ASCII(access token))).
    let expected = URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        b"an-access-token",
    ));
    assert_eq!(claims["ath"], expected.as_str());
    assert!(claims.get("nonce").is_none());
    assert!(!proof.expose().contains("an-access-token"));
}

/// A signer that always fails, as a TPM that was cleared would.
struct Failing(PublicPoint);

impl DeviceSigner for Failing {
    fn public_point(&self) -> &PublicPoint {
        &self.0
    }
    fn sign(&self, _: &[u8]) -> Result<super::super::signer::Es256Signature, DeviceKeyError> {
        Err(DeviceKeyError::Sign)
    }
    fn stored_form(&self) -> Secret {
        Secret::new("null")
    }
    fn holder(&self) -> KeyHolder {
        KeyHolder::Tpm
    }
}

#[test]
fn a_signer_failure_is_an_error_never_an_unsigned_jwt() {
    let point = {
        let jwk = fixed_key().public_jwks()["keys"][0].clone();
        let mut point = [4u8; 65];
        point[1..33].copy_from_slice(&URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap());
        point[33..].copy_from_slice(&URL_SAFE_NO_PAD.decode(jwk["y"].as_str().unwrap()).unwrap());
        point
    };
    let key = DeviceKey::from_signer(Box::new(Failing(point)));
    assert_eq!(
        key.thumbprint(),
        fixed_key().thumbprint(),
        "the same public key"
    );
    let url = Url::parse("https://idp.example/token").unwrap();
    assert_eq!(
        key.client_assertion("c", "aud", 1).unwrap_err(),
        DeviceKeyError::Sign
    );
    assert_eq!(
        key.dpop_proof("POST", &url, 1, None, None).unwrap_err(),
        DeviceKeyError::Sign
    );
    assert_eq!(
        crate::Error::from(DeviceKeyError::Sign).kind(),
        crate::error::ErrorKind::DeviceKeyUnavailable
    );
}

#[test]
fn htu_keeps_a_non_default_port_and_the_path() {
    let url = Url::parse("http://127.0.0.1:8443/oauth/v2/token?a=b").unwrap();
    assert_eq!(dpop_htu(&url), "http://127.0.0.1:8443/oauth/v2/token");
}

/// `deviceKeyStorage`: `software` never asks a TPM; `auto` without a usable TPM keeps the key
/// in software; `tpm` without one is an error that names the missing device and the fix.
/// No other unit test sets the process's TCTI.
#[cfg(target_os = "linux")]
#[test]
fn without_a_tpm_auto_keeps_a_software_key_and_tpm_names_the_fix() {
    use crate::config::DeviceKeyStorage;
    use crate::device::tpm;
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            tpm::set_process_tcti(None);
        }
    }
    tpm::set_process_tcti(Some("device:/nonexistent/tpmrm0"));
    let _reset = Reset;
    assert_eq!(
        DeviceKey::generate_for(DeviceKeyStorage::Software)
            .unwrap()
            .holder(),
        KeyHolder::Software
    );
    assert_eq!(
        DeviceKey::generate_for(DeviceKeyStorage::Auto)
            .unwrap()
            .holder(),
        KeyHolder::Software
    );
    let error = DeviceKey::generate_for(DeviceKeyStorage::Tpm).unwrap_err();
    assert_eq!(
        error,
        DeviceKeyError::TpmMissing("/nonexistent/tpmrm0".to_owned())
    );
    assert!(error.to_string().contains("\"software\""), "{error}");
}
