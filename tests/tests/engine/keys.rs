//! D6 against the bundled identity server: a real signing-key rotation
//! (`POST /admin/rotate-signing-key`: a new key signs, the old ones stay published), as the
//! OpenID conformance test rp-key-rotation-op-sign-key does it. The engine fetches the key set
//! again once for the new `kid`, never more often than its interval allows, and a refresh whose
//! new key it may not fetch yet keeps the rotated tokens: oidc-provider
//! revokes the whole grant when a rotated refresh token is presented again, so every refresh
//! that succeeds after one proves the engine kept the new refresh token.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use dcr_core::session::{Event, StateName};
use dcr_tests::engine::{Form, Rig};

/// The `kid` of the ID token in the last token response of this grant type.
fn last_id_token_kid(rig: &Rig, grant_type: &str) -> String {
    let exchange = rig
        .transport
        .grants(grant_type)
        .pop()
        .expect("a token request");
    let body = exchange.response_json().expect("a JSON token response");
    let id_token = body["id_token"].as_str().expect("an ID token");
    let header = id_token.split('.').next().unwrap();
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["kid"].as_str().expect("a kid").to_owned()
}

fn key_set_fetches(rig: &Rig) -> usize {
    rig.transport.to("/jwks").len()
}

#[tokio::test]
async fn d6_real_key_rotation_refetches_once_and_refresh_and_sign_in_succeed() {
    let rig = Rig::start(Form::Full).await;
    // "The interval has passed" at once, so the rotation is seen without waiting.
    rig.session.set_key_refetch_interval(Duration::ZERO);
    let agent = rig.agent();
    rig.session.register_and_sign_in(&agent).await.unwrap();
    assert_eq!(key_set_fetches(&rig), 1);

    let kid = rig.idp.admin_rotate_signing_key().await;
    let view = rig.session.refresh().await.unwrap();
    assert_eq!(view.last_event, Some(Event::Refreshed));
    assert_eq!(last_id_token_kid(&rig, "refresh_token"), kid, "a new key");
    assert_eq!(key_set_fetches(&rig), 2, "one fetch for the new kid");
    rig.session.refresh().await.unwrap();
    assert_eq!(key_set_fetches(&rig), 2, "the new kid is known now");

    // A rotation between two sign-ins. The logout's id_token_hint was signed by the previous
    // key, which the server still publishes.
    let view = rig.session.sign_out(&agent).await.unwrap();
    assert_eq!(view.last_event, Some(Event::SignedOut));
    let kid = rig.idp.admin_rotate_signing_key().await;
    let view = rig.session.sign_in(&agent).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    assert_eq!(last_id_token_kid(&rig, "authorization_code"), kid);
    assert_eq!(key_set_fetches(&rig), 3);
}

#[tokio::test]
async fn d6_real_key_rotation_within_the_interval_keeps_the_rotated_tokens() {
    let rig = Rig::start(Form::Full).await;
    let agent = rig.agent();
    rig.session.register_and_sign_in(&agent).await.unwrap();
    assert_eq!(key_set_fetches(&rig), 1);

    // The key set was fetched a moment ago: a new kid now is not worth another fetch (D6), so
    // the ID token cannot be checked yet. Each refresh is retryable and keeps its tokens.
    let kid = rig.idp.admin_rotate_signing_key().await;
    let mut fingerprint = rig.session.state().await.unwrap().token_fingerprint;
    for round in 0..3 {
        let error = rig.session.refresh().await.unwrap_err();
        assert_eq!(error.kind(), "keysUnavailable", "round {round}");
        assert_eq!(last_id_token_kid(&rig, "refresh_token"), kid);
        let view = rig.session.state().await.unwrap();
        assert_eq!(view.state, StateName::SignedIn, "round {round}");
        assert_ne!(view.token_fingerprint, fingerprint, "the new access token");
        fingerprint = view.token_fingerprint;
    }
    assert_eq!(key_set_fetches(&rig), 1, "no fetch within the interval");
    assert_eq!(rig.transport.grants("refresh_token").len(), 3);

    // The interval over: one fetch, and the kept refresh token is still good at the server.
    rig.session.set_key_refetch_interval(Duration::ZERO);
    let view = rig.session.refresh().await.unwrap();
    assert_eq!(view.last_event, Some(Event::Refreshed));
    assert_eq!(key_set_fetches(&rig), 2);
}
