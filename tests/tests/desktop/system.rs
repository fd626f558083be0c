//! End-to-end, system mode (`userAgent: "system"`, RFC 8252 §7.1) in the real window: the app
//! opens the user's browser through `BROWSER`, here a shim script that only writes the URL to a
//! file. The test is that browser: it reads the URL, signs in against the bundled identity
//! server with [`ScriptedBrowser`] (which stops at the `io.curity.dcrclient:` Location), and
//! delivers the final URL the way the OS does: it launches the app binary again with the URL
//! as its only argument; the single-instance plugin hands it to the running app and exits.
//! Before the real link a forged one (wrong state), after it a duplicate: both ignored.
//! First run, "Open the browser again", Home, sign-out, Cancel (its late link ignored), then a
//! cold start with a callback URL (the normal screen), and in that restarted app a later
//! sign-in, a refresh and a sign-out; the app's log shows each ignored link and why. The
//! waiting screen's hint is system mode's own (no loopback "close the tab" wording). Screenshots go to $DCR_ARTIFACTS/screenshots.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::in_browser::{first_run_in_browser, FINISH_SIGN_IN};
use dcr_tests::app::{assert_no_secret_recorded, current_state, wait_for_state};
use dcr_tests::desktop::{app_binary, Desktop};
use dcr_tests::loopback::forged_state as forged;
use dcr_tests::{ScriptedBrowser, DEMO_USER};
use url::Url;

/// What the OS does with a `io.curity.dcrclient:` URL: start the app with the URL as its only
/// argument. The config comes from `DCR_CONFIG`, as for a user's installed config. The second
/// instance must hand the URL over and exit successfully.
async fn deliver_as_the_os(config: &Path, link: &Url) {
    let status = tokio::process::Command::new(app_binary())
        .arg(link.as_str())
        .env("DCR_CONFIG", config)
        .kill_on_drop(true)
        .status();
    let status = tokio::time::timeout(Duration::from_secs(60), status)
        .await
        .expect("the second instance exits")
        .expect("the app binary starts");
    assert!(status.success(), "the second instance: {status}");
}

/// The running app's log lines that say a deep link was ignored, and why (`reason=…`). The
/// log names the reason, never the link. `scripts/test.sh` gives each run its own
/// `XDG_DATA_HOME`, and only this test delivers deep links.
fn ignored_links() -> Vec<String> {
    let Some(data) = std::env::var_os("XDG_DATA_HOME") else {
        return Vec::new();
    };
    let log = PathBuf::from(data).join("io.curity.dcrclient/logs/dcr-client.log");
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|line| line.contains("ignored a deep link"))
        .map(str::to_owned)
        .collect()
}

/// Waits until the app has logged `count` ignored links; the last one's reason must be
/// `reason`. The app handles a forwarded link on its event loop, after the second instance
/// has exited.
async fn wait_for_ignored(count: usize, reason: &str) {
    for _ in 0..150 {
        let ignored = ignored_links();
        if ignored.len() >= count {
            assert_eq!(ignored.len(), count, "{ignored:#?}");
            assert!(ignored[count - 1].contains(reason), "{ignored:#?}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!(
        "the app logged {:#?}, expected {count} ignored links",
        ignored_links()
    );
}

/// One browser step as the user's browser does it: the link it ends at.
async fn sign_in_in_browser(browser: &Arc<ScriptedBrowser>, url: Url) -> Url {
    let link = browser
        .open(url, Some(DEMO_USER))
        .await
        .expect("the browser reaches the redirect");
    assert_eq!(link.scheme(), "io.curity.dcrclient", "{link}");
    link
}

#[tokio::test(flavor = "multi_thread")]
async fn system_first_run_forged_and_duplicate_links_and_sign_out() {
    // First run: the registration login opens in the user's browser; the app waits.
    let run = first_run_in_browser("system").await;
    let (idp, config, shim, browser) = (&run.idp, &run.config, &run.shim, &run.browser);
    let desktop = &run.desktop;
    let script = shim.script();
    // System mode's own text: the answer comes back through the OS, there is no loopback
    // "You can close this tab" page to wait for.
    let hint = desktop
        .wait_for_text("#progress-hint", "hands you back to this app")
        .await;
    assert!(!hint.contains("close the tab"), "{hint}");
    let login = shim.wait_for(1).await;
    assert_eq!(
        login
            .query_pairs()
            .find(|(name, _)| name == "redirect_uri")
            .map(|(_, value)| value.into_owned())
            .as_deref(),
        Some("io.curity.dcrclient:/callback")
    );
    desktop.screenshot("system-01-finish-in-browser").await;
    // "Open the browser again" opens the same request (same state).
    desktop.click("#open-browser-again").await;
    assert_eq!(shim.wait_for(2).await, login);
    let link = sign_in_in_browser(browser, login).await;

    // A forged link (another state) first: ignored, the step still waits.
    let before = ignored_links().len();
    deliver_as_the_os(config, &forged(&link)).await;
    wait_for_ignored(before + 1, "reason=WrongState").await;
    assert_eq!(current_state(desktop).await["state"], "unregistered");
    desktop.wait_for_text("#progress", FINISH_SIGN_IN).await;
    // The real one ends the registration login; the SSO sign-in follows in the browser.
    deliver_as_the_os(config, &link).await;
    let sign_in = sign_in_in_browser(browser, shim.wait_for(3).await).await;
    // The first link again, now for a step that has ended: ignored.
    deliver_as_the_os(config, &link).await;
    wait_for_ignored(before + 2, "reason=WrongState").await;
    deliver_as_the_os(config, &sign_in).await;
    run.assert_home_after_one_password("io.curity.dcrclient:/callback")
        .await;
    desktop.screenshot("system-02-home").await;

    // A duplicate of the sign-in's link, with nothing waiting: ignored, still signed in.
    deliver_as_the_os(config, &sign_in).await;
    wait_for_ignored(before + 3, "reason=NoStepWaiting").await;
    let state = current_state(desktop).await;
    assert_eq!(state["state"], "signedIn", "{state}");

    // Sign out: the end-session page in the browser, back through the OS.
    desktop.click("#sign-out").await;
    desktop
        .wait_for_text("#progress", "Finish signing out in your browser")
        .await;
    let hint = desktop
        .wait_for_text("#progress-hint", "hands you back to this app")
        .await;
    assert!(!hint.contains("close the tab"), "{hint}");
    desktop.screenshot("system-03-finish-sign-out").await;
    let signed_out = sign_in_in_browser(browser, shim.wait_for(4).await).await;
    deliver_as_the_os(config, &signed_out).await;
    desktop.find("#sign-in").await;
    wait_for_state(desktop, "lastEvent", "signedOut").await;
    desktop.screenshot("system-04-signed-out").await;

    // Cancel while the browser has the page; its link, arriving later, finds nothing waiting.
    let abandoned = run.sign_in_then_cancel(5).await;
    let late = sign_in_in_browser(browser, abandoned).await;
    deliver_as_the_os(config, &late).await;
    wait_for_ignored(before + 4, "reason=NoStepWaiting").await;
    assert_eq!(current_state(desktop).await["state"], "registered");

    // No secret the server issued reached the webview.
    assert_no_secret_recorded(desktop, idp, "waitingInSystemBrowser").await;
    run.desktop.close().await;

    // A cold start with a callback URL (the OS started the app for a link, nothing running):
    // nothing waits, so the link is ignored and the normal screen shows.
    let cold = Desktop::launch_with_env(
        &[signed_out.as_str()],
        &[
            ("DCR_CONFIG", Some(config.as_os_str())),
            ("BROWSER", Some(script.as_os_str())),
        ],
    )
    .await;
    cold.find("#sign-in").await;
    wait_for_ignored(before + 5, "reason=NoStepWaiting").await;
    assert_eq!(current_state(&cold).await["state"], "registered");
    cold.screenshot("system-05-cold-start-with-a-link").await;

    // A later sign-in after the restart, with the stored registration: the browser again (the
    // server's session ended at sign-out, so the password too), back through the OS.
    cold.click("#sign-in").await;
    cold.wait_for_text("#progress", FINISH_SIGN_IN).await;
    let later = sign_in_in_browser(browser, shim.wait_for(6).await).await;
    deliver_as_the_os(config, &later).await;
    cold.wait_for_text("#user-name", "Demo User").await;
    assert_eq!(
        idp.admin_list_clients().await.len(),
        1,
        "the same registration"
    );
    let signed_in = current_state(&cold).await;
    assert_eq!(signed_in["userAgent"], "system", "{signed_in}");

    // Refresh: no browser; a new access token.
    cold.click("#refresh").await;
    let refreshed = wait_for_state(&cold, "lastEvent", "refreshed").await;
    assert_ne!(refreshed["tokenFingerprint"], signed_in["tokenFingerprint"]);
    assert_eq!(shim.opened().len(), 6, "a refresh opens no browser");

    // And sign out once more.
    cold.click("#sign-out").await;
    let out = sign_in_in_browser(browser, shim.wait_for(7).await).await;
    deliver_as_the_os(config, &out).await;
    wait_for_state(&cold, "lastEvent", "signedOut").await;
    cold.find("#sign-in").await;
    cold.close().await;
}
