//! Unit tests for keys, the entry format and the memory store. The real keychain is tested with
//! the test harness, in `tests/tests/engine/keychain_store.rs`.

use super::*;
use crate::protocol::registration::registration_response;
use crate::test_support::respond_raw;

const REDIRECT: &str = "io.curity.dcrclient:/callback";
const SECRET: &str = "tfs9nad3dweFAa1CqpUj5p6NC4-092hb5Gg4SVRhOkc";
const RAT: &str = "e99ab41e-52a1-4fa3-b21b-fb95a398c33a";
/// The seed tutorial's registration response (compacted).
const SEED_RESPONSE: &str = r#"{"default_acr_values":["urn:se:curity:authentication:html-form:Username-Password"],"application_type":"native","registration_client_uri":"https://baa467f55bc7.eu.ngrok.io/token-service/oauth-registration/87f1d9de-de2f-4e96-b27b-882cce0a3352","registration_access_token_expires_in":31536000,"registration_access_token":"e99ab41e-52a1-4fa3-b21b-fb95a398c33a","client_id":"87f1d9de-de2f-4e96-b27b-882cce0a3352","token_endpoint_auth_method":"client_secret_basic","scope":"openid profile","client_id_issued_at":1624011134,"client_secret":"tfs9nad3dweFAa1CqpUj5p6NC4-092hb5Gg4SVRhOkc","id_token_signed_response_alg":"RS256","grant_types":["authorization_code","refresh_token"],"subject_type":"public","redirect_uris":["io.curity.dcrclient:/callback"],"post_logout_redirect_uris":["io.curity.dcrclient:/logoutcallback"],"client_secret_expires_at":0,"token_endpoint_auth_methods":["client_secret_basic","client_secret_post"],"response_types":["code","id_token"],"refresh_token_ttl":3600}"#;

pub(crate) fn key() -> StoreKey {
    StoreKey::new(
        "http://127.0.0.1:8443/oauth/v2/oauth-anonymous",
        "mobile-dcr-client",
        REDIRECT,
        None,
    )
}

pub(crate) fn stored_from(response: &str, registered_at: i64) -> StoredRegistration {
    let resp = respond_raw(201, None, response.as_bytes());
    let request = crate::protocol::registration::RegistrationBody::templatized("tmpl");
    let registration = registration_response(resp, &request, REDIRECT, 1_700_000_000).unwrap();
    StoredRegistration {
        registration,
        registered_at,
        device_key: None,
        refresh_token: None,
    }
}

fn seed_stored() -> StoredRegistration {
    stored_from(SEED_RESPONSE, 1_700_000_123)
}

fn seed_with(field: &str, value: Value) -> String {
    let mut doc: Value = serde_json::from_str(SEED_RESPONSE).unwrap();
    doc[field] = value;
    doc.to_string()
}

#[test]
fn s6_every_part_of_the_key_changes_the_entry() {
    let base = key();
    let variants = [
        StoreKey::new(
            "http://127.0.0.1:8443/oauth/v2/oauth-anonymous/",
            "mobile-dcr-client",
            REDIRECT,
            None,
        ),
        StoreKey::new(
            "https://idsvr.example/oauth/v2/oauth-anonymous",
            "mobile-dcr-client",
            REDIRECT,
            None,
        ),
        StoreKey::new(base.issuer(), "other-client", REDIRECT, None),
        StoreKey::new(
            base.issuer(),
            "mobile-dcr-client",
            "io.curity.dcrclient:/cb2",
            None,
        ),
        StoreKey::new(
            base.issuer(),
            "mobile-dcr-client",
            REDIRECT,
            Some("mobile-dcr-template-client"),
        ),
        StoreKey::new(base.issuer(), "mobile-dcr-client", REDIRECT, Some("")),
        // A system-mode registration shares the redirect with embedded mode.
        key().for_mode(Some("system")),
    ];
    for variant in &variants {
        assert_ne!(variant.user(), base.user(), "{variant:?}");
    }
    assert_eq!(key().user(), base.user());
    // No mode is the key as it was before modes were a choice: existing entries are found.
    assert_eq!(key().for_mode(None).user(), base.user());
    // Shifting text between parts is a different key (length-prefixed hashing).
    let a = StoreKey::new("ab", "c", REDIRECT, None);
    let b = StoreKey::new("a", "bc", REDIRECT, None);
    assert_ne!(a.user(), b.user());
}

#[test]
fn key_names_are_readable_and_bounded() {
    let user = key().user();
    let (readable, hash) = user.split_once('#').unwrap();
    assert_eq!(readable, "mobile-dcr-client@127.0.0.1:8443");
    assert_eq!(hash.len(), 32);
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(key().service(), "io.curity.dcrclient");
    assert!(key()
        .label()
        .contains("127.0.0.1:8443/oauth/v2/oauth-anonymous"));
    let hostile = StoreKey::new("not a url\n", &"x\u{0}y ".repeat(100), REDIRECT, None);
    let user = hostile.user();
    assert!(user.len() <= 64 + 1 + 64 + 1 + 32);
    assert!(user.chars().all(|c| c.is_ascii_graphic()), "{user}");
}

#[test]
fn no_entry_is_the_unregistered_state_and_deleting_nothing_is_fine() {
    let store = MemoryStore::new();
    assert!(store.load(&key()).unwrap().is_none());
    store.delete(&key()).unwrap();
}

#[test]
fn entry_is_the_whole_response_wrapped_with_version_and_time() {
    let store = MemoryStore::new();
    store.save(&key(), &seed_stored()).unwrap();
    let raw = store.raw(&key()).unwrap();
    assert_eq!(
        raw.expose(),
        format!(r#"{{"version":1,"registeredAt":1700000123,"registration":{SEED_RESPONSE}}}"#)
    );
    let loaded = store.load(&key()).unwrap().unwrap();
    assert_eq!(loaded.registered_at, 1_700_000_123);
    let registration = loaded.registration;
    assert_eq!(
        registration.client_id,
        "87f1d9de-de2f-4e96-b27b-882cce0a3352"
    );
    assert_eq!(registration.client_secret.unwrap().expose(), SECRET);
    assert_eq!(
        registration.registration_access_token.unwrap().expose(),
        RAT
    );
    // The same document (key order may differ: it was parsed and written again).
    let reloaded: Value = serde_json::from_str(registration.response_json.expose()).unwrap();
    assert_eq!(
        reloaded,
        serde_json::from_str::<Value>(SEED_RESPONSE).unwrap()
    );
    // Another key (S6) sees nothing.
    let other = StoreKey::new("https://other.example", "mobile-dcr-client", REDIRECT, None);
    assert!(store.load(&other).unwrap().is_none());
    store.delete(&key()).unwrap();
    assert!(store.load(&key()).unwrap().is_none());
}

#[test]
fn an_expired_secret_still_loads_for_the_session_to_judge() {
    let store = MemoryStore::new();
    let future = seed_with("client_secret_expires_at", 1_700_000_100.into());
    store.save(&key(), &stored_from(&future, 5)).unwrap();
    let loaded = store.load(&key()).unwrap().unwrap();
    assert!(loaded.registration.secret_expired(1_800_000_000));
}

#[test]
fn s3_corrupt_entries_are_reported_never_panic() {
    let wrap = |registration: &str| {
        format!(r#"{{"version":1,"registeredAt":5,"registration":{registration}}}"#)
    };
    let nested = "[".repeat(10_000);
    let cases = [
        String::new(),
        "garbage".into(),
        "[]".into(),
        nested,
        r#"{"version":2,"registeredAt":5,"registration":{}}"#.into(),
        format!(r#"{{"version":1,"registration":{SEED_RESPONSE}}}"#),
        format!(r#"{{"version":1,"registeredAt":"yesterday","registration":{SEED_RESPONSE}}}"#),
        r#"{"version":1,"registeredAt":5}"#.into(),
        wrap("[]"),
        wrap(r#"{"client_secret":"x","client_secret_expires_at":0}"#),
        wrap(&seed_with("client_secret_expires_at", Value::Null)),
        // Registered for another redirect URI: not ours.
        wrap(&seed_with(
            "redirect_uris",
            serde_json::json!(["io.curity.dcrclient:/other"]),
        )),
    ];
    let store = MemoryStore::new();
    for raw in cases {
        store.put_raw(&key(), &raw);
        assert_eq!(
            store.load(&key()).unwrap_err(),
            StoreError::Corrupt,
            "{raw:.80}"
        );
    }
    // The session discards it: delete works and the state is unregistered.
    store.delete(&key()).unwrap();
    assert!(store.load(&key()).unwrap().is_none());
}

#[test]
fn s4_an_oversized_response_is_stored_as_its_essential_fields() {
    let big = seed_with("extra_metadata", "z".repeat(4000).into());
    let store = MemoryStore::new();
    store.save(&key(), &stored_from(&big, 9)).unwrap();
    let raw = store.raw(&key()).unwrap();
    assert!(raw.expose().len() <= MAX_ENTRY_BYTES);
    assert!(
        !raw.expose().contains("extra_metadata") && !raw.expose().contains("default_acr_values")
    );
    let loaded = store.load(&key()).unwrap().unwrap().registration;
    assert_eq!(loaded.client_secret.unwrap().expose(), SECRET);
    assert_eq!(loaded.registration_access_token.unwrap().expose(), RAT);
    assert!(loaded.registration_client_uri.is_some());
    assert_eq!(loaded.client_id_issued_at, Some(1_624_011_134));
}

#[test]
fn s4_a_response_too_large_even_reduced_fails_cleanly() {
    let huge = seed_with("scope", "openid ".repeat(500).trim_end().into());
    let store = MemoryStore::new();
    match store.save(&key(), &stored_from(&huge, 9)) {
        Err(StoreError::TooLarge { bytes, limit }) => assert!(bytes > limit && limit == 2560),
        other => panic!("{other:?}"),
    }
    assert!(store.is_empty());
}

#[test]
fn injected_errors_are_returned_and_can_be_cleared() {
    let store = MemoryStore::failing_save(StoreError::Locked);
    assert_eq!(store.save(&key(), &seed_stored()), Err(StoreError::Locked));
    assert!(store.is_empty());
    store.set_save_error(None);
    store.save(&key(), &seed_stored()).unwrap();
    store.set_load_error(Some(StoreError::Unavailable("no Secret Service".into())));
    assert!(matches!(
        store.load(&key()),
        Err(StoreError::Unavailable(_))
    ));
    store.set_load_error(None);
    assert!(store.load(&key()).unwrap().is_some());
    let failing = MemoryStore::failing_delete(StoreError::Locked);
    assert_eq!(failing.delete(&key()), Err(StoreError::Locked));
    let failing = MemoryStore::failing_load(StoreError::Corrupt);
    assert_eq!(failing.load(&key()).unwrap_err(), StoreError::Corrupt);
}

#[test]
fn the_store_is_usable_as_a_shared_trait_object() {
    let store: std::sync::Arc<dyn RegistrationStore> = std::sync::Arc::new(MemoryStore::new());
    let worker = {
        let store = store.clone();
        std::thread::spawn(move || store.save(&key(), &seed_stored()))
    };
    worker.join().unwrap().unwrap();
    assert!(store.load(&key()).unwrap().is_some());
}

#[test]
fn z1_store_errors_and_debug_output_hold_no_secret() {
    let errors = [
        StoreError::Locked,
        StoreError::Unavailable("x".into()),
        StoreError::Corrupt,
        StoreError::TooLarge {
            bytes: 3000,
            limit: 2560,
        },
    ];
    let kinds: Vec<_> = errors.iter().map(StoreError::kind).collect();
    assert_eq!(
        kinds,
        [
            "keychainLocked",
            "keychainUnavailable",
            "keychainCorrupt",
            "keychainEntryTooLarge"
        ]
    );
    assert!(StoreError::Locked
        .to_string()
        .contains("unlock your keyring"));
    let shown = format!("{:?}", seed_stored());
    assert!(!shown.contains(SECRET) && !shown.contains(RAT));
}

/// A device-key registration as oidc-provider answers it: no secret, private_key_jwt, jwks.
fn key_stored(device: &std::sync::Arc<DeviceKey>) -> StoredRegistration {
    let mut doc: Value = serde_json::from_str(SEED_RESPONSE).unwrap();
    crate::test_support::as_private_key_jwt(&mut doc);
    doc["jwks"] = device.public_jwks();
    let resp = respond_raw(201, None, doc.to_string().as_bytes());
    let request = crate::protocol::registration::RegistrationBody::templatized("tmpl")
        .with_device_jwks(&device.public_jwks());
    let registration = registration_response(resp, &request, REDIRECT, 1_700_000_000).unwrap();
    StoredRegistration {
        registration,
        registered_at: 7,
        device_key: Some(device.clone()),
        refresh_token: None,
    }
}

#[test]
fn k5_the_device_key_lives_in_the_entry_and_comes_back() {
    let device = std::sync::Arc::new(DeviceKey::generate().unwrap());
    let store = MemoryStore::new();
    store.save(&key(), &key_stored(&device)).unwrap();
    let raw = store.raw(&key()).unwrap();
    let entry: Value = serde_json::from_str(raw.expose()).unwrap();
    let stored_form: Value = serde_json::from_str(device.stored_form().expose()).unwrap();
    assert!(stored_form.is_string(), "a software key is its PKCS#8");
    assert_eq!(entry["deviceKey"], stored_form);
    assert!(
        raw.expose().len() <= MAX_ENTRY_BYTES,
        "{}",
        raw.expose().len()
    );
    let loaded = store.load(&key()).unwrap().unwrap();
    assert_eq!(loaded.device_key.unwrap().thumbprint(), device.thumbprint());
    assert!(loaded.registration.client_secret.is_none());
    // Debug output shows the thumbprint, never the private key.
    assert!(!format!("{:?}", key_stored(&device)).contains(stored_form.as_str().unwrap()));
    // A secret registration with a DPoP key keeps it too; an old entry without one loads.
    let mut with_dpop = seed_stored();
    with_dpop.device_key = Some(device.clone());
    store.save(&key(), &with_dpop).unwrap();
    assert!(store.load(&key()).unwrap().unwrap().device_key.is_some());
    store.save(&key(), &seed_stored()).unwrap();
    assert!(!store.raw(&key()).unwrap().expose().contains("deviceKey"));
    assert!(store.load(&key()).unwrap().unwrap().device_key.is_none());
}

#[test]
fn k5_a_private_key_jwt_entry_without_its_key_is_unusable() {
    let device = std::sync::Arc::new(DeviceKey::generate().unwrap());
    let store = MemoryStore::new();
    store.save(&key(), &key_stored(&device)).unwrap();
    let mut entry: Value = serde_json::from_str(store.raw(&key()).unwrap().expose()).unwrap();
    entry.as_object_mut().unwrap().remove("deviceKey");
    store.put_raw(&key(), &entry.to_string());
    let error = store.load(&key()).unwrap_err();
    assert_eq!(error, StoreError::DeviceKeyMissing);
    assert!(error.is_unusable_entry());
    assert_eq!(error.kind(), crate::error::ErrorKind::KeychainCorrupt);
    // A key that is not a key is corrupt.
    entry["deviceKey"] = "bm90IGEga2V5".into();
    store.put_raw(&key(), &entry.to_string());
    assert_eq!(store.load(&key()).unwrap_err(), StoreError::Corrupt);
}

#[test]
fn s4_an_oversized_device_key_registration_keeps_its_key_when_reduced() {
    let device = std::sync::Arc::new(DeviceKey::generate().unwrap());
    let mut stored = key_stored(&device);
    let mut doc: Value = serde_json::from_str(stored.registration.response_json.expose()).unwrap();
    doc["extra_metadata"] = "z".repeat(3000).into();
    stored.registration.response_json = Secret::new(doc.to_string());
    let store = MemoryStore::new();
    store.save(&key(), &stored).unwrap();
    let raw = store.raw(&key()).unwrap();
    assert!(raw.expose().len() <= MAX_ENTRY_BYTES);
    assert!(!raw.expose().contains("extra_metadata"));
    let loaded = store.load(&key()).unwrap().unwrap();
    assert_eq!(loaded.device_key.unwrap().thumbprint(), device.thumbprint());
}
