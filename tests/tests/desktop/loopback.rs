//! End-to-end, loopback mode (`userAgent: "loopback"`, RFC 8252 §7.3) in the real window: the
//! app opens the user's browser through `BROWSER`, here a shim script that only writes the URL
//! to a file. The test is that browser: it reads the URL, signs in against the bundled identity
//! server with [`ScriptedBrowser`], and delivers the final URL to the app's listener with an
//! HTTP GET (after a forged one with another state, which must get a 400 and change nothing).
//! First run, Home, refresh, sign-out, Cancel, and sign-in again; screenshots of the waiting
//! screen go to $DCR_ARTIFACTS/screenshots.

use std::sync::Arc;

use crate::in_browser::first_run_in_browser;
use dcr_tests::app::{assert_no_secret_recorded, current_state, wait_for_state};
use dcr_tests::loopback::{listening_sockets, Delivery, LoopbackBrowser};
use dcr_tests::ScriptedBrowser;
use url::Url;

/// One browser step as the user's browser does it; checks the listener on the way.
async fn finish_in_browser(browser: &Arc<ScriptedBrowser>, url: Url) -> Delivery {
    let delivery = LoopbackBrowser::play(browser.clone(), url).await;
    assert_eq!(delivery.error, None, "{delivery:?}");
    assert_eq!(
        delivery.loopback_only,
        Some(true),
        "bound to 127.0.0.1 only"
    );
    assert_eq!(delivery.forged_status, Some(400), "wrong state: 400");
    assert_eq!(delivery.status, Some(200), "the real callback");
    assert!(delivery
        .page
        .as_deref()
        .unwrap_or_default()
        .contains("You can close this tab"));
    delivery
}

fn port_of(delivery: &Delivery) -> u16 {
    delivery
        .callback
        .as_ref()
        .and_then(Url::port)
        .expect("a loopback callback has a port")
}

#[tokio::test(flavor = "multi_thread")]
async fn loopback_first_run_refresh_sign_out_cancel_and_sign_in() {
    // First run: the registration login opens in the user's browser; the app waits.
    let run = first_run_in_browser("loopback").await;
    let (idp, shim, browser, desktop) = (&run.idp, &run.shim, &run.browser, &run.desktop);
    desktop.find("#open-browser-again").await;
    let login = shim.wait_for(1).await;
    desktop.screenshot("loopback-01-finish-in-browser").await;
    // "Open the browser again" opens the same request (same listener, same state).
    desktop.click("#open-browser-again").await;
    assert_eq!(shim.wait_for(2).await, login);
    let first = finish_in_browser(browser, login).await;
    assert!(
        listening_sockets(port_of(&first)).is_empty(),
        "the listener is gone after its step"
    );
    // The SSO sign-in follows by itself, in the browser again, on a new port.
    let sign_in = finish_in_browser(browser, shim.wait_for(3).await).await;
    assert_ne!(port_of(&first), port_of(&sign_in));
    run.assert_home_after_one_password("http://127.0.0.1/callback")
        .await;
    desktop.screenshot("loopback-02-home").await;

    // Refresh: no browser.
    desktop.click("#refresh").await;
    wait_for_state(desktop, "lastEvent", "refreshed").await;

    // Sign out: the end-session page in the browser, back to a loopback listener.
    desktop.click("#sign-out").await;
    desktop
        .wait_for_text("#progress", "Finish signing out in your browser")
        .await;
    desktop.screenshot("loopback-03-finish-sign-out").await;
    finish_in_browser(browser, shim.wait_for(4).await).await;
    desktop.find("#sign-in").await;
    wait_for_state(desktop, "lastEvent", "signedOut").await;

    // Cancel while the browser has the page: neutral, the listener closes.
    let abandoned = run.sign_in_then_cancel(5).await;
    let abandoned_port = Url::parse(
        &abandoned
            .query_pairs()
            .find(|(name, _)| name == "redirect_uri")
            .expect("a redirect_uri")
            .1,
    )
    .expect("a URL")
    .port()
    .expect("a port");
    assert!(listening_sockets(abandoned_port).is_empty());
    assert_eq!(current_state(desktop).await["state"], "registered");

    // Sign in again: the server session ended, so the password is asked again.
    desktop.click("#sign-in").await;
    finish_in_browser(browser, shim.wait_for(6).await).await;
    desktop.wait_for_text("#user-name", "Demo User").await;
    assert_eq!(browser.password_posts(), 2);

    // No secret the server issued reached the webview.
    assert_no_secret_recorded(desktop, idp, "waitingInBrowser").await;
    run.desktop.close().await;
}
