//! The engine against the real identity server (tests/idp), driven by the scripted login:
//! the whole lifecycle with both registration forms, restart and the real keychain.

mod engine_support;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use dcr_core::session::{Event, StateName};
use dcr_core::store::{KeychainStore, MemoryStore};
use dcr_tests::{jwt_claims, Idp};
use engine_support::{config_for, keyring_enabled, session_with, ScriptedUserAgent, Shared};

/// register → store → SSO sign-in (no second password) → refresh with rotation → logout →
/// sign-in asks for the password again → forget (RFC 7592 delete).
async fn lifecycle(extra_config: &str, software_id: Option<&str>) {
    let idp = Idp::start().await;
    let ua = ScriptedUserAgent::new();
    let store = Arc::new(MemoryStore::new());
    let session = session_with(config_for(&idp, extra_config), Shared(store.clone()));

    assert_eq!(
        session.state().await.unwrap().state,
        StateName::Unregistered
    );
    let view = session.register(&ua).await.unwrap();
    assert_eq!(view.state, StateName::Registered);
    let client_id = view.registration.clone().unwrap().client_id;
    assert_eq!(store.len(), 1, "the registration is stored");
    let clients = idp.admin_list_clients().await;
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0].client_id, client_id);
    assert_eq!(clients[0].software_id.as_deref(), software_id);
    assert_eq!(ua.password_posts(), 1);

    // The registration login used prompt=login; the sign-in is SSO: no second password.
    let view = session.sign_in(&ua).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    assert_eq!(ua.password_posts(), 1, "SSO sign-in asked for no password");
    let user = view.user.clone().unwrap();
    assert_eq!(user.sub, "demouser");
    assert_eq!(user.name.as_deref(), Some("Demo User"));
    let opened = ua.opened.lock().unwrap().clone();
    let first: std::collections::HashMap<_, _> = opened[0].query_pairs().into_owned().collect();
    let second: std::collections::HashMap<_, _> = opened[1].query_pairs().into_owned().collect();
    assert_eq!(first["client_id"], "mobile-dcr-client");
    assert_eq!(first["scope"], "dcr");
    assert_eq!(first["prompt"], "login");
    assert_eq!(second["client_id"], client_id);
    assert_eq!(second["scope"], "openid profile");

    // Refresh with rotation, twice: the second must use the rotated refresh token.
    let before = view.token_fingerprint.clone().unwrap();
    let view = session.refresh().await.unwrap();
    assert_eq!(view.last_event, Some(Event::Refreshed));
    assert_ne!(view.token_fingerprint.clone().unwrap(), before);
    session.refresh().await.unwrap();

    // RP-initiated logout, confirmed by the server.
    let view = session.sign_out(&ua).await.unwrap();
    assert_eq!(view.state, StateName::Registered);
    assert_eq!(view.last_event, Some(Event::SignedOut));
    let logout = ua.opened.lock().unwrap().last().cloned().unwrap();
    let hint = logout
        .query_pairs()
        .find(|(k, _)| k == "id_token_hint")
        .unwrap()
        .1
        .into_owned();
    assert_eq!(jwt_claims(&hint)["aud"], client_id.as_str());

    // The SSO session is gone: without a password the sign-in cannot finish...
    ua.with_password.store(false, Ordering::SeqCst);
    let error = session.sign_in(&ua).await.unwrap_err();
    assert_eq!(error.kind(), "userAgent");
    assert_eq!(session.state().await.unwrap().state, StateName::Registered);
    // ...and with it, it can.
    ua.with_password.store(true, Ordering::SeqCst);
    assert_eq!(
        session.sign_in(&ua).await.unwrap().state,
        StateName::SignedIn
    );
    assert_eq!(ua.password_posts(), 2);

    let view = session.forget().await.unwrap();
    assert_eq!(view.state, StateName::Unregistered);
    assert_eq!(view.last_event, Some(Event::Forgotten));
    assert!(store.is_empty());
    assert!(
        idp.admin_list_clients().await.is_empty(),
        "RFC 7592 delete reached the server"
    );
}

#[tokio::test]
async fn full_lifecycle_with_full_registration() {
    lifecycle("", None).await;
}

#[tokio::test]
async fn full_lifecycle_with_templatized_registration() {
    lifecycle(
        r#""softwareId":"mobile-dcr-template-client""#,
        Some("mobile-dcr-template-client"),
    )
    .await;
}

#[tokio::test]
async fn client_secret_post_is_honoured_when_registered() {
    let idp = Idp::start().await;
    let ua = ScriptedUserAgent::new();
    let config = config_for(&idp, r#""tokenEndpointAuthMethod":"client_secret_post""#);
    let session = session_with(config, MemoryStore::new());
    session.register_and_sign_in(&ua).await.unwrap();
    assert_eq!(session.refresh().await.unwrap().state, StateName::SignedIn);
}

#[tokio::test]
async fn s5_real_keychain_round_trip_and_restart_restore_the_registration() {
    if !keyring_enabled("s5_real_keychain_round_trip_and_restart_restore_the_registration") {
        return;
    }
    let idp = Idp::start().await;
    let ua = ScriptedUserAgent::new();
    let session = session_with(config_for(&idp, ""), KeychainStore::new());
    let client_id = session
        .register(&ua)
        .await
        .unwrap()
        .registration
        .unwrap()
        .client_id;
    drop(session);

    // A new engine instance: the registration comes back from the Secret Service.
    let restarted = session_with(config_for(&idp, ""), KeychainStore::new());
    let view = restarted.state().await.unwrap();
    assert_eq!(view.state, StateName::Registered);
    assert_eq!(view.last_event, Some(Event::Restored));
    assert_eq!(view.registration.unwrap().client_id, client_id);
    assert_eq!(
        restarted.sign_in(&ua).await.unwrap().state,
        StateName::SignedIn
    );
    restarted.forget().await.unwrap();
    let again = session_with(config_for(&idp, ""), KeychainStore::new());
    assert_eq!(again.state().await.unwrap().state, StateName::Unregistered);
}
