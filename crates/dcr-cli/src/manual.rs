//! The manual user agent: one line `open: <url>` on stderr, then one line on stdin, the full URL
//! the browser ended on. An empty line or end of input is cancellation. This is the stable
//! protocol scripts and tests drive, so nothing else is ever written to stderr before the read.

use std::io::{BufRead, Write};

use dcr_core::agents::BrowserOpener;
use dcr_core::agents::SystemBrowser;
use dcr_core::error::CallbackError;
use dcr_core::protocol::callback::parse_callback_url;
use dcr_core::{BrowserStep, UserAgent, UserAgentError};
use url::Url;

pub struct ManualUserAgent {
    /// Also open the URL in the default browser (`--browser system`).
    pub open_browser: bool,
}

#[async_trait::async_trait]
impl UserAgent for ManualUserAgent {
    async fn authorize(&self, step: BrowserStep) -> Result<Url, UserAgentError> {
        // The `open:` line is the protocol scripts drive, so the purpose is not printed; the
        // terminal user ran `login` or `logout` and knows which it is.
        let url = step.url;
        let open_browser = self.open_browser;
        // std's stdin is one buffered reader for the whole process, so a second browser step
        // (login --logout) reads the next line, not bytes a previous reader swallowed.
        let line = tokio::task::spawn_blocking(move || -> std::io::Result<String> {
            let mut stderr = std::io::stderr().lock();
            writeln!(stderr, "open: {url}")?;
            stderr.flush()?;
            drop(stderr);
            if open_browser {
                open_in_browser(&url);
            }
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            Ok(line)
        })
        .await
        .map_err(|_| UserAgentError::Failed("the terminal step did not finish".into()))?
        .map_err(|e| UserAgentError::Failed(format!("cannot use the terminal: {e}")))?;
        match parse_callback_url(&line) {
            Ok(url) => Ok(url),
            Err(CallbackError::Cancelled) => Err(UserAgentError::Cancelled),
            // The message names the problem, never the pasted text (it may hold a code).
            Err(error) => Err(UserAgentError::Failed(format!(
                "the pasted address is not usable: {error}"
            ))),
        }
    }
}

/// Best effort: if it fails, the `open:` line is still there to copy.
fn open_in_browser(url: &Url) {
    let _ = SystemBrowser.open(url);
}
