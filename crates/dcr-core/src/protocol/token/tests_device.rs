//! K1, K2, K4: the token endpoint requests of the device-bound modes, field by field, and the
//! token-type rule (DPoP exactly when a proof was sent).

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

use super::*;
use crate::device::key::DeviceKey;
use crate::protocol::authorize::{
    prepare_authorization, AuthorizationParams, PendingAuthorization,
};
use crate::test_support::{config, metadata, oauth_error, respond, ISSUER};

fn form(request: &OutgoingRequest) -> HashMap<String, String> {
    url::form_urlencoded::parse(request.body.as_ref().unwrap().expose().as_bytes())
        .into_owned()
        .collect()
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn header(jwt: &str) -> Value {
    let head = jwt.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(head).unwrap()).unwrap()
}

fn key_auth<'a>(key: &'a DeviceKey, now: i64) -> ClientAuth<'a> {
    ClientAuth::PrivateKeyJwt {
        client_id: "client-1",
        key,
        audience: ISSUER,
        now,
    }
}

/// The provider's metadata and a sign-in started at its authorization endpoint, up to the code.
fn sign_in_started() -> (
    crate::protocol::discovery::ProviderMetadata,
    PendingAuthorization,
) {
    let metadata = metadata();
    let (_, pending) = prepare_authorization(
        &metadata,
        &AuthorizationParams::sign_in(&config(), "client-1"),
    );
    (metadata, pending)
}

#[test]
fn k1_private_key_jwt_code_exchange_is_exactly_the_grant_and_the_assertion() {
    let key = DeviceKey::generate().unwrap();
    let (metadata, pending) = sign_in_started();
    let verifier = pending.verifier.0.expose().to_owned();
    let code = AuthorizationCode(Secret::new("the-code"));
    let (request, _) = prepare_code_exchange(
        &metadata.token_endpoint,
        pending,
        code,
        &key_auth(&key, 1000),
    )
    .unwrap();
    assert!(request.authorization.is_none(), "no Basic header");
    assert!(request.dpop.is_none(), "the session adds the proof");
    let form = form(&request);
    let mut names: Vec<_> = form.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "client_assertion",
            "client_assertion_type",
            "code",
            "code_verifier",
            "grant_type",
            "redirect_uri"
        ]
    );
    assert_eq!(
        form["client_assertion_type"],
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    assert_eq!(form["code"], "the-code");
    assert_eq!(form["code_verifier"], verifier);
    let assertion = &form["client_assertion"];
    assert_eq!(header(assertion)["kid"], key.thumbprint());
    let claims = claims(assertion);
    assert_eq!(claims["iss"], "client-1");
    assert_eq!(claims["sub"], "client-1");
    assert_eq!(claims["aud"], ISSUER);
    assert_eq!(claims["iat"], 1000);
    assert_eq!(claims["exp"], 1060);
}

#[test]
fn k2_refresh_and_revocation_carry_a_fresh_assertion_each_time() {
    let key = DeviceKey::generate().unwrap();
    let endpoint = metadata().token_endpoint;
    let rt = Secret::new("rt");
    let refresh = form(&prepare_refresh(&endpoint, &rt, &key_auth(&key, 5)).unwrap());
    assert_eq!(refresh["grant_type"], "refresh_token");
    assert_eq!(refresh["refresh_token"], "rt");
    assert!(!refresh.contains_key("client_secret") && !refresh.contains_key("client_id"));
    let revoke = form(&prepare_revocation(&endpoint, &rt, &key_auth(&key, 5)).unwrap());
    assert_eq!(revoke["token"], "rt");
    assert_eq!(revoke["token_type_hint"], "refresh_token");
    // RFC 7523 §3: the jti must not repeat, even for the same request at the same second.
    let again = form(&prepare_refresh(&endpoint, &rt, &key_auth(&key, 5)).unwrap());
    let jti = |f: &HashMap<String, String>| claims(&f["client_assertion"])["jti"].clone();
    assert_ne!(jti(&refresh), jti(&again));
    assert_ne!(jti(&refresh), jti(&revoke));
}

#[test]
fn k1_a_code_grant_builds_the_same_request_twice_for_the_nonce_retry() {
    let key = DeviceKey::generate().unwrap();
    let (metadata, pending) = sign_in_started();
    let (grant, _) = CodeGrant::new(pending, AuthorizationCode(Secret::new("c")));
    let first =
        form(&prepare_code_grant(&metadata.token_endpoint, &grant, &key_auth(&key, 1)).unwrap());
    let second =
        form(&prepare_code_grant(&metadata.token_endpoint, &grant, &key_auth(&key, 2)).unwrap());
    for field in ["grant_type", "code", "code_verifier", "redirect_uri"] {
        assert_eq!(first[field], second[field], "{field}");
    }
    assert_ne!(first["client_assertion"], second["client_assertion"]);
    assert_eq!(format!("{grant:?}"), "CodeGrant(<redacted>)");
}

#[test]
fn k4_token_type_must_be_dpop_exactly_when_a_proof_was_sent() {
    let body = |token_type: &str| {
        respond(
            200,
            &json!({"access_token":"at","token_type":token_type,"expires_in":60}),
        )
    };
    assert!(token_response_for(body("DPoP"), false, true).is_ok());
    assert!(
        token_response_for(body("dpop"), false, true).is_ok(),
        "case-insensitive"
    );
    // Asked for a bound token, got a bearer one: not used (anyone holding it could use it).
    let error = token_response_for(body("Bearer"), false, true).unwrap_err();
    assert!(
        matches!(error, TokenError::NotBound(ref t) if t == "Bearer"),
        "{error:?}"
    );
    assert_eq!(crate::Error::from(error).kind(), "invalidResponse");
    // Not asked for: T5 stays Bearer only.
    assert!(matches!(
        token_response_for(body("DPoP"), false, false),
        Err(TokenError::UnsupportedTokenType(_))
    ));
    assert!(token_response(body("Bearer"), false).is_ok());
}

#[test]
fn k4_invalid_dpop_proof_is_its_own_kind() {
    let bad_proof = oauth_error(400, "invalid_dpop_proof", "bad htu");
    let error = token_response_for(bad_proof, false, true).unwrap_err();
    assert_eq!(crate::Error::from(error).kind(), "invalidDpopProof");
    let userinfo = CappedResponse {
        status: 401,
        www_authenticate: Some(
            r#"DPoP error="invalid_dpop_proof", error_description="invalid signature""#.into(),
        ),
        ..Default::default()
    };
    let error = crate::protocol::userinfo::userinfo_response(userinfo, "demouser").unwrap_err();
    assert_eq!(crate::Error::from(error).kind(), "invalidDpopProof");
    // use_dpop_nonce is not a proof error: the session retries it once.
    let nonce = CappedResponse {
        status: 401,
        www_authenticate: Some(r#"DPoP error="use_dpop_nonce", algs="ES256""#.into()),
        ..Default::default()
    };
    assert!(crate::protocol::userinfo::dpop_challenge(
        &nonce,
        "use_dpop_nonce"
    ));
    assert!(!crate::protocol::userinfo::dpop_challenge(
        &nonce,
        "invalid_dpop_proof"
    ));
}
