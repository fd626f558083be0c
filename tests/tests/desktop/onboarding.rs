//! End-to-end: the built app in a real WebKitGTK window, the real gnome-keyring and the bundled
//! identity server. A person's clicks and keystrokes, through tauri-driver and WebKitWebDriver.
//! Every screen is saved as a screenshot (the paths are printed).

use std::time::Duration;

use dcr_tests::app::{
    assert_no_secret_recorded, current_state, finish_sign_in, forget_through_ui, fresh_app, launch,
    open_registration_window, registered_app, sign_out_through_ui, type_password, write_config,
    RECORD_IPC,
};
use dcr_tests::desktop::ONE_WINDOW_AT_A_TIME;
use dcr_tests::{Idp, DEMO_USER};
use serde_json::json;

/// 1–4 and 10: first run, refresh, sign out, sign in again with the password, restart.
#[tokio::test(flavor = "multi_thread")]
async fn first_run_refresh_sign_out_sign_in_and_restart() {
    let _one = ONE_WINDOW_AT_A_TIME.lock().await;
    let idp = Idp::start().await;
    let config = write_config(&idp, json!({}));

    let desktop = launch(&config).await;
    let main = desktop.main_window().await;
    assert_eq!(desktop.text_of("h1").await, "Register this device");
    assert_eq!(
        desktop.eval(RECORD_IPC).await,
        json!(true),
        "the UI's command path is recorded"
    );
    // A command reply through the UI's own path lands in the record (not only event payloads).
    let recorded = desktop
        .eval_async(
            "const done = arguments[arguments.length - 1];
             const before = window.__dcrSeen.length;
             window.__TAURI__.core.invoke('get_state').then(() => done(window.__dcrSeen.length - before));",
        )
        .await;
    assert_eq!(recorded, json!(1), "one reply, one record");
    desktop.screenshot("01-register").await;

    // 1. One click, one password: registration and the SSO sign-in follow by themselves.
    desktop.click("#register").await;
    desktop
        .wait_for_text("#progress", "Waiting for you to sign in")
        .await;
    desktop.screenshot("01b-waiting-for-sign-in").await;
    desktop.switch_to_other_window(&main).await;
    desktop.find("#password").await;
    desktop.screenshot("02-sign-in-window").await;
    finish_sign_in(&desktop, &main).await;
    desktop.screenshot("03-home").await;

    let clients = idp.admin_list_clients().await;
    assert_eq!(clients.len(), 1, "exactly one dynamic client is registered");
    assert_eq!(desktop.text_of("#client-id").await, clients[0].client_id);

    // 2. Refresh shows a new expiry.
    let before = current_state(&desktop).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    desktop.click("#refresh").await;
    let mut after = current_state(&desktop).await;
    for _ in 0..50 {
        if after["tokenFingerprint"] != before["tokenFingerprint"] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        after = current_state(&desktop).await;
    }
    assert_ne!(
        after["tokenFingerprint"], before["tokenFingerprint"],
        "refresh brought a new access token"
    );
    assert!(
        after["accessTokenExpiresAt"].as_i64() > before["accessTokenExpiresAt"].as_i64(),
        "the expiry moved on"
    );
    desktop.screenshot("04-home-refreshed").await;

    // 3. Sign out (RP-initiated logout in the sign-in window), then sign in asks for the password.
    sign_out_through_ui(&desktop, &main).await;
    desktop.find("#sign-in").await;
    desktop.screenshot("05-signed-out").await;

    desktop.click("#sign-in").await;
    desktop.switch_to_other_window(&main).await;
    desktop.find("#password").await;
    finish_sign_in(&desktop, &main).await;

    // 10. No command response or event payload carried a secret the server issued.
    assert_no_secret_recorded(&desktop, &idp, "signedIn").await;
    desktop.close().await;

    // 4. Restart: the registration comes back from the keychain; the Sign-in screen, not Registration.
    let desktop = launch(&config).await;
    desktop.find("#sign-in").await;
    desktop.wait_for_text("main", "Welcome back").await;
    desktop.screenshot("06-welcome-back").await;
    desktop.close().await;
    assert_eq!(
        idp.admin_list_clients().await.len(),
        1,
        "the restart did not register again"
    );
}

/// 5: an administrator deletes this device's client; the next refresh leads back to Registration.
#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_client_leads_back_to_registration() {
    let (_one, idp, desktop, _) = registered_app().await.parts();

    idp.admin_delete_the_only_client().await;
    desktop.click("#refresh").await;
    desktop.wait_for_text("main", "no longer valid").await;
    desktop.screenshot("07-revoked").await;
    let state = current_state(&desktop).await;
    assert_eq!(state["state"], "unregistered");
    assert_eq!(state["reason"], "revoked");
    desktop.close().await;
}

/// 6: Forget this device deletes the client on the server and returns to Registration.
#[tokio::test(flavor = "multi_thread")]
async fn forget_this_device_deletes_the_client() {
    let (_one, idp, desktop, _) = registered_app().await.parts();
    assert_eq!(idp.admin_list_clients().await.len(), 1);

    desktop.click("#forget").await;
    desktop.find("#forget-confirm").await;
    desktop.screenshot("08-forget-confirm").await;
    desktop.click("#forget-confirm").await;
    desktop.wait_for_text("h1", "Register this device").await;
    assert!(
        idp.admin_list_clients().await.is_empty(),
        "RFC 7592 delete removed the client on the server"
    );
    desktop.close().await;
}

/// 6b: when the server part of forget fails (the administrator already
/// deleted the client, so the RFC 7592 delete is answered 401), the app says so instead of the
/// happy sentence, and offers Try again (the `finish_server_cleanup` command, which the main
/// window may call).
#[tokio::test(flavor = "multi_thread")]
async fn forget_that_the_server_did_not_confirm_says_so_and_offers_retry() {
    let (_one, idp, desktop, _) = registered_app().await.parts();
    idp.admin_delete_the_only_client().await;

    forget_through_ui(&desktop).await;
    let shown = desktop
        .wait_for_text("#pending-cleanup", "the identity server could not be told")
        .await;
    assert!(shown.contains("may still be active"), "{shown}");
    assert_eq!(desktop.text_of("h1").await, "Register this device");
    let state = current_state(&desktop).await;
    assert_eq!(state["lastEvent"], "forgottenLocally");
    assert_eq!(state["pendingServerCleanup"], "forget");
    desktop.screenshot("08b-forgotten-locally").await;

    // Try again: the server still refuses, so the app still says so (no error screen).
    desktop.click("#finish-cleanup").await;
    desktop
        .wait_for_text("#pending-cleanup", "the identity server could not be told")
        .await;
    assert_eq!(
        current_state(&desktop).await["pendingServerCleanup"],
        "forget"
    );
    assert_eq!(desktop.text_of("h1").await, "Register this device");
    desktop.close().await;
}

/// 7: closing the sign-in window mid-login is neutral: "cancelled", state unchanged.
#[tokio::test(flavor = "multi_thread")]
async fn closing_the_sign_in_window_cancels_neutrally() {
    let (_one, idp, desktop, main) = fresh_app().await.parts();

    open_registration_window(&desktop, &main).await;
    desktop.find("#password").await;
    close_sign_in_window(&desktop).await;
    desktop.back_to_main(&main).await;
    desktop.wait_for_text("#notice", "cancelled").await;
    assert_eq!(desktop.text_of("h1").await, "Register this device");
    desktop.screenshot("09-cancelled").await;
    assert_eq!(current_state(&desktop).await["state"], "unregistered");
    assert!(idp.admin_list_clients().await.is_empty());
    desktop.close().await;
}

/// 8: a wrong password shows the identity server's own error; the right one then succeeds.
#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_shows_the_server_error_then_succeeds() {
    // `_idp` is kept alive: dropping it stops the identity server.
    let (_one, _idp, desktop, main) = fresh_app().await.parts();

    open_registration_window(&desktop, &main).await;
    type_password(&desktop, DEMO_USER.0, "not-the-password").await;
    desktop
        .wait_for_text("#login-error", "Invalid username or password")
        .await;
    desktop.screenshot("10-wrong-password").await;
    finish_sign_in(&desktop, &main).await;
    desktop.close().await;
}

/// Closes the current (sign-in) window as a user would. The close can race the app's own
/// teardown of the window, so WebDriver's answer is not awaited for long.
async fn close_sign_in_window(desktop: &dcr_tests::desktop::Desktop) {
    let _ = tokio::time::timeout(Duration::from_secs(10), desktop.client.close_window()).await;
}

/// 9: script in the sign-in window cannot call any app command (X7).
#[tokio::test(flavor = "multi_thread")]
async fn the_sign_in_window_cannot_call_app_commands() {
    // `_idp` is kept alive: dropping it stops the identity server.
    let (_one, _idp, desktop, main) = fresh_app().await.parts();

    open_registration_window(&desktop, &main).await;
    desktop.find("#password").await;
    let outcome = desktop
        .eval_async(
            "const done = arguments[arguments.length - 1];
             const internals = window.__TAURI_INTERNALS__;
             if (!internals || typeof internals.invoke !== 'function') { done('no IPC at all'); return; }
             // A {kind, message} rejection comes from our own command: it ran, so it was reached.
             const attempts = [['get_state'], ['register'], ['forget_device'], ['install_config', { text: '{}' }]].map(([cmd, args]) =>
                 internals.invoke(cmd, args).then((v) => 'ALLOWED ' + cmd + ' ' + JSON.stringify(v),
                     (e) => (e && typeof e === 'object' && 'kind' in e ? 'ALLOWED ' : 'denied ') + cmd + ': ' + JSON.stringify(e)));
             Promise.all(attempts).then((all) => done(all.join('\\n')));
             setTimeout(() => done('no answer (denied)'), 5000);",
        )
        .await;
    let outcome = outcome.as_str().unwrap_or_default().to_owned();
    println!("IPC from the sign-in window: {outcome}");
    assert!(
        !outcome.contains("ALLOWED"),
        "the sign-in window reached an app command: {outcome}"
    );
    close_sign_in_window(&desktop).await;
    desktop.back_to_main(&main).await;
    desktop.close().await;
}
