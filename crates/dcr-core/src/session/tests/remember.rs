//! Staying signed in: the refresh token in the registration's entry, resumed on a
//! restart with one refresh; single-flight refreshes; the heading from the merged claims.

use super::*;
use crate::test_support::config_json;

/// A user signed in (after the first run) with `rememberSignIn: true`.
async fn signed_in_remembering() -> Rig {
    let config = Config::from_json(&config_json(r#""rememberSignIn":true"#)).unwrap();
    let rig = rig_with(config, Arc::new(MemoryStore::new()));
    // A refresh without a previous ID token must bring one (OIDC Core §12.2).
    rig.idp.with(|s| s.refresh_id_token = true);
    rig.signed_in().await;
    rig
}

fn token_requests(rig: &Rig) -> usize {
    rig.idp.with(|s| s.token_requests)
}

fn stored_refresh_token(rig: &Rig) -> Option<String> {
    let stored = rig.store.load(rig.key()).unwrap()?;
    stored.refresh_token.map(|token| token.expose().to_owned())
}

/// Token requests wait at a gate: the first refresh stays in flight while the others start
/// (`join!` polls every call once before the gate can open).
fn hold_token_requests(rig: &Rig) -> Arc<tokio::sync::Notify> {
    let gate = Arc::new(tokio::sync::Notify::new());
    rig.idp.with(|s| s.token_gate = Some(gate.clone()));
    gate
}

/// Opens the gate for the one token request waiting there, once it is there; later requests
/// (a second flight, which the tests count) pass freely.
async fn release_when_waiting(rig: &Rig, gate: Arc<tokio::sync::Notify>) {
    while rig.idp.with(|s| s.gate_waiting) == 0 {
        tokio::task::yield_now().await;
    }
    rig.idp.with(|s| s.token_gate = None);
    gate.notify_one();
}

/// Concurrent refresh calls (the background timer and a click) share one token
/// request; the old code sent one per call.
#[tokio::test]
async fn concurrent_refreshes_share_one_token_request() {
    let rig = rig();
    rig.signed_in().await;
    let before = token_requests(&rig);
    let gate = hold_token_requests(&rig);
    let (first, second, third, ()) = tokio::join!(
        rig.session.refresh(),
        rig.session.refresh(),
        rig.session.refresh(),
        release_when_waiting(&rig, gate)
    );
    let (first, second, third) = (first.unwrap(), second.unwrap(), third.unwrap());
    assert_eq!(
        token_requests(&rig) - before,
        1,
        "one token request for three calls"
    );
    assert_eq!(first.token_fingerprint, second.token_fingerprint);
    assert_eq!(first.token_fingerprint, third.token_fingerprint);
    // A later call is a refresh of its own.
    rig.session.refresh().await.unwrap();
    assert_eq!(token_requests(&rig) - before, 2);
}

/// A shared refresh that failed fails every caller with the same kind, still one request.
#[tokio::test]
async fn a_failed_shared_refresh_fails_every_caller_with_its_kind() {
    let rig = rig();
    rig.signed_in().await;
    rig.idp.refreshes_unavailable();
    let before = token_requests(&rig);
    let gate = hold_token_requests(&rig);
    let (first, second, ()) = tokio::join!(
        rig.session.refresh(),
        rig.session.refresh(),
        release_when_waiting(&rig, gate)
    );
    assert_eq!(token_requests(&rig) - before, 1);
    assert_eq!(first.unwrap_err().kind(), ErrorKind::ServerError);
    assert_eq!(second.unwrap_err().kind(), ErrorKind::ServerError);
}

/// The ID token carries only `sub` and `preferred_username`,
/// UserInfo the name: the heading's `name` is "Demo User", as in the claims. The old code took
/// `name` from the ID token only (`None`, so the heading showed `demouser`).
#[tokio::test]
async fn the_name_comes_from_the_merged_claims() {
    let rig = rig();
    rig.idp.with(|s| s.profile_in_userinfo_only = true);
    let view = rig.signed_in().await;
    let user = view.user.unwrap();
    assert_eq!(user.display_name.as_deref(), Some("Demo User"));
    assert_eq!(user.claims["name"], "Demo User");
    assert_eq!(user.claims["preferred_username"], "demouser");
}

/// rememberSignIn: the entry keeps the refresh token and no other token; a restart resumes
/// with exactly one refresh and no browser step; the rotated token replaces the stored one.
#[tokio::test]
async fn remembered_restart_resumes_with_one_refresh() {
    let rig = signed_in_remembering().await;
    let remembered = stored_refresh_token(&rig).expect("the refresh token is remembered");
    let raw = rig.store.raw(rig.key()).unwrap();
    let issued = rig.idp.with(|s| s.issued.clone());
    for secret in issued.iter().filter(|s| s.starts_with("at-")) {
        assert!(
            !raw.expose().contains(secret.as_str()),
            "an access token was stored"
        );
    }
    assert!(!raw.expose().contains("eyJ"), "an ID token was stored");

    let restarted = rig.restart();
    let steps = rig.idp.with(|s| s.browser_steps.len());
    let before = token_requests(&rig);
    let view = restarted.resume().await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    assert_eq!(view.last_event, Some(Event::Resumed));
    assert_eq!(
        view.user.unwrap().display_name.as_deref(),
        Some("Demo User")
    );
    assert_eq!(token_requests(&rig) - before, 1);
    assert_eq!(rig.idp.with(|s| s.browser_steps.len()), steps);
    let rotated = stored_refresh_token(&rig).unwrap();
    assert_ne!(rotated, remembered, "the rotated token is stored");
    // Resumed once: later calls only read the state.
    restarted.resume().await.unwrap();
    assert_eq!(token_requests(&rig) - before, 1);
    // And the resumed session refreshes with the stored (rotated) token.
    restarted.refresh().await.unwrap();
    assert_ne!(stored_refresh_token(&rig).unwrap(), rotated);
}

/// A refused remembered refresh: "Welcome back" (registered, sessionExpired) and the stale
/// token deleted from the entry; the registration stays.
#[tokio::test]
async fn refused_resume_falls_back_to_welcome_back_and_deletes_the_token() {
    let rig = signed_in_remembering().await;
    rig.idp.refuse_refresh_tokens();
    let restarted = rig.restart();
    let view = restarted.resume().await.unwrap();
    assert_eq!(view.state, StateName::Registered);
    assert_eq!(view.reason, Some(Reason::SessionExpired));
    assert!(stored_refresh_token(&rig).is_none());
    assert!(rig.store.load(rig.key()).unwrap().is_some());
}

/// A network failure keeps the token: trying again resumes.
#[tokio::test]
async fn unreachable_resume_keeps_the_token_and_tries_again() {
    let rig = signed_in_remembering().await;
    rig.idp.refreshes_unavailable();
    let restarted = rig.restart();
    assert_eq!(
        restarted.resume().await.unwrap_err().kind(),
        ErrorKind::ServerError
    );
    assert!(stored_refresh_token(&rig).is_some());
    rig.idp.with(|s| s.refresh_error = None);
    assert_eq!(restarted.resume().await.unwrap().state, StateName::SignedIn);
}

/// Sign-out removes the remembered token (the registration stays); forget removes the entry.
#[tokio::test]
async fn sign_out_and_forget_remove_the_remembered_token() {
    let rig = signed_in_remembering().await;
    assert!(stored_refresh_token(&rig).is_some());
    rig.session.sign_out(&rig.browser).await.unwrap();
    assert!(stored_refresh_token(&rig).is_none());
    assert!(rig.store.load(rig.key()).unwrap().is_some());
    let view = rig.restart().resume().await.unwrap();
    assert_eq!(view.state, StateName::Registered);

    rig.session.sign_in(&rig.browser).await.unwrap();
    assert!(stored_refresh_token(&rig).is_some());
    rig.session.forget().await.unwrap();
    assert!(rig.store.is_empty());
}

/// `rememberSignIn: false` keeps nothing, and deletes a token remembered while it was on.
#[tokio::test]
async fn remember_off_stores_nothing_and_deletes_an_earlier_token() {
    let rig = signed_in_remembering().await;
    assert!(stored_refresh_token(&rig).is_some());
    let off = locked(
        Session::with_transport(config(), rig.idp.clone(), Box::new(rig.store.clone())),
        &rig.lock_dir,
    );
    let before = token_requests(&rig);
    let view = off.resume().await.unwrap();
    assert_eq!(view.state, StateName::Registered);
    assert_eq!(token_requests(&rig), before);
    assert!(stored_refresh_token(&rig).is_none());
    off.sign_in(&rig.browser).await.unwrap();
    off.refresh().await.unwrap();
    assert!(stored_refresh_token(&rig).is_none());
}

/// Two processes share the remembered token under rotation: each refresh re-reads the entry
/// under the lock and uses the newest token, so neither presents a rotated-away one.
#[tokio::test]
async fn two_sessions_refreshing_with_rotation_both_stay_signed_in() {
    let rig = signed_in_remembering().await;
    let other = rig.restart();
    assert_eq!(other.resume().await.unwrap().state, StateName::SignedIn);
    // `rig.session` still holds the token `other` rotated away.
    for _ in 0..2 {
        let (a, b) = tokio::join!(rig.session.refresh(), other.refresh());
        assert_eq!(a.unwrap().state, StateName::SignedIn);
        assert_eq!(b.unwrap().state, StateName::SignedIn);
    }
}

/// The first frame's state: with a remembered sign-in, resuming needs the network, so the
/// keychain-only resume declines (no request) and leaves the one refresh to `resume`.
#[tokio::test]
async fn the_keychain_only_resume_leaves_a_remembered_sign_in_to_the_network() {
    let rig = signed_in_remembering().await;
    let restarted = rig.restart();
    let before = token_requests(&rig);
    assert!(restarted.resume_from_keychain().await.unwrap().is_none());
    assert_eq!(
        token_requests(&rig),
        before,
        "no request for the first frame"
    );
    let view = restarted.resume().await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    assert_eq!(token_requests(&rig) - before, 1);
    // Resumed: now the keychain-only call has the state too.
    let again = restarted.resume_from_keychain().await.unwrap().unwrap();
    assert_eq!(again.state, StateName::SignedIn);
    assert_eq!(token_requests(&rig) - before, 1);
}

/// Nothing remembered: the keychain-only resume is the whole resume, and `resume` after it
/// asks the server nothing either.
#[tokio::test]
async fn the_keychain_only_resume_finishes_a_resume_without_a_token() {
    let rig = signed_in_remembering().await;
    rig.session.sign_out(&rig.browser).await.unwrap();
    let restarted = rig.restart();
    let before = token_requests(&rig);
    let first = restarted.resume_from_keychain().await.unwrap().unwrap();
    assert_eq!(first.state, StateName::Registered);
    assert_eq!(
        restarted.resume().await.unwrap().state,
        StateName::Registered
    );
    assert_eq!(token_requests(&rig), before);
}
