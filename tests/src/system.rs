//! The user's browser in system mode (RFC 8252 §7.1), played by the test at the engine level:
//! given the URL the engine's [`SystemAgent`](dcr_core::agents::deep_link::SystemAgent) opens, it signs
//! in with [`ScriptedBrowser`] (which stops at the private-use-scheme Location,
//! `io.curity.dcrclient:/…`), and hands that URL to the engine's [`DeepLinkInbox`] the way the
//! operating system hands a deep link to the app. (`tests/tests/desktop/system.rs` does the same
//! with the real app binary as the receiver.)

use std::sync::{Arc, Mutex, PoisonError};

use dcr_core::agents::deep_link::{DeepLinkInbox, Ignored};
use url::Url;

use crate::{ScriptedBrowser, DEMO_USER};

/// What happened at one browser step. `Debug` never shows the link (it carries a code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The inbox took the link (`Ok`) or ignored it, and why.
    Routed(Result<(), Ignored>),
    /// The browser never reached the redirect (its error text holds no query string).
    Failed(String),
}

/// The user's default browser and the OS's deep-link delivery, as a
/// [`dcr_core::agents::BrowserOpener`] for the engine's `SystemAgent`.
pub struct DeepLinkBrowser {
    pub browser: Arc<ScriptedBrowser>,
    inbox: DeepLinkInbox,
    deliveries: Arc<Mutex<Vec<Delivery>>>,
}

impl DeepLinkBrowser {
    /// Delivers to `inbox`, which the test also gives to the `SystemAgent`.
    pub fn new(browser: Arc<ScriptedBrowser>, inbox: DeepLinkInbox) -> Self {
        Self {
            browser,
            inbox,
            deliveries: Arc::default(),
        }
    }

    /// Every step that has finished so far, in order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl dcr_core::agents::BrowserOpener for DeepLinkBrowser {
    /// Runs the step on its own task, like a browser process: the agent is already waiting on
    /// the inbox when it opens the browser.
    fn open(&self, url: &Url) -> Result<(), String> {
        let (browser, inbox, deliveries, url) = (
            self.browser.clone(),
            self.inbox.clone(),
            self.deliveries.clone(),
            url.clone(),
        );
        tokio::runtime::Handle::current().spawn(async move {
            let delivery = match browser.open(url, Some(DEMO_USER)).await {
                Ok(link) => Delivery::Routed(inbox.deliver(&link)),
                Err(error) => Delivery::Failed(error.to_string()),
            };
            deliveries
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(delivery);
        });
        Ok(())
    }
}
