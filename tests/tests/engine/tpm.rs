//! The device key held by a TPM, against a software TPM (`swtpm`) the test starts itself: its
//! assertions and DPoP proofs verify with its public key, its keychain form holds no private
//! key, a copy of that form is worthless on another TPM (the stolen-entry case), and the whole
//! device-bound lifecycle works with `deviceKeyStorage: "tpm"`. When the TPM is cleared, or the
//! entry is used on another TPM, the registration is deleted on the server and here, and the
//! session says why (`deviceKeyLost`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use dcr_core::config::DeviceKeyStorage;
use dcr_core::device::key::{DeviceKey, DeviceKeyError};
use dcr_core::device::signer::{DeviceSigner, KeyHolder};
use dcr_core::device::tpm::{self, TpmKey};
use dcr_core::error::ErrorKind;
use dcr_core::protocol::token::ClientAssertionSigner;
use dcr_core::session::{Event, Reason, StateName};
use dcr_core::Secret;
use dcr_core::Session;
use dcr_tests::engine::{self, Form};
use dcr_tests::swtpm::Swtpm;
use dcr_tests::{IdpOptions, ScriptedAgent};
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
use serde_json::{json, Value};
use url::Url;

use super::device_bound::{lifecycle, sign_out_and_forget};

/// Checks a compact JWS's ES256 signature with `jwk` as a server would; returns its claims.
fn verify(jwt: &Secret, jwk: &Value) -> Value {
    let parts: Vec<&str> = jwt.expose().split('.').collect();
    assert_eq!(parts.len(), 3);
    let coordinate = |name: &str| URL_SAFE_NO_PAD.decode(jwk[name].as_str().unwrap()).unwrap();
    let mut point = vec![4u8];
    point.extend(coordinate("x"));
    point.extend(coordinate("y"));
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    assert_eq!(signature.len(), 64, "ES256 is R || S (RFC 7518 §3.4)");
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
        .expect("the TPM's signature verifies with the registered public key");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap()
}

fn tpm_key(tpm: &Swtpm) -> TpmKey {
    TpmKey::generate_on(&tpm.tcti()).expect("the software TPM makes a key")
}

#[test]
fn a_tpm_key_signs_assertions_and_dpop_proofs_that_verify_with_its_public_key() {
    let tpm = Swtpm::start();
    let key = DeviceKey::from_signer(Box::new(tpm_key(&tpm)));
    assert_eq!(key.holder(), KeyHolder::Tpm);
    let jwk = key.public_jwks()["keys"][0].clone();
    assert_eq!(jwk["kid"], key.thumbprint());
    // Several of each: a TPM's r and s are sometimes shorter than 32 bytes, and each must
    // still come out as a 64-byte JWS signature.
    for round in 0..8 {
        let assertion = key
            .client_assertion("client-1", "https://idp.example/oauth", 1_000 + round)
            .expect("the TPM signs");
        let claims = verify(&assertion, &jwk);
        assert_eq!(claims["iss"], "client-1");
        assert_eq!(claims["aud"], "https://idp.example/oauth");
        let url = Url::parse("https://idp.example/oauth/token").unwrap();
        let proof = key
            .dpop_proof("POST", &url, 1_000, None, Some("nonce-1"))
            .expect("the TPM signs");
        let header: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(proof.expose().split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["jwk"]["x"], jwk["x"]);
        assert_eq!(verify(&proof, &header["jwk"])["nonce"], "nonce-1");
    }
}

#[test]
fn the_stored_form_of_a_tpm_key_holds_tpm_wrapped_blobs_and_no_private_key() {
    let tpm = Swtpm::start();
    let key = tpm_key(&tpm);
    assert!(
        key.never_leaves_the_tpm(),
        "fixedTPM, fixedParent, sensitiveDataOrigin"
    );
    let stored: Value = serde_json::from_str(key.stored_form().expose()).unwrap();
    let held = stored["tpm"].as_object().expect("{\"tpm\": {...}}");
    let mut members: Vec<&str> = held.keys().map(String::as_str).collect();
    members.sort_unstable();
    assert_eq!(members, ["private", "public"], "{stored}");
    assert_eq!(stored.as_object().unwrap().len(), 1);
    // Neither blob is a key a software signer could use.
    for blob in [&held["public"], &held["private"]] {
        let text = blob.as_str().unwrap().to_owned();
        assert_eq!(
            DeviceKey::from_pkcs8(Secret::new(text)).unwrap_err(),
            DeviceKeyError::Unreadable
        );
    }
    // The form loads back (without the TPM) to the same public key, and signs in the TPM.
    let (public, private) = key.blobs();
    let again = TpmKey::from_blobs_on(&tpm.tcti(), public, private).unwrap();
    assert_eq!(again.public_point(), key.public_point());
    again
        .sign(b"header.payload")
        .expect("the same TPM loads it");
}

#[test]
fn a_copied_entry_cannot_sign_on_another_tpm() {
    let original = Swtpm::start();
    let key = tpm_key(&original);
    let (public, private) = key.blobs();
    // The thief's computer: a different TPM, with its own seeds.
    let other = Swtpm::start();
    let stolen = TpmKey::from_blobs_on(&other.tcti(), public, private)
        .expect("the blobs still parse: the public key is public");
    let error = stolen.sign(b"header.payload").unwrap_err();
    assert_eq!(error, DeviceKeyError::NoLongerAvailable);
    assert!(error.to_string().contains("no longer available"), "{error}");
    assert_eq!(
        dcr_core::Error::from(error).kind(),
        dcr_core::error::ErrorKind::DeviceKeyUnavailable
    );
    // The owner's TPM still signs with the same blobs.
    key.sign(b"header.payload").expect("the original TPM signs");
}

#[test]
fn tpm_storage_without_a_tpm_names_the_fix() {
    let error = tpm::probe_on("device:/nonexistent/tpmrm0").unwrap_err();
    assert!(matches!(error, DeviceKeyError::TpmMissing(_)), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("/nonexistent/tpmrm0"), "{message}");
    assert!(message.contains("\"auto\""), "{message}");
}

/// The device-bound lifecycle of `device_bound.rs` (private_key_jwt, DPoP with server nonces)
/// with the key in the TPM, a key rotation that makes a new TPM key, and forget.
#[tokio::test]
async fn the_device_bound_lifecycle_works_with_the_key_in_the_tpm() {
    let tpm = Swtpm::start();
    let _tcti = ProcessTpm::set(&tpm).await;
    // `auto` finds the TPM usable and takes it.
    assert_eq!(
        DeviceKey::generate_for(DeviceKeyStorage::Auto)
            .unwrap()
            .holder(),
        KeyHolder::Tpm
    );
    let d = tpm_rig().await;
    assert_eq!(d.session.config().device_key_storage, DeviceKeyStorage::Tpm);
    let (client_id, _) = lifecycle(&d, true).await;

    let entry = engine::store_key(&d.idp, d.form);
    let raw = d.store.raw(&entry).unwrap();
    let document: Value = serde_json::from_str(raw.expose()).unwrap();
    assert!(
        document["deviceKey"]["tpm"]["private"].is_string(),
        "the entry holds the TPM's blobs"
    );
    let stored = dcr_core::device::store::RegistrationStore::load(&*d.store, &entry)
        .unwrap()
        .unwrap();
    let old = stored.device_key.clone().unwrap();
    assert_eq!(old.holder(), KeyHolder::Tpm);

    // Rotation makes a new TPM key; the refresh after it signs with the new one.
    let view = d.session.rotate_device_key().await.unwrap();
    assert_eq!(view.last_event, Some(Event::KeyRotated));
    let new_thumbprint = view.device_key_thumbprint.clone().unwrap();
    assert_ne!(new_thumbprint, old.thumbprint());
    let rotated = dcr_core::device::store::RegistrationStore::load(&*d.store, &entry)
        .unwrap()
        .unwrap();
    assert_eq!(
        rotated.device_key.as_ref().unwrap().holder(),
        KeyHolder::Tpm
    );
    let view = d.session.refresh().await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    assert!(view.tokens_bound);

    // Sign-out and forget: the client is gone from the server, and the entry (the only place
    // the key's blobs were) from the keychain; the TPM keeps no object of ours.
    let issuer = d.idp.issuer.as_str().to_owned();
    sign_out_and_forget(&d, &client_id, &issuer).await;
    assert!(d.store.raw(&entry).is_none());
}

/// A device-bound rig (private_key_jwt, DPoP with server nonces) with `deviceKeyStorage:
/// "tpm"`: its keys are made in the process's TPM.
async fn tpm_rig() -> engine::Rig {
    let extra = json!({
        "tokenEndpointAuthMethod": "private_key_jwt",
        "dpop": true,
        "deviceKeyStorage": "tpm",
    });
    engine::Rig::start_configured(
        IdpOptions::device_bound(true),
        Form::Full,
        engine::RecordingTransport::new(),
        extra,
    )
    .await
}

/// The software TPM this process's TPM keys use, for one test at a time (the TCTI is
/// process-wide; tests of this binary run side by side). Put back when dropped, even when the
/// test fails.
struct ProcessTpm {
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

static PROCESS_TPM: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl ProcessTpm {
    async fn set(tpm: &Swtpm) -> Self {
        let turn = PROCESS_TPM.lock().await;
        tpm::set_process_tcti(Some(&tpm.tcti()));
        Self { _turn: turn }
    }

    /// Another TPM from now on (the guard stays this test's).
    fn switch(&self, tpm: &Swtpm) {
        tpm::set_process_tcti(Some(&tpm.tcti()));
    }
}

impl Drop for ProcessTpm {
    fn drop(&mut self) {
        tpm::set_process_tcti(None);
    }
}

/// K6: the registration is gone from the server (the RFC 7592 delete went out once and was
/// answered 204, and the server lists no client) and from the keychain, and the session is
/// unregistered with the reason; the error says the key is no longer available.
async fn assert_key_lost(
    d: &engine::Rig,
    session: &Session,
    error: &dcr_core::Error,
    client_id: &str,
) {
    assert_eq!(error.kind(), ErrorKind::DeviceKeyLost, "{error}");
    assert!(error.message().contains("no longer available"), "{error}");
    assert!(
        error.message().contains("register this device again"),
        "{error}"
    );
    d.transport.assert_deleted_once(client_id);
    assert!(
        d.idp.admin_list_clients().await.is_empty(),
        "the server no longer knows the client"
    );
    assert!(
        d.store.raw(&engine::store_key(&d.idp, d.form)).is_none(),
        "the entry is gone"
    );
    let view = session.state().await.unwrap();
    assert_eq!(view.state, StateName::Unregistered);
    assert_eq!(view.reason, Some(Reason::DeviceKeyLost));
    assert_eq!(view.last_event, Some(Event::Forgotten));
}

/// The TPM is cleared while the app runs: the next refresh finds the key gone (its saved
/// context and its blobs both refused), deletes the client with the registration access token,
/// and wipes the entry.
#[tokio::test]
async fn k6_a_cleared_tpm_deletes_the_registration_on_the_server_and_in_the_keychain() {
    let tpm = Swtpm::start();
    let _tcti = ProcessTpm::set(&tpm).await;
    let d = tpm_rig().await;
    let agent = ScriptedAgent::login(d.browser.clone());
    let client_id = d.signed_in_client(&agent).await;
    d.session
        .refresh()
        .await
        .expect("the TPM key signs the refresh");

    tpm.clear();
    let error = d.session.refresh().await.unwrap_err();
    assert_key_lost(&d, &d.session, &error, &client_id).await;
    // What is left is a device to register again, with a new key in the cleared TPM.
    let view = d.session.register_and_sign_in(&agent).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    assert_ne!(engine::client_id(&view), client_id);
}

/// The stolen-entry case through the engine: the entry made with TPM A, used by a process
/// whose TPM is B (a fresh one). The sign-in finds out before the browser opens.
#[tokio::test]
async fn k6_an_entry_used_with_another_tpm_deletes_the_registration_before_the_browser_opens() {
    let (original, other) = (Swtpm::start(), Swtpm::start());
    let tcti = ProcessTpm::set(&original).await;
    let d = tpm_rig().await;
    let agent = ScriptedAgent::login(d.browser.clone());
    let client_id = d.signed_in_client(&agent).await;

    tcti.switch(&other);
    let elsewhere = Session::with_transport(
        d.session.config().clone(),
        d.transport.clone(),
        Box::new(d.store.clone()),
    );
    let exchanges_before = d.transport.to("/token").len();
    let error = elsewhere.sign_in(&agent).await.unwrap_err();
    assert_key_lost(&d, &elsewhere, &error, &client_id).await;
    assert_eq!(
        d.transport.to("/token").len(),
        exchanges_before,
        "no code was asked for or redeemed"
    );
}
