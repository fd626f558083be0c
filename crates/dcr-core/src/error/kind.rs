//! [`ErrorKind`]: the stable, typed name of every failure the engine reports.
//!
//! The UI branches on it (`ui/state.js` has one entry per kind;
//! `tests/tests/repository/error_kinds.rs` checks both lists are the same), the CLI prints it as
//! `error[<kind>]`, and the engine itself decides recovery on it ([`crate::Error::kind`]) instead
//! of on message text or string compares.

use std::fmt;

macro_rules! error_kinds {
    ($($(#[$doc:meta])* $variant:ident = $wire:literal,)+) => {
        /// A stable camelCase identifier for a failure. The wire strings never change for a given
        /// failure: scripts and the UI depend on them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorKind {
            $($(#[$doc])* $variant,)+
        }

        impl ErrorKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$variant,)+];

            /// The wire string, as serialized to the UI and printed by the CLI.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorKind::$variant => $wire,)+
                }
            }
        }
    };
}

error_kinds! {
    /// `config.json` is missing a key, has an unknown one, or a malformed value.
    Config = "config",
    /// No config file was found (reported by the desktop shell, which shows its setup screen).
    ConfigMissing = "configMissing",
    /// A config chosen on the setup screen could not be saved (desktop shell).
    ConfigNotSaved = "configNotSaved",
    /// About this device: the file manager could not be started on the log folder (desktop
    /// shell).
    FolderNotOpened = "folderNotOpened",
    /// The discovery document could not be used (D1, D2, D3).
    Discovery = "discovery",
    /// The identity server could not be reached, or did not answer in time (N4).
    Unreachable = "unreachable",
    /// A response exceeded the size cap (R8).
    ResponseTooLarge = "responseTooLarge",
    /// The user closed the sign-in window or declined: not an error screen.
    Cancelled = "cancelled",
    /// The authorization response belongs to another request (A1, X1).
    StateMismatch = "stateMismatch",
    /// RFC 9207 `iss` is wrong or missing (A2).
    IssuerMismatch = "issuerMismatch",
    /// The browser ended on an address that is not our redirect URI (X3).
    RedirectMismatch = "redirectMismatch",
    /// The authorization endpoint answered with an OAuth error other than `access_denied`.
    AuthorizationFailed = "authorizationFailed",
    /// The authorization response is malformed (X3, A5).
    InvalidCallback = "invalidCallback",
    /// This device's client was revoked, deleted or expired (T2).
    InvalidClient = "invalidClient",
    /// The code or refresh token was refused (T1, F1).
    InvalidGrant = "invalidGrant",
    /// The identity server refused this device's DPoP proof (RFC 9449 `invalid_dpop_proof`,
    /// K4): a clock far off, or a key the server does not accept. Retryable; tokens are kept.
    InvalidDpopProof = "invalidDpopProof",
    /// The identity server answered with an OAuth error or a 5xx.
    ServerError = "serverError",
    /// A response did not have the shape the protocol requires (T3, T4, R3).
    InvalidResponse = "invalidResponse",
    /// The key set could not be fetched or does not hold the token's key yet (D6): retryable,
    /// and the tokens are kept.
    KeysUnavailable = "keysUnavailable",
    /// The ID token failed validation (I1-I10).
    IdTokenInvalid = "idTokenInvalid",
    /// The UserInfo response could not be used (I12).
    UserInfoInvalid = "userInfoInvalid",
    /// The post-logout redirect did not belong to our logout (L3).
    Logout = "logout",
    /// The registration endpoint refused the DCR access token (R2).
    DcrTokenRejected = "dcrTokenRejected",
    /// The registration endpoint refused the metadata (R1).
    RegistrationRejected = "registrationRejected",
    /// The keychain is locked (S2): never a reason to register again.
    KeychainLocked = "keychainLocked",
    /// No keychain service is available (S1).
    KeychainUnavailable = "keychainUnavailable",
    /// The keychain entry could not be read back (S3).
    KeychainCorrupt = "keychainCorrupt",
    /// The entry would exceed the Windows credential size (S4).
    KeychainEntryTooLarge = "keychainEntryTooLarge",
    /// The user agent (window, browser) failed to open or run.
    UserAgent = "userAgent",
    /// The client secret is past `client_secret_expires_at` (R6).
    SecretExpired = "secretExpired",
    /// An operation that needs a registration ran without one.
    NotRegistered = "notRegistered",
    /// An operation that needs a signed-in user ran without one.
    NotSignedIn = "notSignedIn",
    /// "Rotate device key" on a registration that has no device key (a client secret), or no
    /// RFC 7592 management endpoint to update it through.
    RotationUnavailable = "rotationUnavailable",
    /// This install's key pair could not be generated or read.
    DeviceKeyUnavailable = "deviceKeyUnavailable",
    /// The TPM no longer loads this install's key (cleared or replaced, or the keychain entry
    /// was copied from another computer): the registration was deleted, register again.
    DeviceKeyLost = "deviceKeyLost",
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ErrorKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Lets a test or a script-facing check compare with the wire string directly. The engine itself
/// compares variants.
impl PartialEq<&str> for ErrorKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_unique_camel_case_wire_string() {
        let mut seen = std::collections::HashSet::new();
        for kind in ErrorKind::ALL {
            let wire = kind.as_str();
            assert!(seen.insert(wire), "duplicate wire string {wire}");
            assert!(wire.chars().next().is_some_and(|c| c.is_ascii_lowercase()));
            assert!(wire.chars().all(|c| c.is_ascii_alphanumeric()), "{wire}");
            assert_eq!(serde_json::to_value(kind).unwrap(), wire);
            assert_eq!(kind.to_string(), wire);
        }
    }
}
