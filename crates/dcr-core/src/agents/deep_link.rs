//! The `system` user agent (RFC 8252 §7.1): the user's default browser opens the authorization
//! URL, and the redirect to the private-use scheme (`io.curity.dcrclient:/callback`, §7.1)
//! comes back through the operating system as a deep link.
//!
//! The shell receives every deep link the OS hands to the app (a second launch with the URL
//! as its argument, forwarded to the running instance; or the app's own argv at a cold start)
//! and passes it to [`DeepLinkInbox::deliver`]. Any local program can launch the app with any
//! URL, so a deep link is untrusted input (RFC 8252 §8.9, security checklist X1, X3):
//!
//! - it ends the waiting step only when it matches the step's redirect (scheme, host, port,
//!   path: [`RedirectUri::matches`]) AND carries the `state` of that step;
//! - anything else (another path, a forged or stale `state`, no step waiting, a second link
//!   for a step that already ended) is ignored and logged: never an error, never the end of
//!   the step that is waiting;
//! - the engine checks the accepted URL again (`callback::check_callback`,
//!   `logout::check_logout_callback`).
//!
//! The log names why a link was ignored, never the link: it may carry a code.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::oneshot;
use url::Url;

use crate::agents::{BrowserStep, UserAgent, UserAgentError, UserBrowser};
use crate::config::RedirectUri;
use crate::Secret;

/// Why a deep link did not end a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    /// No browser step is waiting (a cold start with an old link, or a duplicate).
    NoStepWaiting,
    /// Not the waiting step's redirect (another scheme, host or path).
    OtherRedirect,
    /// The redirect, but without the waiting step's `state`: forged or stale.
    WrongState,
}

/// What the waiting step expects.
struct Waiting {
    redirect: RedirectUri,
    state: Secret,
    done: oneshot::Sender<Url>,
}

/// Where the shell delivers deep links; the [`SystemAgent`] waits on it.
#[derive(Clone, Default)]
pub struct DeepLinkInbox {
    waiting: Arc<Mutex<Option<Waiting>>>,
}

/// The routing decision, pure: does `link` end the step waiting for `redirect` and `state`?
pub fn route(waiting: Option<(&RedirectUri, &str)>, link: &Url) -> Result<(), Ignored> {
    let Some((redirect, state)) = waiting else {
        return Err(Ignored::NoStepWaiting);
    };
    if !redirect.matches(link) {
        return Err(Ignored::OtherRedirect);
    }
    // Exactly one `state`, equal to ours: a link with two could pass a check that reads the
    // first while the engine reads another.
    let mut states = link.query_pairs().filter(|(name, _)| name == "state");
    match (states.next(), states.next()) {
        (Some((_, value)), None) if value == state => Ok(()),
        _ => Err(Ignored::WrongState),
    }
}

impl DeepLinkInbox {
    /// Hands a deep link to the waiting step, or ignores it (and logs why). Returns what
    /// happened, for the caller's tests; the shell has nothing to do either way.
    pub fn deliver(&self, link: &Url) -> Result<(), Ignored> {
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        let decision = route(
            waiting.as_ref().map(|w| (&w.redirect, w.state.expose())),
            link,
        );
        match decision {
            Ok(()) => {
                if let Some(step) = waiting.take() {
                    // The receiver is gone only when the step already ended (cancelled or
                    // timed out) but had not yet cleared its slot: nothing is waiting then.
                    let _ = step.done.send(link.clone());
                }
                tracing::info!("a deep link ended the browser step");
            }
            Err(reason) => {
                tracing::warn!(?reason, "ignored a deep link");
            }
        }
        decision
    }

    fn expect(&self, redirect: RedirectUri, state: Secret) -> oneshot::Receiver<Url> {
        let (done, receiver) = oneshot::channel();
        *self.waiting.lock().unwrap_or_else(PoisonError::into_inner) = Some(Waiting {
            redirect,
            state,
            done,
        });
        receiver
    }

    fn clear(&self) {
        *self.waiting.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// Clears the inbox when the step ends in any way (callback, Cancel, timeout, dropped future),
/// so a late link finds no step waiting.
struct ClearOnDrop<'a>(&'a DeepLinkInbox);

impl Drop for ClearOnDrop<'_> {
    fn drop(&mut self) {
        self.0.clear();
    }
}

pub struct SystemAgent {
    browser: UserBrowser,
    inbox: DeepLinkInbox,
}

impl SystemAgent {
    pub fn new(browser: UserBrowser, inbox: DeepLinkInbox) -> Self {
        Self { browser, inbox }
    }
}

#[async_trait::async_trait]
impl UserAgent for SystemAgent {
    async fn authorize(&self, step: BrowserStep) -> Result<Url, UserAgentError> {
        // Expected before the browser opens, so a link that comes at once is not lost.
        let received = self.inbox.expect(step.redirect.clone(), step.state.clone());
        let _clear = ClearOnDrop(&self.inbox);
        let link = async {
            received.await.map_err(|_| {
                UserAgentError::Failed("another browser step replaced this one".into())
            })
        };
        self.browser.wait(&step.url, link).await
    }
}

#[cfg(test)]
mod tests;
