//! Failure and recovery paths of the state machine: hostile or failing server, keychain
//! trouble, expiry. Revocation (T2) has its own file, `revocation.rs`.

use super::*;

#[tokio::test]
async fn r2_rejected_dcr_token_stores_nothing() {
    let rig = rig();
    rig.idp
        .with(|s| s.registration_error = Some((401, json!({"error": "invalid_token"}))));
    let error = rig.session.register(&rig.browser).await.unwrap_err();
    assert_eq!(error.kind(), "dcrTokenRejected");
    assert!(rig.store.is_empty());
    assert_eq!(rig.state().await, StateName::Unregistered);
    // No loop: one registration login only.
    assert_eq!(rig.idp.with(|s| s.browser_steps.len()), 1);
}

#[tokio::test]
async fn r1_rejected_metadata_is_a_sanitized_error() {
    let rig = rig();
    rig.idp.with(|s| {
        s.registration_error = Some((
            400,
            json!({"error": "invalid_client_metadata", "error_description": "bad\nscope"}),
        ))
    });
    let error = rig.session.register(&rig.browser).await.unwrap_err();
    assert_eq!(error.kind(), "registrationRejected");
    assert!(error.message().contains("bad scope"));
    assert!(rig.store.is_empty());
}

#[tokio::test]
async fn s1_keychain_save_failure_deletes_the_new_client() {
    let store = Arc::new(MemoryStore::failing_save(StoreError::Unavailable(
        "no Secret Service".into(),
    )));
    let rig = rig_with(config(), store);
    let error = rig.session.register(&rig.browser).await.unwrap_err();
    assert_eq!(error.kind(), "keychainUnavailable");
    assert_eq!(
        rig.idp.with(|s| s.deleted.clone()),
        vec!["client-1"],
        "no orphan on the server"
    );
    assert_eq!(rig.state().await, StateName::Unregistered);
}

#[tokio::test]
async fn s2_locked_keychain_is_an_error_and_never_a_silent_registration() {
    let rig = rig_with(
        config(),
        Arc::new(MemoryStore::failing_load(StoreError::Locked)),
    );
    assert_eq!(
        rig.session.state().await.unwrap_err().kind(),
        "keychainLocked"
    );
    assert_eq!(
        rig.session.register(&rig.browser).await.unwrap_err().kind(),
        "keychainLocked"
    );
    assert_eq!(
        rig.idp.with(|s| (s.registrations, s.browser_steps.len())),
        (0, 0)
    );
    // Unlocked later: the same session recovers.
    rig.store.set_load_error(None);
    assert_eq!(rig.state().await, StateName::Unregistered);
}

#[tokio::test]
async fn s3_corrupt_entry_is_discarded() {
    let rig = rig();
    rig.store.put_raw(rig.key(), "{not json");
    let view = rig.session.state().await.unwrap();
    assert_eq!(view.state, StateName::Unregistered);
    assert_eq!(view.reason, Some(Reason::CorruptEntry));
    assert!(rig.store.is_empty());
}

#[tokio::test]
async fn t1_invalid_grant_on_code_exchange_stores_nothing_new() {
    let rig = rig();
    rig.registered().await;
    rig.idp.refuse_code_exchanges(400, "invalid_grant");
    assert_eq!(rig.failed_sign_in().await.kind(), "invalidGrant");
    let view = rig.session.state().await.unwrap();
    assert_eq!(view.state, StateName::Registered);
    assert_eq!(rig.idp.with(|s| s.browser_steps.len()), 2, "no retry");
}

#[tokio::test]
async fn f1_invalid_grant_on_refresh_drops_tokens_and_keeps_registration() {
    let rig = rig();
    rig.signed_in().await;
    rig.idp.refuse_refresh_tokens();
    assert_eq!(rig.failed_refresh().await.kind(), "invalidGrant");
    let view = rig.session.state().await.unwrap();
    assert_eq!(view.state, StateName::Registered);
    assert_eq!(view.reason, Some(Reason::SessionExpired));
    assert_eq!(rig.store.len(), 1);
}

#[tokio::test]
async fn server_error_on_refresh_keeps_the_tokens() {
    let rig = rig();
    rig.signed_in().await;
    rig.idp.fail_refreshes(503, json!({}));
    assert_eq!(rig.failed_refresh().await.kind(), "serverError");
    assert_eq!(rig.state().await, StateName::SignedIn);
}

#[tokio::test]
async fn f2_refresh_without_rotation_keeps_the_old_refresh_token_and_id_token() {
    let rig = rig();
    rig.idp.with(|s| s.no_rotation = true);
    rig.signed_in().await;
    rig.session.refresh().await.unwrap();
    let view = rig.session.refresh().await.unwrap();
    assert_eq!(view.user.unwrap().sub, "demouser");
    // The kept ID token is still the logout hint.
    assert_eq!(
        rig.session.sign_out(&rig.browser).await.unwrap().last_event,
        Some(Event::SignedOut)
    );
}

#[tokio::test]
async fn refresh_with_a_new_id_token_verifies_it() {
    let rig = rig();
    rig.idp.with(|s| s.refresh_id_token = true);
    rig.signed_in().await;
    assert_eq!(
        rig.session.refresh().await.unwrap().state,
        StateName::SignedIn
    );
}

#[tokio::test]
async fn f3_concurrent_refreshes_are_serialized() {
    let rig = rig();
    rig.signed_in().await;
    let (a, b) = tokio::join!(rig.session.refresh(), rig.session.refresh());
    // With rotation and reuse detection, a race would make one of them fail.
    a.unwrap();
    b.unwrap();
}

#[tokio::test]
async fn r6_expired_secret_registers_again_before_sign_in() {
    let rig = rig();
    // Whole seconds: `now() + 1` could already have passed when the response is checked (a
    // second boundary in between), which the engine rightly rejects as already expired.
    let expires_at = now() + 2;
    rig.idp.with(|s| s.secret_expires_at = expires_at);
    rig.registered().await;
    rig.idp.with(|s| s.secret_expires_at = 0);
    while now() < expires_at {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let view = rig.session.sign_in(&rig.browser).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    assert_eq!(view.registration.unwrap().client_id, "client-2");
    assert_eq!(rig.idp.with(|s| s.deleted.clone()), vec!["client-1"]);
    assert_eq!(
        rig.idp.with(|s| s.reads),
        0,
        "a client registered just now is not read"
    );
}
