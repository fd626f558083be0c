//! The protocol steps, one module each, in flow order. Each is pure: a `prepare_*` function
//! builds the [`crate::platform::http::OutgoingRequest`], a `*_response` function checks the
//! [`crate::platform::http::CappedResponse`], and the session makes the HTTP call between them.
//! They take what they need as arguments (the registered redirect, the expected client, the
//! clock) and never read the config or the keychain themselves.

pub mod authorize;
pub mod callback;
pub mod discovery;
pub mod id_token;
pub mod logout;
pub mod registration;
pub mod token;
pub mod userinfo;
