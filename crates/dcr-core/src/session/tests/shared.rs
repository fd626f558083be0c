//! Two sessions on one keychain entry: what two processes (the desktop app and the `dcr` CLI)
//! see. The real two-process race, with the file lock, is
//! `cli_two_processes_registering_at_once_create_one_client` in `tests/tests/cli/commands.rs`.

use super::*;

/// A second session (another process) that loaded the entry before the first one registered.
fn second_process(rig: &Rig) -> Session {
    rig.restart()
}

#[tokio::test]
async fn a_registration_found_under_the_lock_is_adopted_not_duplicated() {
    let rig = rig();
    let other = second_process(&rig);
    // Both start unregistered (the other process read the entry first).
    assert_eq!(other.state().await.unwrap().state, StateName::Unregistered);
    rig.session.register(&rig.browser).await.unwrap();

    let view = other.register(&rig.browser).await.unwrap();
    assert_eq!(view.last_event, Some(Event::AlreadyRegistered));
    assert_eq!(view.registration.unwrap().client_id, "client-1");
    assert_eq!(rig.idp.with(|s| s.registrations), 1, "no second client");
    assert!(rig.idp.with(|s| s.deleted.is_empty()));
    // And it signs in with the adopted registration.
    let view = other.sign_in(&rig.browser).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
}

#[tokio::test]
async fn a_wipe_never_deletes_the_registration_another_process_just_stored() {
    let rig = rig();
    rig.session.register(&rig.browser).await.unwrap();
    rig.session.sign_in(&rig.browser).await.unwrap();
    // Another process forgets this device and registers it again: a new client in the entry.
    let other = second_process(&rig);
    other.forget().await.unwrap();
    other.register(&rig.browser).await.unwrap();
    assert_eq!(rig.store.len(), 1);

    // Our refresh notices the entry changed and stops using the old client's tokens, without
    // touching the entry.
    let error = rig.session.refresh().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotSignedIn);
    let view = rig.session.state().await.unwrap();
    assert_eq!(view.registration.unwrap().client_id, "client-2");
    assert_eq!(rig.store.len(), 1);

    // A stale process that still holds client-2 forgets the device after another process has
    // already replaced client-2 with client-3: client-3's entry is kept.
    let stale = rig.restart();
    stale.state().await.unwrap();
    other.forget().await.unwrap();
    other.register(&rig.browser).await.unwrap();
    let view = stale.forget().await.unwrap();
    assert_eq!(view.state, StateName::Registered, "the new entry is kept");
    assert_eq!(view.registration.unwrap().client_id, "client-3");
    assert_eq!(rig.store.len(), 1);
}

#[tokio::test]
async fn a_forget_elsewhere_ends_the_sign_in_here() {
    let rig = rig();
    rig.session.register(&rig.browser).await.unwrap();
    rig.session.sign_in(&rig.browser).await.unwrap();
    rig.restart().forget().await.unwrap();
    let issued = rig.idp.with(|s| s.issued.len());
    let error = rig.session.refresh().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotRegistered);
    assert_eq!(
        rig.session.state().await.unwrap().state,
        StateName::Unregistered
    );
    assert_eq!(
        rig.idp.with(|s| s.issued.len()),
        issued,
        "no refresh with a deleted client"
    );
}

/// The app and the CLI both hold the registration; the server rotates the registration access
/// token on every RFC 7592 read (Keycloak does, RFC 7592 §3 allows it).
async fn two_processes_on_a_rotating_server() -> (Rig, Session) {
    let rig = rig();
    rig.session.register(&rig.browser).await.unwrap();
    rig.idp.with(|s| s.rotate_token_on_every_read = true);
    let cli = second_process(&rig);
    assert_eq!(cli.state().await.unwrap().state, StateName::Registered);
    // The CLI signs in: its read rotates the token, and it stores the new one.
    cli.sign_in(&rig.browser).await.unwrap();
    (rig, cli)
}

#[tokio::test]
async fn a_sign_in_reads_the_entry_again_and_uses_the_newest_registration_access_token() {
    let (rig, cli) = two_processes_on_a_rotating_server().await;
    // The app signs in next, with the token the CLI stored (its own is dead).
    let view = rig.session.sign_in(&rig.browser).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    assert_eq!(rig.store.len(), 1, "the entry is kept");
    let server = rig.idp.with(|s| s.clients["client-1"].1.clone());
    assert_eq!(rig.stored_registration_access_token(), server);
    // And the CLI, now the stale one, does the same.
    let view = cli.sign_in(&rig.browser).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    assert!(rig.idp.with(|s| s.deleted.is_empty()));
}

#[tokio::test]
async fn forget_with_a_stale_entry_deletes_the_client_with_the_newest_token() {
    let (rig, _cli) = two_processes_on_a_rotating_server().await;
    let view = rig.session.forget().await.unwrap();
    assert_eq!(
        view.last_event,
        Some(Event::Forgotten),
        "the server confirmed"
    );
    assert_eq!(rig.idp.with(|s| s.deleted.clone()), ["client-1"]);
    assert!(rig.idp.with(|s| s.clients.is_empty()), "no orphan left");
    assert_eq!(rig.store.len(), 0);
}
