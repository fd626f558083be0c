//! [`RegistrationError`]: RFC 7591 registration and RFC 7592 read, update and delete.

use super::ErrorKind;
use crate::platform::http::SendError;

/// Why a registration, read or delete failed. Every message is safe to display.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrationError {
    /// The session fills this in when the request could not be sent.
    #[error(transparent)]
    Transport(SendError),
    /// R2 (RFC 6750 §3.1): the DCR token is expired, revoked or lacks the `dcr` scope.
    #[error("the identity server did not accept the registration sign-in token (expired, revoked or missing the `dcr` scope); sign in again to register this device")]
    InvalidToken,
    /// R1 (RFC 7591 §3.2.2): the server refused the metadata. Both fields are sanitized.
    #[error("the identity server refused to register this device: {error}{}", .description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Rejected {
        error: String,
        description: Option<String>,
    },
    /// R3: anything but 201/200 (and the statuses above), redirects included.
    #[error("the registration endpoint answered with unexpected HTTP status {0}")]
    UnexpectedStatus(u16),
    #[error("the registration response is not usable: {0}")]
    Parse(&'static str),
    #[error("the registration response has no `{0}`")]
    MissingField(&'static str),
    #[error("the registration response does not list this app's redirect URI")]
    RedirectUriMissing,
    /// R4: the server registered a redirect URI this app did not ask for, where it would send
    /// sign-ins for this device's client. The URI itself is the server's text and not shown.
    #[error(
        "the identity server registered this device with a redirect URI this app did not ask for"
    )]
    RedirectUriAdded,
    /// R6: a fresh secret that is already past `client_secret_expires_at`.
    #[error("the identity server issued a client secret that has already expired; check the server's clock and its client secret lifetime")]
    SecretAlreadyExpired,
    /// The server chose an authentication method this app cannot use (private_key_jwt counts
    /// only when this app registered a device key).
    #[error("the identity server registered this device for token endpoint authentication \"{0}\", which this app cannot use here (it supports client_secret_basic, client_secret_post, and private_key_jwt with a device key it registered)")]
    UnsupportedAuthMethod(String),
    /// K3: a `private_key_jwt` registration came back with a client secret. A shared secret on
    /// the device is exactly what this mode avoids, so it is refused rather than stored.
    #[error("the identity server issued a client secret although this device registered its own key (private_key_jwt); a shared secret is not accepted in this mode")]
    SecretIssued,
    /// K3: the registration's `jwks` does not hold this device's key, so no assertion it signs
    /// could be checked.
    #[error("the identity server's registration does not list this device's public key (jwks)")]
    DeviceKeyNotRegistered,
    /// RFC 7591 §3.2.1: the server may replace requested metadata, but a method we did not ask
    /// for (or, on an RFC 7592 read, a method other than the one registered) is not used.
    #[error("the identity server registered this device for token endpoint authentication \"{got}\" instead of the requested \"{requested}\"")]
    AuthMethodMismatch {
        requested: &'static str,
        got: &'static str,
    },
    /// RFC 7592 §2.3: a delete answered 401 proves nothing was deleted (see `delete_response`).
    #[error("the identity server did not accept this device's registration access token, so its client there may still exist")]
    DeleteUnauthorized,
    /// RFC 7592 §2.2: the update was answered 401, so nothing was changed.
    #[error("the identity server did not accept this device's registration access token; nothing was changed")]
    UpdateUnauthorized,
    /// The registration has no RFC 7592 management endpoint or token, so it cannot be updated.
    #[error("the identity server gave this device no way to update its registration (RFC 7592), so its key cannot be rotated")]
    NotManageable,
    /// Key rotation: the server answered the update without the new key in `jwks`.
    #[error("the identity server's answer to the key rotation does not list the new device key")]
    KeyNotRegistered,
    /// Key rotation: the server kept the old key next to the new one.
    #[error("the identity server still lists the old device key after the key rotation")]
    OldKeyStillRegistered,
    /// RFC 7592 §2.1: a read must describe this client, not another one.
    #[error("the identity server's client configuration describes a different client than this device's")]
    ClientIdMismatch,
    /// A 200/201 registration response failed a check, but the server had already created the
    /// client: it was deleted again (RFC 7592 §2.3), or that failed and it may still exist.
    #[error("{reason}; {}", cleanup_outcome(.deleted))]
    Refused {
        reason: Box<RegistrationError>,
        deleted: bool,
    },
}

fn cleanup_outcome(deleted: impl std::borrow::Borrow<bool>) -> &'static str {
    if *deleted.borrow() {
        "the client it created was deleted again"
    } else {
        "the client it created could not be deleted on the server"
    }
}

impl RegistrationError {
    /// The stable kind ([`crate::Error::kind`] refines `Transport`).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Transport(_) => ErrorKind::Unreachable,
            Self::InvalidToken => ErrorKind::DcrTokenRejected,
            Self::Rejected { .. } => ErrorKind::RegistrationRejected,
            Self::Refused { reason, .. } => reason.kind(),
            Self::UpdateUnauthorized => ErrorKind::RegistrationRejected,
            Self::NotManageable => ErrorKind::RotationUnavailable,
            _ => ErrorKind::InvalidResponse,
        }
    }
}
