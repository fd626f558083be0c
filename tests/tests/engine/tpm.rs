//! The device key held by a TPM, against a software TPM (`swtpm`) the test starts itself: its
//! assertions and DPoP proofs verify with its public key, its keychain form holds no private
//! key, a copy of that form is worthless on another TPM (the stolen-entry case), and the whole
//! device-bound lifecycle works with `deviceKeyStorage: "tpm"`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use dcr_core::config::DeviceKeyStorage;
use dcr_core::device::key::{DeviceKey, DeviceKeyError};
use dcr_core::device::signer::{DeviceSigner, KeyHolder};
use dcr_core::device::tpm::{self, TpmKey};
use dcr_core::protocol::token::ClientAssertionSigner;
use dcr_core::session::{Event, StateName};
use dcr_core::Secret;
use dcr_tests::engine::{self, Form};
use dcr_tests::swtpm::Swtpm;
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
use serde_json::{json, Value};
use url::Url;

use super::device_bound::{device_bound, lifecycle, sign_out_and_forget};

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
    // This process's TPM keys use the software TPM. No other test here sets it.
    tpm::set_process_tcti(Some(&tpm.tcti()));
    let _reset = ResetTcti;
    // `auto` finds the TPM usable and takes it.
    assert_eq!(
        DeviceKey::generate_for(DeviceKeyStorage::Auto)
            .unwrap()
            .holder(),
        KeyHolder::Tpm
    );
    let options = device_bound(true);
    let extra = json!({
        "tokenEndpointAuthMethod": "private_key_jwt",
        "dpop": true,
        "deviceKeyStorage": "tpm",
    });
    let d = dcr_tests::engine::Rig::start_configured(
        options,
        Form::Full,
        dcr_tests::engine::RecordingTransport::new(),
        extra,
    )
    .await;
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

/// Puts the process's TCTI back even when the test fails.
struct ResetTcti;

impl Drop for ResetTcti {
    fn drop(&mut self) {
        tpm::set_process_tcti(None);
    }
}
