//! End-to-end, each user-agent mode in the real window:
//!
//! - Embedded mode: the reported case of a hidden SSO window that never became visible. After
//!   a sign-out (the identity server's session is over), *Sign in* runs the SSO sign-in in a
//!   hidden window; the server needs the user, so the window must be shown, and a few seconds
//!   in the waiting screen offers "Show the sign-in window" (which shows it) and Cancel (which
//!   closes it, neutrally). Then the sign-in works again. No mode choice with one mode.
//! - A choice of mode: `userAgent: ["embedded", "loopback"]` offers both on the registration
//!   screen (embedded preselected); choosing loopback registers with the loopback redirect, and
//!   after a restart the app finds that registration and signs in the loopback way again.
//!
//! Screenshots go to $DCR_ARTIFACTS/screenshots.

use std::sync::Arc;
use std::time::Duration;

use dcr_tests::app::{
    current_state, fresh_app, launch_with_browser as launch, register_through_ui,
    sign_out_through_ui, type_password, write_config,
};
use dcr_tests::browser_shim::BrowserShim;
use dcr_tests::desktop::{Desktop, ONE_WINDOW_AT_A_TIME};
use dcr_tests::loopback::LoopbackBrowser;
use dcr_tests::{Idp, ScriptedBrowser, DEMO_USER};
use serde_json::json;
use url::Url;

/// Polls the current window's `document.visibilityState` until it is `visible` (WebKit reports
/// `hidden` for a window that is not shown).
async fn wait_until_visible(desktop: &Desktop) {
    let mut last = serde_json::Value::Null;
    for _ in 0..100 {
        last = desktop.eval("return document.visibilityState;").await;
        if last == "visible" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the sign-in window never became visible: {last}");
}

/// Whether the X server maps a top-level window titled "Sign in — …" (the sign-in window),
/// asked from outside the app and outside WebDriver (`xwininfo`, x11-utils, on the test's Xvfb
/// display): `None` when there is no such window, else whether one is viewable.
fn sign_in_window_viewable() -> Option<bool> {
    let tree = std::process::Command::new("xwininfo")
        .args(["-root", "-tree"])
        .output()
        .expect("xwininfo (x11-utils) runs");
    let tree = String::from_utf8_lossy(&tree.stdout);
    let ids: Vec<&str> = tree
        .lines()
        .filter(|line| line.contains("\"Sign in"))
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    if ids.is_empty() {
        return None;
    }
    Some(ids.iter().any(|id| {
        std::process::Command::new("xwininfo")
            .args(["-id", id])
            .output()
            .is_ok_and(|info| {
                String::from_utf8_lossy(&info.stdout).contains("Map State: IsViewable")
            })
    }))
}

/// Polls until the sign-in window's map state is `wanted` (`None`: no such window).
async fn wait_for_sign_in_window(wanted: Option<bool>) {
    let mut last = None;
    for _ in 0..100 {
        last = sign_in_window_viewable();
        if last == wanted {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the sign-in window's X11 map state stayed {last:?}, expected {wanted:?}");
}

/// Polls until only the main window is left.
async fn wait_for_one_window(desktop: &Desktop) {
    for _ in 0..100 {
        if desktop.client.windows().await.map(|w| w.len()).unwrap_or(0) == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the sign-in window never closed");
}

#[tokio::test(flavor = "multi_thread")]
async fn embedded_sign_in_window_offers_show_and_cancel() {
    let fresh = fresh_app().await;
    let (desktop, main) = (&fresh.desktop, &fresh.main);

    // One mode allowed: no choice on the registration screen.
    desktop.find("#register").await;
    assert!(!desktop.has("#mode-choice").await);
    register_through_ui(desktop, main).await;
    sign_out_through_ui(desktop, main).await;

    // The SSO sign-in starts hidden; the server has no session, so it needs the user: the
    // window is mapped by itself (after 1.5 s), seen from the X server, not through WebDriver.
    desktop.click("#sign-in").await;
    wait_for_sign_in_window(Some(true)).await;
    desktop.find("#show-sign-in-window").await;
    desktop
        .wait_for_text("#progress", "Waiting for you to sign in")
        .await;
    desktop.find("#cancel-sign-in").await;
    assert_eq!(
        current_state(desktop).await["userAgent"],
        "embedded",
        "the default mode"
    );
    desktop
        .screenshot("embedded-01-show-the-sign-in-window")
        .await;
    desktop.click("#show-sign-in-window").await;
    let window = desktop.switch_to_other_window(main).await;
    wait_until_visible(desktop).await;
    desktop.find("#password").await;

    // Cancel from the main window closes the sign-in window: neutral, still registered.
    desktop.client.switch_to_window(main.clone()).await.ok();
    desktop.click("#cancel-sign-in").await;
    desktop.wait_for_text("#notice", "cancelled").await;
    desktop.find("#sign-in").await;
    wait_for_one_window(desktop).await;
    wait_for_sign_in_window(None).await;
    assert!(desktop
        .client
        .windows()
        .await
        .unwrap()
        .iter()
        .all(|w| *w != window));
    assert_eq!(current_state(desktop).await["state"], "registered");

    // And signing in still works, in a new window.
    desktop.click("#sign-in").await;
    desktop.switch_to_other_window(main).await;
    wait_until_visible(desktop).await;
    type_password(desktop, DEMO_USER.0, DEMO_USER.1).await;
    desktop.back_to_main(main).await;
    desktop.wait_for_text("#user-name", "Demo User").await;
}

fn redirect_of(opened: &Url) -> String {
    opened
        .query_pairs()
        .find(|(name, _)| name == "redirect_uri")
        .map(|(_, value)| value.into_owned())
        .expect("a redirect_uri")
}

/// Calls `register` with `mode` the way the registration screen does, and returns the error it
/// answers with (`{kind, message}`), or `{}` if it succeeded.
async fn register_in_mode(desktop: &Desktop, mode: &str) -> serde_json::Value {
    desktop
        .eval_async(&format!(
            "const done = arguments[arguments.length - 1];
             window.__TAURI__.core.invoke('register', {{ mode: '{mode}' }}).then(() => done({{}}), done);"
        ))
        .await
}

/// `register` with `mode` is refused as a `userAgent` error whose message says `because`.
async fn assert_mode_refused(desktop: &Desktop, mode: &str, because: &str) {
    let refused = register_in_mode(desktop, mode).await;
    assert_eq!(refused["kind"], "userAgent", "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap_or_default()
            .contains(because),
        "{refused}"
    );
}

/// One browser step in the user's browser, back to the app's loopback listener.
async fn finish_in_browser(browser: &Arc<ScriptedBrowser>, opened: Url) {
    let delivery = LoopbackBrowser::play(browser.clone(), opened).await;
    assert_eq!(delivery.error, None, "{delivery:?}");
    assert_eq!(delivery.status, Some(200), "{delivery:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn choosing_loopback_on_the_registration_screen_binds_the_registration() {
    let _one = ONE_WINDOW_AT_A_TIME.lock().await;
    let idp = Idp::start().await;
    let config = write_config(&idp, json!({ "userAgent": ["embedded", "loopback"] }));
    let shim = BrowserShim::new("modes", &idp);
    let browser = Arc::new(ScriptedBrowser::new());

    let desktop = launch(&config, &shim).await;
    desktop.find("#mode-choice").await;
    assert_eq!(
        desktop
            .eval("return [...document.querySelectorAll('#mode-choice input')].map((r) => r.value + ':' + r.checked);")
            .await,
        json!(["embedded:true", "loopback:false"]),
        "both allowed modes, the first preselected"
    );
    let state = current_state(&desktop).await;
    assert_eq!(state["userAgents"], json!(["embedded", "loopback"]));
    desktop.screenshot("modes-01-choose").await;

    // The webview can ask only for a mode the config allows.
    assert_mode_refused(&desktop, "system", "not allowed").await;
    assert_eq!(current_state(&desktop).await["state"], "unregistered");

    desktop.click("#mode-loopback").await;
    desktop
        .wait_for_text("#register-how", "Your web browser will open")
        .await;
    desktop.click("#register").await;
    desktop
        .wait_for_text("#progress", "Finish signing in in your browser")
        .await;
    let login = shim.wait_for(1).await;
    assert!(
        redirect_of(&login).starts_with("http://127.0.0.1:"),
        "{login}"
    );
    finish_in_browser(&browser, login).await;
    let sign_in = shim.wait_for(2).await;
    assert!(redirect_of(&sign_in).starts_with("http://127.0.0.1:"));
    finish_in_browser(&browser, sign_in).await;
    desktop.wait_for_text("#user-name", "Demo User").await;
    let client = idp.admin_the_only_client().await;
    assert_eq!(client.redirect_uris, ["http://127.0.0.1/callback"]);
    assert_eq!(current_state(&desktop).await["userAgent"], "loopback");
    // Bound: another mode is refused while this registration exists.
    assert_mode_refused(&desktop, "embedded", "already registered").await;
    assert_eq!(current_state(&desktop).await["userAgent"], "loopback");
    desktop.close().await;

    // A restart finds the loopback registration (not the default mode's empty entry) and
    // signs in the loopback way again.
    let desktop = launch(&config, &shim).await;
    desktop.find("#sign-in").await;
    assert_eq!(current_state(&desktop).await["userAgent"], "loopback");
    desktop.click("#sign-in").await;
    let again = shim.wait_for(3).await;
    assert!(redirect_of(&again).starts_with("http://127.0.0.1:"));
    finish_in_browser(&browser, again).await;
    desktop.wait_for_text("#user-name", "Demo User").await;
    assert_eq!(idp.admin_list_clients().await.len(), 1, "no second client");
    desktop.close().await;
}
