//! RFC 7592 client management: read the registration to check it still exists, and delete it
//! ("forget this device"). Both use the registration access token as a Bearer token (RFC 7592 §3).

use zeroize::Zeroize;

use super::{bearer, oauth_error, rejected, ClientRegistration, RegistrationError};
use crate::http::{CappedResponse, Method, OutgoingRequest};

/// What an RFC 7592 read says about the registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientStatus {
    Active,
    /// The server no longer knows the client, or no longer accepts its registration access
    /// token (RFC 7592 §2.1 answers 401 for both).
    Gone,
}

/// The RFC 7592 §2.1 read: GET the client configuration endpoint with the registration access
/// token. `None` when the server gave no management endpoint or token.
pub fn prepare_read(registration: &ClientRegistration) -> Option<OutgoingRequest> {
    management_request(registration, Method::Get)
}

/// RFC 7592 §2.1: 200 with a JSON object is active; 401 (and 404) mean the client is gone.
pub fn read_response(resp: CappedResponse) -> Result<ClientStatus, RegistrationError> {
    let CappedResponse {
        status, mut body, ..
    } = resp;
    let result = match status {
        200 => {
            // Only the shape is checked: values (the secret again) are never materialised.
            let parsed = serde_json::from_slice::<
                std::collections::HashMap<String, serde::de::IgnoredAny>,
            >(&body);
            match parsed {
                Ok(_) => Ok(ClientStatus::Active),
                Err(_) => Err(RegistrationError::Parse(
                    "the client configuration is not a JSON object",
                )),
            }
        }
        401 | 404 => Ok(ClientStatus::Gone),
        other => Err(management_error(other, &body)),
    };
    body.zeroize();
    result
}

/// The RFC 7592 §2.3 delete ("forget this device"). `None` without a management endpoint.
pub fn prepare_delete(registration: &ClientRegistration) -> Option<OutgoingRequest> {
    management_request(registration, Method::Delete)
}

/// RFC 7592 §2.3: 204 (or 200) is deleted; 401 and 404 mean it was already gone, which is fine.
pub fn delete_response(resp: CappedResponse) -> Result<(), RegistrationError> {
    match resp.status {
        200 | 204 | 401 | 404 => Ok(()),
        other => Err(management_error(other, &resp.body)),
    }
}

fn management_request(
    registration: &ClientRegistration,
    method: Method,
) -> Option<OutgoingRequest> {
    let url = registration.registration_client_uri.clone()?;
    let token = registration.registration_access_token.as_ref()?;
    Some(OutgoingRequest {
        method,
        url,
        authorization: Some(bearer(token)),
        content_type: None,
        body: None,
    })
}

fn management_error(status: u16, body: &[u8]) -> RegistrationError {
    match oauth_error(body) {
        Some(error) if (400..500).contains(&status) => rejected(error),
        _ => RegistrationError::UnexpectedStatus(status),
    }
}
