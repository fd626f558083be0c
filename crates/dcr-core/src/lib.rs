//! The DCR engine: authenticated Dynamic Client Registration (RFC 7591) for a desktop app, the
//! way Curity's "Mobile DCR with AppAuth" tutorial does it on mobile, with no GUI.
//!
//! Each installation gets its own OAuth client: the user signs in once with a static public
//! client to get an access token with the `dcr` scope, the engine registers a client with that
//! token, keeps the registration in the OS keychain, and from then on signs in (by SSO) and
//! refreshes with the per-install client ID and secret.
//!
//! # The flow, step by step
//!
//! Every protocol step is a module with a pure `prepare_*` function that builds an
//! [`platform::http::OutgoingRequest`] and a pure `*_response` function that checks the
//! [`platform::http::CappedResponse`]; the HTTP call happens in between. Tests therefore assert exact
//! requests and feed hostile responses without a network.
//!
//! 1. [`config`]: `config.json` (Curity's keys) → a validated [`Config`].
//! 2. [`protocol::discovery`]: the provider metadata, with the issuer compared exactly (D1).
//! 3. [`protocol::authorize`]: the authorization URL with PKCE S256, `state`, `nonce`; the registration
//!    login uses the static client, scope `dcr` and `prompt=login`.
//! 4. A [`UserAgent`] opens it and returns the URL the browser ended on.
//! 5. [`protocol::callback`]: exact redirect match, `state`, RFC 9207 `iss`, the error branch → a code.
//! 6. [`protocol::token`]: the code exchange, as a public client → the DCR access token.
//! 7. [`protocol::registration`]: RFC 7591 with the DCR token as Bearer → client ID and secret.
//! 8. [`device::store`]: the registration goes to the OS keychain.
//! 9. Steps 3-6 again with the per-install client (SSO, no second password), authenticated
//!    with `client_secret_basic` or `client_secret_post`, then [`protocol::id_token`] verification and
//!    [`protocol::userinfo`]. Before a sign-in with a stored registration, an RFC 7592 read checks that
//!    the server still knows the client.
//! 10. [`protocol::token`] refreshes; [`protocol::logout`] ends the session; RFC 7592 deletes the client on
//!     "forget this device".
//!
//! [`Session`] walks these steps. It is the only owner of mutable state and implements the
//! state machine (Unregistered → Registered → SignedIn) with the recovery rules: a revoked
//! client (`invalid_client`, or a deleted one found by the RFC 7592 read) wipes the
//! registration once, `invalid_grant` on refresh drops the tokens, an expired secret registers
//! again, a locked keychain is an error and never a reason to register again, and cancelling
//! changes nothing.
//!
//! ```no_run
//! use dcr_core::platform::http::back_channel_client;
//! use dcr_core::device::store::KeychainStore;
//! use dcr_core::{BrowserPurpose, BrowserStep, Config, Session, UserAgent, UserAgentError};
//! use url::Url;
//!
//! /// A shell's browser step: open `step.url`, return the first URL that matches
//! /// `step.redirect`. `step.purpose` says what to tell the user; never parse the URL for it.
//! struct MyWindow;
//!
//! #[async_trait::async_trait]
//! impl UserAgent for MyWindow {
//!     async fn authorize(&self, step: BrowserStep) -> Result<Url, UserAgentError> {
//!         let _says = match step.purpose {
//!             BrowserPurpose::RegistrationLogin | BrowserPurpose::SignIn => "Signing you in…",
//!             BrowserPurpose::SignOut => "Signing you out…",
//!         };
//!         // e.g. a webview whose navigation handler stops at `step.redirect.matches(&next)`,
//!         // shown at once when `step.user_action_expected`.
//!         Err(UserAgentError::Cancelled)
//!     }
//! }
//!
//! # async fn demo() -> Result<(), dcr_core::Error> {
//! let config = Config::load("config.json")?;
//! let session = Session::new(config, back_channel_client(), Box::new(KeychainStore::new()));
//!
//! // First run: one login with the static client, registration, then the SSO sign-in.
//! let view = session.register_and_sign_in(&MyWindow).await?;
//! println!("{}", serde_json::to_string(&view).unwrap()); // no secrets in here
//!
//! // Later runs: the registration is restored from the keychain.
//! let view = session.refresh().await?;
//! assert_eq!(view.state, dcr_core::session::StateName::SignedIn);
//!
//! // Errors carry a stable kind for the UI, and a message safe to show.
//! if let Err(error) = session.sign_out(&MyWindow).await {
//!     eprintln!("error[{}]: {}", error.kind(), error.message());
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//!
//! The folders say what kind of code lives in them, and imports run one way (a test in
//! `tests/module_cycles.rs` fails on a cycle or an upward import):
//!
//! - [`session`]: the state machine, as components (the shared keychain entry, client
//!   management, …), and the only owner of mutable state;
//! - [`device`]: this install: its registration (the mode it was made in, its redirect URIs, its
//!   credential), its key pair, and the keychain entry they live in;
//! - [`agents`]: the [`UserAgent`] trait and the browser steps that do not need a window
//!   (loopback, system browser with a deep link, the opener, one shared wait loop);
//! - [`protocol`]: the pure steps above, one module each;
//! - [`platform`]: HTTP and the cross-process lock, which know no OAuth;
//! - leaves: [`config`], [`error`], [`text`], [`secret`], [`progress`].
//!
//! # Why not `openidconnect`
//!
//! `openidconnect` 4.x was the obvious choice. The engine uses `ring` (already compiled for TLS
//! by rustls), `base64` and `serde_json` instead, for three reasons. First, every exchange here
//! is a pure `prepare_*`/`*_response` pair over plain data, while `openidconnect` builds and
//! sends requests inside its typestate client. Second, the gaps it leaves would all have
//! needed our own code anyway (`iat` window, `azp`, refetch on unknown `kid`, secret expiry
//! `0`), as would the registration calls, so the crate would have contributed little beyond
//! JWS signature checks. Third, it adds `oauth2`, `rsa`, `p256`, `p384`, `ed25519-dalek`,
//! `hmac`, `chrono` and `serde_with` to a build on two cores; `ring` adds nothing. The JWS
//! verification is in [`protocol::id_token::jwks`] (~200 lines, allow-listed algorithms only).

pub mod agents;
pub mod config;
pub mod device;
pub mod diagnostics;
pub mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod platform;
pub mod progress;
pub mod protocol;
pub mod secret;
pub mod session;
pub mod text;

#[cfg(test)]
mod test_support;

pub use agents::{BrowserPurpose, BrowserStep, UserAgent, UserAgentError};
/// Re-exported so shells can implement [`UserAgent`] and [`platform::http::Transport`] without depending
/// on `async-trait` themselves: `#[dcr_core::async_trait]`.
pub use async_trait::async_trait;
pub use config::{Config, RedirectUri, TokenEndpointAuthMethod};
pub use error::Error;
pub use progress::{Progress, ProgressSink};
pub use secret::Secret;
pub use session::{Session, StateView};
