//! Loopback mode (RFC 8252 §7.3) against the fake: the client is registered with
//! `http://127.0.0.1/callback`, so every RFC 7592 answer about it lists that redirect, and is
//! checked against it (not against the configured private-use redirect).

use super::*;
use crate::test_support::config_json;

fn loopback_rig(extra: &str) -> Rig {
    let config = Config::from_json(&config_json(&format!(r#""userAgent":"loopback"{extra}"#)))
        .expect("a loopback config");
    rig_with(config, Arc::new(MemoryStore::new()))
}

/// The registration access token the fake accepts for `client_id` now.
fn server_token(rig: &Rig, client_id: &str) -> String {
    rig.idp.with(|s| s.clients[client_id].1.clone())
}

fn stored_token(rig: &Rig) -> String {
    let stored = rig.store.load(rig.key()).unwrap().unwrap();
    stored
        .registration
        .registration_access_token
        .expect("a registration access token")
        .expose()
        .to_owned()
}

#[tokio::test]
async fn a_registration_access_token_rotated_on_every_read_is_adopted_in_loopback_mode() {
    let rig = loopback_rig("");
    rig.registered().await;
    let body = rig.idp.with(|s| s.last_registration_body.clone()).unwrap();
    assert_eq!(body["redirect_uris"], json!(["http://127.0.0.1/callback"]));
    // Like Keycloak: every RFC 7592 read answers with a new registration access token.
    rig.idp.with(|s| s.rotate_token_on_every_read = true);

    for _ in 0..2 {
        let view = rig.session.sign_in(&rig.browser).await.unwrap();
        assert_eq!(view.state, StateName::SignedIn);
        assert_eq!(
            stored_token(&rig),
            server_token(&rig, "client-1"),
            "the rotated token is stored"
        );
        rig.session.sign_out(&rig.browser).await.unwrap();
    }
    assert_eq!(rig.idp.with(|s| s.reads), 2);
    // The token it holds still manages the client: forget deletes it on the server.
    let view = rig.session.forget().await.unwrap();
    assert_eq!(view.last_event, Some(Event::Forgotten));
    assert_eq!(rig.idp.with(|s| s.deleted.clone()), ["client-1"]);
}

#[tokio::test]
async fn a_device_key_rotation_in_loopback_mode_is_adopted() {
    let rig = loopback_rig(r#","tokenEndpointAuthMethod":"private_key_jwt""#);
    rig.registered().await;
    let old = rig.store.load(rig.key()).unwrap().unwrap();

    let view = rig.session.rotate_device_key().await.unwrap();
    assert_eq!(view.last_event, Some(Event::KeyRotated));
    let rotated = rig.store.load(rig.key()).unwrap().unwrap();
    let (old_key, new_key) = (old.device_key.unwrap(), rotated.device_key.unwrap());
    assert_ne!(old_key.thumbprint(), new_key.thumbprint());
    assert_eq!(stored_token(&rig), server_token(&rig, "client-1"));
    // The server checks assertions with the new key only: the sign-in proves it.
    let view = rig.session.sign_in(&rig.browser).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
}

#[tokio::test]
async fn every_session_opens_on_the_mode_the_install_registered_in() {
    use crate::config::UserAgentKind::{Embedded, Loopback, System};
    let config = Config::from_json(&config_json(r#""userAgent":["embedded","loopback"]"#))
        .expect("a config with two modes");
    let rig = rig_with(config, Arc::new(MemoryStore::new()));
    let app = Arc::new(rig.restart());
    assert_eq!(app.mode(), Embedded, "the default mode");
    let unregistered = app.clone().on_registered_mode().await.unwrap();
    assert!(Arc::ptr_eq(&unregistered, &app), "unregistered: as it is");

    let loopback = app.clone().choose_mode(Loopback).await.unwrap();
    assert_eq!(loopback.mode(), Loopback);
    loopback.register(&rig.browser).await.unwrap();
    let body = rig.idp.with(|s| s.last_registration_body.clone()).unwrap();
    assert_eq!(body["redirect_uris"], json!(["http://127.0.0.1/callback"]));

    // Another process (the CLI, or the app after a restart) opens on it, on the default mode.
    let other = Arc::new(rig.restart());
    assert_eq!(other.state().await.unwrap().state, StateName::Unregistered);
    let found = other.on_registered_mode().await.unwrap();
    assert_eq!(found.mode(), Loopback);
    assert_eq!(found.registered_mode().await.unwrap(), Some(Loopback));
    let view = found.state().await.unwrap();
    assert_eq!(view.state, StateName::Registered);
    assert_eq!(view.registration.unwrap().client_id, "client-1");

    // Bound to its mode: another is refused, the same one is this session.
    let Err(bound) = found.clone().choose_mode(Embedded).await else {
        panic!("another mode is refused")
    };
    assert!(
        matches!(
            bound,
            ModeError::Bound {
                registered: Loopback
            }
        ),
        "{bound:?}"
    );
    assert_eq!(bound.kind(), ErrorKind::UserAgent);
    assert!(bound.message().contains("already registered"), "{bound}");
    let same = found.clone().choose_mode(Loopback).await.unwrap();
    assert!(Arc::ptr_eq(&same, &found));
    let Err(refused) = found.choose_mode(System).await else {
        panic!("a mode the config does not allow is refused")
    };
    assert!(matches!(refused, ModeError::NotAllowed(_)), "{refused:?}");
    assert_eq!(refused.kind(), ErrorKind::UserAgent);
}
