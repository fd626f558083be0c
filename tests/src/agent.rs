//! The engine's user agent in tests: [`ScriptedBrowser`] behind [`dcr_core::UserAgent`], so the
//! whole engine runs against the bundled identity server without a GUI. It plays the user: it
//! signs in, clicks Cancel on the login page, or closes the window.

use std::sync::{Arc, Mutex, PoisonError};

use dcr_core::{BrowserStep, UserAgent, UserAgentError};
use url::Url;

use crate::{BrowserError, ScriptedBrowser, DEMO_USER};

/// What the scripted user does when the engine opens a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behaviour {
    /// Sign in with these credentials if the login form appears. `None`: only an SSO session
    /// will do; a login form is a failure ([`UserAgentError::Failed`]).
    Login(Option<(String, String)>),
    /// Close the window at once: [`UserAgentError::Cancelled`], nothing is opened.
    Cancel,
    /// Click the login page's `#login-cancel` link; the server answers `access_denied`
    /// (RFC 6749 §4.1.2.1), which the engine must treat as a cancellation.
    CancelAtLoginPage,
}

/// A [`UserAgent`] over a shared [`ScriptedBrowser`] (the cookie jar, and so the identity
/// server's SSO session, is the browser's; several agents may share one browser).
pub struct ScriptedAgent {
    browser: Arc<ScriptedBrowser>,
    behaviour: Behaviour,
    opened: Mutex<Vec<Url>>,
    returned: Mutex<Vec<Url>>,
}

impl ScriptedAgent {
    pub fn new(browser: Arc<ScriptedBrowser>, behaviour: Behaviour) -> Self {
        Self {
            browser,
            behaviour,
            opened: Mutex::new(Vec::new()),
            returned: Mutex::new(Vec::new()),
        }
    }

    /// Signs in as the demo user whenever the login form appears.
    pub fn login(browser: Arc<ScriptedBrowser>) -> Self {
        let (user, password) = DEMO_USER;
        Self::new(
            browser,
            Behaviour::Login(Some((user.to_owned(), password.to_owned()))),
        )
    }

    /// Knows no password: succeeds only through an existing SSO session.
    pub fn sso_only(browser: Arc<ScriptedBrowser>) -> Self {
        Self::new(browser, Behaviour::Login(None))
    }

    /// Closes the window: every step is [`UserAgentError::Cancelled`].
    pub fn closing_the_window(browser: Arc<ScriptedBrowser>) -> Self {
        Self::new(browser, Behaviour::Cancel)
    }

    /// Clicks Cancel on the login page.
    pub fn cancelling_at_login_page(browser: Arc<ScriptedBrowser>) -> Self {
        Self::new(browser, Behaviour::CancelAtLoginPage)
    }

    /// Every URL the engine asked this agent to open, in order.
    pub fn opened(&self) -> Vec<Url> {
        lock(&self.opened).clone()
    }

    /// Every URL this agent handed back to the engine (callbacks carry authorization codes).
    pub fn returned(&self) -> Vec<Url> {
        lock(&self.returned).clone()
    }
}

#[async_trait::async_trait]
impl UserAgent for ScriptedAgent {
    async fn authorize(&self, step: BrowserStep) -> Result<Url, UserAgentError> {
        let BrowserStep { url, redirect, .. } = step;
        lock(&self.opened).push(url.clone());
        let origin = url.origin();
        // Stop at the app's redirect URI, as a login window does (RFC 8252 §7), or wherever
        // the flow leaves the identity server; the engine checks the result again.
        let leaves = |location: &Url| {
            redirect.matches(location)
                || !matches!(location.scheme(), "http" | "https")
                || location.origin() != origin
        };
        let result = match &self.behaviour {
            Behaviour::Cancel => return Err(UserAgentError::Cancelled),
            Behaviour::Login(credentials) => {
                let credentials = credentials
                    .as_ref()
                    .map(|(user, password)| (user.as_str(), password.as_str()));
                self.browser.open_until(url, credentials, leaves).await
            }
            Behaviour::CancelAtLoginPage => self.browser.open_and_cancel_until(url, leaves).await,
        };
        match result {
            Ok(location) => {
                lock(&self.returned).push(location.clone());
                Ok(location)
            }
            // Like the app's window (src-tauri/src/browser.rs): a page the server does not
            // answer (refused, reset, timed out) ends the step as unreachable.
            Err(BrowserError::Http(error))
                if error.is_connect() || error.is_request() || error.is_timeout() =>
            {
                Err(UserAgentError::Unreachable)
            }
            // BrowserError never holds a query string, so this text has no code in it.
            Err(error) => Err(UserAgentError::Failed(error.to_string())),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
