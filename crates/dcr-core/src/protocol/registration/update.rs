//! RFC 7592 §2.2 client update, used for one thing: rotating the device key. The new public key
//! goes to the server as the registration's `jwks`; the session switches to the new private key
//! only after the server answered with that key registered.
//!
//! A PUT replaces the whole client (RFC 7592 §2.2: omitted fields may be reset to defaults), so
//! the body is the current metadata, taken from the stored registration response, with the new
//! `jwks`. It MUST carry `client_id` and MUST NOT carry `registration_access_token`,
//! `registration_client_uri`, `client_secret_expires_at` or `client_id_issued_at`; the client
//! secret MAY be sent but is left out here (a secret is never sent where it is not needed).

use serde_json::{Map, Value};
use zeroize::Zeroize;

use super::management::{handle, keep_management_handle, management_error};
use super::parse::{body_text, WipeOnDrop};
use super::{
    bearer, check_auth_method, parse_registration, ClientRegistration, RegistrationError,
    APPLICATION_JSON,
};
use crate::platform::http::{CappedResponse, Method, OutgoingRequest};
use crate::Secret;

/// Fields of a client information response that are not client metadata and must not be sent
/// back (RFC 7592 §2.2), plus `client_secret` (optional there, and a secret).
pub(super) const NOT_SENT: [&str; 6] = [
    "registration_access_token",
    "registration_client_uri",
    "client_secret_expires_at",
    "client_id_issued_at",
    "client_secret",
    // Curity's lifetime of the registration access token: response-only, like the token.
    "registration_access_token_expires_in",
];

/// The RFC 7592 §2.2 update request: PUT the current metadata with `jwks` replaced, authorized
/// with the registration access token (RFC 7592 §3, RFC 6750 §2.1).
pub fn prepare_update(
    registration: &ClientRegistration,
    jwks: &Value,
) -> Result<OutgoingRequest, RegistrationError> {
    let (uri, token) = handle(registration).ok_or(RegistrationError::NotManageable)?;
    let mut document = WipeOnDrop(
        serde_json::from_str::<Value>(registration.response_json.expose())
            .map_err(|_| RegistrationError::Parse("the stored registration is not JSON"))?,
    );
    let Value::Object(map) = &mut document.0 else {
        return Err(RegistrationError::Parse(
            "the stored registration is not a JSON object",
        ));
    };
    update_metadata(map, &registration.client_id, jwks);
    Ok(OutgoingRequest {
        method: Method::Put,
        url: uri.clone(),
        authorization: Some(bearer(token)),
        content_type: Some(APPLICATION_JSON),
        body: Some(Secret::new(document.0.to_string())),
        // The registration access token is a bearer token (RFC 7592 §3); no DPoP proof.
        dpop: None,
    })
}

fn update_metadata(map: &mut Map<String, Value>, client_id: &str, jwks: &Value) {
    for name in NOT_SENT {
        if let Some(mut value) = map.remove(name) {
            wipe(&mut value);
        }
    }
    // RFC 7592 §2.2: a null value means "remove this field"; send only what is set.
    map.retain(|_, value| !value.is_null());
    // RFC 7591 §2: `jwks` and `jwks_uri` are mutually exclusive; the key is sent by value.
    map.remove("jwks_uri");
    map.insert("client_id".into(), Value::String(client_id.to_owned()));
    map.insert("jwks".into(), jwks.clone());
}

fn wipe(value: &mut Value) {
    if let Value::String(text) = value {
        text.zeroize();
    }
}

/// Checks the RFC 7592 §2.2 answer and returns the registration to store.
///
/// 200 with a client information response (RFC 7592 §3) for this client, with the same auth
/// method, whose `jwks` lists `new_kid` and no longer lists `old_kid`: only then has the server
/// switched to the new key, and the old one stops working. A response without a registration
/// access token keeps ours; with one, it replaces ours (oidc-provider rotates it on every
/// update, and the old one is dead from then on).
pub fn update_response(
    resp: CappedResponse,
    current: &ClientRegistration,
    new_kid: &str,
    old_kid: Option<&str>,
    expected_redirect_uri: &str,
    now_unix: i64,
) -> Result<ClientRegistration, RegistrationError> {
    let CappedResponse {
        status, mut body, ..
    } = resp;
    match status {
        200 => {}
        // RFC 7592 §2.2: the token is not (or no longer) valid; nothing was changed.
        401 => {
            body.zeroize();
            return Err(RegistrationError::UpdateUnauthorized);
        }
        other => {
            let error = management_error(other, &body);
            body.zeroize();
            return Err(error);
        }
    }
    let text = body_text(body)?;
    let mut document = WipeOnDrop(
        serde_json::from_str::<Value>(text.expose())
            .map_err(|_| RegistrationError::Parse("the client configuration is not JSON"))?,
    );
    let Value::Object(map) = &mut document.0 else {
        return Err(RegistrationError::Parse(
            "the client configuration is not a JSON object",
        ));
    };
    check_keys(map, new_kid, old_kid)?;
    keep_management_handle(map, current);
    let updated = parse_registration(
        Secret::new(document.0.to_string()),
        Some(expected_redirect_uri),
    )?;
    if updated.client_id != current.client_id {
        return Err(RegistrationError::ClientIdMismatch);
    }
    check_auth_method(current.token_endpoint_auth_method, &updated)?;
    if updated.secret_expired(now_unix) {
        return Err(RegistrationError::SecretAlreadyExpired);
    }
    Ok(updated)
}

/// The registered key set must hold the new key and not the old one (by `kid`, which is the
/// RFC 7638 thumbprint on both sides).
fn check_keys(
    map: &Map<String, Value>,
    new_kid: &str,
    old_kid: Option<&str>,
) -> Result<(), RegistrationError> {
    let kids: Vec<&str> = map
        .get("jwks")
        .and_then(|jwks| jwks.get("keys"))
        .and_then(Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter_map(|key| key.get("kid").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    if !kids.contains(&new_kid) {
        return Err(RegistrationError::KeyNotRegistered);
    }
    if old_kid.is_some_and(|old| old != new_kid && kids.contains(&old)) {
        return Err(RegistrationError::OldKeyStillRegistered);
    }
    Ok(())
}
