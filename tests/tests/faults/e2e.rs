//! Fault injection, end to end (docs/faults.md): the desktop app in its real window
//! on first run, with the identity server killed right after it processed the registration
//! request (the worst case: the client exists, its 201 is lost), and killed before the
//! sign-in window's step (the window cannot load the page). The app must show a clear screen
//! with a retry, keep the keychain in step, and the retry, once the server is back, must reach
//! Home.

use std::path::PathBuf;

use dcr_core::device::store::{KeychainStore, RegistrationStore, StoreKey};
use dcr_tests::app::{
    current_state, finish_sign_in, launch, open_registration_window, register_through_ui,
    type_password, write_config,
};
use dcr_tests::desktop::{Desktop, ONE_WINDOW_AT_A_TIME};
use dcr_tests::engine::{self, Form};
use dcr_tests::faults::{client_ids, Action, Fault};
use dcr_tests::{Idp, IdpOptions, DEMO_USER};
use fantoccini::wd::WindowHandle;

#[tokio::test(flavor = "multi_thread")]
async fn fi1_server_killed_after_registration_shows_retry_and_the_retry_reaches_home() {
    let (_one, mut idp, key, keychain, _config, desktop, main) =
        password_typed_with(Fault::new("POST", "/reg", 1, Action::KillAfter)).await;
    desktop.back_to_main(&main).await;
    let title = desktop.text_of("#error-title").await;
    desktop.find("#retry").await;
    desktop
        .screenshot("faults-01-server-killed-at-registration")
        .await;
    idp.wait_killed().await;
    assert!(title.contains("unreachable"), "{title}");
    let state = current_state(&desktop).await;
    assert_eq!(state["state"], "unregistered", "{title}: {state}");
    assert!(
        keychain.load(&key).unwrap().is_none(),
        "nothing half-stored"
    );

    idp.restart().await;
    let orphans = idp.admin_list_clients().await;
    assert_eq!(orphans.len(), 1, "the documented window (docs/faults.md)");

    // Retry: the registration login again (a new DCR token needs the password), then Home.
    desktop.click("#retry").await;
    desktop.switch_to_other_window(&main).await;
    finish_sign_in(&desktop, &main).await;
    desktop.screenshot("faults-02-retry-reached-home").await;
    registered_beside_the_orphan(&idp, &desktop, &keychain, &key, &orphans[0].client_id).await;
    desktop.close().await;
    keychain.delete(&key).unwrap();
}

/// The server dies after the registration was stored, as the SSO sign-in window loads (killed
/// at the second authorization request, the first is the registration login's). The old shell left WebKit's "Could not
/// connect" page in the window and the main window on "Waiting for you to sign in…" for good;
/// now the step ends as `unreachable`, with the retry screen, and the retry signs in by SSO.
#[tokio::test(flavor = "multi_thread")]
async fn fi1_server_dead_at_the_sign_in_window_shows_unreachable_and_the_retry_reaches_home() {
    let (_one, mut idp, key, keychain, _config, desktop, main) =
        password_typed_with(Fault::new("GET", "/auth", 2, Action::KillBefore)).await;
    desktop.back_to_main(&main).await;
    let title = desktop.text_of("#error-title").await;
    desktop.find("#retry").await;
    desktop.screenshot("faults-03-server-dead-at-sign-in").await;
    assert!(title.contains("unreachable"), "{title}");
    idp.wait_killed().await;
    let state = current_state(&desktop).await;
    assert_eq!(state["state"], "registered", "{state}");
    let client_id = state["registration"]["clientId"]
        .as_str()
        .unwrap()
        .to_owned();
    let stored = keychain
        .load(&key)
        .unwrap()
        .expect("the registration is stored");
    assert_eq!(stored.registration.client_id, client_id);

    idp.restart().await;
    desktop.click("#retry").await;
    desktop.wait_for_text("#user-name", "Demo User").await;
    let state = current_state(&desktop).await;
    assert_eq!(state["registration"]["clientId"], client_id.as_str());
    assert_eq!(client_ids(&idp).await, [client_id]);
    desktop.close().await;
    keychain.delete(&key).unwrap();
}

/// FI4 in the real window: the app SIGKILLed while the server holds the answer to the
/// registration it already processed (the client exists; the app never heard of it), then
/// started again. The restart shows the Register screen with nothing half-stored, the dead
/// process's cross-process lock is gone with it, and registering again reaches Home. The one
/// client the app cannot find again is the documented window (docs/faults.md).
#[tokio::test(flavor = "multi_thread")]
async fn fi4_app_killed_during_registration_restarts_on_register_and_registers_again() {
    let (_one, idp, key, keychain, config, desktop, _) =
        password_typed_with(Fault::new("POST", "/reg", 1, Action::HangAfter)).await;
    idp.wait_for_log("fault: holding the response to POST")
        .await;
    desktop.kill_app();
    desktop.close().await;
    assert!(
        keychain.load(&key).unwrap().is_none(),
        "nothing half-stored"
    );
    let orphans = idp.admin_list_clients().await;
    assert_eq!(orphans.len(), 1, "the documented window (docs/faults.md)");

    let desktop = launch(&config).await;
    let main = desktop.main_window().await;
    assert_eq!(desktop.text_of("h1").await, "Register this device");
    desktop.screenshot("faults-04-restarted-after-a-kill").await;
    register_through_ui(&desktop, &main).await;
    desktop.wait_for_text("#user-name", "Demo User").await;
    registered_beside_the_orphan(&idp, &desktop, &keychain, &key, &orphans[0].client_id).await;
    desktop.close().await;
    keychain.delete(&key).unwrap();
}

/// A fresh install on first run, alone on the display: a persistent identity server with
/// `fault` armed, a config for it with no registration in the keychain, and the app on it
/// after Register, with the password typed into the sign-in window. Returns the display's
/// guard, the server, the entry's key, the keychain, the config, the app and its main window.
async fn password_typed_with(
    fault: Fault,
) -> (
    tokio::sync::MutexGuard<'static, ()>,
    Idp,
    StoreKey,
    KeychainStore,
    PathBuf,
    Desktop,
    WindowHandle,
) {
    let one = ONE_WINDOW_AT_A_TIME.lock().await;
    let idp = Idp::start_persistent(IdpOptions::default()).await;
    let key = engine::store_key(&idp, Form::Full);
    let keychain = KeychainStore::new();
    keychain.delete(&key).unwrap();
    let config = write_config(&idp, serde_json::json!({}));
    let desktop = launch(&config).await;
    let main = desktop.main_window().await;

    idp.arm(fault).await;
    open_registration_window(&desktop, &main).await;
    type_password(&desktop, DEMO_USER.0, DEMO_USER.1).await;
    (one, idp, key, keychain, config, desktop, main)
}

/// After a retry past the documented window: the app shows a registration, the keychain holds
/// the same client, and the server has exactly the orphan and that client.
async fn registered_beside_the_orphan(
    idp: &Idp,
    desktop: &Desktop,
    keychain: &KeychainStore,
    key: &StoreKey,
    orphan: &str,
) {
    let state = current_state(desktop).await;
    let client_id = state["registration"]["clientId"]
        .as_str()
        .unwrap_or_else(|| panic!("a registration: {state}"))
        .to_owned();
    let stored = keychain.load(key).unwrap().expect("stored");
    assert_eq!(stored.registration.client_id, client_id);
    assert_eq!(client_ids(idp).await, [orphan.to_owned(), client_id]);
}
