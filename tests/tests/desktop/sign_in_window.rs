//! End-to-end: one embedded sign-in window per command. The first run (the registration login,
//! the RFC 7591 registration, the single sign-on with the new client) is one command of two
//! browser steps, and both run in the same window: the SSO step navigates the web view that
//! showed the login form (it holds the identity server's session cookie), hidden between the
//! steps, instead of a second window; the window goes when the command ends.
//!
//! The SSO step's authorization request is held at the identity server (a `hang-before` fault,
//! docs/faults.md), so the test looks at the windows while that step is running, not in a race
//! with it: the same window handle as the login form's, and no other. Held, the step also has to
//! reach the user: the window is shown again and the waiting screen offers Cancel, which ends
//! the step (and the command) and leaves no window behind.

use std::time::Duration;

use dcr_tests::app::{current_state, fresh_app, type_password};
use dcr_tests::faults::{Action, Fault};
use dcr_tests::DEMO_USER;

#[tokio::test(flavor = "multi_thread")]
async fn the_first_run_signs_in_in_the_registration_window_and_cancel_still_ends_it() {
    let (_one, idp, desktop, main) = fresh_app().await.parts();
    // The second authorization request is the SSO step's (the first is the registration login's).
    idp.arm(Fault::new("GET", "/auth", 2, Action::HangBefore))
        .await;

    desktop.click("#register").await;
    let login_window = desktop.switch_to_other_window(&main).await;
    type_password(&desktop, DEMO_USER.0, DEMO_USER.1).await;
    // The registration callback came back, the client is registered, and the SSO request has
    // reached the server (where it is held).
    idp.wait_for_log("fault: holding").await;
    let handles = desktop.client.windows().await.expect("window handles");
    assert_eq!(
        handles.len(),
        2,
        "the main window and one sign-in window: {handles:?}"
    );
    assert!(
        handles.contains(&login_window),
        "the SSO step runs in the registration login's window"
    );
    assert_eq!(idp.admin_list_clients().await.len(), 1, "registered");

    // The step waits on the server: the window is shown, and the waiting screen offers Cancel.
    desktop
        .client
        .switch_to_window(main.clone())
        .await
        .expect("back to the main window");
    desktop.find("#show-sign-in-window").await;
    desktop.click("#cancel-sign-in").await;
    desktop.wait_for_text("#notice", "cancelled").await;
    desktop.find("#sign-in").await;
    wait_for_windows(&desktop, 1).await;
    assert_eq!(current_state(&desktop).await["state"], "registered");
    desktop.close().await;
}

/// Polls until WebDriver lists `count` windows.
async fn wait_for_windows(desktop: &dcr_tests::desktop::Desktop, count: usize) {
    let mut last = Vec::new();
    for _ in 0..100 {
        last = desktop.client.windows().await.unwrap_or_default();
        if last.len() == count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("expected {count} windows, WebDriver lists {last:?}");
}
