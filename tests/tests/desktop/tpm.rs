//! End-to-end: the app with `deviceKeyStorage: "tpm"`, its device key in a software TPM
//! (`swtpm`) the test starts and hands to the app as `TPM2TOOLS_TCTI`, against the identity
//! server's `device-bound` profile (private_key_jwt, DPoP-bound tokens, a server nonce on every
//! proof). What the user sees: Home and About say the key is held by this computer's TPM, in the
//! engine's words (`KeyHolder::describe`), `dcr status` on the same entry prints that sentence,
//! and the copied diagnostics name the holder and hold none of the TPM's blobs. And the
//! stolen-entry case: the same entry on a second, fresh TPM cannot sign, and the app says so.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use dcr_core::device::registration::Binding;
use dcr_core::device::signer::KeyHolder;
use dcr_core::device::store::{KeychainStore, RegistrationStore, StoreKey};
use dcr_core::Config;
use dcr_tests::app::RECORD_IPC;
use dcr_tests::app::{
    assert_no_secret_recorded, current_state, forget_through_ui, invoke, register_through_ui,
    wait_for_device_key_home, write_config,
};
use dcr_tests::cli::cli_binary;
use dcr_tests::desktop::{Desktop, ONE_WINDOW_AT_A_TIME};
use dcr_tests::procs::stdout_of_success;
use dcr_tests::swtpm::Swtpm;
use dcr_tests::{Idp, IdpOptions};
use serde_json::{json, Value};

use super::about::{copy_diagnostics, open_about, wait_until, ABOUT_CLOSED};
use super::device_bound::refresh_through_ui;

const TPM_TEXT: &str = "Device key held by this computer's TPM (cannot be copied)";

/// The app on `config`, its TPM keys made and used in `tpm`.
async fn launch_on(config: &Path, tpm: &Swtpm) -> Desktop {
    let tcti = tpm.tcti();
    let config = config.to_str().expect("utf-8 path");
    Desktop::launch_with_env(
        &["--config", config],
        &[("TPM2TOOLS_TCTI", Some(OsStr::new(&tcti)))],
    )
    .await
}

/// `dcr status` (the CLI over the same engine and keychain) on `config` and `tpm`.
fn dcr_status(config: &Path, tpm: &Swtpm) -> Value {
    let output = std::process::Command::new(cli_binary())
        .arg("--config")
        .arg(config)
        .arg("status")
        .env("TPM2TOOLS_TCTI", tpm.tcti())
        .output()
        .expect("dcr runs");
    serde_json::from_slice(&stdout_of_success("dcr status", output)).expect("one JSON line")
}

/// The identity server's `device-bound` profile with server nonces, a config for it
/// (private_key_jwt, DPoP, the device key kept as `storage` says), the keychain entry the app
/// uses for that config (the engine's own binding of it), and the app on `tpm`, registered
/// through its UI: the key made in the TPM, registered, and signing the code exchange; Home
/// names the TPM. The main window records its IPC ([`RECORD_IPC`]).
async fn registered_with_tpm(storage: &str, tpm: &Swtpm) -> (Idp, PathBuf, StoreKey, Desktop) {
    let idp = Idp::start_with(IdpOptions::device_bound(true)).await;
    let config = write_config(
        &idp,
        json!({
            "tokenEndpointAuthMethod": "private_key_jwt",
            "dpop": true,
            "deviceKeyStorage": storage,
        }),
    );
    let loaded = Config::load(&config).expect("the test's config is valid");
    let entry = Binding::of(&loaded).key().clone();
    let desktop = launch_on(&config, tpm).await;
    let main = desktop.main_window().await;
    desktop.eval(RECORD_IPC).await;
    assert_eq!(desktop.text_of("h1").await, "Register this device");
    register_through_ui(&desktop, &main).await;
    desktop.wait_for_text("#key-holder", TPM_TEXT).await;
    (idp, config, entry, desktop)
}

/// The keychain no longer holds `key`.
fn assert_entry_gone(key: &StoreKey, what: &str) {
    let stored = KeychainStore::new()
        .load(key)
        .expect("the keychain answers");
    assert!(stored.is_none(), "{what}");
}

/// The TPM-wrapped blobs the keychain entry holds (`{"tpm":{"public":…,"private":…}}`).
fn stored_blobs(key: &StoreKey) -> Vec<String> {
    let stored = KeychainStore::new()
        .load(key)
        .expect("the keychain answers")
        .expect("the registration is stored");
    let device_key = stored.device_key.expect("a device key");
    assert_eq!(device_key.holder(), KeyHolder::Tpm);
    let form: Value = serde_json::from_str(device_key.stored_form().expose()).unwrap();
    ["public", "private"]
        .iter()
        .map(|part| {
            form["tpm"][part]
                .as_str()
                .unwrap_or_else(|| panic!("the entry holds the TPM's {part} blob"))
                .to_owned()
        })
        .collect()
}

/// Register, sign in, Home names the TPM; refresh (a TPM-signed assertion and DPoP proof with
/// the server's nonce); About names it too; the copied diagnostics name the holder and hold no
/// blob; forget deletes the client on the server and the entry in the keychain.
#[tokio::test(flavor = "multi_thread")]
async fn a_tpm_held_device_key_through_the_lifecycle_and_what_home_and_about_say() {
    let _one = ONE_WINDOW_AT_A_TIME.lock().await;
    let tpm = Swtpm::start();
    let (idp, config, entry, desktop) = registered_with_tpm("tpm", &tpm).await;
    assert_eq!(desktop.text_of("#key-holder").await, TPM_TEXT);
    assert_eq!(
        KeyHolder::Tpm.describe(),
        TPM_TEXT,
        "one sentence, the engine's"
    );
    wait_for_device_key_home(&desktop).await;
    let first = current_state(&desktop).await;
    assert_eq!(first["deviceKeyHolder"], "tpm");
    assert_eq!(first["deviceKeyText"], TPM_TEXT);
    assert_eq!(first["tokensBound"], true);
    let clients = idp.admin_list_clients().await;
    assert_eq!(clients.len(), 1, "exactly one dynamic client is registered");
    assert_eq!(first["registration"]["clientId"], clients[0].client_id);
    desktop.screenshot("tpm-01-home").await;
    let blobs = stored_blobs(&entry);

    // `dcr status` on the same entry says the same, from the same engine sentence.
    let status = dcr_status(&config, &tpm);
    assert_eq!(status["client_id"], clients[0].client_id.as_str());
    assert_eq!(status["device_key_holder"], "tpm");
    assert_eq!(
        status["device_key"],
        desktop.text_of("#key-holder").await.as_str()
    );
    for blob in &blobs {
        assert!(!status.to_string().contains(&blob[..16.min(blob.len())]));
    }

    // Refresh: a new access token, its assertion and DPoP proof signed in the TPM.
    let refreshed = refresh_through_ui(&desktop, &first).await;
    assert_eq!(refreshed["tokensBound"], true);
    assert_eq!(refreshed["deviceKeyHolder"], "tpm");
    desktop.wait_for_text("#key-holder", TPM_TEXT).await;

    // About: the same sentence; "Copy diagnostics" names the holder and none of the blobs.
    open_about(&desktop).await;
    assert_eq!(desktop.text_of("#about-key-holder").await, TPM_TEXT);
    assert_eq!(
        desktop.text_of("#about-thumbprint").await,
        first["deviceKeyThumbprint"].as_str().unwrap()
    );
    let pasted = copy_diagnostics(&desktop, "tpm-02-about").await;
    assert!(
        pasted.contains(&format!("Device key holder: tpm ({TPM_TEXT})\n")),
        "the report names the holder: {pasted}"
    );
    let about = invoke(&desktop, "about").await;
    assert_eq!(about["deviceKeyHolder"], "tpm");
    let seen = assert_no_secret_recorded(&desktop, &idp, "deviceKeyHolder").await;
    for blob in &blobs {
        // Even a piece of a blob would be too much: the first 16 characters are searched for.
        let piece = &blob[..16.min(blob.len())];
        assert!(!pasted.contains(piece), "a TPM blob in the copied report");
        assert!(
            !about.to_string().contains(piece),
            "a TPM blob in the about command's answer"
        );
        assert!(!seen.contains(piece), "a TPM blob reached the webview");
    }
    desktop.click("#about-close").await;
    wait_until(&desktop, ABOUT_CLOSED, "the About dialog closing").await;

    // Forget: the client is deleted on the server, the entry (the only copy of the blobs) in
    // the keychain, and the app is back on Register.
    forget_through_ui(&desktop).await;
    desktop.wait_for_text("h1", "Register this device").await;
    assert!(
        idp.admin_list_clients().await.is_empty(),
        "RFC 7592 delete removed the client on the server"
    );
    assert_entry_gone(&entry, "the entry is gone from the keychain");
    desktop.close().await;
}

/// The stolen-entry case in the app: the keychain entry made with one TPM, the app restarted on
/// a second, fresh TPM (as on a thief's computer, or after the TPM was cleared). Sign in finds
/// the key unusable before any window opens: the registration is deleted on the server and in
/// the keychain, and the Register screen says the key is no longer available.
#[tokio::test(flavor = "multi_thread")]
async fn an_entry_on_another_tpm_cannot_sign_and_the_app_says_so_and_offers_register() {
    let _one = ONE_WINDOW_AT_A_TIME.lock().await;
    let owner = Swtpm::start();
    // `auto` takes the TPM when one is usable, and Home says which it took.
    let (idp, config, entry, desktop) = registered_with_tpm("auto", &owner).await;
    assert_eq!(idp.admin_list_clients().await.len(), 1);
    stored_blobs(&entry);
    desktop.close().await;

    // The same keychain entry, another TPM: its seeds differ, so the wrapped key does not load.
    let other = Swtpm::start();
    let desktop = launch_on(&config, &other).await;
    desktop.wait_for_text("main", "Welcome back").await;
    desktop.click("#sign-in").await;
    desktop
        .wait_for_text(
            "#register-reason",
            "This device's key is no longer available",
        )
        .await;
    assert_eq!(desktop.text_of("h1").await, "Register this device");
    assert!(desktop.has("#register").await, "Register is offered");
    let state = current_state(&desktop).await;
    assert_eq!(state["state"], "unregistered");
    assert_eq!(state["reason"], "deviceKeyLost");
    desktop.screenshot("tpm-03-key-lost").await;
    assert!(
        idp.admin_list_clients().await.is_empty(),
        "the useless registration was deleted on the server (RFC 7592)"
    );
    assert_entry_gone(&entry, "and in the keychain");
    desktop.close().await;
}
