//! Which user agent runs the engine's browser steps, chosen by the config's `userAgent`:
//!
//! - `embedded` (default): the app's own sign-in window ([`EmbeddedBrowser`]).
//! - `loopback`: the user's default browser, and a one-shot listener on 127.0.0.1 for the
//!   answer (RFC 8252 §7.3; [`dcr_core::agents::loopback::LoopbackAgent`]). The engine binds a listener
//!   per step through `UserAgent::prepare_redirect`; this shell only adds the waiting screen
//!   ("Finish signing in in your browser", Cancel, "Open the browser again").
//! - `system`: the user's default browser, and the private-use scheme redirect
//!   (`io.curity.dcrclient:/callback`) coming back through the OS as a deep link (RFC 8252
//!   §7.1; [`dcr_core::agents::deep_link::SystemAgent`]). `lib.rs` feeds every deep link into the
//!   shell's [`DeepLinkInbox`]; the same waiting screen as loopback.

use dcr_core::agents::deep_link::{DeepLinkInbox, SystemAgent};
use dcr_core::agents::loopback::LoopbackAgent;
use dcr_core::agents::SystemBrowser;
use dcr_core::agents::{
    BrowserControl, BrowserPurpose, BrowserStep, UserAgent, UserAgentError, UserBrowser,
};
use dcr_core::config::{RedirectUri, UserAgentKind};
use dcr_core::Config;
use tauri::AppHandle;
use url::Url;

use crate::browser::EmbeddedBrowser;
use crate::events::{emit_progress, ShellStep, Step};

pub enum DesktopAgent {
    /// Boxed: it holds the command's window and step between steps, much larger than `InBrowser`.
    Embedded(Box<EmbeddedBrowser>),
    /// Loopback or system: the user's own browser.
    InBrowser(InBrowser),
}

impl DesktopAgent {
    /// The agent the config asks for. `control` is the shell's one Cancel / "Open the browser
    /// again" handle, so the commands reach whichever step is running; `deep_links` is where
    /// the OS's deep links arrive.
    pub fn for_config(
        app: &AppHandle,
        config: &Config,
        control: &BrowserControl,
        deep_links: &DeepLinkInbox,
    ) -> Self {
        let browser =
            || UserBrowser::new(std::sync::Arc::new(SystemBrowser)).with_control(control.clone());
        match config.user_agent {
            Some(UserAgentKind::Loopback) => Self::InBrowser(InBrowser {
                app: app.clone(),
                agent: Box::new(LoopbackAgent::new(browser())),
                mode: UserAgentKind::Loopback,
            }),
            Some(UserAgentKind::System) => Self::InBrowser(InBrowser {
                app: app.clone(),
                agent: Box::new(SystemAgent::new(browser(), deep_links.clone())),
                mode: UserAgentKind::System,
            }),
            Some(UserAgentKind::Embedded) | None => Self::Embedded(Box::new(EmbeddedBrowser::new(
                app.clone(),
                config.allowed_sign_in_origins(),
            ))),
        }
    }
}

impl DesktopAgent {
    /// The command that used this agent has ended (success or error): the embedded sign-in
    /// window, kept between the command's browser steps, goes now.
    pub fn finish(&self) {
        if let Self::Embedded(agent) = self {
            agent.finish();
        }
    }
}

#[async_trait::async_trait]
impl UserAgent for DesktopAgent {
    async fn prepare_redirect(
        &self,
        registered: &RedirectUri,
    ) -> Result<RedirectUri, UserAgentError> {
        match self {
            Self::Embedded(agent) => agent.prepare_redirect(registered).await,
            Self::InBrowser(agent) => agent.agent.prepare_redirect(registered).await,
        }
    }

    async fn authorize(&self, step: BrowserStep) -> Result<Url, UserAgentError> {
        match self {
            Self::Embedded(agent) => agent.authorize(step).await,
            Self::InBrowser(agent) => agent.authorize(step).await,
        }
    }
}

/// The loopback or system agent plus the waiting screen.
pub struct InBrowser {
    app: AppHandle,
    agent: Box<dyn UserAgent>,
    /// Loopback or system: what the waiting screen tells the user to expect.
    mode: UserAgentKind,
}

impl InBrowser {
    async fn authorize(&self, step: BrowserStep) -> Result<Url, UserAgentError> {
        emit_progress(
            &self.app,
            Step::Shell(waiting_step(self.mode, step.purpose)),
        );
        self.agent.authorize(step).await
    }
}

/// The waiting screen's text follows the engine's purpose and the mode: a loopback answer ends
/// on the listener's "You can close this tab" page, a system-mode one comes back through the OS.
fn waiting_step(mode: UserAgentKind, purpose: BrowserPurpose) -> ShellStep {
    let sign_out = purpose == BrowserPurpose::SignOut;
    match (mode, sign_out) {
        (UserAgentKind::System, false) => ShellStep::WaitingInSystemBrowser,
        (UserAgentKind::System, true) => ShellStep::SigningOutInSystemBrowser,
        (_, false) => ShellStep::WaitingInBrowser,
        (_, true) => ShellStep::SigningOutInBrowser,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_out_never_says_sign_in() {
        use UserAgentKind::{Loopback, System};
        assert_eq!(
            waiting_step(Loopback, BrowserPurpose::SignOut),
            ShellStep::SigningOutInBrowser
        );
        assert_eq!(
            waiting_step(Loopback, BrowserPurpose::SignIn),
            ShellStep::WaitingInBrowser
        );
        assert_eq!(
            waiting_step(System, BrowserPurpose::SignOut),
            ShellStep::SigningOutInSystemBrowser
        );
        for purpose in [BrowserPurpose::RegistrationLogin, BrowserPurpose::SignIn] {
            assert_eq!(
                waiting_step(System, purpose),
                ShellStep::WaitingInSystemBrowser
            );
        }
    }
}
