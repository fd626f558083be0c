//! K6: a device key whose holder fails, through the whole state machine. The TPM-held key is
//! stood in for by a signer double (the same software key, so the fake server accepts what it
//! signs) that answers as a TPM would: cleared or replaced (`NoLongerAvailable`), or busy after
//! the TPM key's own retry. The real TPM cases are in tests/tests/engine/tpm.rs.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::*;
use crate::device::key::{DeviceKey, DeviceKeyError};
use crate::device::signer::{DeviceSigner, Es256Signature, KeyHolder, PublicPoint};
use crate::device::software::SoftwareKey;
use crate::device::store::{RegistrationStore, StoredRegistration};

/// What the doubled TPM answers.
#[derive(Default)]
struct Faults {
    /// Every signature and check fails with `NoLongerAvailable` (the TPM was cleared).
    lost: AtomicBool,
    /// The next this many signatures fail as a TPM still busy after one retry.
    busy: AtomicUsize,
    signatures: AtomicUsize,
}

struct DoubledTpm {
    key: SoftwareKey,
    faults: Arc<Faults>,
}

impl DoubledTpm {
    fn answer(&self) -> Result<(), DeviceKeyError> {
        if self.faults.lost.load(Ordering::SeqCst) {
            return Err(DeviceKeyError::NoLongerAvailable);
        }
        let busy = self.faults.busy.load(Ordering::SeqCst);
        if busy > 0 {
            self.faults.busy.store(busy - 1, Ordering::SeqCst);
            return Err(DeviceKeyError::Tpm("the TPM is busy (TPM_RC_RETRY)".into()));
        }
        Ok(())
    }
}

impl DeviceSigner for DoubledTpm {
    fn public_point(&self) -> &PublicPoint {
        self.key.public_point()
    }
    fn sign(&self, signing_input: &[u8]) -> Result<Es256Signature, DeviceKeyError> {
        self.answer()?;
        self.faults.signatures.fetch_add(1, Ordering::SeqCst);
        self.key.sign(signing_input)
    }
    fn check_available(&self) -> Result<(), DeviceKeyError> {
        match self.answer() {
            // A busy check is the TPM's to retry at the signature; only a lost key counts here.
            Err(DeviceKeyError::NoLongerAvailable) => Err(DeviceKeyError::NoLongerAvailable),
            _ => Ok(()),
        }
    }
    fn stored_form(&self) -> Secret {
        self.key.stored_form()
    }
    fn holder(&self) -> KeyHolder {
        KeyHolder::Tpm
    }
}

/// The rig's store, handing out every loaded device key in the doubled TPM.
struct DoubledTpmStore {
    inner: Arc<MemoryStore>,
    faults: Arc<Faults>,
}

impl RegistrationStore for DoubledTpmStore {
    fn load(&self, key: &StoreKey) -> Result<Option<StoredRegistration>, StoreError> {
        let mut loaded = self.inner.load(key)?;
        if let Some(stored) = loaded.as_mut() {
            if let Some(device_key) = stored.device_key.take() {
                let pkcs8: String = serde_json::from_str(device_key.stored_form().expose())
                    .expect("a software key's stored form is a JSON string");
                let doubled = DoubledTpm {
                    key: SoftwareKey::from_pkcs8(Secret::new(pkcs8)).unwrap(),
                    faults: self.faults.clone(),
                };
                stored.device_key = Some(Arc::new(DeviceKey::from_signer(Box::new(doubled))));
            }
        }
        Ok(loaded)
    }
    fn save(&self, key: &StoreKey, value: &StoredRegistration) -> Result<(), StoreError> {
        self.inner.save(key, value)
    }
    fn delete(&self, key: &StoreKey) -> Result<(), StoreError> {
        self.inner.delete(key)
    }
}

const DEVICE_BOUND: &str = r#""tokenEndpointAuthMethod":"private_key_jwt","dpop":true"#;

/// A device-bound rig registered with a software key, and a session (an app restart) whose
/// keys come out of the keychain in the doubled TPM.
async fn registered_in_a_doubled_tpm(extra: &str) -> (Rig, Session, Arc<Faults>) {
    let config = Config::from_json(&config_json(extra)).unwrap();
    let rig = rig_with(config, Arc::new(MemoryStore::new()));
    rig.registered().await;
    let faults = Arc::new(Faults::default());
    let session = in_the_doubled_tpm(&rig, &faults);
    (rig, session, faults)
}

/// A new session (an app start) on the rig's store and server, its keys in the doubled TPM.
fn in_the_doubled_tpm(rig: &Rig, faults: &Arc<Faults>) -> Session {
    let store = DoubledTpmStore {
        inner: rig.store.clone(),
        faults: faults.clone(),
    };
    locked(
        Session::with_transport(rig.session.config.clone(), rig.idp.clone(), Box::new(store)),
        &rig.lock_dir,
    )
}

fn client_id(rig: &Rig) -> String {
    rig.store
        .load(rig.key())
        .unwrap()
        .unwrap()
        .registration
        .client_id
}

/// Deleted on the server and here, unregistered with the reason, and the error says so.
async fn assert_discarded(rig: &Rig, session: &Session, error: &Error, client_id: &str) {
    assert_eq!(error.kind(), ErrorKind::DeviceKeyLost, "{error}");
    assert!(
        error
            .message()
            .starts_with("This device's key is no longer available"),
        "{error}"
    );
    assert!(error.message().contains("register this device again"));
    let view = session.state().await.unwrap();
    assert_eq!(view.state, StateName::Unregistered);
    assert_eq!(view.reason, Some(Reason::DeviceKeyLost));
    assert_eq!(view.last_event, Some(Event::Forgotten));
    assert_eq!(view.pending_server_cleanup, None);
    assert!(rig.store.is_empty(), "the keychain entry is gone");
    assert_eq!(rig.idp.with(|s| s.deleted.clone()), [client_id.to_owned()]);
}

#[tokio::test]
async fn k6_a_key_the_tpm_no_longer_loads_at_refresh_deletes_the_registration_everywhere() {
    let (rig, session, faults) = registered_in_a_doubled_tpm(DEVICE_BOUND).await;
    let client_id = client_id(&rig);
    session.sign_in(&rig.browser).await.unwrap();
    assert!(
        faults.signatures.load(Ordering::SeqCst) > 0,
        "the double signed"
    );
    faults.lost.store(true, Ordering::SeqCst);
    let error = session.refresh().await.unwrap_err();
    assert_discarded(&rig, &session, &error, &client_id).await;
    // Nothing left to refresh or sign in with: the user registers again.
    assert_eq!(session.refresh().await.unwrap_err().kind(), "notRegistered");
}

#[tokio::test]
async fn k6_a_key_the_tpm_no_longer_loads_is_found_before_the_sign_in_window_opens() {
    let (rig, session, faults) = registered_in_a_doubled_tpm(DEVICE_BOUND).await;
    let client_id = client_id(&rig);
    faults.lost.store(true, Ordering::SeqCst);
    let error = session.sign_in(&rig.browser).await.unwrap_err();
    assert_discarded(&rig, &session, &error, &client_id).await;
    assert_eq!(
        rig.idp.with(|s| s.browser_steps.clone()),
        ["/authorize login"],
        "no sign-in window for a key that cannot redeem the code"
    );
}

#[tokio::test]
async fn k6_a_key_the_tpm_no_longer_loads_at_the_remembered_sign_in_deletes_the_registration() {
    let extra = format!(r#"{DEVICE_BOUND},"rememberSignIn":true"#);
    let (rig, session, faults) = registered_in_a_doubled_tpm(&extra).await;
    let client_id = client_id(&rig);
    session.sign_in(&rig.browser).await.unwrap();
    // The next start: the remembered refresh token, signed for by a TPM that was cleared.
    let next_start = in_the_doubled_tpm(&rig, &faults);
    faults.lost.store(true, Ordering::SeqCst);
    let error = next_start.resume().await.unwrap_err();
    assert_discarded(&rig, &next_start, &error, &client_id).await;
}

#[tokio::test]
async fn k6_a_lost_key_whose_server_delete_fails_is_still_cleared_here_and_says_so() {
    let (rig, session, faults) = registered_in_a_doubled_tpm(DEVICE_BOUND).await;
    session.sign_in(&rig.browser).await.unwrap();
    faults.lost.store(true, Ordering::SeqCst);
    rig.idp.with(|s| s.delete_status = Some(503));
    let error = session.refresh().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::DeviceKeyLost);
    assert!(error.message().contains("may remain"), "{error}");
    let view = session.state().await.unwrap();
    assert_eq!(view.state, StateName::Unregistered);
    assert_eq!(view.reason, Some(Reason::DeviceKeyLost));
    assert_eq!(view.last_event, Some(Event::ForgottenLocally));
    assert!(rig.store.is_empty());
    // As after forget: the delete can be sent again while the app runs.
    assert_eq!(view.pending_server_cleanup, Some(ServerCleanup::Forget));
    rig.idp.with(|s| s.delete_status = None);
    let view = session.finish_server_cleanup(&rig.browser).await.unwrap();
    assert_eq!(view.last_event, Some(Event::Forgotten));
    assert_eq!(rig.idp.with(|s| s.deleted.len()), 1);
}

#[tokio::test]
async fn k6_a_busy_tpm_fails_the_refresh_and_keeps_the_tokens_and_the_registration() {
    let (rig, session, faults) = registered_in_a_doubled_tpm(DEVICE_BOUND).await;
    let signed_in = session.sign_in(&rig.browser).await.unwrap();
    faults.busy.store(1, Ordering::SeqCst);
    let error = session.refresh().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::DeviceKeyUnavailable, "{error}");
    let view = session.state().await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    assert_eq!(view.token_fingerprint, signed_in.token_fingerprint);
    assert_eq!(view.reason, None);
    assert!(!rig.store.is_empty());
    assert!(rig.idp.with(|s| s.deleted.is_empty()));
    // The TPM answers again: the same tokens refresh.
    let view = session.refresh().await.unwrap();
    assert_eq!(view.last_event, Some(Event::Refreshed));
    assert_ne!(view.token_fingerprint, signed_in.token_fingerprint);
}
