//! This install, as the engine sees it: the registration it made in one user-agent mode.
//!
//! A module of its own, below the session and above the protocol steps and the keychain,
//! because three callers need the same answer to "which registration is this install's": the
//! session (which redirect URIs an RFC 7592 answer must list, which keychain entry to read and
//! write), and through it the desktop app and the `dcr` CLI (which mode to run in). Before, each
//! worked it out for itself from the config, and they disagreed.

pub mod registration;

pub use registration::{find, Binding, Generation, Registration};
