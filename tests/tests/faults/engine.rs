//! Fault injection, engine level (docs/faults.md): the real identity server killed
//! (SIGKILL) at each back-channel step of first run, sign-in, refresh, sign-out and forget,
//! either before it processes the request or after it processed it and before the answer left,
//! with the real keychain. After each fault: a typed error kind the UI offers a retry for,
//! nothing half-stored in the keychain, no client alive on the server that the app cannot find
//! again (beyond the one documented window), and the next attempt, after a restart of the
//! server over its saved state, succeeds. One server per test, restarted after each fault.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use dcr_core::device::store::{
    KeychainStore, MemoryStore, RegistrationStore, StoreError, StoreKey, StoredRegistration,
};
use dcr_core::session::{Event, Reason, ServerCleanup, StateName};
use dcr_core::Session;
use dcr_tests::engine::{self, Form, RecordingTransport};
use dcr_tests::faults::{Action, Fault};
use dcr_tests::keyring::require_test_keyring;
use dcr_tests::{Idp, IdpOptions, ScriptedAgent, ScriptedBrowser};

use Action::{KillAfter, KillBefore};

const FORM: Form = Form::Full;

/// A new engine instance over a new keychain connection (what an app start makes).
fn app(idp: &Idp, transport: &Arc<RecordingTransport>) -> Session {
    engine::session(idp, FORM, transport.clone(), Box::new(KeychainStore::new()))
}

async fn client_ids(idp: &Idp) -> BTreeSet<String> {
    idp.admin_list_clients()
        .await
        .into_iter()
        .map(|client| client.client_id)
        .collect()
}

/// The keychain entry and the engine agree: both name the same client, or neither has one, and
/// a stored client exists on the server.
async fn assert_consistent(idp: &Idp, session: &Session, what: &str) -> Option<String> {
    let view = session.state().await.unwrap();
    let shown = view.registration.map(|r| r.client_id);
    let stored = KeychainStore::new()
        .load(&engine::store_key(idp, FORM))
        .unwrap()
        .map(|s| s.registration.client_id);
    assert_eq!(
        shown, stored,
        "{what}: the keychain holds what the app shows"
    );
    if let Some(id) = &stored {
        assert!(
            client_ids(idp).await.contains(id),
            "{what}: the stored client exists on the server"
        );
    }
    stored
}

/// Restarts the server, then checks the keychain against the app and the server; returns the
/// stored client.
async fn assert_consistent_after_restart(idp: &mut Idp, session: &Session, what: &str) -> String {
    idp.restart().await;
    assert_consistent(idp, session, what)
        .await
        .unwrap_or_else(|| panic!("{what}: the registration is kept"))
}

/// One first-run fault: the error, the state, the keychain and the server's clients after it,
/// then the retry. `kind` is the error the first run ends with, or `None` when the step is best
/// effort (UserInfo: the sign-in succeeds with the ID token's claims). Returns the clients the
/// fault left on the server that the app does not know.
async fn first_run_fault(
    idp: &mut Idp,
    agent: &ScriptedAgent,
    fault: Fault,
    kind: Option<&str>,
) -> BTreeSet<String> {
    let what = fault.to_string();
    let keychain = KeychainStore::new();
    let key = engine::store_key(idp, FORM);
    keychain.delete(&key).unwrap();
    let before = client_ids(idp).await;
    let transport = Arc::new(RecordingTransport::new());
    let session = app(idp, &transport);

    idp.arm(fault).await;
    let outcome = session.register_and_sign_in(agent).await;
    idp.wait_killed().await;
    match (kind, outcome) {
        (Some(kind), Err(error)) => assert_eq!(error.kind(), kind, "{what}: {error}"),
        (None, Ok(view)) => {
            assert_eq!(view.state, StateName::SignedIn, "{what}");
            assert_eq!(
                view.user.unwrap().sub,
                "demouser",
                "{what}: from the ID token"
            );
        }
        (kind, outcome) => panic!("{what}: expected {kind:?}, got {outcome:?}"),
    }
    let view = session.state().await.unwrap();
    let stored = {
        let shown = view.registration.as_ref().map(|r| r.client_id.clone());
        let stored = keychain
            .load(&key)
            .unwrap()
            .map(|s| s.registration.client_id);
        assert_eq!(
            shown, stored,
            "{what}: the keychain holds what the app shows"
        );
        stored
    };
    // Registered exactly when the keychain save happened, i.e. when the 201 arrived.
    let registered = transport.to("/reg").iter().any(|e| e.status == Some(201));
    assert_eq!(stored.is_some(), registered, "{what}");

    idp.restart().await;
    let left: BTreeSet<String> = client_ids(idp).await.difference(&before).cloned().collect();
    let orphans: BTreeSet<String> = left
        .iter()
        .filter(|id| Some(*id) != stored.as_ref())
        .cloned()
        .collect();

    // The next attempt, in the same app (the screen's retry button), succeeds.
    let view = match (&stored, view.state) {
        (_, StateName::SignedIn) => session.refresh().await,
        (Some(_), _) => session.sign_in(agent).await,
        (None, _) => session.register_and_sign_in(agent).await,
    }
    .unwrap_or_else(|e| panic!("{what}: the retry failed: {} {e}", e.kind()));
    assert_eq!(view.state, StateName::SignedIn, "{what}");
    let id = assert_consistent(idp, &session, &what).await.unwrap();
    if let Some(stored) = stored {
        assert_eq!(id, stored, "{what}: the retry kept the stored client");
    }
    // Clean up for the next case: forget deletes the client on the server (RFC 7592 §2.3).
    assert_eq!(
        session.forget().await.unwrap().last_event,
        Some(Event::Forgotten)
    );
    assert!(keychain.load(&key).unwrap().is_none());
    assert!(
        !client_ids(idp).await.contains(&id),
        "{what}: forget deleted it"
    );
    orphans
}

/// The server killed at every back-channel step of the first run (discovery, the DCR
/// token, RFC 7591 registration, the SSO sign-in's authorization request, the per-install code
/// exchange, the key set, UserInfo), before and after it processed the request. (A fresh
/// registration is not read back with RFC 7592 before the sign-in: `back_channel.rs`.)
#[tokio::test]
async fn fi1_first_run_survives_the_server_killed_at_each_step() {
    require_test_keyring("fi1_first_run_survives_the_server_killed_at_each_step");
    let mut idp = Idp::start_persistent(IdpOptions::default()).await;
    let agent = ScriptedAgent::login(Arc::new(ScriptedBrowser::new()));
    let steps = [
        (
            "GET",
            "/.well-known/openid-configuration",
            1,
            Some("unreachable"),
        ),
        ("POST", "/token", 1, Some("unreachable")), // the DCR token (static client)
        ("POST", "/reg", 1, Some("unreachable")),   // RFC 7591
        // The SSO sign-in's authorization request: the browser cannot load the dead server.
        ("GET", "/auth", 2, Some("unreachable")),
        ("POST", "/token", 2, Some("unreachable")), // the per-install client's code exchange
        ("GET", "/jwks", 1, Some("keysUnavailable")),
        ("GET", "/me", 1, None), // best effort
    ];
    for (method, path, nth, kind) in steps {
        for action in [KillBefore, KillAfter] {
            let fault = Fault::new(method, path, nth, action);
            let orphans = first_run_fault(&mut idp, &agent, fault, kind).await;
            // The one window (docs/faults.md): the server created the client and its answer,
            // the only copy of the client's secret and registration access token, was lost.
            let expected = usize::from(path == "/reg" && action.processed());
            assert_eq!(orphans.len(), expected, "{fault}: {orphans:?}");
        }
    }
}

/// The server killed during refresh, sign-out (RFC 7009 revocation; the end-session
/// page then cannot load) and forget (RFC 7592 delete), before and after it processed the
/// request. The server is restarted over its saved state after each fault.
#[tokio::test]
async fn fi2_refresh_sign_out_and_forget_survive_the_server_killed() {
    require_test_keyring("fi2_refresh_sign_out_and_forget_survive_the_server_killed");
    let mut idp = Idp::start_persistent(IdpOptions::default()).await;
    let browser = Arc::new(ScriptedBrowser::new());
    let agent = ScriptedAgent::login(browser.clone());
    let key = engine::store_key(&idp, FORM);
    let keychain = KeychainStore::new();
    keychain.delete(&key).unwrap();
    let transport = Arc::new(RecordingTransport::new());
    let session = app(&idp, &transport);
    session.register_and_sign_in(&agent).await.unwrap();

    for action in [KillBefore, KillAfter] {
        let fault = Fault::new("POST", "/token", 1, action);
        let what = format!("refresh: {fault}");
        idp.arm(fault).await;
        let error = session.refresh().await.unwrap_err();
        idp.wait_killed().await;
        assert_eq!(error.kind(), "unreachable", "{what}: {error}");
        let view = session.state().await.unwrap();
        assert_eq!(
            view.state,
            StateName::SignedIn,
            "{what}: the tokens are kept"
        );
        idp.restart().await;
        let posts = browser.password_posts();
        let retry = session.refresh().await;
        if action.processed() {
            // The server rotated the refresh token (RFC 6749 §10.4) and the new one was lost:
            // the old one is a replay, which revokes the grant. The app says "signed out"
            // (session expired), and the sign-in is SSO, without the password.
            assert_eq!(retry.unwrap_err().kind(), "invalidGrant", "{what}");
            let view = session.state().await.unwrap();
            assert_eq!(
                (view.state, view.reason),
                (StateName::Registered, Some(Reason::SessionExpired)),
                "{what}"
            );
            let view = session.sign_in(&agent).await.unwrap();
            assert_eq!(view.state, StateName::SignedIn, "{what}");
            assert_eq!(browser.password_posts(), posts, "{what}: SSO");
        } else {
            assert_eq!(retry.unwrap().last_event, Some(Event::Refreshed), "{what}");
        }
        assert_consistent(&idp, &session, &what).await;
    }

    // Sign-out wipes the tokens first (L1); the revocation is best effort and the end-session
    // page cannot load the dead server, so the server half stays pending until the retry.
    for action in [KillBefore, KillAfter] {
        let fault = Fault::new("POST", "/token/revocation", 1, action);
        let what = format!("sign-out: {fault}");
        idp.arm(fault).await;
        let view = session.sign_out(&agent).await.unwrap();
        idp.wait_killed().await;
        assert_eq!(view.state, StateName::Registered, "{what}");
        assert_eq!(view.last_event, Some(Event::SignedOutLocally), "{what}");
        assert_eq!(
            view.pending_server_cleanup,
            Some(ServerCleanup::SignOut),
            "{what}"
        );
        idp.restart().await;
        let view = session.finish_server_cleanup(&agent).await.unwrap();
        assert_eq!(view.last_event, Some(Event::SignedOut), "{what}");
        assert_eq!(view.pending_server_cleanup, None, "{what}");
        assert_consistent(&idp, &session, &what).await;
        assert_eq!(
            session.sign_in(&agent).await.unwrap().state,
            StateName::SignedIn
        );
    }

    // Forget wipes the keychain entry even when the server cannot be told; the delete stays
    // pending until the retry, which must end as "forgotten" with the client gone.
    for action in [KillBefore, KillAfter] {
        let fault = Fault::new("DELETE", "/reg/", 1, action);
        let what = format!("forget: {fault}");
        let id = engine::client_id(&session.state().await.unwrap());
        idp.arm(fault).await;
        let view = session.forget().await.unwrap();
        idp.wait_killed().await;
        assert_eq!(view.state, StateName::Unregistered, "{what}");
        assert_eq!(view.last_event, Some(Event::ForgottenLocally), "{what}");
        assert_eq!(
            view.pending_server_cleanup,
            Some(ServerCleanup::Forget),
            "{what}"
        );
        assert!(keychain.load(&key).unwrap().is_none(), "{what}");
        idp.restart().await;
        assert_eq!(
            client_ids(&idp).await.contains(&id),
            !action.processed(),
            "{what}: the client is gone exactly when the server processed the delete"
        );
        let view = session.finish_server_cleanup(&agent).await.unwrap();
        assert_eq!(view.last_event, Some(Event::Forgotten), "{what}");
        assert_eq!(view.pending_server_cleanup, None, "{what}");
        assert!(!client_ids(&idp).await.contains(&id), "{what}");
        let view = session.register_and_sign_in(&agent).await.unwrap();
        assert_eq!(view.state, StateName::SignedIn, "{what}");
        assert_consistent(&idp, &session, &what).await;
    }

    // A later start: a new app instance restores the registration from the keychain and signs
    // in, with the server killed at discovery, and at the RFC 7592 read of the restored client.
    let faults = [
        (
            Fault::new("GET", "/.well-known/openid-configuration", 1, KillBefore),
            "unreachable",
        ),
        // The read is best effort; the discovery that follows finds the server gone.
        (Fault::new("GET", "/reg/", 1, KillAfter), "unreachable"),
    ];
    for (fault, kind) in faults {
        let what = format!("later start: {fault}");
        let id = engine::client_id(&session.state().await.unwrap());
        let later = app(&idp, &transport);
        assert_eq!(
            later.state().await.unwrap().last_event,
            Some(Event::Restored)
        );
        idp.arm(fault).await;
        let error = later.sign_in(&agent).await.unwrap_err();
        idp.wait_killed().await;
        assert_eq!(error.kind(), kind, "{what}: {error}");
        let view = later.state().await.unwrap();
        assert_eq!(
            view.state,
            StateName::Registered,
            "{what}: still registered"
        );
        assert_eq!(
            assert_consistent_after_restart(&mut idp, &later, &what).await,
            id
        );
        let posts = browser.password_posts();
        assert_eq!(
            later.sign_in(&agent).await.unwrap().state,
            StateName::SignedIn
        );
        assert_eq!(browser.password_posts(), posts, "{what}: SSO");
    }
}

/// Records how many back-channel exchanges had happened at each keychain save.
struct SaveOrder {
    inner: MemoryStore,
    transport: Arc<RecordingTransport>,
    saves: Mutex<Vec<usize>>,
}

impl RegistrationStore for SaveOrder {
    fn load(&self, key: &StoreKey) -> Result<Option<StoredRegistration>, StoreError> {
        self.inner.load(key)
    }
    fn save(&self, key: &StoreKey, value: &StoredRegistration) -> Result<(), StoreError> {
        self.saves
            .lock()
            .unwrap()
            .push(self.transport.exchanges().len());
        self.inner.save(key, value)
    }
    fn delete(&self, key: &StoreKey) -> Result<(), StoreError> {
        self.inner.delete(key)
    }
}

/// The window between the 201 and the keychain write (docs/faults.md): kept as small
/// as it can be. The save is the first thing the engine does with the 201: no other request
/// (no RFC 7592 read, no sign-in step) comes between the registration's answer and the write.
#[tokio::test]
async fn fi5_the_keychain_save_is_the_first_thing_after_the_201() {
    let idp = Idp::start().await;
    let transport = Arc::new(RecordingTransport::new());
    let store = Arc::new(SaveOrder {
        inner: MemoryStore::new(),
        transport: transport.clone(),
        saves: Mutex::new(Vec::new()),
    });
    let session = engine::session(&idp, FORM, transport.clone(), Box::new(store.clone()));
    let agent = ScriptedAgent::login(Arc::new(ScriptedBrowser::new()));
    session.register_and_sign_in(&agent).await.unwrap();
    let saves = store.saves.lock().unwrap().clone();
    assert_eq!(saves.len(), 1, "one save: {saves:?}");
    let exchanges = transport.exchanges();
    let last_before_save = &exchanges[saves[0] - 1];
    assert!(
        last_before_save.path.ends_with("/reg") && last_before_save.status == Some(201),
        "the save comes right after the 201: {exchanges:?}, save after #{}",
        saves[0]
    );
}
