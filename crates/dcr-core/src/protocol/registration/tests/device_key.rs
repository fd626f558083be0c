//! K1, K3: the registration of a device key (`private_key_jwt`, RFC 7523 §2.2) and what a
//! server may not do with it: drop the method, substitute a secret, or lose the key. Each
//! refused 201 carries the handle to delete the client it created (RFC 7592 §2.3).

use serde_json::json;

use super::*;
use crate::device::key::DeviceKey;

const SEED_URI: &str = "https://baa467f55bc7.eu.ngrok.io/token-service/oauth-registration/87f1d9de-de2f-4e96-b27b-882cce0a3352";

/// What is wrong, the request, the response, and the refusal expected.
type Case<'a> = (
    &'static str,
    &'a RegistrationBody,
    Value,
    fn(&RegistrationError) -> bool,
);

fn key() -> DeviceKey {
    DeviceKey::generate().unwrap()
}

fn full_key(key: &DeviceKey) -> RegistrationBody {
    full_basic().with_device_jwks(&key.public_jwks())
}

/// What oidc-provider answers a device-key registration: the seed's response without a
/// secret, with the method and the key echoed.
fn key_response(key: &DeviceKey) -> Value {
    let mut doc: Value = serde_json::from_str(SEED_RESPONSE).unwrap();
    crate::test_support::as_private_key_jwt(&mut doc);
    doc["jwks"] = key.public_jwks();
    doc
}

#[test]
fn k1_full_body_registers_the_public_key_es256_and_dpop_when_asked() {
    let key = key();
    let body: Value = serde_json::from_str(&full_key(&key).to_json()).unwrap();
    assert_eq!(body["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(body["token_endpoint_auth_signing_alg"], "ES256");
    assert_eq!(body["jwks"], key.public_jwks());
    assert_eq!(body["jwks"]["keys"][0]["kid"], key.thumbprint());
    assert!(body["jwks"]["keys"][0].get("d").is_none(), "public only");
    assert!(body.get("dpop_bound_access_tokens").is_none());
    let text = full_key(&key).with_dpop_bound_access_tokens().to_json();
    // The seed's fields first and unchanged, the device-key members after them.
    assert!(text.starts_with(r#"{"redirect_uris":["io.curity.dcrclient:/callback"],"post_logout_redirect_uris":["io.curity.dcrclient:/logoutcallback"],"application_type":"native","grant_types":["authorization_code"],"scope":"openid profile","token_endpoint_auth_method":"private_key_jwt","token_endpoint_auth_signing_alg":"ES256","jwks":"#), "{text}");
    assert!(
        text.ends_with(r#","dpop_bound_access_tokens":true}"#),
        "{text}"
    );
    let pkcs8: String = serde_json::from_str(key.stored_form().expose()).unwrap();
    assert!(!text.contains(&pkcs8));
}

#[test]
fn k1_templatized_body_adds_only_the_key_and_the_method() {
    let key = key();
    let body = RegistrationBody::templatized("tmpl").with_device_jwks(&key.public_jwks());
    let value: Value = serde_json::from_str(&body.to_json()).unwrap();
    assert_eq!(
        value,
        json!({"software_id": "tmpl", "token_endpoint_auth_method": "private_key_jwt", "jwks": key.public_jwks()})
    );
    assert_eq!(
        body.requested_auth_method(),
        Some(TokenEndpointAuthMethod::PrivateKeyJwt)
    );
    // DPoP is the template's business: the templatized body stays as it was.
    let plain = RegistrationBody::templatized("tmpl").with_dpop_bound_access_tokens();
    assert_eq!(plain.to_json(), r#"{"software_id":"tmpl"}"#);
}

#[test]
fn k1_a_device_key_registration_has_no_secret_and_never_expires() {
    let key = key();
    let registration = registration_response(
        resp(201, &key_response(&key).to_string()),
        &full_key(&key),
        REDIRECT,
        NOW,
    )
    .unwrap();
    assert!(registration.client_secret.is_none());
    assert_eq!(registration.client_secret_expires_at, SecretExpiry::Never);
    assert_eq!(
        registration.token_endpoint_auth_method,
        TokenEndpointAuthMethod::PrivateKeyJwt
    );
    assert!(!registration.secret_expired(i64::MAX));
    // Not echoing jwks is fine (RFC 7591 §3.2.1 does not require it).
    let mut quiet = key_response(&key);
    quiet.as_object_mut().unwrap().remove("jwks");
    assert!(registration_response(
        resp(201, &quiet.to_string()),
        &full_key(&key),
        REDIRECT,
        NOW
    )
    .is_ok());
}

#[test]
fn k3_a_substituted_secret_a_changed_method_or_a_lost_key_is_refused_with_the_delete_handle() {
    let key = key();
    let mut with_secret = key_response(&key);
    with_secret["client_secret"] = json!(SECRET);
    with_secret["client_secret_expires_at"] = json!(0);
    let mut basic = key_response(&key);
    basic["token_endpoint_auth_method"] = json!("client_secret_basic");
    basic["client_secret"] = json!(SECRET);
    basic["client_secret_expires_at"] = json!(0);
    let mut other_key = key_response(&key);
    other_key["jwks"] = DeviceKey::generate().unwrap().public_jwks();
    let mut swapped = key_response(&key);
    let impostor = DeviceKey::generate().unwrap().public_jwks();
    swapped["jwks"]["keys"][0]["x"] = impostor["keys"][0]["x"].clone();
    let mut no_keys = key_response(&key);
    no_keys["jwks"] = json!({"keys": []});
    let templatized = RegistrationBody::templatized("tmpl").with_device_jwks(&key.public_jwks());
    let cases: [Case; 6] = [
        (
            "secret substituted",
            &full_key(&key),
            with_secret.clone(),
            |e| matches!(e, RegistrationError::SecretIssued),
        ),
        ("method changed", &full_key(&key), basic.clone(), |e| {
            matches!(
                e,
                RegistrationError::AuthMethodMismatch {
                    requested: "private_key_jwt",
                    got: "client_secret_basic"
                }
            )
        }),
        (
            "template kept its secret method",
            &templatized,
            basic,
            |e| matches!(e, RegistrationError::AuthMethodMismatch { .. }),
        ),
        ("another key", &full_key(&key), other_key, |e| {
            matches!(e, RegistrationError::DeviceKeyNotRegistered)
        }),
        ("our kid, another key", &full_key(&key), swapped, |e| {
            matches!(e, RegistrationError::DeviceKeyNotRegistered)
        }),
        ("no key", &full_key(&key), no_keys, |e| {
            matches!(e, RegistrationError::DeviceKeyNotRegistered)
        }),
    ];
    for (what, request, body, expected) in cases {
        let refused = registration_response(resp(201, &body.to_string()), request, REDIRECT, NOW)
            .unwrap_err();
        assert!(expected(&refused.error), "{what}: {:?}", refused.error);
        assert!(refused.created, "{what}");
        let delete = prepare_cleanup(refused.cleanup.as_ref().expect("a delete handle"));
        assert_eq!(delete.method, Method::Delete, "{what}");
        assert_eq!(delete.url.as_str(), SEED_URI, "{what}");
        let message = refused.into_error(true).to_string();
        assert!(message.contains("deleted again"), "{what}: {message}");
        assert!(!message.contains(SECRET), "{what}");
    }
}

#[test]
fn k3_private_key_jwt_for_a_device_that_registered_no_key_is_refused() {
    // A template (or server) choosing private_key_jwt when this app sent no key: nobody could
    // ever authenticate as that client.
    let key = key();
    let result = registration_response(
        resp(201, &key_response(&key).to_string()),
        &RegistrationBody::templatized("tmpl"),
        REDIRECT,
        NOW,
    );
    assert!(matches!(
        result.map_err(|r| r.error),
        Err(RegistrationError::UnsupportedAuthMethod(ref m)) if m == "private_key_jwt"
    ));
}

#[test]
fn r5_still_applies_to_secret_methods() {
    // Without a secret a secret method is unusable, whatever else the response says.
    let mut doc = key_response(&key());
    doc["token_endpoint_auth_method"] = json!("client_secret_basic");
    assert!(matches!(
        register(201, &doc.to_string()),
        Err(RegistrationError::MissingField("client_secret"))
    ));
}
