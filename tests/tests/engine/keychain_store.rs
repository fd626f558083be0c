//! The keychain store itself (`KeychainStore`) over the real Secret Service, without the engine
//! or an identity server: a round trip that a new store instance finds and another process sees
//! (S5), a really locked keyring (S2) and no Secret Service at all (S1). `keychain.rs` runs the
//! engine over the same store.
//!
//! The locked and missing cases need a keyring nobody else uses, so each re-runs its child half
//! in a process of its own (`dcr_tests::keyring`): the locked one inside a private
//! `dbus-run-session` with its own gnome-keyring and no display (so the unlock prompt fails at
//! once instead of waiting for a click), the missing one with a session bus address that leads
//! nowhere.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dcr_core::device::store::{
    KeychainStore, RegistrationStore, StoreError, StoreKey, StoredRegistration,
};
use dcr_core::platform::http::CappedResponse;
use dcr_core::protocol::registration::{registration_response, RegistrationBody};
use dcr_core::Secret;
use dcr_tests::engine::REDIRECT_URI;
use dcr_tests::flows::now;
use dcr_tests::keyring::{
    assert_child_passed, assert_started_as, entry_attributes, require_test_keyring,
    run_child_without_secret_service, run_in_own_session, test_in, GnomeKeyring,
};
use serde_json::json;

/// A key no other test or earlier run uses: its issuer names this process and the time.
fn unique_key(label: &str) -> StoreKey {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let issuer = format!(
        "https://keychain-test.invalid/{label}-{}-{nanos}",
        std::process::id()
    );
    StoreKey::new(&issuer, "mobile-dcr-client", REDIRECT_URI, None)
}

/// A registration as the engine stores it: a 201 body read by the engine's own parser.
fn registration() -> StoredRegistration {
    let body = json!({
        "client_id": "keychain-test-client",
        "client_secret": "keychain-test-secret-4f1e2d3c",
        "client_secret_expires_at": 0,
        "client_id_issued_at": 1_700_000_000,
        "token_endpoint_auth_method": "client_secret_basic",
        "redirect_uris": [REDIRECT_URI],
        "registration_access_token": "keychain-test-rat-9a8b7c6d",
        "registration_client_uri": "https://keychain-test.invalid/register/keychain-test-client",
    });
    let created = CappedResponse {
        status: 201,
        content_type: Some("application/json".into()),
        body: body.to_string().into_bytes(),
        ..Default::default()
    };
    let template = RegistrationBody::templatized("keychain-test-template");
    StoredRegistration {
        registration: registration_response(created, &template, REDIRECT_URI, now())
            .expect("the engine accepts the registration"),
        registered_at: 1_700_000_123,
        device_key: None,
        refresh_token: None,
    }
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

#[test]
fn s5_real_keychain_round_trip_survives_a_new_store_instance() {
    require_test_keyring("s5_real_keychain_round_trip_survives_a_new_store_instance");
    let key = unique_key("round-trip");
    let value = registration();
    let store = KeychainStore::new();
    let started = Instant::now();
    store
        .check_available()
        .expect("the keychain must be available");
    let connect = started.elapsed();
    assert!(
        store.load(&key).unwrap().is_none(),
        "a fresh key has no entry"
    );

    let started = Instant::now();
    store.save(&key, &value).unwrap();
    let save = started.elapsed();
    let started = Instant::now();
    let loaded = store.load(&key).unwrap().expect("the entry just saved");
    let load = started.elapsed();
    assert_eq!(loaded.registered_at, value.registered_at);
    assert_eq!(loaded.registration.client_id, value.registration.client_id);
    assert_eq!(
        loaded
            .registration
            .client_secret
            .as_ref()
            .map(Secret::expose),
        value
            .registration
            .client_secret
            .as_ref()
            .map(Secret::expose)
    );

    // S5: a new instance (a restarted app) finds it, so this is not a per-process mock.
    let started = Instant::now();
    let restarted = KeychainStore::new()
        .load(&key)
        .unwrap()
        .expect("persisted across instances");
    let restart_load = started.elapsed();
    assert_eq!(
        restarted.registration.client_id,
        value.registration.client_id
    );
    // Another process (libsecret's `secret-tool`) sees the entry and its readable attributes.
    let seen = entry_attributes(key.issuer());
    for wanted in [
        format!("attribute.username = {}", key.user()),
        "attribute.registration_client_id = mobile-dcr-client".to_owned(),
        format!("label = {}", key.label()),
    ] {
        assert!(seen.contains(&wanted), "{wanted} not in {seen:#?}");
    }

    let started = Instant::now();
    store.delete(&key).unwrap();
    let delete = started.elapsed();
    assert!(store.load(&key).unwrap().is_none());
    store.delete(&key).unwrap();
    println!(
        "keychain timings: connect {}, save {}, load {}, delete {}, save+load+delete {}; load from a new instance (connect included) {}",
        ms(connect), ms(save), ms(load), ms(delete), ms(save + load + delete), ms(restart_load)
    );
}

#[test]
fn s2_locked_keychain_is_its_own_error() {
    run_in_own_session(
        "s2_locked_keychain_is_its_own_error",
        &test_in(module_path!(), "child_locked_store"),
        "locked-store",
    );
}

/// The child half of `s2_locked_keychain_is_its_own_error`.
#[test]
#[ignore = "started by s2_locked_keychain_is_its_own_error in its own D-Bus session"]
fn child_locked_store() {
    assert_started_as("locked-store", "s2_locked_keychain_is_its_own_error");
    let mut keyring = GnomeKeyring::start();
    let key = unique_key("locked");
    let store = KeychainStore::new();
    store.save(&key, &registration()).unwrap();
    assert!(store.load(&key).unwrap().is_some());

    keyring.lock_default_collection();
    let started = Instant::now();
    let error = store.load(&key).unwrap_err();
    let locked_after = started.elapsed();
    assert_eq!(
        error,
        StoreError::Locked,
        "a locked keychain is not 'no entry'"
    );
    assert_eq!(error.kind(), "keychainLocked");
    assert!(error.to_string().contains("unlock your keyring"), "{error}");
    assert_eq!(store.save(&key, &registration()), Err(StoreError::Locked));
    assert_eq!(store.delete(&key), Err(StoreError::Locked));
    // A key that was never saved is still "no entry" while locked (the Secret Service searches
    // locked items too, so that is the truth); creating it then reports Locked, not success.
    let absent = unique_key("absent");
    assert!(store.load(&absent).unwrap().is_none());
    assert_eq!(
        store.save(&absent, &registration()),
        Err(StoreError::Locked)
    );

    // Unlocked again by a new daemon: the same store instance reconnects by itself.
    keyring.restart_unlocked();
    let deadline = Instant::now() + Duration::from_secs(10);
    let found = loop {
        match store.load(&key) {
            Ok(found) => break found,
            Err(error) if Instant::now() < deadline => {
                println!("waiting for the unlocked keyring: {error}");
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(error) => panic!("the keyring did not come back unlocked: {error}"),
        }
    };
    assert!(
        found.is_some(),
        "the entry survived locking and a daemon restart"
    );
    store.delete(&key).unwrap();
    assert!(store.load(&key).unwrap().is_none());
    println!(
        "locked keychain reported as Locked after {}",
        ms(locked_after)
    );
}

#[test]
fn s1_no_secret_service_is_unavailable_with_a_fix() {
    assert_child_passed(&run_child_without_secret_service(
        &test_in(module_path!(), "child_unavailable_store"),
        "unavailable-store",
    ));
}

/// The child half of `s1_no_secret_service_is_unavailable_with_a_fix`.
#[test]
#[ignore = "started by s1_no_secret_service_is_unavailable_with_a_fix with a bus that leads nowhere"]
fn child_unavailable_store() {
    assert_started_as(
        "unavailable-store",
        "s1_no_secret_service_is_unavailable_with_a_fix",
    );
    let store = KeychainStore::new();
    let key = unique_key("unavailable");
    let errors = [
        store.check_available().unwrap_err(),
        store.load(&key).unwrap_err(),
        store.save(&key, &registration()).unwrap_err(),
        store.delete(&key).unwrap_err(),
    ];
    for error in errors {
        assert_eq!(error.kind(), "keychainUnavailable", "{error}");
        let message = error.to_string();
        assert!(
            message.contains("Secret Service") && message.contains("gnome-keyring"),
            "{message}"
        );
        println!("unavailable message: {message}");
    }
}
