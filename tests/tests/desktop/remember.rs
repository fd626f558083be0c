//! Staying signed in in the real window: with `rememberSignIn: true`, the first run
//! ends on Home; after closing the app, the next start opens on Home directly (one refresh with
//! the refresh token from the keychain, no sign-in window). There, Home refreshes the access
//! token in the background before it expires.

use dcr_tests::app::{launch, register_through_ui, write_config};
use dcr_tests::desktop::{Desktop, ONE_WINDOW_AT_A_TIME};
use dcr_tests::{Idp, IdpOptions};

#[tokio::test(flavor = "multi_thread")]
async fn a_remembered_sign_in_opens_home_after_a_restart_and_refreshes_in_the_background() {
    let _one = ONE_WINDOW_AT_A_TIME.lock().await;
    // A 20-second access token: the background refresh is due 5 s before it expires.
    let idp = Idp::start_with(IdpOptions {
        access_token_ttl: Some(20),
        ..IdpOptions::default()
    })
    .await;
    let config = write_config(&idp, serde_json::json!({ "rememberSignIn": true }));

    let desktop = launch(&config).await;
    let main = desktop.main_window().await;
    register_through_ui(&desktop, &main).await;
    desktop.close().await;
    let refresh_tokens = issued_refresh_tokens(&idp).await;

    // Restart: Home directly, after exactly one refresh and without a sign-in window.
    let desktop = launch(&config).await;
    let main = desktop.main_window().await;
    desktop.wait_for_text("#user-name", "Demo User").await;
    desktop.screenshot("remembered-restart-home").await;
    assert!(
        desktop.new_window(&main).await.is_none(),
        "no sign-in window"
    );
    assert_eq!(
        issued_refresh_tokens(&idp).await,
        refresh_tokens + 1,
        "one refresh"
    );

    // The background refresh: a new token (fingerprint) without anyone clicking, Home stays.
    let first = desktop.text_of("#token-fingerprint").await;
    let second = wait_for_change(&desktop, "#token-fingerprint", &first).await;
    assert_ne!(first, second);
    assert!(desktop.has("#user-name").await, "Home stayed on screen");
    assert_eq!(issued_refresh_tokens(&idp).await, refresh_tokens + 2);

    desktop.click("#forget").await;
    desktop.click("#forget-confirm").await;
    desktop.wait_for_text("h1", "Register this device").await;
    desktop.close().await;
}

async fn issued_refresh_tokens(idp: &Idp) -> usize {
    let issued = idp.admin_issued_secrets_by_kind().await;
    issued.iter().filter(|s| s.kind == "refresh_token").count()
}

/// Polls until the element's text is no longer `before` (within 30 s: the token's lifetime).
async fn wait_for_change(desktop: &Desktop, css: &str, before: &str) -> String {
    for _ in 0..150 {
        let now = desktop.text_of(css).await;
        if now != before && !now.is_empty() {
            return now;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let shot = desktop.screenshot("failure-background-refresh").await;
    panic!(
        "`{css}` never changed from {before:?} (see {})",
        shot.display()
    );
}
