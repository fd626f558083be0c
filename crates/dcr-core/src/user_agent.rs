//! The browser step, abstracted: the engine hands over a [`BrowserStep`] (the URL, the redirect
//! that ends it, the `state` it must come back with, and what the step is for) and gets back
//! the URL the browser ended on. The
//! shells implement it: the embedded window (Tauri), the manual mode (CLI: print the URL, read
//! the redirect), and the scripted login (tests). The engine never sees a window, and the
//! shells never read OAuth parameters out of the URL to learn what the step is: the engine says.
//!
//! Cancelling is returning [`UserAgentError::Cancelled`], or dropping the future the session
//! is awaiting: either way the session changes no state.

use url::Url;

use crate::config::RedirectUri;
pub use crate::error::UserAgentError;
use crate::Secret;

/// What a browser step is for, so a shell can say the right thing ("Signing you out…", not
/// "Signing you in…") without decoding `client_id` or `prompt` from the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum BrowserPurpose {
    /// The login with the static registration client (`prompt=login`, scope `dcr`) whose
    /// access token authorizes the RFC 7591 registration that follows.
    RegistrationLogin,
    /// The OpenID Connect sign-in with the per-install client (single sign-on when the
    /// identity server still has a session).
    SignIn,
    /// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2): the end-session page.
    SignOut,
}

/// One front-channel step, as the engine describes it.
#[derive(Debug, Clone)]
pub struct BrowserStep {
    /// Where to send the browser (authorization or end-session endpoint, with its query).
    pub url: Url,
    /// The redirect that ends the step; the first URL that [`RedirectUri::matches`] it is the
    /// answer.
    pub redirect: RedirectUri,
    /// The `state` the engine put in `url` (RFC 6749 §4.1.1; RP-Initiated Logout 1.0 §2), for
    /// an agent that must tell our answer from any other request to the redirect (a loopback
    /// listener, a deep-link inbox) without reading it back out of the URL. The engine checks
    /// the answer's `state` again either way.
    pub state: Secret,
    pub purpose: BrowserPurpose,
    /// True when the identity server is asked to show its form whatever session it has
    /// (`prompt=login`, OIDC Core §3.1.2.1): a shell should show its window at once. False when
    /// the step usually completes on its own (single sign-on, a logout without confirmation);
    /// a shell may keep its window hidden until the server turns out to need the user.
    pub user_action_expected: bool,
}

/// Runs one front-channel step (RFC 8252 §4.1).
#[async_trait::async_trait]
pub trait UserAgent: Send + Sync {
    /// The redirect URI the next step will end on, asked for before the engine builds the
    /// authorization (or end-session) request, so that request, the callback check and the
    /// code exchange all use the same one. `registered` is what the client is registered with
    /// ([`crate::Config::registered_redirect_uri`]). Most agents return it unchanged (the
    /// default). The loopback agent (RFC 8252 §7.3) binds a listener for this one step and
    /// returns its `http://127.0.0.1:<port>/…`; the next [`UserAgent::authorize`] waits on it.
    async fn prepare_redirect(
        &self,
        registered: &RedirectUri,
    ) -> Result<RedirectUri, UserAgentError> {
        Ok(registered.clone())
    }

    /// Opens `step.url` and resolves with the first URL that matches `step.redirect` (scheme,
    /// host, port, path: [`RedirectUri::matches`]). The engine checks that URL again;
    /// implementations only need to stop at it, and must never follow it.
    async fn authorize(&self, step: BrowserStep) -> Result<Url, UserAgentError>;
}
