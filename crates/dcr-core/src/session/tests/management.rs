//! RFC 7591/7592 management at the session level: a refused registration response deletes the
//! client it created, and an RFC 7592 read that rotates credentials is stored and
//! used, while one that fails the checks is never stored.

use serde_json::Value;

use super::*;

fn rat_issued(rig: &Rig) -> String {
    rig.idp
        .with(|s| s.issued.iter().find(|v| v.starts_with("rat-")).cloned())
        .unwrap()
}

/// R1: a refused 201 is cleaned up with the registration access token it carried, at the
/// management URI it named, and nothing is stored. The fake keeps a client registry, so this
/// shows what a server that only records requests cannot: the client the 201 created is gone
/// from the server. The case is the hardest one, a body that does not even name its client;
/// every other kind of refused 201 runs over real HTTP in
/// `tests/tests/faults/hostile_registration.rs`
/// (`r1_every_refused_201_is_deleted_on_the_server_and_nothing_is_stored`).
#[tokio::test]
async fn r1_a_refused_201_deletes_the_client_it_created_and_stores_nothing() {
    let rig = rig();
    rig.idp
        .with(|s| s.registration_patch = Some(("client_id", None)));
    let error = rig.session.register(&rig.browser).await.unwrap_err();
    assert_eq!(error.kind(), "invalidResponse");
    assert!(
        error
            .message()
            .ends_with("the client it created was deleted again"),
        "{}",
        error.message()
    );
    assert_eq!(
        rig.idp.with(|s| s.delete_requests.clone()),
        vec![("/register/client-1".to_owned(), rat_issued(&rig))]
    );
    assert_eq!(rig.idp.with(|s| s.deleted.clone()), vec!["client-1"]);
    assert!(rig.idp.with(|s| s.clients.is_empty()), "no live client");
    assert!(rig.store.is_empty());
    let view = rig.session.state().await.unwrap();
    assert_eq!(view.state, StateName::Unregistered);
}

/// When the delete fails, or the management URI may not receive the token (N1), the message
/// says the client could not be deleted; the token never goes to a plain-http remote host (the
/// fake panics on any host but its own).
#[tokio::test]
async fn r1_a_refused_201_whose_client_cannot_be_deleted_says_so() {
    let rig = rig();
    rig.idp.with(|s| {
        s.registration_patch = Some(("client_secret_expires_at", None));
        s.delete_status = Some(503);
    });
    let error = rig.session.register(&rig.browser).await.unwrap_err();
    assert!(
        error
            .message()
            .ends_with("could not be deleted on the server"),
        "{}",
        error.message()
    );
    assert_eq!(rig.idp.with(|s| s.delete_requests.len()), 1);
    assert!(rig.store.is_empty());

    let rig = rig_with(config(), Arc::new(MemoryStore::new()));
    rig.idp.with(|s| {
        s.registration_patch = Some((
            "registration_client_uri",
            Some(json!("http://idp.example.evil/register/client-1")),
        ))
    });
    let error = rig.session.register(&rig.browser).await.unwrap_err();
    assert!(
        error.message().contains("not an https URL"),
        "{}",
        error.message()
    );
    assert!(error
        .message()
        .ends_with("could not be deleted on the server"));
    assert!(rig.idp.with(|s| s.delete_requests.is_empty()));
    assert!(rig.store.is_empty());
}

/// RFC 7592 §3: a read that returns a new client secret is stored (one save) and used from then
/// on. Without it, the sign-in would present the old secret and be refused.
#[tokio::test]
async fn rfc7592_a_rotated_secret_from_the_read_is_stored_and_used() {
    let rig = rig();
    rig.registered().await;
    let old = rig.store.load(rig.key()).unwrap().unwrap();
    rig.idp.with(|s| s.rotate_secret_on_read = true);
    let view = rig.session.sign_in(&rig.browser).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    let stored = rig.store.load(rig.key()).unwrap().unwrap();
    let new_secret = rig.idp.with(|s| s.clients["client-1"].0.clone());
    assert_eq!(
        stored.registration.client_secret.unwrap().expose(),
        new_secret
    );
    assert_ne!(old.registration.client_secret.unwrap().expose(), new_secret);
    assert_eq!(stored.registered_at, old.registered_at);
    // A restart finds the new secret in the keychain.
    let view = rig.restart().sign_in(&rig.browser).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
}

/// RFC 7592 §3: a new registration access token is used from then on: forget deletes with it.
#[tokio::test]
async fn rfc7592_a_rotated_registration_access_token_is_stored_and_used() {
    let rig = rig();
    rig.registered().await;
    rig.idp.with(|s| s.rotate_token_on_read = true);
    rig.session.sign_in(&rig.browser).await.unwrap();
    let new_token = rig.idp.with(|s| s.clients["client-1"].1.clone());
    assert_eq!(rig.stored_registration_access_token(), new_token);
    let view = rig.restart().forget().await.unwrap();
    assert_eq!(view.last_event, Some(Event::Forgotten));
    assert_eq!(rig.idp.with(|s| s.deleted.clone()), vec!["client-1"]);
}

/// The update is saved whole or not at all: a failed save keeps the old entry and reports the
/// keychain error instead of signing in with credentials that could not be kept.
#[tokio::test]
async fn rfc7592_a_rotation_that_cannot_be_saved_keeps_the_old_entry_and_reports() {
    let rig = rig();
    rig.registered().await;
    let before = rig.store.raw(rig.key()).unwrap();
    rig.store
        .set_save_error(Some(StoreError::Unavailable("no Secret Service".into())));
    rig.idp.with(|s| s.rotate_secret_on_read = true);
    let error = rig.failed_sign_in().await;
    assert_eq!(error.kind(), "keychainUnavailable");
    assert_eq!(rig.store.raw(rig.key()).unwrap(), before);
    assert_eq!(rig.state().await, StateName::Registered);
}

/// A read about another client, or one that fails the registration checks, is not an update:
/// nothing is stored, and the sign-in carries on ("cannot tell").
#[tokio::test]
async fn rfc7592_a_read_that_fails_the_checks_is_never_stored() {
    let cases: [(&str, Option<Value>); 4] = [
        ("client_id", Some(json!("client-9"))),
        ("client_secret_expires_at", None),
        (
            "token_endpoint_auth_method",
            Some(json!("client_secret_post")),
        ),
        ("redirect_uris", Some(json!(["evil:/callback"]))),
    ];
    for (field, value) in cases {
        let rig = rig();
        rig.registered().await;
        let before = rig.store.raw(rig.key()).unwrap();
        rig.idp
            .with(|s| s.read_patch = Some((field, value.clone())));
        let view = rig.session.sign_in(&rig.browser).await.unwrap();
        assert_eq!(view.state, StateName::SignedIn, "{field}");
        assert_eq!(rig.store.raw(rig.key()).unwrap(), before, "{field}");
        assert_eq!(rig.idp.with(|s| s.reads), 1);
    }
}

/// RFC 7592 §2.3: a delete answered 401 is not a delete. The local wipe still happens, and the
/// result says the server could not be told.
#[tokio::test]
async fn rfc7592_forget_with_a_delete_answered_401_is_forgotten_locally() {
    let rig = rig();
    rig.registered().await;
    rig.idp.with(|s| s.delete_status = Some(401));
    let view = rig.session.forget().await.unwrap();
    assert_eq!(view.state, StateName::Unregistered);
    assert_eq!(view.last_event, Some(Event::ForgottenLocally));
    assert!(rig.store.is_empty());
}
