//! Turning a registration response (from the server or from the keychain) into a checked
//! [`ClientRegistration`], without leaving secrets behind in freed memory or in error text.

use serde_json::Value;
use url::Url;
use zeroize::Zeroize;

use super::{ClientRegistration, RegistrationError, SecretExpiry};
use crate::config::{check_secure_url, TokenEndpointAuthMethod};
use crate::error::sanitize;
use crate::Secret;

/// Longest `client_id` accepted. It is shown to the user and used as a keychain attribute.
const MAX_CLIENT_ID_CHARS: usize = 256;

/// Builds a [`ClientRegistration`] from a registration response body: shared by
/// [`registration_response`](super::registration_response) and the keychain (which passes the stored redirect URI).
/// Does not judge expiry: a stored registration with an expired secret is still a registration.
pub(crate) fn parse_registration(
    json: Secret,
    expected_redirect_uri: Option<&str>,
) -> Result<ClientRegistration, RegistrationError> {
    let document = WipeOnDrop(
        serde_json::from_str::<Value>(json.expose())
            .map_err(|_| RegistrationError::Parse("the body is not JSON"))?,
    );
    let Value::Object(map) = &document.0 else {
        return Err(RegistrationError::Parse("the body is not a JSON object"));
    };
    let field = |name: &str| map.get(name).filter(|v| !v.is_null());

    let client_id = match field("client_id") {
        None => return Err(RegistrationError::MissingField("client_id")),
        Some(Value::String(id)) if is_vschar(id) && id.chars().count() <= MAX_CLIENT_ID_CHARS => {
            id.clone()
        }
        Some(_) => {
            return Err(RegistrationError::Parse(
                "`client_id` is not a valid client identifier",
            ))
        }
    };
    // RFC 7591 §2: the default is client_secret_basic.
    let token_endpoint_auth_method = match field("token_endpoint_auth_method") {
        None => TokenEndpointAuthMethod::default(),
        Some(Value::String(method)) => TokenEndpointAuthMethod::parse(method)
            .ok_or_else(|| RegistrationError::UnsupportedAuthMethod(sanitize(method, 40)))?,
        Some(_) => {
            return Err(RegistrationError::Parse(
                "`token_endpoint_auth_method` is not a string",
            ))
        }
    };
    // K3: private_key_jwt has no shared secret (RFC 7523 §2.2); one issued anyway is refused,
    // never kept on the device. The secret methods require it (RFC 6749 §2.3.1).
    let key_based = token_endpoint_auth_method == TokenEndpointAuthMethod::PrivateKeyJwt;
    let client_secret = match field("client_secret") {
        Some(_) if key_based => return Err(RegistrationError::SecretIssued),
        None if key_based => None,
        None => return Err(RegistrationError::MissingField("client_secret")),
        Some(value) => Some(secret_value(value).ok_or(RegistrationError::Parse(
            "`client_secret` is not a valid secret",
        ))?),
    };
    // R5 (RFC 7591 §3.2.1): REQUIRED when a secret is issued; 0 means it never expires (R6).
    // Without a secret there is nothing to expire.
    let client_secret_expires_at = match field("client_secret_expires_at") {
        _ if key_based => SecretExpiry::Never,
        None => return Err(RegistrationError::MissingField("client_secret_expires_at")),
        Some(value) => match value.as_i64() {
            Some(0) => SecretExpiry::Never,
            Some(at) if at > 0 => SecretExpiry::At(at),
            _ => {
                return Err(RegistrationError::Parse(
                    "`client_secret_expires_at` is not a non-negative integer",
                ))
            }
        },
    };
    // RFC 7591 §3.2.1 returns all registered metadata; when the list is there, ours must be in
    // it exactly, or sign-in would fail later with a less helpful error.
    if let (Some(expected), Some(uris)) = (expected_redirect_uri, field("redirect_uris")) {
        let uris = uris
            .as_array()
            .ok_or(RegistrationError::Parse("`redirect_uris` is not an array"))?;
        if !uris.iter().any(|uri| uri.as_str() == Some(expected)) {
            return Err(RegistrationError::RedirectUriMissing);
        }
    }
    // RFC 7592 §3: the management token and endpoint come together; either may be absent.
    let registration_access_token = match field("registration_access_token") {
        None => None,
        Some(value) => Some(secret_value(value).ok_or(RegistrationError::Parse(
            "`registration_access_token` is not a valid token",
        ))?),
    };
    let registration_client_uri = match field("registration_client_uri") {
        None => None,
        Some(Value::String(text)) => {
            let url = Url::parse(text)
                .map_err(|_| RegistrationError::Parse("`registration_client_uri` is not a URL"))?;
            // N1 (RFC 9700 §2.6): the registration access token is only ever sent over https
            // (or plain http to loopback).
            check_secure_url(&url).map_err(|_| {
                RegistrationError::Parse("`registration_client_uri` is not an https URL")
            })?;
            Some(url)
        }
        Some(_) => {
            return Err(RegistrationError::Parse(
                "`registration_client_uri` is not a string",
            ))
        }
    };
    let client_id_issued_at = match field("client_id_issued_at") {
        None => None,
        Some(value) => Some(value.as_i64().ok_or(RegistrationError::Parse(
            "`client_id_issued_at` is not an integer",
        ))?),
    };
    Ok(ClientRegistration {
        client_id,
        client_secret,
        client_secret_expires_at,
        token_endpoint_auth_method,
        registration_access_token,
        registration_client_uri,
        client_id_issued_at,
        response_json: json,
    })
}

/// R4: the redirect URIs a new registration lists (RFC 7591 §3.2.1 returns all registered
/// metadata, so a missing list is refused rather than guessed at). Ours must be there, and
/// every other one must be in `also_ours`: a redirect URI this app did not ask for is where the
/// server would send authorization codes for this device's client, so adding one changes who
/// can sign in with it.
pub(super) fn check_registered_redirects(
    response: &Secret,
    ours: &str,
    also_ours: &[String],
) -> Result<(), RegistrationError> {
    let document = document(response)?;
    let uris = document
        .0
        .get("redirect_uris")
        .filter(|v| !v.is_null())
        .ok_or(RegistrationError::MissingField("redirect_uris"))?
        .as_array()
        .ok_or(RegistrationError::Parse("`redirect_uris` is not an array"))?;
    let mut listed_ours = false;
    for uri in uris {
        let uri = uri.as_str().ok_or(RegistrationError::Parse(
            "`redirect_uris` holds something other than a URI",
        ))?;
        listed_ours |= uri == ours;
        if uri != ours && !also_ours.iter().any(|allowed| allowed == uri) {
            return Err(RegistrationError::RedirectUriAdded);
        }
    }
    if listed_ours {
        Ok(())
    } else {
        Err(RegistrationError::RedirectUriMissing)
    }
}

/// K3: when the registration response echoes `jwks` (RFC 7591 §3.2.1), the device key must be
/// one of its keys: same `kid` and the same public point (a key swapped under our `kid` would
/// make every assertion fail). A response without `jwks` is accepted: echoing is not required.
pub(super) fn check_echoed_jwks(response: &Secret, ours: &Value) -> Result<(), RegistrationError> {
    let document = document(response)?;
    let Some(jwks) = document.0.get("jwks").filter(|v| !v.is_null()) else {
        return Ok(());
    };
    let keys = jwks["keys"]
        .as_array()
        .ok_or(RegistrationError::Parse("`jwks` is not a JSON Web Key Set"))?;
    let same = |key: &Value| {
        ["kid", "kty", "crv", "x", "y"]
            .iter()
            .all(|m| key[m] == ours[m])
    };
    if keys.iter().any(same) {
        Ok(())
    } else {
        Err(RegistrationError::DeviceKeyNotRegistered)
    }
}

/// A response kept as text ([`ClientRegistration::response_json`]), parsed again for one more
/// check.
fn document(response: &Secret) -> Result<WipeOnDrop, RegistrationError> {
    serde_json::from_str::<Value>(response.expose())
        .map(WipeOnDrop)
        .map_err(|_| RegistrationError::Parse("the body is not JSON"))
}

/// A parsed JSON document whose strings (secrets among them) are wiped when it is dropped.
pub(crate) struct WipeOnDrop(pub(crate) Value);

impl Drop for WipeOnDrop {
    fn drop(&mut self) {
        wipe_strings(&mut self.0);
    }
}

fn wipe_strings(value: &mut Value) {
    match value {
        Value::String(text) => text.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(wipe_strings),
        Value::Object(map) => map.values_mut().for_each(wipe_strings),
        _ => {}
    }
}

/// Moves a successful body into a [`Secret`] without copying it; a non-UTF-8 body is wiped.
pub(super) fn body_text(body: Vec<u8>) -> Result<Secret, RegistrationError> {
    match String::from_utf8(body) {
        Ok(text) => Ok(Secret::new(text)),
        Err(error) => {
            error.into_bytes().zeroize();
            Err(RegistrationError::Parse("the body is not UTF-8 text"))
        }
    }
}

/// RFC 6749 §2.3.1 / §A.2: secrets and tokens are VSCHAR, which also keeps them header-safe.
pub(super) fn secret_value(value: &Value) -> Option<Secret> {
    value
        .as_str()
        .filter(|text| is_vschar(text))
        .map(Secret::new)
}

/// Non-empty, printable ASCII (RFC 6749 §A: VSCHAR = %x20-7E).
fn is_vschar(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| (0x20..=0x7e).contains(&b))
}
