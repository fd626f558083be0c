//! Dynamic Client Registration with an initial access token (RFC 7591), and reading and deleting
//! the registration afterwards (RFC 7592).
//!
//! The flow follows Curity's "Mobile DCR with AppAuth" tutorial: the registration login gives an
//! access token with the `dcr` scope, which is sent as `Authorization: Bearer` (RFC 7591 §3,
//! RFC 6750 §2.1) with either the full client metadata or the templatized `{"software_id": …}`
//! body. The response gives this install its own `client_id` and `client_secret`.
//!
//! As everywhere in the engine, each exchange is a pure `prepare_*` that builds an
//! [`OutgoingRequest`] and a pure `*_response` that checks the [`CappedResponse`]; the session
//! sends the request in between. The parsers never echo a response body: a registration response
//! carries the client secret and the registration access token.

use url::Url;

use crate::config::TokenEndpointAuthMethod;
use crate::error::OAuthError;
pub use crate::error::RegistrationError;
use crate::platform::http::{CappedResponse, Method, OutgoingRequest};
use crate::Secret;

mod body;
mod cleanup;
mod management;
mod parse;
#[cfg(test)]
mod tests;
mod update;

pub use body::RegistrationBody;
pub use cleanup::{prepare_cleanup, ManagementHandle, RefusedRegistration};
pub(crate) use management::management_request;
pub use management::{delete_response, prepare_delete, prepare_read, read_response, ClientStatus};
pub(crate) use parse::{parse_registration, WipeOnDrop};
pub use update::{prepare_update, update_response};

const APPLICATION_JSON: &str = "application/json";

/// When the client secret stops working (RFC 7591 §3.2.1 `client_secret_expires_at`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretExpiry {
    /// `0`: the secret does not expire. (openidconnect 4 turns this into 1970; we do not.)
    Never,
    /// Seconds since the Unix epoch.
    At(i64),
}

impl SecretExpiry {
    /// The RFC 7591 wire value: `0` for never.
    pub fn as_unix(self) -> i64 {
        match self {
            Self::Never => 0,
            Self::At(at) => at,
        }
    }
}

/// This install's client, as registered (RFC 7591 §3.2.1, RFC 7592 §3).
///
/// `Debug` is safe: every secret field is a [`Secret`]. Not `Serialize`: the keychain stores
/// [`Self::response_json`], and the typed fields are derived from it again on load.
#[derive(Debug, Clone)]
pub struct ClientRegistration {
    pub client_id: String,
    pub client_secret: Option<Secret>,
    pub client_secret_expires_at: SecretExpiry,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    pub registration_access_token: Option<Secret>,
    pub registration_client_uri: Option<Url>,
    pub client_id_issued_at: Option<i64>,
    /// The whole registration response (a JSON object), kept as the tutorial keeps it.
    pub response_json: Secret,
}

impl ClientRegistration {
    /// R6: the secret must be replaced (by registering again) before it is used.
    pub fn secret_expired(&self, now_unix: i64) -> bool {
        match self.client_secret_expires_at {
            SecretExpiry::Never => false,
            SecretExpiry::At(at) => now_unix >= at,
        }
    }
}

/// The RFC 7591 §3.1 request: POST the JSON body with the DCR token as a Bearer token.
pub fn prepare_registration(
    endpoint: &Url,
    dcr_token: &Secret,
    body: &RegistrationBody,
) -> OutgoingRequest {
    OutgoingRequest {
        method: Method::Post,
        url: endpoint.clone(),
        authorization: Some(bearer(dcr_token)),
        content_type: Some(APPLICATION_JSON),
        body: Some(Secret::new(body.to_json())),
        dpop: None,
    }
}

/// Checks the RFC 7591 §3.2 response against the request (`body`) and returns the registration
/// to store.
///
/// A refused 200/201 comes back with the handle to delete the client the server created: it is
/// read first, leniently, so even a body that fails every other check can be cleaned up (the
/// session sends the delete; this function stays pure).
pub fn registration_response(
    resp: CappedResponse,
    body: &RegistrationBody,
    expected_redirect_uri: &str,
    now_unix: i64,
) -> Result<ClientRegistration, RefusedRegistration> {
    match resp.status {
        // RFC 7591 §3.2.1 says 201; 200 is common enough to accept (R3).
        200 | 201 => {}
        400 => {
            return Err(RefusedRegistration::nothing_created(
                oauth_error(&resp.body).map_or(RegistrationError::UnexpectedStatus(400), rejected),
            ))
        }
        401 | 403 => {
            return Err(RefusedRegistration::nothing_created(token_refused(
                resp.status,
                &resp.body,
            )))
        }
        other => {
            return Err(RefusedRegistration::nothing_created(
                RegistrationError::UnexpectedStatus(other),
            ))
        }
    }
    let cleanup = cleanup::management_handle(&resp.body);
    check_created(resp.body, body, expected_redirect_uri, now_unix).map_err(|error| {
        RefusedRegistration {
            error,
            created: true,
            cleanup,
        }
    })
}

fn check_created(
    response: Vec<u8>,
    body: &RegistrationBody,
    expected_redirect_uri: &str,
    now_unix: i64,
) -> Result<ClientRegistration, RegistrationError> {
    let json = parse::body_text(response)?;
    let registration = parse_registration(json, Some(expected_redirect_uri))?;
    // R4: the redirect URIs decide where the server sends this client's authorization codes.
    parse::check_registered_redirects(
        &registration.response_json,
        expected_redirect_uri,
        body.accepted_redirect_uris(),
    )?;
    // Full DCR names one method; the server must not silently pick another (templatized DCR
    // takes the template's, which parse_registration already limited to the supported ones,
    // unless it carries a device key, which names private_key_jwt).
    if let Some(requested) = body.requested_auth_method() {
        check_auth_method(requested, &registration)?;
    }
    if registration.token_endpoint_auth_method == TokenEndpointAuthMethod::PrivateKeyJwt {
        // K3: a template (or a server) choosing private_key_jwt for a device that registered
        // no key leaves a client nobody can authenticate as.
        let jwk = body
            .device_jwk()
            .ok_or(RegistrationError::UnsupportedAuthMethod(
                TokenEndpointAuthMethod::PrivateKeyJwt.as_str().to_owned(),
            ))?;
        // RFC 7591 §3.2.1 echoes the registered metadata; when `jwks` is there, ours must be
        // in it (a server that swapped or dropped the key has a client we cannot use).
        parse::check_echoed_jwks(&registration.response_json, jwk)?;
    }
    // R6: re-registering would only get another dead secret, so this is an error, not a retry.
    if registration.secret_expired(now_unix) {
        return Err(RegistrationError::SecretAlreadyExpired);
    }
    Ok(registration)
}

fn check_auth_method(
    expected: TokenEndpointAuthMethod,
    registration: &ClientRegistration,
) -> Result<(), RegistrationError> {
    if registration.token_endpoint_auth_method == expected {
        return Ok(());
    }
    Err(RegistrationError::AuthMethodMismatch {
        requested: expected.as_str(),
        got: registration.token_endpoint_auth_method.as_str(),
    })
}

fn bearer(token: &Secret) -> Secret {
    // Built at its final size so no partial copy of the token is left in a freed buffer.
    let mut header = String::with_capacity(7 + token.expose().len());
    header.push_str("Bearer ");
    header.push_str(token.expose());
    Secret::new(header)
}

fn oauth_error(body: &[u8]) -> Option<OAuthError> {
    OAuthError::from_json(body).filter(|error| !error.error.is_empty())
}

fn rejected(error: OAuthError) -> RegistrationError {
    RegistrationError::Rejected {
        error: error.error,
        description: error.description,
    }
}

/// R2 (RFC 6750 §3.1): a 401 means the token itself was refused, whatever the body says; a 403
/// is a token problem only for `insufficient_scope` / `invalid_token`.
fn token_refused(status: u16, body: &[u8]) -> RegistrationError {
    match (status, oauth_error(body)) {
        (401, _) => RegistrationError::InvalidToken,
        (_, Some(error)) if error.is("insufficient_scope") || error.is("invalid_token") => {
            RegistrationError::InvalidToken
        }
        (_, Some(error)) => rejected(error),
        (status, None) => RegistrationError::UnexpectedStatus(status),
    }
}
