//! The key set (D6) and what a key-set failure may cost: a rotation costs
//! one fetch, a flood of unknown key ids at most one per interval, a moved `jwks_uri` is found
//! through discovery, and a key set that cannot be had never drops a rotated refresh token.

use std::time::{Duration, Instant};

use super::fake::Outage;
use super::*;

/// A rig whose session may fetch the key set again at once on an unknown `kid`, so a rotation
/// is seen without waiting for the default interval.
fn rig_refetching_at_once() -> Rig {
    let rig = rig();
    rig.session.set_key_refetch_interval(Duration::ZERO);
    rig
}

async fn signed_in(rig: &Rig) -> StateView {
    rig.idp.with(|s| s.refresh_id_token = true);
    rig.signed_in().await
}

fn fetches(rig: &Rig) -> usize {
    rig.idp.with(|s| s.jwks_fetches)
}

#[tokio::test]
async fn d6_key_rotation_refetches_once_and_refresh_and_sign_in_succeed() {
    let rig = rig_refetching_at_once();
    signed_in(&rig).await;
    assert_eq!(fetches(&rig), 1);

    rig.idp.rotate_key();
    let view = rig.session.refresh().await.unwrap();
    assert_eq!(view.last_event, Some(Event::Refreshed));
    assert_eq!(fetches(&rig), 2, "one refetch for the new kid");
    rig.session.refresh().await.unwrap();
    assert_eq!(fetches(&rig), 2, "the new kid is known now");

    // A rotation between two sign-ins: the sign-in's ID token names the new key.
    rig.session.sign_out(&rig.browser).await.unwrap();
    rig.idp.rotate_key();
    let view = rig.session.sign_in(&rig.browser).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    assert_eq!(fetches(&rig), 3);
}

/// Tokens naming invented key ids, one refresh after another: with the default interval the
/// key set fetched at sign-in is too recent to fetch again, so there is no fetch at all, and
/// each refresh keeps its rotated tokens (the next one presents the rotated refresh token, or
/// the fake answers invalid_grant).
#[tokio::test]
async fn d6_a_flood_of_unknown_kids_fetches_at_most_once_per_interval() {
    let rig = rig();
    signed_in(&rig).await;
    assert_eq!(fetches(&rig), 1);
    rig.idp.with(|s| s.kid_override = Some("invented".into()));
    for round in 0..5 {
        let before = rig.session.state().await.unwrap().token_fingerprint;
        let error = rig.session.refresh().await.unwrap_err();
        assert_eq!(error.kind(), "keysUnavailable", "round {round}");
        assert!(error.is_keys_unavailable());
        let view = rig.session.state().await.unwrap();
        assert_eq!(view.state, StateName::SignedIn, "round {round}");
        assert_ne!(
            view.token_fingerprint, before,
            "the new access token is kept"
        );
    }
    assert_eq!(fetches(&rig), 1, "no fetch within the interval");

    // With the interval over (here: none), each unknown kid costs one fetch, never a retry.
    let rig = rig_refetching_at_once();
    signed_in(&rig).await;
    rig.idp.with(|s| s.kid_override = Some("invented".into()));
    for round in 1..=3 {
        let error = rig.session.refresh().await.unwrap_err();
        assert_eq!(error.kind(), "keysUnavailable");
        assert_eq!(fetches(&rig), 1 + round);
    }
    rig.idp.with(|s| s.kid_override = None);
    rig.session.refresh().await.unwrap();
}

/// The key set is unreachable when a refresh brings an ID token with a new key. The
/// server has rotated the refresh token already, so the session keeps the NEW tokens, and the
/// next refresh (keys back) goes on with them. Old code kept the old, dead refresh token.
#[tokio::test]
async fn d8_key_set_outage_on_refresh_keeps_the_rotated_tokens() {
    for outage in [Outage::Drop, Outage::Status(503)] {
        let rig = rig_refetching_at_once();
        let first = signed_in(&rig).await.token_fingerprint;
        rig.idp.rotate_key();
        rig.idp
            .with(|s| s.jwks_failures = [outage, outage].into_iter().collect());
        let error = rig.session.refresh().await.unwrap_err();
        assert_eq!(error.kind(), "keysUnavailable", "{outage:?}");
        assert!(error.message().contains("try again"), "{}", error.message());
        assert_eq!(fetches(&rig), 3, "the refetch and its one retry");
        let view = rig.session.state().await.unwrap();
        assert_eq!(view.state, StateName::SignedIn);
        assert_eq!(view.reason, None);
        assert_ne!(
            view.token_fingerprint, first,
            "the new access token is kept"
        );
        assert_eq!(
            view.user.unwrap().sub,
            "demouser",
            "the last verified ID token"
        );

        let view = rig.session.refresh().await.unwrap();
        assert_eq!(view.last_event, Some(Event::Refreshed), "{outage:?}");
        assert_eq!(fetches(&rig), 4);
    }
}

/// One failed fetch is retried after a short backoff inside the operation.
#[tokio::test]
async fn d8_one_failed_key_set_fetch_is_retried_after_a_short_backoff() {
    for outage in [Outage::Drop, Outage::Status(502)] {
        let rig = rig();
        rig.session.register(&rig.browser).await.unwrap();
        rig.idp.with(|s| s.jwks_failures.push_back(outage));
        let started = Instant::now();
        let view = rig.session.sign_in(&rig.browser).await.unwrap();
        assert_eq!(view.state, StateName::SignedIn, "{outage:?}");
        assert_eq!(fetches(&rig), 2);
        assert!(started.elapsed() >= crate::protocol::id_token::JWKS_RETRY_BACKOFF);
    }
}

/// A sign-in whose key set stays unavailable stores nothing and says so; trying again works.
#[tokio::test]
async fn d8_key_set_unavailable_at_sign_in_is_retryable_and_changes_nothing() {
    let rig = rig();
    rig.session.register(&rig.browser).await.unwrap();
    let before = rig.session.state().await.unwrap();
    rig.idp
        .with(|s| s.jwks_failures = [Outage::Status(500), Outage::Drop].into());
    let error = rig.session.sign_in(&rig.browser).await.unwrap_err();
    assert_eq!(error.kind(), "keysUnavailable");
    assert_eq!(rig.session.state().await.unwrap(), before);
    assert_eq!(fetches(&rig), 2);
    let view = rig.session.sign_in(&rig.browser).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
}

/// D6: the key set moved; the old `jwks_uri` answers 404, discovery names the new one.
#[tokio::test]
async fn d6_a_moved_key_set_is_found_by_reading_discovery_again() {
    let rig = rig();
    rig.session.register(&rig.browser).await.unwrap();
    assert_eq!(rig.idp.with(|s| s.discoveries), 1);
    rig.idp.with(|s| s.jwks_path = "/jwks-v2".into());
    let view = rig.session.sign_in(&rig.browser).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    assert_eq!(rig.idp.with(|s| s.discoveries), 2, "read once more");
    assert_eq!(fetches(&rig), 2, "the old address, then the new one");

    // Gone for good (404 at the address discovery names): retryable, nothing dropped.
    let rig = rig_refetching_at_once();
    signed_in(&rig).await;
    rig.idp.rotate_key();
    rig.idp
        .with(|s| s.jwks_failures = [Outage::Status(404); 3].into());
    let error = rig.session.refresh().await.unwrap_err();
    assert_eq!(error.kind(), "keysUnavailable");
    assert_eq!(rig.idp.with(|s| s.discoveries), 2);
    assert_eq!(
        fetches(&rig),
        4,
        "sign-in, then 404, 404 after discovery, one retry"
    );
    assert_eq!(
        rig.session.state().await.unwrap().state,
        StateName::SignedIn
    );
}

/// What may be kept is only what could not be checked: an ID token that fails its checks (here
/// a known `kid` over another key's signature) still ends the session (F1).
#[tokio::test]
async fn d8_an_id_token_that_fails_its_checks_on_refresh_still_drops_the_tokens() {
    let rig = rig_refetching_at_once();
    signed_in(&rig).await;
    rig.idp.rotate_key();
    rig.idp.with(|s| s.kid_override = Some("k1".into()));
    let error = rig.session.refresh().await.unwrap_err();
    assert_eq!(error.kind(), "idTokenInvalid");
    assert!(!error.is_keys_unavailable());
    let view = rig.session.state().await.unwrap();
    assert_eq!(view.state, StateName::Registered);
    assert_eq!(view.reason, Some(Reason::SessionExpired));
}
