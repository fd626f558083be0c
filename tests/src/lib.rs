//! Test harness: starts the bundled identity server (`tests/idp`) and drives logins without a GUI.
//!
//! - [`Idp`]: the server on an ephemeral port, and its admin API (clients, issued secrets).
//! - [`ScriptedBrowser`]: an HTTP client with a cookie jar that plays the login window.
//! - [`ScriptedAgent`]: that browser as the engine's `UserAgent` (sign in, cancel, close).
//! - [`engine`]: a config, a recording back channel, a shared store, and the [`engine::Rig`]
//!   that puts them together for an engine session.
//! - [`keyring`]: the real Secret Service in tests, including a private, lockable one.
//! - [`desktop`], [`app`], [`browser_shim`]: the built desktop app in a real window through
//!   WebDriver, the onboarding steps a user clicks, and the user's browser in loopback and system
//!   mode; the end-to-end tests and the app benches share them.
//! - [`leaks`]: the search for secrets, whole and in pieces, in logs and in what the app shows.
//! - [`procs`]: process trees and their memory, from /proc.
//! - [`stats`]: the benchmarks' plain statistics (the soaks' least-squares memory slope).
//! - [`swtpm`]: a software TPM 2.0 per test, for the TPM-held device key.
//! - [`tls`]: a CA made at test time and the server certificates it signs.
//! - [`loopback`], [`system`]: the user's browser in loopback and system mode, delivering the
//!   redirect to the engine's own user agents.
//!
//! ```no_run
//! use dcr_tests::{pkce_pair, Idp, ScriptedBrowser};
//!
//! # async fn demo() {
//! let idp = Idp::start().await; // node tests/idp/server.mjs on an ephemeral port
//! let (_verifier, challenge) = pkce_pair();
//! let mut authorize = idp.endpoint("auth");
//! authorize.query_pairs_mut().extend_pairs([
//!     ("response_type", "code"),
//!     ("client_id", "mobile-dcr-client"),
//!     ("redirect_uri", "io.curity.dcrclient:/callback"),
//!     ("scope", "dcr"),
//!     ("code_challenge", challenge.as_str()),
//!     ("code_challenge_method", "S256"),
//! ]);
//! let browser = ScriptedBrowser::new();
//! let callback = browser.open(authorize, Some(("demouser", "Password1"))).await.unwrap();
//! assert_eq!(callback.scheme(), "io.curity.dcrclient");
//! # }
//! ```

pub mod agent;
pub mod app;
pub mod browser;
pub mod browser_shim;
pub mod cli;
pub mod desktop;
pub mod engine;
pub mod faults;
pub mod flows;
mod html;
pub mod idp;
pub mod keyring;
pub mod leaks;
pub mod loopback;
pub mod pkce;
pub mod procs;
pub mod stats;
pub mod swtpm;
pub mod system;
pub mod tls;
pub mod ui;

pub use agent::{Behaviour, ScriptedAgent};
pub use browser::{BrowserError, ScriptedBrowser};
pub use idp::{repo_root, AdminClient, Idp, IdpOptions, IssuedSecret, LoggedRequest};
pub use pkce::{jwt_claims, pkce_pair, random_token};

/// The demo account of the bundled identity server (as in Curity's tutorial).
pub const DEMO_USER: (&str, &str) = ("demouser", "Password1");
