//! The loopback and system-mode end-to-end tests: the app with the `BROWSER` shim as the user's
//! browser, and the test playing that browser with the scripted one. Both start alike: their
//! own identity server, the app on the first screen recording its IPC, then Register and the
//! screen that waits for the browser.

use std::path::PathBuf;
use std::sync::Arc;

use dcr_tests::app::{launch_with_browser, write_config, RECORD_IPC};
use dcr_tests::browser_shim::BrowserShim;
use dcr_tests::desktop::{Desktop, ONE_WINDOW_AT_A_TIME};
use dcr_tests::{Idp, ScriptedBrowser};
use serde_json::json;
use url::Url;

/// What the app shows while a browser step waits for the user's browser.
pub const FINISH_SIGN_IN: &str = "Finish signing in in your browser";

pub struct InBrowser {
    pub _one: tokio::sync::MutexGuard<'static, ()>,
    pub idp: Idp,
    pub config: PathBuf,
    pub shim: BrowserShim,
    pub browser: Arc<ScriptedBrowser>,
    pub desktop: Desktop,
}

/// The app in `user_agent` mode (`loopback` or `system`) on its own identity server, alone on
/// the display, recording its IPC ([`RECORD_IPC`]); then Register, up to the screen that
/// waits for the browser (with its Cancel button).
pub async fn first_run_in_browser(user_agent: &str) -> InBrowser {
    let _one = ONE_WINDOW_AT_A_TIME.lock().await;
    let idp = Idp::start().await;
    let config = write_config(&idp, json!({ "userAgent": user_agent }));
    let shim = BrowserShim::new(user_agent, &idp);
    let browser = Arc::new(ScriptedBrowser::new());
    let desktop = launch_with_browser(&config, &shim).await;
    desktop.find("#register").await;
    desktop.eval(RECORD_IPC).await;

    // First run: the registration login opens in the user's browser; the app waits.
    desktop.click("#register").await;
    desktop.wait_for_text("#progress", FINISH_SIGN_IN).await;
    desktop.find("#cancel-browser").await;
    InBrowser {
        _one,
        idp,
        config,
        shim,
        browser,
        desktop,
    }
}

impl InBrowser {
    /// The first run done: Home, after one password (the sign-in that followed the
    /// registration login was single sign-on in the same browser), and one dynamic client
    /// registered with `redirect_uri`.
    pub async fn assert_home_after_one_password(&self, redirect_uri: &str) {
        self.desktop.wait_for_text("#user-name", "Demo User").await;
        assert_eq!(
            self.browser.password_posts(),
            1,
            "one password for the first run"
        );
        let client = self.idp.admin_the_only_client().await;
        assert_eq!(client.redirect_uris, [redirect_uri]);
    }

    /// Signed in or registered, the user clicks Sign in, the browser gets the page (the
    /// `opened`-th URL the shim saw), and the user cancels in the app: back to Sign in.
    /// Returns the abandoned request.
    pub async fn sign_in_then_cancel(&self, opened: usize) -> Url {
        self.desktop.click("#sign-in").await;
        self.desktop
            .wait_for_text("#progress", FINISH_SIGN_IN)
            .await;
        let abandoned = self.shim.wait_for(opened).await;
        self.desktop.click("#cancel-browser").await;
        self.desktop.find("#sign-in").await;
        abandoned
    }
}
