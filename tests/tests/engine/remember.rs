//! Staying signed in (`rememberSignIn: true`) over the real OS keychain and the real
//! cross-process lock, against the real identity server (rotating refresh tokens): a restart
//! signs in with one refresh; a refused refresh falls back to "Welcome back" and deletes the
//! token; sign-out and forget remove it; two sessions (the app and the CLI) refreshing at once
//! under rotation both stay signed in. Also Home's name from UserInfo when the ID token carries
//! only `sub` and `preferred_username`. Run through `scripts/test.sh --test engine_remember`.

use std::sync::Arc;

use dcr_core::device::store::{KeychainStore, RegistrationStore, StoreKey};
use dcr_core::platform::lock::ProcessLock;
use dcr_core::session::{Event, Reason, StateName};
use dcr_core::{Config, Session};
use dcr_tests::engine::{self, Form, RecordingTransport, Rig};
use dcr_tests::keyring::require_test_keyring;
use dcr_tests::{jwt_claims, Idp, IdpOptions, ScriptedAgent, ScriptedBrowser};

const FORM: Form = Form::Full;

/// A session as the shells build it: the keychain, the per-user lock, `rememberSignIn: true`.
/// A new one is an app restart (or the CLI next to the app).
fn remembering(idp: &Idp, transport: Arc<RecordingTransport>) -> Session {
    let mut json = engine::config_json(idp, FORM);
    json["rememberSignIn"] = true.into();
    let config = Config::from_json(&json.to_string()).unwrap();
    let lock = ProcessLock::for_user(&engine::store_key(idp, FORM).fingerprint());
    Session::with_transport(config, transport, Box::new(KeychainStore::new()))
        .with_process_lock(lock)
}

fn fresh_key(idp: &Idp) -> StoreKey {
    let key = engine::store_key(idp, FORM);
    KeychainStore::new().delete(&key).unwrap(); // left by an earlier run on the same port
    key
}

fn remembered(key: &StoreKey) -> Option<String> {
    let stored = KeychainStore::new().load(key).unwrap()?;
    stored.refresh_token.map(|token| token.expose().to_owned())
}

/// The start the keychain tests share: the test keyring, the test's own identity server with no
/// entry left for it, and a first session that registered and signed in with the sign-in
/// remembered. Returns the server, the entry's key, the browser, the recorded back channel
/// and that session.
async fn signed_in_and_remembered(
    test: &str,
) -> (
    Idp,
    StoreKey,
    ScriptedAgent,
    Arc<RecordingTransport>,
    Session,
) {
    require_test_keyring(test);
    let idp = Idp::start().await;
    let key = fresh_key(&idp);
    let agent = ScriptedAgent::login(Arc::new(ScriptedBrowser::new()));
    let transport = Arc::new(RecordingTransport::new());
    let first = remembering(&idp, transport.clone());
    first.register_and_sign_in(&agent).await.unwrap();
    (idp, key, agent, transport, first)
}

fn refresh_grants(transport: &RecordingTransport) -> usize {
    transport
        .to("/token")
        .iter()
        .filter(|exchange| exchange.form("grant_type").as_deref() == Some("refresh_token"))
        .count()
}

/// The keychain holds the refresh token and no other token; a restart goes to signed in with
/// exactly one refresh and no browser step, and stores the rotated token.
#[tokio::test]
async fn remembered_restart_signs_in_with_one_refresh() {
    let (idp, key, agent, transport, first) =
        signed_in_and_remembered("remembered_restart_signs_in_with_one_refresh").await;
    let token = remembered(&key).expect("the refresh token is in the keychain");
    let issued = idp.admin_issued_secrets_by_kind().await;
    let refresh_tokens: Vec<_> = issued
        .iter()
        .filter(|s| s.kind == "refresh_token")
        .collect();
    assert_eq!(refresh_tokens.last().unwrap().value, token);
    drop(first);

    let windows = agent.opened().len();
    let before = refresh_grants(&transport);
    let second = remembering(&idp, transport.clone());
    let view = second.resume().await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    assert_eq!(view.last_event, Some(Event::Resumed));
    assert_eq!(
        view.user.unwrap().display_name.as_deref(),
        Some("Demo User")
    );
    assert_eq!(refresh_grants(&transport) - before, 1, "one refresh");
    assert_eq!(agent.opened().len(), windows, "no browser step");
    let rotated = remembered(&key).unwrap();
    assert_ne!(
        rotated, token,
        "the rotated refresh token replaced the used one"
    );
    // Once per session: asking again only reads the state.
    second.resume().await.unwrap();
    assert_eq!(refresh_grants(&transport) - before, 1);
    second.forget().await.unwrap();
}

/// The server refuses the remembered token (revoked, RFC 7009): the restart lands on
/// "Welcome back" (registered, sessionExpired), the stale token is deleted, the registration
/// stays, and signing in again by SSO remembers a new one.
#[tokio::test]
async fn refused_remembered_refresh_falls_back_to_welcome_back() {
    let (idp, key, agent, transport, first) =
        signed_in_and_remembered("refused_remembered_refresh_falls_back_to_welcome_back").await;
    drop(first);
    revoke_remembered_token(&idp, &key).await;

    let second = remembering(&idp, transport.clone());
    let view = second.resume().await.unwrap();
    assert_eq!(view.state, StateName::Registered);
    assert_eq!(view.reason, Some(Reason::SessionExpired));
    assert!(remembered(&key).is_none(), "the refused token is deleted");
    assert!(KeychainStore::new().load(&key).unwrap().is_some());
    assert_eq!(
        second.sign_in(&agent).await.unwrap().state,
        StateName::SignedIn
    );
    assert!(remembered(&key).is_some());
    second.forget().await.unwrap();
}

/// What an administrator or another device could do: revoke the refresh token (RFC 7009),
/// with this client's own credentials from the keychain.
async fn revoke_remembered_token(idp: &Idp, key: &StoreKey) {
    let stored = KeychainStore::new().load(key).unwrap().unwrap();
    let token = stored.refresh_token.unwrap();
    let secret = stored.registration.client_secret.unwrap();
    let response = reqwest::Client::new()
        .post(idp.endpoint("token/revocation"))
        .basic_auth(&stored.registration.client_id, Some(secret.expose()))
        .form(&[
            ("token", token.expose()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// Sign-out removes the remembered token (a restart is "Welcome back", no refresh); forget
/// removes the whole entry.
#[tokio::test]
async fn sign_out_and_forget_remove_the_remembered_token() {
    let (idp, key, agent, transport, session) =
        signed_in_and_remembered("sign_out_and_forget_remove_the_remembered_token").await;
    assert!(remembered(&key).is_some());
    session.sign_out(&agent).await.unwrap();
    assert!(remembered(&key).is_none(), "sign-out removes it");
    let before = refresh_grants(&transport);
    let view = remembering(&idp, transport.clone()).resume().await.unwrap();
    assert_eq!(view.state, StateName::Registered);
    assert_eq!(refresh_grants(&transport), before);

    session.sign_in(&agent).await.unwrap();
    assert!(remembered(&key).is_some());
    session.forget().await.unwrap();
    assert!(KeychainStore::new().load(&key).unwrap().is_none());
    let view = remembering(&idp, transport).resume().await.unwrap();
    assert_eq!(view.state, StateName::Unregistered);
}

/// Two processes (the app and the CLI) on one remembered sign-in, refreshing at the same time
/// with rotation: each refresh takes the lock, reads the entry again and uses the newest token,
/// so neither presents a rotated-away one (which the server answers with invalid_grant).
#[tokio::test]
async fn two_sessions_racing_a_rotated_refresh_both_stay_signed_in() {
    let (idp, key, _agent, _transport, app) =
        signed_in_and_remembered("two_sessions_racing_a_rotated_refresh_both_stay_signed_in").await;
    let cli = remembering(&idp, Arc::new(RecordingTransport::new()));
    // The CLI's start rotates the token the app holds in memory.
    assert_eq!(cli.resume().await.unwrap().state, StateName::SignedIn);
    for _ in 0..3 {
        let (a, b) = tokio::join!(app.refresh(), cli.refresh());
        assert_eq!(a.unwrap().state, StateName::SignedIn);
        assert_eq!(b.unwrap().state, StateName::SignedIn);
    }
    let issued = idp.admin_issued_secrets_by_kind().await;
    let newest = issued.iter().rfind(|s| s.kind == "refresh_token");
    assert_eq!(remembered(&key), newest.map(|s| s.value.clone()));
    app.forget().await.unwrap();
}

/// The ID token carries only `sub` and `preferred_username`,
/// UserInfo the profile: the view's name (Home's heading) is "Demo User", as in the Name row.
#[tokio::test]
async fn name_comes_from_userinfo_when_the_id_token_has_none() {
    let options = IdpOptions {
        minimal_id_token: true,
        ..IdpOptions::default()
    };
    let rig = Rig::start_with(options, FORM, RecordingTransport::new()).await;
    let view = rig
        .session
        .register_and_sign_in(&rig.agent())
        .await
        .unwrap();
    let code_exchange = rig.transport.to("/token").pop().unwrap();
    let id_token = code_exchange.response_json().unwrap()["id_token"].clone();
    let claims = jwt_claims(id_token.as_str().unwrap());
    assert_eq!(claims["preferred_username"], "demouser");
    assert!(
        claims.get("name").is_none(),
        "the server keeps the name out"
    );
    let user = view.user.unwrap();
    assert_eq!(user.display_name.as_deref(), Some("Demo User"));
    assert_eq!(user.claims["name"], "Demo User");
}
