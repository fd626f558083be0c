//! The browser step, abstracted: the engine hands over a URL and gets back the URL the browser
//! ended on. The shells implement it: the embedded window (Tauri), the manual mode (CLI: print
//! the URL, read the redirect), and the scripted login (tests). The engine never sees a window.
//!
//! Cancelling is returning [`UserAgentError::Cancelled`], or dropping the future the session
//! is awaiting: either way the session changes no state.

use url::Url;

use crate::config::RedirectUri;
pub use crate::error::UserAgentError;

/// Runs one front-channel step (RFC 8252 §4.1).
#[async_trait::async_trait]
pub trait UserAgent: Send + Sync {
    /// Opens `url` and resolves with the first URL that matches `redirect` (scheme, host, port,
    /// path: [`RedirectUri::matches`]). The engine checks that URL again; implementations only
    /// need to stop at it, and must never follow it.
    async fn authorize(&self, url: Url, redirect: &RedirectUri) -> Result<Url, UserAgentError>;
}
