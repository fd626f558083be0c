//! RFC 7592 §2.2 update for the device key rotation: the request carries the whole metadata with
//! the new `jwks` and nothing the RFC forbids; the answer must register the new key and drop the
//! old one, and a rotated registration access token replaces ours.

use super::*;
use crate::error::ErrorKind;
use serde_json::json;

const OLD_KID: &str = "old-kid-NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkx";
const NEW_KID: &str = "new-kid-0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEp";
const NEW_RAT: &str = "9b1f4c1e-rotated-registration-access-token";

fn jwks(kid: &str) -> Value {
    json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "x", "y": "y", "kid": kid, "use": "sig", "alg": "ES256"}]})
}

/// The seed's registration with the old key registered.
fn current() -> ClientRegistration {
    register(201, &seed_with("jwks", Some(jwks(OLD_KID)))).unwrap()
}

fn body_of(request: &OutgoingRequest) -> serde_json::Map<String, Value> {
    let body: Value = serde_json::from_str(request.body.as_ref().unwrap().expose()).unwrap();
    body.as_object().unwrap().clone()
}

#[test]
fn kr1_update_is_a_put_with_the_whole_metadata_and_the_new_jwks() {
    let registration = current();
    let request = prepare_update(&registration, &jwks(NEW_KID)).unwrap();
    assert_eq!(request.method, Method::Put);
    assert_managed_with_the_registration_token(&request, &registration);
    assert_eq!(request.content_type, Some("application/json"));
    let body = body_of(&request);
    // RFC 7592 §2.2: client_id is required; the registered metadata is all there.
    assert_eq!(body["client_id"], "87f1d9de-de2f-4e96-b27b-882cce0a3352");
    assert_eq!(body["jwks"], jwks(NEW_KID));
    for kept in [
        "redirect_uris",
        "post_logout_redirect_uris",
        "grant_types",
        "scope",
        "application_type",
        "token_endpoint_auth_method",
        "response_types",
        "default_acr_values",
    ] {
        let seed: Value = serde_json::from_str(SEED_RESPONSE).unwrap();
        assert_eq!(body[kept], seed[kept], "{kept}");
    }
}

#[test]
fn kr1_update_never_sends_the_forbidden_fields_or_a_secret() {
    let request = prepare_update(&current(), &jwks(NEW_KID)).unwrap();
    let body = body_of(&request);
    // RFC 7592 §2.2: the response-only fields and the secret (the list `prepare_update` drops).
    for forbidden in crate::protocol::registration::update::NOT_SENT {
        assert!(
            !body.contains_key(forbidden),
            "{forbidden} must not be sent"
        );
    }
    let text = request.body.as_ref().unwrap().expose();
    assert!(!text.contains(SECRET) && !text.contains(RAT));
}

#[test]
fn kr1_update_drops_nulls_and_a_jwks_uri() {
    let mut doc: Value = serde_json::from_str(&seed_with("jwks", Some(jwks(OLD_KID)))).unwrap();
    doc["jwks_uri"] = json!("https://example.com/jwks");
    doc["logo_uri"] = Value::Null;
    let registration = register(201, &doc.to_string()).unwrap();
    let body = body_of(&prepare_update(&registration, &jwks(NEW_KID)).unwrap());
    assert!(!body.contains_key("jwks_uri"));
    assert!(!body.contains_key("logo_uri"));
}

#[test]
fn kr5_rotation_without_a_management_endpoint_or_token_is_not_possible() {
    for field in ["registration_client_uri", "registration_access_token"] {
        let registration = register(201, &seed_with(field, None)).unwrap();
        assert!(matches!(
            prepare_update(&registration, &jwks(NEW_KID)),
            Err(RegistrationError::NotManageable)
        ));
    }
    assert_eq!(
        RegistrationError::NotManageable.kind(),
        ErrorKind::RotationUnavailable
    );
}

/// The server's answer: the seed with the new key and a rotated registration access token.
fn answer(jwks_value: Option<Value>, rat: Option<&str>) -> String {
    let mut doc: Value = serde_json::from_str(SEED_RESPONSE).unwrap();
    let map = doc.as_object_mut().unwrap();
    match jwks_value {
        Some(value) => map.insert("jwks".into(), value),
        None => map.remove("jwks"),
    };
    match rat {
        Some(rat) => map.insert("registration_access_token".into(), json!(rat)),
        None => map.remove("registration_access_token"),
    };
    doc.to_string()
}

fn update(status: u16, body: &str) -> Result<ClientRegistration, RegistrationError> {
    update_response(
        resp(status, body),
        &current(),
        NEW_KID,
        Some(OLD_KID),
        REDIRECT,
        NOW,
    )
}

#[test]
fn kr3_accepted_update_keeps_the_rotated_registration_access_token() {
    let updated = update(200, &answer(Some(jwks(NEW_KID)), Some(NEW_RAT))).unwrap();
    assert_eq!(
        updated.registration_access_token.as_ref().unwrap().expose(),
        NEW_RAT
    );
    // What the keychain stores is the response, so the new token and key must be in it.
    let stored: Value = serde_json::from_str(updated.response_json.expose()).unwrap();
    assert_eq!(stored["registration_access_token"], NEW_RAT);
    assert_eq!(stored["jwks"], jwks(NEW_KID));
}

#[test]
fn kr3_update_without_a_token_keeps_ours() {
    let updated = update(200, &answer(Some(jwks(NEW_KID)), None)).unwrap();
    assert_eq!(
        updated.registration_access_token.as_ref().unwrap().expose(),
        RAT
    );
    let stored: Value = serde_json::from_str(updated.response_json.expose()).unwrap();
    assert_eq!(stored["registration_access_token"], RAT);
}

#[test]
fn kr2_update_must_register_the_new_key_and_drop_the_old_one() {
    assert!(matches!(
        update(200, &answer(None, Some(NEW_RAT))),
        Err(RegistrationError::KeyNotRegistered)
    ));
    assert!(matches!(
        update(200, &answer(Some(jwks(OLD_KID)), Some(NEW_RAT))),
        Err(RegistrationError::KeyNotRegistered)
    ));
    let both = json!({"keys": [jwks(OLD_KID)["keys"][0], jwks(NEW_KID)["keys"][0]]});
    assert!(matches!(
        update(200, &answer(Some(both), Some(NEW_RAT))),
        Err(RegistrationError::OldKeyStillRegistered)
    ));
    assert!(matches!(
        update(200, &answer(Some(json!({"keys": "nope"})), Some(NEW_RAT))),
        Err(RegistrationError::KeyNotRegistered)
    ));
}

#[test]
fn kr2_update_must_describe_this_client_with_its_auth_method() {
    let mut other: Value = serde_json::from_str(&answer(Some(jwks(NEW_KID)), None)).unwrap();
    other["client_id"] = json!("someone-else");
    assert!(matches!(
        update(200, &other.to_string()),
        Err(RegistrationError::ClientIdMismatch)
    ));
    let mut method: Value = serde_json::from_str(&answer(Some(jwks(NEW_KID)), None)).unwrap();
    method["token_endpoint_auth_method"] = json!("client_secret_post");
    assert!(matches!(
        update(200, &method.to_string()),
        Err(RegistrationError::AuthMethodMismatch { .. })
    ));
}

#[test]
fn kr2_update_refusals_name_why() {
    assert!(matches!(
        update(401, r#"{"error":"invalid_token"}"#),
        Err(RegistrationError::UpdateUnauthorized)
    ));
    match update(
        400,
        r#"{"error":"invalid_client_metadata","error_description":"jwks must contain a key"}"#,
    ) {
        Err(RegistrationError::Rejected { error, description }) => {
            assert_eq!(error, "invalid_client_metadata");
            assert_eq!(description.as_deref(), Some("jwks must contain a key"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        update(500, ""),
        Err(RegistrationError::UnexpectedStatus(500))
    ));
    assert!(matches!(
        update(201, &answer(Some(jwks(NEW_KID)), None)),
        Err(RegistrationError::UnexpectedStatus(201))
    ));
    assert!(matches!(
        update(200, "<html>"),
        Err(RegistrationError::Parse(_))
    ));
}
