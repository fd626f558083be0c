//! The browser step, abstracted: the engine hands over a [`BrowserStep`] (the URL, the redirect
//! that ends it, the `state` it must come back with, and what the step is for) and gets back
//! the URL the browser ended on. The
//! shells implement it: the embedded window (Tauri), the manual mode (CLI: print the URL, read
//! the redirect), and the scripted login (tests). The engine never sees a window, and the
//! shells never read OAuth parameters out of the URL to learn what the step is: the engine says.
//!
//! Cancelling is returning [`UserAgentError::Cancelled`], or dropping the future the session
//! is awaiting: either way the session changes no state.
//!
//! The agents that send the step to the user's own browser (loopback, system) share
//! [`UserBrowser`]: the opener, the user's Cancel and "Open the browser again", the deadline,
//! and the one wait over them.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use url::Url;

use crate::config::RedirectUri;
pub use crate::error::UserAgentError;
use crate::Secret;

pub mod deep_link;
pub mod loopback;
mod open;

pub use open::{launch_detached, open_on_desktop, OpenTarget, SystemBrowser};

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

/// How long a step in the user's own browser may take before the app stops waiting: the user
/// may have closed the tab, or the browser may never come back.
pub const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// Opens a URL in the user's browser. [`crate::agents::SystemBrowser`] is the real one; tests
/// play the browser themselves.
pub trait BrowserOpener: Send + Sync {
    /// Starts the browser and returns; never waits for the page. The error text must not
    /// contain the URL (it carries `state` and PKCE challenge).
    fn open(&self, url: &Url) -> Result<(), String>;
}

/// The user's controls while a step runs in their own browser: Cancel, and "Open the browser
/// again" (the tab was closed by mistake, or the browser opened behind another window). The
/// shell makes one and hands clones to its waiting screen and to whichever agent it builds.
#[derive(Clone, Default)]
pub struct BrowserControl {
    inner: Arc<Controls>,
}

#[derive(Default)]
struct Controls {
    cancel: Notify,
    reopen: Notify,
}

impl BrowserControl {
    /// Ends the running step with [`UserAgentError::Cancelled`]. Does nothing when no step
    /// is waiting (it never cancels a later one).
    pub fn cancel(&self) {
        self.inner.cancel.notify_waiters();
    }

    /// Opens the running step's URL in the browser again. Does nothing when no step is waiting.
    pub fn open_again(&self) {
        self.inner.reopen.notify_waiters();
    }
}

/// The user's own browser, as the agents that send a step there see it (loopback, RFC 8252
/// §7.3; private-use scheme, §7.1): how to open it, the user's controls, and how long to wait.
/// Each agent adds only how the answer comes back (a listener, a deep-link inbox), and waits
/// for it with [`UserBrowser::wait`].
pub struct UserBrowser {
    opener: Arc<dyn BrowserOpener>,
    control: BrowserControl,
    timeout: Duration,
}

impl UserBrowser {
    pub fn new(opener: Arc<dyn BrowserOpener>) -> Self {
        Self {
            opener,
            control: BrowserControl::default(),
            timeout: SIGN_IN_TIMEOUT,
        }
    }

    /// Replaces [`SIGN_IN_TIMEOUT`].
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Uses `control` (made by the shell before the agent) for Cancel and "Open the browser
    /// again".
    pub fn with_control(mut self, control: BrowserControl) -> Self {
        self.control = control;
        self
    }

    /// Opens `url` and waits for `answer`, the user's Cancel, or the deadline, whichever comes
    /// first; "Open the browser again" opens `url` once more and keeps waiting. `answer` is
    /// dropped when the wait ends in any way, which closes whatever it listens on.
    pub(crate) async fn wait<T>(
        &self,
        url: &Url,
        answer: impl Future<Output = Result<T, UserAgentError>>,
    ) -> Result<T, UserAgentError> {
        let signals = &self.control.inner;
        // Registered before the browser opens, so a click that comes at once is not lost.
        let cancel = signals.cancel.notified();
        let reopen = signals.reopen.notified();
        tokio::pin!(cancel, reopen);
        cancel.as_mut().enable();
        reopen.as_mut().enable();
        self.opener.open(url).map_err(UserAgentError::Failed)?;

        let deadline = tokio::time::sleep(self.timeout);
        tokio::pin!(answer, deadline);
        loop {
            tokio::select! {
                answered = &mut answer => return answered,
                () = &mut cancel => return Err(UserAgentError::Cancelled),
                () = &mut reopen => {
                    if let Err(error) = self.opener.open(url) {
                        tracing::warn!(%error, "could not open the browser again");
                    }
                    reopen.set(signals.reopen.notified());
                    reopen.as_mut().enable();
                }
                () = &mut deadline => {
                    return Err(UserAgentError::Failed(
                        "the sign-in in the browser did not finish in time".into(),
                    ));
                }
            }
        }
    }
}
