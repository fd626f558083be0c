//! `dcr` with its device key in a TPM (`deviceKeyStorage: "tpm"`), a software TPM the test
//! starts (`TPM2TOOLS_TCTI` names it to the process), against the bundled server's
//! `device-bound` profile (private_key_jwt, DPoP with server nonces): the lifecycle, what the
//! keychain entry holds, and the stolen-entry case, where the same entry meets another TPM.

use dcr_core::device::signer::KeyHolder;
use dcr_core::device::store::{KeychainStore, RegistrationStore};
use dcr_tests::cli::Setup;
use dcr_tests::engine::{self, Form};
use dcr_tests::keyring::require_test_keyring;
use dcr_tests::swtpm::Swtpm;
use dcr_tests::{IdpOptions, ScriptedBrowser};
use serde_json::{json, Value};

use super::commands::{dcr_with_env, Answer, Run};

/// The device-bound profile with nonces, and a config whose device key lives in the TPM.
async fn tpm_setup() -> Setup {
    let options = IdpOptions::device_bound(true);
    let extra = json!({
        "tokenEndpointAuthMethod": "private_key_jwt",
        "dpop": true,
        "deviceKeyStorage": "tpm",
    });
    Setup::configured(options, Form::Full, extra).await
}

/// `dcr <args>` with its TPM keys in `tpm`.
async fn dcr_on(tpm: &Swtpm, setup: &Setup, args: &[&str], browser: &ScriptedBrowser) -> Run {
    let tcti = tpm.tcti();
    let env = [("TPM2TOOLS_TCTI", tcti.as_str())];
    dcr_with_env(&setup.config, args, &env, browser, Answer::Browse).await
}

/// The keychain entry's device key: held by the TPM, stored as its wrapped blobs and nothing
/// else (no PKCS#8, no private JWK member).
fn assert_entry_holds_tpm_blobs_only(setup: &Setup) {
    let stored = KeychainStore::new()
        .load(&engine::store_key(&setup.idp, Form::Full))
        .unwrap()
        .expect("the entry exists");
    let key = stored.device_key.expect("a device key");
    assert_eq!(key.holder(), KeyHolder::Tpm);
    let form: Value = serde_json::from_str(key.stored_form().expose()).unwrap();
    assert_eq!(form.as_object().unwrap().len(), 1, "{form}");
    let mut members: Vec<&String> = form["tpm"]
        .as_object()
        .expect("{\"tpm\": …}")
        .keys()
        .collect();
    members.sort();
    assert_eq!(members, ["private", "public"]);
}

#[tokio::test]
async fn cli_tpm_key_register_login_refresh_status_forget() {
    require_test_keyring("cli_tpm_key_register_login_refresh_status_forget");
    let tpm = Swtpm::start();
    let setup = tpm_setup().await;
    let browser = ScriptedBrowser::new();

    let run = dcr_on(&tpm, &setup, &["register"], &browser).await;
    let client_id = run.json()["client_id"].as_str().unwrap().to_owned();
    assert_entry_holds_tpm_blobs_only(&setup);

    // The sign-in and a refresh: each token request carries an assertion and a DPoP proof
    // the TPM signed (the server's device-bound profile refuses anything else).
    let run = dcr_on(&tpm, &setup, &["login", "--refresh"], &browser).await;
    let out = run.json();
    assert_eq!(out["sub"], "demouser");
    assert_eq!(out["refreshed"], true);

    let run = dcr_on(&tpm, &setup, &["status"], &browser).await;
    let out = run.json();
    assert_eq!(out["registered"], true);
    assert_eq!(out["client_id"], client_id.as_str());
    // The sentence the app's Home and About show for this entry, from the same engine.
    assert_eq!(out["device_key_holder"], "tpm");
    assert_eq!(
        out["device_key"],
        "Device key held by this computer's TPM (cannot be copied)"
    );

    let run = dcr_on(&tpm, &setup, &["forget"], &browser).await;
    assert_eq!(run.json()["server_deleted"], true);
    assert!(setup.idp.admin_list_clients().await.is_empty());
    assert!(KeychainStore::new()
        .load(&engine::store_key(&setup.idp, Form::Full))
        .unwrap()
        .is_none());
}

/// The stolen-entry case: the entry made with one TPM, used by `dcr` on a computer with
/// another (a fresh one). The command fails saying the key is no longer available, before any
/// browser step, and the registration is gone from the server and from the keychain.
#[tokio::test]
async fn cli_an_entry_used_with_another_tpm_fails_and_its_registration_is_deleted() {
    require_test_keyring(
        "cli_an_entry_used_with_another_tpm_fails_and_its_registration_is_deleted",
    );
    let (original, other) = (Swtpm::start(), Swtpm::start());
    let setup = tpm_setup().await;
    let browser = ScriptedBrowser::new();
    let run = dcr_on(&original, &setup, &["register"], &browser).await;
    let client_id = run.json()["client_id"].as_str().unwrap().to_owned();
    dcr_on(&original, &setup, &["login"], &browser).await.json();

    let run = dcr_on(&other, &setup, &["login"], &browser).await;
    let (kind, message) = run.error();
    assert_eq!(kind, "deviceKeyLost", "{message}");
    assert!(message.contains("no longer available"), "{message}");
    assert!(run.opened.is_empty(), "no browser step: {:?}", run.opened);
    let clients = setup.idp.admin_list_clients().await;
    assert!(
        clients.iter().all(|client| client.client_id != client_id),
        "the server no longer knows the client"
    );
    assert!(KeychainStore::new()
        .load(&engine::store_key(&setup.idp, Form::Full))
        .unwrap()
        .is_none());
    // And on the owner's computer too, there is nothing left to use.
    let run = dcr_on(&original, &setup, &["status"], &browser).await;
    assert_eq!(run.json()["registered"], false);
}
