use serde_json::json;

use super::*;
use crate::device::store::MemoryStore;
use crate::protocol::registration::parse_registration;
use crate::test_support::config_json;
use crate::Secret;

fn config(user_agent: &str) -> Config {
    Config::from_json(&config_json(&format!(r#""userAgent":{user_agent}"#))).unwrap()
}

fn registered(binding: &Binding, client_id: &str) -> StoredRegistration {
    let redirect = binding.redirect_uri().as_str();
    let response = json!({
        "client_id": client_id, "client_secret": "secret-1", "client_secret_expires_at": 0,
        "redirect_uris": [redirect],
        "registration_access_token": "rat-1",
        "registration_client_uri": format!("https://idp.example/register/{client_id}"),
    });
    let registration =
        parse_registration(Secret::new(response.to_string()), Some(redirect)).unwrap();
    StoredRegistration {
        registration,
        registered_at: 1_700_000_000,
        device_key: None,
        refresh_token: None,
    }
}

/// Saves a registration made in `binding`'s mode under that mode's entry.
fn save_registered(store: &MemoryStore, binding: &Binding, client_id: &str) {
    store
        .save(binding.key(), &registered(binding, client_id))
        .unwrap();
}

/// The mode of the registration `find` settles on; failing the test when there is none.
fn found_mode(config: &Config, store: &MemoryStore) -> UserAgentKind {
    find(config, store).unwrap().expect("found").mode()
}

#[test]
fn this_installs_registration_is_the_first_allowed_modes_that_holds_one() {
    let config = config(r#"["embedded", "loopback"]"#);
    let store = MemoryStore::new();
    assert!(find(&config, &store).unwrap().is_none(), "unregistered");

    // Registered in loopback mode (`dcr --browser loopback register`, or the app's choice).
    let loopback = Binding::new(&config, UserAgentKind::Loopback);
    save_registered(&store, &loopback, "client-loopback");
    let found = find(&config, &store).unwrap().expect("found");
    assert_eq!(found.mode(), UserAgentKind::Loopback);
    assert_eq!(found.client_id(), "client-loopback");
    assert_eq!(found.redirect_uri().as_str(), "http://127.0.0.1/callback");
    assert_eq!(
        found.post_logout_redirect_uri().as_str(),
        "http://127.0.0.1/logoutcallback"
    );
    assert_eq!(found.key(), loopback.key());
    assert_eq!(found.generation(), Generation::of(found.stored()));

    // Two entries (say, from before modes were bound): the config's order decides.
    let embedded = Binding::new(&config, UserAgentKind::Embedded);
    save_registered(&store, &embedded, "client-embedded");
    assert_eq!(found_mode(&config, &store), UserAgentKind::Embedded);
    let reordered = Config {
        user_agents: vec![UserAgentKind::Loopback, UserAgentKind::Embedded],
        ..config.clone()
    };
    assert_eq!(found_mode(&reordered, &store), UserAgentKind::Loopback);
    // A mode the config does not allow is never looked at.
    assert!(find(&self::config(r#""system""#), &store)
        .unwrap()
        .is_none());
}

#[test]
fn each_mode_has_its_own_redirects_and_entry() {
    let config = config(r#"["embedded", "system", "loopback"]"#);
    let [embedded, system, loopback] = UserAgentKind::ALL.map(|mode| Binding::new(&config, mode));
    assert_eq!(embedded.redirect_uri(), &config.redirect_uri);
    assert_eq!(system.redirect_uri(), &config.redirect_uri);
    assert_eq!(
        loopback.redirect_uri().as_str(),
        "http://127.0.0.1/callback"
    );
    assert_ne!(embedded.key(), system.key(), "the mode tells them apart");
    assert_ne!(embedded.key(), loopback.key());
    assert_ne!(system.key(), loopback.key());
    // The config's own mode: the first listed.
    assert_eq!(Binding::of(&config), embedded);
}

#[test]
fn a_locked_keychain_is_an_error_and_an_unusable_entry_holds_none() {
    let config = config(r#"["embedded", "loopback"]"#);
    let locked = MemoryStore::failing_load(StoreError::Locked);
    assert_eq!(find(&config, &locked).unwrap_err(), StoreError::Locked);

    let store = MemoryStore::new();
    let embedded = Binding::new(&config, UserAgentKind::Embedded);
    store.put_raw(embedded.key(), "{not json");
    assert!(find(&config, &store).unwrap().is_none());
    let loopback = Binding::new(&config, UserAgentKind::Loopback);
    save_registered(&store, &loopback, "client-loopback");
    assert_eq!(found_mode(&config, &store), UserAgentKind::Loopback);
}

#[test]
fn the_generation_follows_every_credential_and_not_the_refresh_token() {
    let config = config(r#""loopback""#);
    let binding = Binding::of(&config);
    let base = registered(&binding, "client-1");
    let generation = Generation::of(&base);

    let remembered = StoredRegistration {
        refresh_token: Some(Secret::new("rt-1")),
        ..base.clone()
    };
    assert_eq!(Generation::of(&remembered), generation);

    let mut rotated_token = base.clone();
    rotated_token.registration.registration_access_token = Some(Secret::new("rat-2"));
    let mut rotated_secret = base.clone();
    rotated_secret.registration.client_secret = Some(Secret::new("secret-2"));
    let with_key = StoredRegistration {
        device_key: Some(std::sync::Arc::new(
            crate::device::key::DeviceKey::generate().unwrap(),
        )),
        ..base.clone()
    };
    let other_client = registered(&binding, "client-2");
    for changed in [rotated_token, rotated_secret, with_key, other_client] {
        assert_ne!(Generation::of(&changed), generation);
    }
    assert_eq!(format!("{generation:?}"), "Generation(…)", "never printed");
}
