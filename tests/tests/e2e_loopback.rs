//! End-to-end, loopback mode (`userAgent: "loopback"`, RFC 8252 §7.3) in the real window: the
//! app opens the user's browser through `BROWSER`, here a shim script that only writes the URL
//! to a file. The test is that browser: it reads the URL, signs in against the bundled identity
//! server with [`ScriptedBrowser`], and delivers the final URL to the app's listener with an
//! HTTP GET (after a forged one with another state, which must get a 400 and change nothing).
//! First run, Home, refresh, sign-out, Cancel, and sign-in again; screenshots of the waiting
//! screen go to $DCR_ARTIFACTS/screenshots.

mod support;

use std::sync::Arc;

use dcr_tests::loopback::{listening_sockets, Delivery, LoopbackBrowser};
use dcr_tests::{Idp, ScriptedBrowser};
use serde_json::json;
use support::app::{
    current_state, launch_with_browser as launch, wait_for_state, write_config, RECORD_IPC,
};
use support::browser_shim::BrowserShim;
use support::desktop::ONE_WINDOW_AT_A_TIME;
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
    let _one = ONE_WINDOW_AT_A_TIME.lock().await;
    let idp = Idp::start().await;
    let config = write_config(&idp, json!({ "userAgent": "loopback" }));
    let shim = BrowserShim::new("loopback", &idp);
    let browser = Arc::new(ScriptedBrowser::new());

    let desktop = launch(&config, &shim).await;
    desktop.find("#register").await;
    desktop.eval(RECORD_IPC).await;

    // First run: the registration login opens in the user's browser; the app waits.
    desktop.click("#register").await;
    desktop
        .wait_for_text("#progress", "Finish signing in in your browser")
        .await;
    desktop.find("#cancel-browser").await;
    desktop.find("#open-browser-again").await;
    let login = shim.wait_for(1).await;
    desktop.screenshot("loopback-01-finish-in-browser").await;
    // "Open the browser again" opens the same request (same listener, same state).
    desktop.click("#open-browser-again").await;
    assert_eq!(shim.wait_for(2).await, login);
    let first = finish_in_browser(&browser, login).await;
    assert!(
        listening_sockets(port_of(&first)).is_empty(),
        "the listener is gone after its step"
    );
    // The SSO sign-in follows by itself, in the browser again, on a new port.
    let sign_in = finish_in_browser(&browser, shim.wait_for(3).await).await;
    assert_ne!(port_of(&first), port_of(&sign_in));
    desktop.wait_for_text("#user-name", "Demo User").await;
    desktop.screenshot("loopback-02-home").await;
    assert_eq!(
        browser.password_posts(),
        1,
        "one password for the first run"
    );
    let clients = idp.admin_list_clients().await;
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0].redirect_uris, ["http://127.0.0.1/callback"]);

    // Refresh: no browser.
    desktop.click("#refresh").await;
    wait_for_state(&desktop, "lastEvent", "refreshed").await;

    // Sign out: the end-session page in the browser, back to a loopback listener.
    desktop.click("#sign-out").await;
    desktop
        .wait_for_text("#progress", "Finish signing out in your browser")
        .await;
    desktop.screenshot("loopback-03-finish-sign-out").await;
    finish_in_browser(&browser, shim.wait_for(4).await).await;
    desktop.find("#sign-in").await;
    wait_for_state(&desktop, "lastEvent", "signedOut").await;

    // Cancel while the browser has the page: neutral, the listener closes.
    desktop.click("#sign-in").await;
    desktop
        .wait_for_text("#progress", "Finish signing in in your browser")
        .await;
    let abandoned = shim.wait_for(5).await;
    desktop.click("#cancel-browser").await;
    desktop.find("#sign-in").await;
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
    assert_eq!(current_state(&desktop).await["state"], "registered");

    // Sign in again: the server session ended, so the password is asked again.
    desktop.click("#sign-in").await;
    finish_in_browser(&browser, shim.wait_for(6).await).await;
    desktop.wait_for_text("#user-name", "Demo User").await;
    assert_eq!(browser.password_posts(), 2);

    // No secret the server issued reached the webview.
    let seen = desktop
        .eval("return window.__dcrSeen || [];")
        .await
        .to_string();
    assert!(seen.contains("waitingInBrowser"), "{seen}");
    for secret in idp.admin_issued_secrets().await {
        assert!(!seen.contains(&secret), "a secret reached the webview");
    }
    desktop.close().await;
}
