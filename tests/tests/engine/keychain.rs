//! The engine over the real OS keychain (gnome-keyring through the Secret Service), against the
//! real identity server: the round trip, a restart that restores the registration, revocation
//! wiping the entry (found at refresh, and at sign-in after a restart), and a really locked
//! keychain. Run through `make test` (scripts/test.sh); without its test keyring these tests
//! fail and say so.

use std::sync::Arc;

use dcr_core::device::store::{KeychainStore, RegistrationStore};
use dcr_core::session::{Event, Reason, StateName};
use dcr_core::Session;
use dcr_tests::engine::{self, Form, RecordingTransport};
use dcr_tests::keyring::{
    assert_started_as, require_test_keyring, run_in_own_session, test_in, GnomeKeyring,
};
use dcr_tests::{Idp, ScriptedAgent, ScriptedBrowser};

fn keychain_session(idp: &Idp, form: Form, transport: Arc<RecordingTransport>) -> Session {
    // A new KeychainStore each time: a new connection, as after an app restart.
    engine::session(idp, form, transport, Box::new(KeychainStore::new()))
}

/// S5: the registration goes to the real keychain, a new engine instance over a new keychain
/// connection (an app restart) restores it and signs in by SSO, and forget removes it everywhere.
#[tokio::test]
async fn keychain_round_trip_and_restart_restore_the_registration() {
    require_test_keyring("keychain_round_trip_and_restart_restore_the_registration");
    let idp = Idp::start().await;
    let form = Form::Templatized;
    let key = engine::store_key(&idp, form);
    let keychain = KeychainStore::new();
    keychain.delete(&key).unwrap(); // an entry left by an earlier run on the same port
    let browser = Arc::new(ScriptedBrowser::new());
    let agent = ScriptedAgent::login(browser.clone());
    let transport = Arc::new(RecordingTransport::new());

    let first = keychain_session(&idp, form, transport.clone());
    assert_eq!(first.state().await.unwrap().state, StateName::Unregistered);
    let view = first.register_and_sign_in(&agent).await.unwrap();
    let client_id = view.registration.unwrap().client_id;
    let stored = keychain.load(&key).unwrap().expect("saved in the keychain");
    assert_eq!(stored.registration.client_id, client_id);
    let secret = stored.registration.client_secret.unwrap();
    drop(first);

    // Restart: nothing in memory survives; the keychain does.
    let second = keychain_session(&idp, form, transport.clone());
    let view = second.state().await.unwrap();
    assert_eq!(
        view.state,
        StateName::Registered,
        "tokens are not persisted"
    );
    assert_eq!(view.last_event, Some(Event::Restored));
    assert_eq!(view.registration.as_ref().unwrap().client_id, client_id);
    assert!(view.registration.unwrap().templatized);
    let view = second.sign_in(&agent).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    assert_eq!(browser.password_posts(), 1, "SSO after the restart");
    // The restored secret is the one the server issued: the code exchange authenticated with it.
    let exchange = transport.to("/token").pop().unwrap();
    assert_eq!(exchange.client_id().as_deref(), Some(client_id.as_str()));
    let basic = exchange.authorization.unwrap();
    assert_eq!(
        basic,
        format!(
            "Basic {}",
            base64_encode(&format!("{client_id}:{}", secret.expose()))
        )
    );
    assert_eq!(
        second.refresh().await.unwrap().last_event,
        Some(Event::Refreshed)
    );

    let view = second.forget().await.unwrap();
    assert_eq!(view.last_event, Some(Event::Forgotten));
    assert!(keychain.load(&key).unwrap().is_none());
    assert!(KeychainStore::new().load(&key).unwrap().is_none());
    assert!(idp.admin_list_clients().await.is_empty());
    let third = keychain_session(&idp, form, transport);
    assert_eq!(third.state().await.unwrap().state, StateName::Unregistered);
}

/// T2 with the real keychain. After the administrator deletes the client, the refresh's
/// `invalid_client` removes the keychain entry, so a restart does not bring it back. Then the
/// same after a restart, where there are no tokens and the sign-in finds the deletion (RFC 7592
/// read) before opening a window.
#[tokio::test]
async fn revoked_client_is_removed_from_the_keychain() {
    require_test_keyring("revoked_client_is_removed_from_the_keychain");
    let idp = Idp::start().await;
    let key = engine::store_key(&idp, Form::Full);
    let keychain = KeychainStore::new();
    keychain.delete(&key).unwrap();
    let agent = ScriptedAgent::login(Arc::new(ScriptedBrowser::new()));
    let transport = Arc::new(RecordingTransport::new());
    let session = keychain_session(&idp, Form::Full, transport.clone());
    let view = session.register_and_sign_in(&agent).await.unwrap();
    assert!(keychain.load(&key).unwrap().is_some());
    assert!(
        idp.admin_delete_client(&view.registration.unwrap().client_id)
            .await
    );

    assert_eq!(session.refresh().await.unwrap_err().kind(), "invalidClient");
    assert_eq!(session.state().await.unwrap().reason, Some(Reason::Revoked));
    assert!(keychain.load(&key).unwrap().is_none(), "the entry is gone");
    let restarted = keychain_session(&idp, Form::Full, transport.clone());
    assert_eq!(
        restarted.state().await.unwrap().state,
        StateName::Unregistered
    );

    // Registered again, then a restart: only the keychain entry is left, no tokens.
    let client_id = engine::client_id(&restarted.register(&agent).await.unwrap());
    drop(restarted);
    let restarted = keychain_session(&idp, Form::Full, transport.clone());
    assert_eq!(
        restarted.state().await.unwrap().last_event,
        Some(Event::Restored)
    );
    assert!(idp.admin_delete_client(&client_id).await);
    let windows = agent.opened().len();
    let error = restarted.sign_in(&agent).await.unwrap_err();
    assert_eq!(error.kind(), "invalidClient", "{error}");
    assert_eq!(agent.opened().len(), windows, "no sign-in window");
    let view = restarted.state().await.unwrap();
    assert_eq!(
        (view.state, view.reason),
        (StateName::Unregistered, Some(Reason::Revoked))
    );
    assert!(keychain.load(&key).unwrap().is_none(), "the entry is gone");
    let again = keychain_session(&idp, Form::Full, transport);
    assert_eq!(again.state().await.unwrap().state, StateName::Unregistered);
    assert!(
        idp.admin_list_clients().await.is_empty(),
        "no re-registration"
    );
}

/// S1/S2 with a really locked keychain. A registration saved before the keyring was locked
/// cannot be read after a restart: `keychainLocked`, with a message saying to unlock, and never
/// "unregistered", a new registration or a window. With no entry yet, registering works on the
/// server but the save fails: `keychainLocked` again, the new client is deleted (RFC 7592 §2.3)
/// so no orphan is left, and the state is unchanged. Runs in a child process with its own D-Bus
/// session and gnome-keyring, which it locks.
#[tokio::test]
async fn locked_keychain_is_a_clear_error_and_leaves_no_registration() {
    run_in_own_session(
        "locked_keychain_is_a_clear_error_and_leaves_no_registration",
        &test_in(module_path!(), "child_locked_keychain"),
        "locked-keychain",
    );
}

/// The child half of `locked_keychain_is_a_clear_error_and_leaves_no_registration`.
#[tokio::test]
#[ignore = "started by locked_keychain_is_a_clear_error_and_leaves_no_registration in its own D-Bus session"]
async fn child_locked_keychain() {
    assert_started_as(
        "locked-keychain",
        "locked_keychain_is_a_clear_error_and_leaves_no_registration",
    );
    let keyring = GnomeKeyring::start();
    let idp = Idp::start().await;
    let keychain = Arc::new(KeychainStore::new());
    keychain.check_available().unwrap();
    let agent = ScriptedAgent::login(Arc::new(ScriptedBrowser::new()));
    let transport = Arc::new(RecordingTransport::new());
    let session =
        |form: Form| engine::session(&idp, form, transport.clone(), Box::new(keychain.clone()));

    // Saved while unlocked (the templatized form has an entry of its own), then locked.
    let kept = session(Form::Templatized).register(&agent).await.unwrap();
    let kept = kept.registration.unwrap().client_id;
    keyring.lock_default_collection();
    assert!(keyring.default_collection_locked());

    // A restart: the entry is there but locked away.
    let restarted = session(Form::Templatized);
    let error = restarted.state().await.unwrap_err();
    assert_eq!(error.kind(), "keychainLocked", "{error}");
    assert!(error.message().contains("unlock"), "{}", error.message());
    assert_eq!(
        restarted.register(&agent).await.unwrap_err().kind(),
        "keychainLocked"
    );
    assert_eq!(
        restarted.sign_in(&agent).await.unwrap_err().kind(),
        "keychainLocked"
    );
    assert_eq!(agent.opened().len(), 1, "no window while locked");
    assert_eq!(
        transport.to("/reg").len(),
        1,
        "no registration while locked"
    );

    // No entry yet: no entry is readable as "no entry" even while locked; the save fails.
    let session = session(Form::Full);
    assert_eq!(
        session.state().await.unwrap().state,
        StateName::Unregistered
    );
    let error = session.register(&agent).await.unwrap_err();
    assert_eq!(error.kind(), "keychainLocked", "{error}");
    assert!(error.message().contains("unlock"), "{}", error.message());

    // The client the server created was deleted again: no orphan.
    let registrations = transport.to("/reg");
    assert_eq!(registrations.len(), 2);
    assert_eq!(registrations[1].status, Some(201));
    transport.assert_registered_client_deleted(1);
    let clients = idp.admin_list_clients().await;
    assert_eq!(clients.len(), 1, "only the one saved before the lock");
    assert_eq!(clients[0].client_id, kept);

    // Nothing changed, and a locked keychain never becomes a silent re-registration.
    let view = session.state().await.unwrap();
    assert_eq!(view.state, StateName::Unregistered);
    assert!(view.registration.is_none() && view.last_event.is_none());
    assert!(keyring.default_collection_locked());
    let key = engine::store_key(&idp, Form::Full);
    assert!(
        keychain.load(&key).unwrap().is_none(),
        "no entry was written"
    );
    assert_eq!(
        session.sign_in(&agent).await.unwrap_err().kind(),
        "notRegistered"
    );
    assert_eq!(transport.to("/reg").len(), 2);
    drop(keyring);
}

fn base64_encode(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}
