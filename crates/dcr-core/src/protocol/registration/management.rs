//! RFC 7592 client management: read the registration to check it still exists (and pick up a
//! rotated secret or token), and delete it ("forget this device"). Both use the registration
//! access token as a Bearer token (RFC 7592 §3).

use serde_json::Value;
use url::Url;
use zeroize::Zeroize;

use super::parse::{body_text, WipeOnDrop};
use super::{
    bearer, check_auth_method, oauth_error, parse_registration, rejected, ClientRegistration,
    RegistrationError,
};
use crate::platform::http::{CappedResponse, Method, OutgoingRequest};
use crate::Secret;

/// What an RFC 7592 read says about the registration.
#[derive(Debug, Clone)]
pub enum ClientStatus {
    /// The client exists and nothing we use changed.
    Active,
    /// RFC 7592 §3: the server issued a new `client_secret` or `registration_access_token`; the
    /// client must use them from now on. This is the whole updated registration, to be stored
    /// in one save.
    Updated(Box<ClientRegistration>),
    /// The server no longer knows the client, or no longer accepts its registration access
    /// token (RFC 7592 §2.1 answers 401 for both).
    Gone,
}

/// The RFC 7592 §2.1 read: GET the client configuration endpoint with the registration access
/// token. `None` when the server gave no management endpoint or token.
pub fn prepare_read(registration: &ClientRegistration) -> Option<OutgoingRequest> {
    let (uri, token) = handle(registration)?;
    Some(management_request(uri, token, Method::Get))
}

/// RFC 7592 §2.1: 200 with a client information response is active; 401 (and 404) mean the
/// client is gone.
///
/// The 200 body passes the same checks as a registration response (RFC 7592 §3 reuses RFC 7591
/// §3.2.1), must name our `client_id` and keep our auth method: anything else is an error, never
/// an update. A read that omits the management endpoint or token keeps ours.
pub fn read_response(
    resp: CappedResponse,
    current: &ClientRegistration,
    expected_redirect_uri: &str,
    now_unix: i64,
) -> Result<ClientStatus, RegistrationError> {
    let CappedResponse {
        status, mut body, ..
    } = resp;
    match status {
        200 => read_body(body, current, expected_redirect_uri, now_unix),
        401 | 404 => {
            body.zeroize();
            Ok(ClientStatus::Gone)
        }
        other => {
            let error = management_error(other, &body);
            body.zeroize();
            Err(error)
        }
    }
}

fn read_body(
    body: Vec<u8>,
    current: &ClientRegistration,
    expected_redirect_uri: &str,
    now_unix: i64,
) -> Result<ClientStatus, RegistrationError> {
    let text = body_text(body)?;
    let mut document =
        WipeOnDrop(serde_json::from_str::<Value>(text.expose()).map_err(|_| {
            RegistrationError::Parse("the client configuration is not a JSON object")
        })?);
    let Value::Object(map) = &mut document.0 else {
        return Err(RegistrationError::Parse(
            "the client configuration is not a JSON object",
        ));
    };
    keep_management_handle(map, current);
    let merged = Secret::new(document.0.to_string());
    let read = parse_registration(merged, Some(expected_redirect_uri))?;
    if read.client_id != current.client_id {
        return Err(RegistrationError::ClientIdMismatch);
    }
    check_auth_method(current.token_endpoint_auth_method, &read)?;
    if read.secret_expired(now_unix) {
        return Err(RegistrationError::SecretAlreadyExpired);
    }
    let changed = read.client_secret != current.client_secret
        || read.registration_access_token != current.registration_access_token;
    Ok(if changed {
        ClientStatus::Updated(Box::new(read))
    } else {
        ClientStatus::Active
    })
}

/// RFC 7592 §3 returns the management token and endpoint with every client information response,
/// but a response that leaves them out means "unchanged": ours are kept (written into the
/// response, which is what the keychain stores).
pub(super) fn keep_management_handle(
    map: &mut serde_json::Map<String, Value>,
    current: &ClientRegistration,
) {
    let absent =
        |map: &serde_json::Map<String, Value>, name: &str| map.get(name).is_none_or(Value::is_null);
    if absent(map, "registration_access_token") {
        if let Some(token) = &current.registration_access_token {
            map.insert(
                "registration_access_token".into(),
                Value::String(token.expose().to_owned()),
            );
        }
    }
    if absent(map, "registration_client_uri") {
        if let Some(uri) = &current.registration_client_uri {
            map.insert(
                "registration_client_uri".into(),
                Value::String(uri.as_str().to_owned()),
            );
        }
    }
}

/// The RFC 7592 §2.3 delete ("forget this device"). `None` without a management endpoint.
pub fn prepare_delete(registration: &ClientRegistration) -> Option<OutgoingRequest> {
    let (uri, token) = handle(registration)?;
    Some(management_request(uri, token, Method::Delete))
}

/// RFC 7592 §2.3: 204 (or 200) is deleted.
///
/// 401 is a failure. §2.3 does answer 401 for a client that does not exist, but the same 401
/// also means "this registration access token is not accepted" (expired, rotated, or a proxy in
/// the way), and then the client may well live on. Only a confirmed delete may be reported as
/// one; the caller wipes locally either way and tells the user the server part failed.
///
/// 404 counts as already deleted: it is not an authentication failure but the server saying the
/// resource at this client's own configuration endpoint does not exist, which is the state a
/// delete asks for (RFC 9110 §15.5.5; some servers answer 404 for a deleted client, although
/// §2.3 asks for 401).
pub fn delete_response(resp: CappedResponse) -> Result<(), RegistrationError> {
    match resp.status {
        200 | 204 | 404 => Ok(()),
        401 => Err(RegistrationError::DeleteUnauthorized),
        other => Err(management_error(other, &resp.body)),
    }
}

pub(super) fn handle(registration: &ClientRegistration) -> Option<(&Url, &Secret)> {
    Some((
        registration.registration_client_uri.as_ref()?,
        registration.registration_access_token.as_ref()?,
    ))
}

pub(crate) fn management_request(uri: &Url, token: &Secret, method: Method) -> OutgoingRequest {
    OutgoingRequest {
        method,
        url: uri.clone(),
        authorization: Some(bearer(token)),
        content_type: None,
        body: None,
        dpop: None,
    }
}

pub(super) fn management_error(status: u16, body: &[u8]) -> RegistrationError {
    match oauth_error(body) {
        Some(error) if (400..500).contains(&status) => rejected(error),
        _ => RegistrationError::UnexpectedStatus(status),
    }
}
