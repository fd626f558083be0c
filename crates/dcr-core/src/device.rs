//! This install, as the engine sees it: the registration it made in one user-agent mode
//! ([`registration`]), the key pair that proves it in the device-bound modes ([`key`]), and the
//! keychain entry both live in ([`store`]).
//!
//! The keychain store sits here rather than with the other platform parts: what it stores is
//! this install's registration, in a format that is the registration's own (the RFC 7591
//! response, the device key), so it is read and written only through this module.
//!
//! A module of its own, below the session and above the protocol steps and the keychain,
//! because three callers need the same answer to "which registration is this install's": the
//! session (which redirect URIs an RFC 7592 answer must list, which keychain entry to read and
//! write), and through it the desktop app and the `dcr` CLI (which mode to run in). Before, each
//! worked it out for itself from the config, and they disagreed.

pub mod key;
pub mod registration;
pub mod signer;
pub mod software;
pub mod store;
#[cfg(target_os = "linux")]
pub mod tpm;

pub use registration::{find, Binding, Generation, Registration};
