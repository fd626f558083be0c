//! Error types: one `#[non_exhaustive]` enum per concern, and the top-level [`Error`] that the
//! shells show as `{kind, message}`.
//!
//! Variants are named for where things failed (transport, parse, status, an OAuth error body,
//! a failed check), as in oauth2-rs. Decisions are made on the structured value or on
//! [`Error::kind`], never on message text. No variant holds a secret: server text is sanitized
//! on the way in ([`sanitize`]) and request URLs (which can carry a code) are never kept.
//!
//! # Where error enums live
//!
//! Every concern's error enum is defined here, under `error/`, next to the [`Error`] that wraps
//! them all: `concerns.rs` for the protocol steps, the config and the user agents,
//! `registration.rs` for RFC 7591/7592, `store.rs` for the keychain and the device key. The
//! module that reports an error re-exports its enum (`registration::RegistrationError`), so
//! callers may name either path. `error/` imports nothing from the modules that use it, only
//! the leaf [`crate::text`] and the transport's [`SendError`] (from [`crate::platform::http`], which
//! imports nothing from the crate): the wrapper below everything can then never close an import
//! cycle (`tests/module_cycles.rs`).

use serde::ser::SerializeStruct;

use crate::platform::http::{ReadError, SendError};
pub use crate::text::{is_invisible, sanitize};

mod concerns;
mod kind;
mod registration;
mod store;

pub use concerns::{
    CallbackError, ConfigError, DiscoveryError, IdTokenError, LogoutError, TokenError,
    UserAgentError, UserInfoError,
};
pub use kind::ErrorKind;
pub use registration::RegistrationError;
pub use store::{DeviceKeyError, StoreError};

/// Longest message (in characters) the engine hands to a UI.
pub const MAX_MESSAGE_CHARS: usize = 300;

/// An OAuth 2.0 error response (RFC 6749 §5.2, §4.1.2.1; RFC 7591 §3.2.2), kept structured.
///
/// Both fields are sanitized when parsed: `error` is limited to the RFC 6749 §A.7 character set
/// and 64 characters, `error_description` to [`MAX_MESSAGE_CHARS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub error: String,
    pub description: Option<String>,
}

impl OAuthError {
    pub fn new(error: &str, description: Option<&str>) -> Self {
        // RFC 6749 §A.7: error = 1*NQSCHAR (%x20-21 / %x23-5B / %x5D-7E).
        let error: String = error
            .chars()
            .filter(|c| matches!(*c, '\x20'..='\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e'))
            .take(64)
            .collect();
        let description = description
            .map(|d| sanitize(d, MAX_MESSAGE_CHARS))
            .filter(|d| !d.is_empty());
        Self { error, description }
    }

    /// Parses `{"error": …, "error_description": …}`; `None` when the body is not one.
    pub fn from_json(body: &[u8]) -> Option<Self> {
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        let error = value.get("error")?.as_str()?;
        let description = value.get("error_description").and_then(|d| d.as_str());
        Some(Self::new(error, description))
    }

    pub fn is(&self, code: &str) -> bool {
        self.error == code
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.description {
            Some(description) => write!(f, "{} ({})", self.error, description),
            None => f.write_str(&self.error),
        }
    }
}

/// Every failure the engine reports to a shell.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Discovery(#[from] DiscoveryError),
    #[error(transparent)]
    Callback(#[from] CallbackError),
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    IdToken(#[from] IdTokenError),
    #[error(transparent)]
    UserInfo(#[from] UserInfoError),
    #[error(transparent)]
    Logout(#[from] LogoutError),
    #[error(transparent)]
    Registration(#[from] RegistrationError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    UserAgent(#[from] UserAgentError),
    /// `invalid_client` at the token endpoint: the per-install client was revoked, deleted or
    /// expired (RFC 6749 §5.2). The registration has been wiped.
    #[error("the identity server no longer accepts this device's registration (it was revoked, deleted or has expired); register this device again")]
    ClientRevoked,
    /// The stored client secret is past `client_secret_expires_at` (RFC 7591 §3.2.1).
    #[error("this device's client secret has expired; register this device again")]
    SecretExpired,
    #[error("this device is not registered yet; register it first")]
    NotRegistered,
    #[error("you are not signed in")]
    NotSignedIn,
    /// A device key could not be generated (the system's random number generator failed) or read.
    #[error(transparent)]
    DeviceKey(#[from] DeviceKeyError),
    /// The failure of a refresh this call waited for and shared (single flight, see
    /// `Session::refresh`): its kind and its message, already sanitized.
    #[error("{message}")]
    Joined { kind: ErrorKind, message: String },
    /// The TPM refused this install's key: the registration it proved is useless and was
    /// deleted on the server (`server_deleted`, RFC 7592 §2.3) and here.
    #[error("This device's key is no longer available: the TPM that held it was cleared or replaced, or this keychain entry comes from another computer. {}", if *.server_deleted { "Its registration was deleted; register this device again." } else { "Its registration was removed from this computer, but the identity server could not be told, so its copy there may remain; register this device again." })]
    DeviceKeyLost { server_deleted: bool },
    /// Key rotation asked of a registration that authenticates with a client secret.
    #[error("this device proves itself with a client secret, not a device key; there is no key to rotate")]
    NoDeviceKey,
}

impl Error {
    /// The stable, typed kind: what the UI branches on and the CLI prints. Never changes for a
    /// given failure.
    pub fn kind(&self) -> ErrorKind {
        use ErrorKind as K;
        match self {
            Error::Config(_) => K::Config,
            Error::Discovery(e) => match e {
                DiscoveryError::Transport(t) => send_kind(t),
                _ => K::Discovery,
            },
            Error::Callback(e) => match e {
                CallbackError::Cancelled | CallbackError::AccessDenied { .. } => K::Cancelled,
                CallbackError::StateMismatch => K::StateMismatch,
                CallbackError::IssuerMismatch | CallbackError::IssuerMissing => K::IssuerMismatch,
                CallbackError::RedirectMismatch => K::RedirectMismatch,
                CallbackError::Server(_) => K::AuthorizationFailed,
                _ => K::InvalidCallback,
            },
            Error::Token(e) => match e {
                TokenError::Transport(t) => send_kind(t),
                TokenError::DeviceKey(_) => K::DeviceKeyUnavailable,
                TokenError::Server(o) if o.is("invalid_client") => K::InvalidClient,
                TokenError::Server(o) if o.is("invalid_grant") => K::InvalidGrant,
                TokenError::Server(o) if o.is("invalid_dpop_proof") => K::InvalidDpopProof,
                TokenError::Server(_) => K::ServerError,
                TokenError::UnexpectedStatus(status) if *status >= 500 => K::ServerError,
                // Retryable like a 5xx: the registration and the tokens are kept.
                TokenError::Unauthorized => K::ServerError,
                _ => K::InvalidResponse,
            },
            Error::IdToken(IdTokenError::KeysUnavailable(_)) => K::KeysUnavailable,
            Error::IdToken(IdTokenError::Transport(t)) => send_kind(t),
            Error::IdToken(_) => K::IdTokenInvalid,
            Error::UserInfo(UserInfoError::Transport(t)) => send_kind(t),
            Error::UserInfo(UserInfoError::InvalidDpopProof) => K::InvalidDpopProof,
            Error::UserInfo(_) => K::UserInfoInvalid,
            Error::Logout(_) => K::Logout,
            Error::Registration(RegistrationError::Transport(t)) => send_kind(t),
            Error::Registration(e) => e.kind(),
            Error::Store(e) => e.kind(),
            Error::UserAgent(UserAgentError::Cancelled) => K::Cancelled,
            Error::UserAgent(UserAgentError::Unreachable) => K::Unreachable,
            Error::UserAgent(_) => K::UserAgent,
            Error::ClientRevoked => K::InvalidClient,
            Error::SecretExpired => K::SecretExpired,
            Error::NotRegistered => K::NotRegistered,
            Error::NotSignedIn => K::NotSignedIn,
            Error::NoDeviceKey => K::RotationUnavailable,
            Error::DeviceKey(_) => K::DeviceKeyUnavailable,
            Error::DeviceKeyLost { .. } => K::DeviceKeyLost,
            Error::Joined { kind, .. } => *kind,
        }
    }

    /// Plain text safe to show: no control characters, at most [`MAX_MESSAGE_CHARS`], and no
    /// secrets (no variant holds one).
    pub fn message(&self) -> String {
        sanitize(&self.to_string(), MAX_MESSAGE_CHARS)
    }

    /// Whether the ID token could not be checked for want of the server's keys (retryable,
    /// `keysUnavailable`), as opposed to failing its checks (`idTokenInvalid`).
    pub fn is_keys_unavailable(&self) -> bool {
        matches!(self, Error::IdToken(IdTokenError::KeysUnavailable(_)))
    }

    /// Whether the user backed out (closed the window, `access_denied`): not an error screen.
    pub fn is_cancelled(&self) -> bool {
        self.kind() == ErrorKind::Cancelled
    }

    /// The TPM no longer loads the device key (whether or not the session has acted on it yet).
    pub fn is_device_key_lost(&self) -> bool {
        matches!(
            self,
            Error::DeviceKey(DeviceKeyError::NoLongerAvailable)
                | Error::Token(TokenError::DeviceKey(DeviceKeyError::NoLongerAvailable))
                | Error::DeviceKeyLost { .. }
        )
    }

    /// T2: the token endpoint (or the session, after confirming) says this device's client is
    /// dead.
    pub fn is_invalid_client(&self) -> bool {
        self.kind() == ErrorKind::InvalidClient
    }
}

fn send_kind(error: &SendError) -> ErrorKind {
    match error {
        SendError::Read(ReadError::TooLarge) => ErrorKind::ResponseTooLarge,
        _ => ErrorKind::Unreachable,
    }
}

/// `{kind, message}` and nothing else: the shells send this to the webview (Z2).
impl serde::Serialize for Error {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("Error", 2)?;
        state.serialize_field("kind", &self.kind())?;
        state.serialize_field("message", &self.message())?;
        state.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r1_oauth_error_body_is_structured_and_sanitized() {
        let body = br#"{"error":"invalid_client_metadata\n","error_description":"no\u0007 way"}"#;
        let parsed = OAuthError::from_json(body).unwrap();
        assert_eq!(parsed.error, "invalid_client_metadata");
        assert_eq!(parsed.description.as_deref(), Some("no way"));
        assert!(OAuthError::from_json(b"<html>").is_none());
        assert!(OAuthError::from_json(br#"{"error": 5}"#).is_none());
        // Bidi overrides and zero-width characters go too (`text::sanitize`).
        let described = OAuthError::new("x", Some("a\u{202E}b\u{200D}c"));
        assert_eq!(described.description.as_deref(), Some("abc"));
    }

    #[test]
    fn kinds_are_stable_and_serialize_as_kind_and_message_only() {
        let error = Error::Token(TokenError::Server(OAuthError::new(
            "invalid_grant",
            Some("code expired"),
        )));
        assert_eq!(error.kind(), "invalidGrant");
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json.as_object().unwrap().len(), 2);
        assert_eq!(json["kind"], "invalidGrant");
        assert!(json["message"].as_str().unwrap().contains("code expired"));
        assert_eq!(Error::ClientRevoked.kind(), "invalidClient");
        assert_eq!(Error::from(CallbackError::Cancelled).kind(), "cancelled");
        assert_eq!(Error::from(UserAgentError::Cancelled).kind(), "cancelled");
        // A sign-in page the server does not answer is the retryable "unreachable".
        assert_eq!(
            Error::from(UserAgentError::Unreachable).kind(),
            "unreachable"
        );
        assert_eq!(
            Error::from(CallbackError::StateMismatch).kind(),
            "stateMismatch"
        );
        assert_eq!(Error::from(StoreError::Locked).kind(), "keychainLocked");
    }

    #[test]
    fn message_is_truncated() {
        let long = OAuthError::new("server_error", Some(&"y".repeat(2000)));
        let error = Error::Token(TokenError::Server(long));
        assert!(error.message().chars().count() <= MAX_MESSAGE_CHARS);
    }
}
