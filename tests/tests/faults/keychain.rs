//! Fault injection, keychain (docs/faults.md): the real keychain locked at the exact
//! moment between the identity server's 201 and the keychain write. Runs in a child process with
//! its own D-Bus session and gnome-keyring (as engine_keychain.rs does), which it locks from
//! inside the store's save call and later unlocks by logging in again (a new daemon over the
//! same keyring folder, unlocked with the password).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use dcr_core::device::store::{
    KeychainStore, RegistrationStore, StoreError, StoreKey, StoredRegistration,
};
use dcr_core::session::StateName;
use dcr_tests::engine::{self, Form, RecordingTransport};
use dcr_tests::keyring::{assert_started_as, run_in_own_session, test_in, GnomeKeyring};
use dcr_tests::{Idp, ScriptedAgent, ScriptedBrowser};

/// The real keychain, which locks itself at the first save, after the registration's 201 and
/// before the entry is written.
struct LocksAtSave {
    keychain: KeychainStore,
    keyring: Arc<Mutex<Option<GnomeKeyring>>>,
    armed: AtomicBool,
}

impl RegistrationStore for LocksAtSave {
    fn load(&self, key: &StoreKey) -> Result<Option<StoredRegistration>, StoreError> {
        self.keychain.load(key)
    }
    fn save(&self, key: &StoreKey, value: &StoredRegistration) -> Result<(), StoreError> {
        if self.armed.swap(false, Ordering::SeqCst) {
            let keyring = self.keyring.lock().unwrap();
            let keyring = keyring.as_ref().expect("the keyring runs");
            keyring.lock_default_collection();
            assert!(keyring.default_collection_locked());
        }
        self.keychain.save(key, value)
    }
    fn delete(&self, key: &StoreKey) -> Result<(), StoreError> {
        self.keychain.delete(key)
    }
}

/// S1/S2: the keychain locked between registration and storing is `keychainLocked`,
/// the freshly registered client is deleted on the server (RFC 7592 §2.3), nothing is stored,
/// and after the keyring is unlocked the next attempt registers and stores.
#[tokio::test]
async fn fi3_keychain_locked_between_registration_and_save_then_unlocked() {
    run_in_own_session(
        "fi3_keychain_locked_between_registration_and_save_then_unlocked",
        &test_in(module_path!(), "child_keychain_locked_at_save"),
        "locked-at-save",
    );
}

/// The child half of `fi3_keychain_locked_between_registration_and_save_then_unlocked`.
#[tokio::test]
#[ignore = "started by fi3_keychain_locked_between_registration_and_save_then_unlocked in its own D-Bus session"]
async fn child_keychain_locked_at_save() {
    assert_started_as(
        "locked-at-save",
        "fi3_keychain_locked_between_registration_and_save_then_unlocked",
    );
    let keyring = Arc::new(Mutex::new(Some(GnomeKeyring::start())));
    let idp = Idp::start().await;
    let store = Arc::new(LocksAtSave {
        keychain: KeychainStore::new(),
        keyring: keyring.clone(),
        armed: AtomicBool::new(true),
    });
    store.keychain.check_available().unwrap();
    let key = engine::store_key(&idp, Form::Full);
    let agent = ScriptedAgent::login(Arc::new(ScriptedBrowser::new()));
    let transport = Arc::new(RecordingTransport::new());
    let session = engine::session(&idp, Form::Full, transport.clone(), Box::new(store.clone()));

    let error = session.register(&agent).await.unwrap_err();
    assert_eq!(error.kind(), "keychainLocked", "{error}");
    assert!(error.message().contains("unlock"), "{}", error.message());
    let view = session.state().await.unwrap();
    assert_eq!(view.state, StateName::Unregistered);
    assert!(view.registration.is_none());
    // The client the 201 created was deleted again, and nothing else is on the server.
    transport.assert_registered_client_deleted(0);
    assert!(idp.admin_list_clients().await.is_empty(), "no orphan");

    // Unlock: the user logs in again (a new daemon over the same keyring, with the password).
    drop(keyring.lock().unwrap().take());
    *keyring.lock().unwrap() = Some(GnomeKeyring::start());
    assert!(!keyring
        .lock()
        .unwrap()
        .as_ref()
        .unwrap()
        .default_collection_locked());
    assert!(store.load(&key).unwrap().is_none(), "nothing half-stored");

    // The next attempt registers and stores.
    let view = session.register(&agent).await.unwrap();
    let client_id = engine::client_id(&view);
    let stored = KeychainStore::new().load(&key).unwrap().expect("stored");
    assert_eq!(stored.registration.client_id, client_id);
    let clients = idp.admin_list_clients().await;
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0].client_id, client_id);
    assert_eq!(
        session.sign_in(&agent).await.unwrap().state,
        StateName::SignedIn
    );
}
