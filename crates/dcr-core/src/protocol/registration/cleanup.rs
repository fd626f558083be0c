//! A registration response we refuse still created a working client on the server (RFC 7591
//! §3.2.1: the client exists once the server answers 201). Every retry would create another.
//! So the management handle (`registration_client_uri` + `registration_access_token`) is read
//! first and leniently, before any other check, and handed back with the refusal; the session
//! then deletes the client (RFC 7592 §2.3) and says whether that worked.

use serde_json::Value;
use url::Url;

use super::parse::{secret_value, WipeOnDrop};
use super::{management_request, RegistrationError};
use crate::platform::http::{Method, OutgoingRequest};
use crate::text::check_secure_url;
use crate::Secret;

/// What is needed to delete a client: its configuration endpoint and registration access token
/// (RFC 7592 §3). `Debug` shows no token.
#[derive(Debug, Clone)]
pub struct ManagementHandle {
    pub(crate) uri: Url,
    pub(crate) token: Secret,
}

/// A registration response we refused. When it was a 200/201 (`created`), the server made a
/// client anyway, and `cleanup` is the handle to delete it, if the response carried a usable one.
#[derive(Debug)]
pub struct RefusedRegistration {
    pub error: RegistrationError,
    pub created: bool,
    pub cleanup: Option<Box<ManagementHandle>>,
}

impl RefusedRegistration {
    /// A refusal by status (400, 401, 5xx…): the server created nothing.
    pub(super) fn nothing_created(error: RegistrationError) -> Self {
        Self {
            error,
            created: false,
            cleanup: None,
        }
    }

    /// The error to report once the cleanup was tried (`deleted`: the server confirmed the
    /// delete). A refused 200/201 always says what became of the client it created.
    pub fn into_error(self, deleted: bool) -> RegistrationError {
        if !self.created {
            return self.error;
        }
        RegistrationError::Refused {
            reason: Box::new(self.error),
            deleted,
        }
    }
}

/// The RFC 7592 §2.3 delete of a refused registration's client.
pub fn prepare_cleanup(handle: &ManagementHandle) -> OutgoingRequest {
    management_request(&handle.uri, &handle.token, Method::Delete)
}

/// Reads only the management handle from a registration response body, ignoring everything
/// else. `None` when either part is missing or unusable: a token that is not VSCHAR cannot go in
/// a header, and a URI that is not https (or loopback http) must not receive the token (N1,
/// RFC 9700 §2.6) even to delete the client.
pub(super) fn management_handle(body: &[u8]) -> Option<Box<ManagementHandle>> {
    let document = WipeOnDrop(serde_json::from_slice::<Value>(body).ok()?);
    let map = document.0.as_object()?;
    let uri = Url::parse(map.get("registration_client_uri")?.as_str()?).ok()?;
    check_secure_url(&uri).ok()?;
    let token = secret_value(map.get("registration_access_token")?)?;
    Some(Box::new(ManagementHandle { uri, token }))
}
