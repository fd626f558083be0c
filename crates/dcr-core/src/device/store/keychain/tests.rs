//! Tests against the real OS keychain.
//!
//! The round trip uses whatever keychain the session offers. It needs `DCR_TEST_KEYRING=1`, which
//! `make test` (scripts/test.sh) sets inside `dbus-run-session` with an unlocked gnome-keyring;
//! without it (or without the D-Bus session) it fails and says how to run it, never skips.
//!
//! The locked and unavailable cases need a keyring nobody else is using, so they re-run this
//! test binary as a child process: the locked case inside a private `dbus-run-session` with its
//! own gnome-keyring and no display (so the unlock prompt fails at once instead of waiting for a
//! click), the unavailable case with a session bus address that leads nowhere.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::*;
use crate::device::store::tests::seed_stored;

const CHILD_MODE: &str = "DCR_TEST_KEYRING_CHILD";
const REDIRECT: &str = "io.curity.dcrclient:/callback";

/// Fails the test, saying how to run it, unless a test keyring is available (the same check as
/// `dcr_tests::keyring::require_test_keyring`, which this crate cannot depend on).
fn require_test_keyring(test: &str) {
    assert_eq!(
        std::env::var("DCR_TEST_KEYRING").as_deref(),
        Ok("1"),
        "{test} needs the real OS keychain: run it through `make test` (scripts/test.sh), which \
         starts a D-Bus session with a throwaway unlocked gnome-keyring and sets DCR_TEST_KEYRING=1"
    );
    #[cfg(all(
        unix,
        not(any(target_os = "macos", target_os = "ios", target_os = "android"))
    ))]
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "DCR_TEST_KEYRING=1 but DBUS_SESSION_BUS_ADDRESS is unset: run the tests inside \
         `dbus-run-session` with gnome-keyring started and unlocked (see scripts/test.sh)"
    );
}

fn unique(label: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("{label}-{}-{nanos}", std::process::id())
}

fn unique_key(label: &str) -> StoreKey {
    let issuer = format!("https://keychain-test.invalid/{}", unique(label));
    StoreKey::new(&issuer, "mobile-dcr-client", REDIRECT, None)
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

#[test]
fn s5_real_keychain_round_trip_survives_a_new_store_instance() {
    require_test_keyring("s5_real_keychain_round_trip_survives_a_new_store_instance");
    let key = unique_key("round-trip");
    let value = seed_stored();
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
    #[cfg(all(
        unix,
        not(any(target_os = "macos", target_os = "ios", target_os = "android"))
    ))]
    secret_service::assert_visible_to_secret_tool(&key);

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

/// The Secret Service cases: another process sees the entry, a locked keyring, no keyring.
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
mod secret_service;
