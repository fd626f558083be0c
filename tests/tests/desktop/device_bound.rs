//! End-to-end: the app in the real WebKitGTK window against the identity server's
//! `device-bound` profile (dynamic clients must use private_key_jwt, access tokens are
//! DPoP-bound, and every DPoP proof needs a server nonce), with a config that asks for
//! `private_key_jwt` and `dpop`. A person's clicks and keystrokes, through tauri-driver.

use dcr_core::device::signer::KeyHolder;
use dcr_tests::app::{
    assert_no_secret_recorded, current_state, launch, register_through_ui, sign_out_through_ui,
    type_password, wait_for_device_key_home, write_config, RECORD_IPC,
};
use dcr_tests::desktop::{Desktop, ONE_WINDOW_AT_A_TIME};
use dcr_tests::{Idp, IdpOptions, DEMO_USER};
use fantoccini::wd::WindowHandle;
use serde_json::{json, Value};

use super::about::{open_about, wait_until, ABOUT_CLOSED};

/// First run, Home says how the device proves itself, refresh, rotate the device key, refresh
/// with the new key, sign out, sign in, restart, welcome back, sign in.
#[tokio::test(flavor = "multi_thread")]
async fn device_key_and_dpop_through_the_whole_lifecycle_with_key_rotation() {
    let _one = ONE_WINDOW_AT_A_TIME.lock().await;
    let idp = Idp::start_with(IdpOptions::device_bound(true)).await;
    let config = write_config(
        &idp,
        json!({ "tokenEndpointAuthMethod": "private_key_jwt", "dpop": true }),
    );

    let desktop = launch(&config).await;
    let main = desktop.main_window().await;
    desktop.eval(RECORD_IPC).await;
    assert_eq!(desktop.text_of("h1").await, "Register this device");

    // First run: one click, the password typed into the identity server's page, then Home.
    register_through_ui(&desktop, &main).await;
    wait_for_device_key_home(&desktop).await;
    assert!(
        !desktop.has("#secret-expires").await,
        "a device key has no secret to expire"
    );
    // The default `deviceKeyStorage` ("software"): Home says the keychain holds the key, in
    // the engine's words (the sentence `dcr status` prints too).
    desktop
        .wait_for_text("#key-holder", KeyHolder::Software.describe())
        .await;
    assert_eq!(
        desktop.text_of("#key-holder").await,
        "Device key stored in the keychain"
    );
    let first = current_state(&desktop).await;
    assert_eq!(first["credential"], "deviceKey");
    assert_eq!(first["tokensBound"], true);
    assert_eq!(first["deviceKeyHolder"], "software");
    let first_key = thumbprint(&first);
    assert_eq!(
        desktop.text_of("#key-thumbprint").await,
        short(&first_key),
        "Home shows the key's thumbprint, shortened"
    );
    desktop.screenshot("device-01-home").await;
    let clients = idp.admin_list_clients().await;
    assert_eq!(clients.len(), 1, "exactly one dynamic client is registered");

    // About this device: the whole thumbprint, and no secret to expire.
    open_about(&desktop).await;
    desktop
        .assert_texts(&[
            ("#about-thumbprint", &first_key),
            ("#about-key-holder", "Device key stored in the keychain"),
            ("#about-secret-expires", "No shared secret (device key)"),
        ])
        .await;
    desktop.screenshot("device-about").await;
    desktop.click("#about-close").await;
    wait_until(&desktop, ABOUT_CLOSED, "Close closing the About dialog").await;

    // Refresh: private_key_jwt and a DPoP proof (with the server's nonce) at the token endpoint.
    let refreshed = refresh_through_ui(&desktop, &first).await;
    assert_eq!(refreshed["tokensBound"], true);

    // Rotate the device key: the server gets the new public key (RFC 7592 update) first.
    desktop.click("#rotate-key").await;
    desktop
        .wait_for_text("#notice", "The device key was rotated")
        .await;
    let rotated = current_state(&desktop).await;
    let new_key = thumbprint(&rotated);
    assert_ne!(new_key, first_key, "a new key pair");
    // The notice bar is at the top; the click scrolled down to the button.
    desktop.eval("window.scrollTo(0, 0); return true;").await;
    desktop
        .wait_for_text("#key-thumbprint", &short(&new_key))
        .await;
    assert_eq!(
        rotated["state"], "signedIn",
        "rotation keeps the user signed in"
    );
    assert_eq!(rotated["registration"]["clientId"], clients[0].client_id);
    desktop.screenshot("device-02-key-rotated").await;
    assert_eq!(
        idp.admin_list_clients().await.len(),
        1,
        "rotation updated the client, it did not register another"
    );

    // Refresh again: only the new key can sign the assertion and the proof now.
    let after_rotation = refresh_through_ui(&desktop, &rotated).await;
    assert_eq!(thumbprint(&after_rotation), new_key);
    assert_eq!(after_rotation["tokensBound"], true);
    desktop.screenshot("device-03-refreshed-with-new-key").await;

    // Sign out, then sign in again (the password: the server session ended).
    sign_out_through_ui(&desktop, &main).await;
    desktop.find("#sign-in").await;
    sign_in_through_ui(&desktop, &main).await;
    desktop
        .wait_for_text("#tokens-bound", "Tokens bound to this device")
        .await;

    // No command response or event payload carried a secret the server issued.
    assert_no_secret_recorded(&desktop, &idp, "deviceKey").await;
    desktop.close().await;

    // Restart: the registration and the rotated key come back from the keychain.
    let desktop = launch(&config).await;
    let main = desktop.main_window().await;
    desktop.find("#sign-in").await;
    desktop.wait_for_text("main", "Welcome back").await;
    let restored = current_state(&desktop).await;
    assert_eq!(restored["credential"], "deviceKey");
    assert_eq!(thumbprint(&restored), new_key, "the rotated key was saved");
    desktop.screenshot("device-04-welcome-back").await;
    sign_in_through_ui(&desktop, &main).await;
    let signed_in = current_state(&desktop).await;
    assert_eq!(signed_in["tokensBound"], true);
    assert_eq!(thumbprint(&signed_in), new_key);
    wait_for_device_key_home(&desktop).await;
    desktop.screenshot("device-05-home-after-restart").await;
    desktop.close().await;
    assert_eq!(
        idp.admin_list_clients().await.len(),
        1,
        "one client for the whole lifecycle"
    );
}

fn thumbprint(state: &Value) -> String {
    let thumbprint = state["deviceKeyThumbprint"]
        .as_str()
        .unwrap_or_else(|| panic!("no device key thumbprint in {state}"))
        .to_owned();
    assert_eq!(thumbprint.len(), 43, "an RFC 7638 SHA-256 thumbprint");
    thumbprint
}

/// What Home shows of a thumbprint (ui/format.js `shortThumbprint`).
fn short(thumbprint: &str) -> String {
    format!(
        "{}…{}",
        &thumbprint[..6],
        &thumbprint[thumbprint.len() - 6..]
    )
}

/// Clicks Refresh and waits for the new access token (its fingerprint changes).
pub(super) async fn refresh_through_ui(desktop: &Desktop, before: &Value) -> Value {
    desktop.click("#refresh").await;
    for _ in 0..150 {
        let now = current_state(desktop).await;
        if now["tokenFingerprint"] != before["tokenFingerprint"] && now["state"] == "signedIn" {
            desktop
                .wait_for_text("#notice", "The access token was refreshed")
                .await;
            return now;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let shot = desktop.screenshot("failure-device-refresh").await;
    panic!("refresh never brought a new token (see {})", shot.display());
}

/// Clicks Sign in; types the password when the identity server asks for it, or lets single
/// sign-on finish in the hidden window when it does not. Ends on Home.
async fn sign_in_through_ui(desktop: &Desktop, main: &WindowHandle) {
    desktop.click("#sign-in").await;
    let mut window = None;
    for _ in 0..150 {
        if window.is_none() {
            window = desktop.new_window(main).await;
        }
        if let Some(handle) = &window {
            if desktop
                .client
                .switch_to_window(handle.clone())
                .await
                .is_ok()
                && desktop.has("#password").await
            {
                type_password(desktop, DEMO_USER.0, DEMO_USER.1).await;
                break;
            }
        }
        if desktop.client.switch_to_window(main.clone()).await.is_ok()
            && desktop.has("#user-name").await
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    desktop.back_to_main(main).await;
    desktop.wait_for_text("#user-name", "Demo User").await;
}
