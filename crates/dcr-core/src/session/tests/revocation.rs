//! T2: a dead client (deleted or revoked on the server) is wiped once, whether the token
//! endpoint says so (`invalid_client`) or, before a sign-in, the RFC 7592 §2.1 read does. A read
//! that cannot tell never blocks a sign-in and never wipes anything.

use super::*;

/// The revoked path: unregistered with the reason, nothing stored, and no registration of its
/// own accord (no loop).
async fn assert_revoked(rig: &Rig, session: &Session) {
    let view = session.state().await.unwrap();
    assert_eq!(view.state, StateName::Unregistered);
    assert_eq!(view.reason, Some(Reason::Revoked));
    assert_eq!(view.last_event, Some(Event::Revoked));
    assert!(view.user.is_none());
    assert!(rig.store.is_empty());
    assert_eq!(rig.idp.with(|s| s.registrations), 1);
}

fn steps(rig: &Rig) -> Vec<String> {
    rig.idp.with(|s| s.browser_steps.clone())
}

#[tokio::test]
async fn t2_invalid_client_on_refresh_wipes_the_registration_once() {
    let rig = rig();
    rig.signed_in().await;
    rig.idp.revoke_all_clients();
    let error = rig.failed_refresh().await;
    assert_eq!(error.kind(), "invalidClient");
    assert_revoked(&rig, &rig.session).await;
    assert_eq!(rig.failed_refresh().await.kind(), "notRegistered");
}

#[tokio::test]
async fn t2_invalid_client_at_the_code_exchange_wipes_the_registration() {
    let rig = rig();
    rig.registered().await;
    rig.idp.refuse_code_exchanges(401, "invalid_client");
    assert_eq!(rig.failed_sign_in().await.kind(), "invalidClient");
    assert_revoked(&rig, &rig.session).await;
    assert_eq!(steps(&rig), vec!["/authorize login", "/authorize sso"]);
}

/// After a restart there are no tokens to refresh: the sign-in is where a deletion shows. The
/// read finds it before the browser opens (which would only show the server's error page).
#[tokio::test]
async fn t2_deleted_client_is_found_at_sign_in_before_the_browser_opens() {
    let rig = rig();
    rig.registered().await;
    let restarted = rig.restart();
    rig.idp.revoke_all_clients();

    let error = restarted.sign_in(&rig.browser).await.unwrap_err();
    assert_eq!(error.kind(), "invalidClient");
    assert!(error.message().contains("register this device again"));
    assert_revoked(&rig, &restarted).await;
    assert_eq!(steps(&rig), vec!["/authorize login"], "no sign-in window");
    assert_eq!(rig.idp.with(|s| s.reads), 1);
    // Asked again: a plain "not registered", without touching the network.
    assert_eq!(
        restarted.sign_in(&rig.browser).await.unwrap_err().kind(),
        "notRegistered"
    );
    assert_eq!(rig.idp.with(|s| s.reads), 1);
    // Registering again is the user's choice, and works.
    let view = restarted.register_and_sign_in(&rig.browser).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    assert_eq!(view.registration.unwrap().client_id, "client-2");
}

/// A read that fails (network) or gets an unexpected answer (5xx) proves nothing: the sign-in
/// goes ahead as if there had been no read.
#[tokio::test]
async fn t2_an_unreadable_registration_does_not_block_sign_in() {
    for (outages, status) in [(1, None), (0, Some(503)), (0, Some(403))] {
        let rig = rig();
        rig.registered().await;
        rig.idp
            .with(|s| (s.read_outages, s.read_status) = (outages, status));
        let view = rig.session.sign_in(&rig.browser).await.unwrap();
        assert_eq!(view.state, StateName::SignedIn, "{outages} {status:?}");
        assert_eq!(view.reason, None);
        assert_eq!(rig.store.len(), 1);
        assert_eq!(rig.idp.with(|s| s.reads), 1);
    }
}

/// The first read could not tell, the browser step then failed (the server's error page) or
/// was cancelled: the session asks again, and a deletion is found then.
#[tokio::test]
async fn t2_a_failed_browser_step_asks_again() {
    for cancel in [false, true] {
        let rig = rig();
        rig.registered().await;
        rig.idp.revoke_all_clients();
        rig.idp
            .with(|s| (s.read_outages, s.cancel_browser) = (1, cancel));
        let error = rig.failed_sign_in().await;
        assert_eq!(error.kind(), "invalidClient", "cancel: {cancel}");
        assert_revoked(&rig, &rig.session).await;
        assert_eq!(steps(&rig), vec!["/authorize login", "/authorize sso"]);
        assert_eq!(rig.idp.with(|s| s.reads), 2);
    }
}

/// Cancelling with a live client changes nothing, although the session asked the server twice.
#[tokio::test]
async fn t2_cancelling_with_a_live_client_changes_nothing() {
    let rig = rig();
    rig.registered().await;
    let before = rig.session.state().await.unwrap();
    rig.idp.with(|s| s.cancel_browser = true);
    let error = rig.failed_sign_in().await;
    assert_eq!(error.kind(), "cancelled");
    assert_eq!(rig.session.state().await.unwrap(), before);
    assert_eq!(rig.store.len(), 1);
    assert_eq!(rig.idp.with(|s| s.reads), 2, "before and after the window");
}

/// Without a management endpoint nothing can be asked: the sign-in behaves as before the read
/// existed, and the registration is kept (there is no proof it is dead).
#[tokio::test]
async fn t2_without_rfc7592_management_the_sign_in_goes_ahead() {
    let rig = rig();
    rig.idp.with(|s| s.no_management = true);
    rig.registered().await;
    rig.idp.revoke_all_clients();
    let error = rig.failed_sign_in().await;
    assert_eq!(error.kind(), "userAgent");
    let view = rig.session.state().await.unwrap();
    assert_eq!(view.state, StateName::Registered);
    assert_eq!(rig.idp.with(|s| s.reads), 0);
}

/// A bare 401 from the token endpoint (a proxy, a gateway; no `invalid_client` body)
/// is not proof. With a live client (the RFC 7592 read says so) the refresh fails with a
/// retryable error, and registration and tokens are kept.
#[tokio::test]
async fn t2_a_bare_401_on_refresh_keeps_a_live_registration() {
    let rig = rig();
    rig.signed_in().await;
    rig.idp.with(|s| s.token_bare_401 = true);
    let reads = rig.idp.with(|s| s.reads);
    let error = rig.failed_refresh().await;
    assert_eq!(error.kind(), "serverError");
    assert!(error.message().contains("try again"), "{}", error.message());
    let view = rig.session.state().await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    assert_eq!(view.reason, None);
    assert_eq!(rig.store.len(), 1);
    assert_eq!(
        rig.idp.with(|s| s.reads),
        reads + 1,
        "confirmed with a read"
    );
    assert!(rig.idp.with(|s| s.delete_requests.is_empty()));
    // The proxy goes away: the same tokens refresh.
    rig.idp.with(|s| s.token_bare_401 = false);
    assert_eq!(
        rig.session.refresh().await.unwrap().last_event,
        Some(Event::Refreshed)
    );
}

/// The same at the code exchange: the sign-in fails, the registration stays.
#[tokio::test]
async fn t2_a_bare_401_at_the_code_exchange_keeps_a_live_registration() {
    let rig = rig();
    rig.registered().await;
    rig.idp.with(|s| s.token_bare_401 = true);
    let error = rig.failed_sign_in().await;
    assert_eq!(error.kind(), "serverError");
    let view = rig.session.state().await.unwrap();
    assert_eq!(view.state, StateName::Registered);
    assert_eq!(view.reason, None);
    assert_eq!(rig.store.len(), 1);
}

/// A bare 401 that the read confirms (the client is gone) is a revocation; the server said it
/// is gone, so there is nothing to delete.
#[tokio::test]
async fn t2_a_bare_401_confirmed_by_the_read_wipes_the_registration() {
    let rig = rig();
    rig.signed_in().await;
    rig.idp.revoke_all_clients();
    rig.idp.with(|s| s.token_bare_401 = true);
    let error = rig.failed_refresh().await;
    assert_eq!(error.kind(), "invalidClient");
    assert_revoked(&rig, &rig.session).await;
    assert!(rig.idp.with(|s| s.delete_requests.is_empty()));
}

/// `invalid_client` wipes the registration locally; the client may still exist on the
/// server (disabled, not deleted), so it is deleted there too (RFC 7592 §2.3) while its token is
/// still at hand. Nothing is left alive on the server after a local wipe.
#[tokio::test]
async fn t2_a_wipe_for_invalid_client_deletes_the_client_on_the_server() {
    let rig = rig();
    rig.registered().await;
    rig.idp.refuse_code_exchanges(401, "invalid_client");
    let error = rig.failed_sign_in().await;
    assert_eq!(error.kind(), "invalidClient");
    assert_revoked(&rig, &rig.session).await;
    assert_eq!(rig.idp.with(|s| s.deleted.clone()), vec!["client-1"]);
    assert!(rig.idp.with(|s| s.clients.is_empty()));
}

/// The first run (`register_and_sign_in`) makes no RFC 7592 read: the registration's
/// 201 a moment earlier already says the client exists (RFC 7591 §3.2.1). Discovery and the key
/// set are fetched once per session. A later sign-in asks the server first, as before.
#[tokio::test]
async fn first_run_makes_no_read_right_after_the_fresh_registration() {
    let rig = rig();
    rig.signed_in().await;
    let counts = |rig: &Rig| rig.idp.with(|s| (s.reads, s.discoveries, s.jwks_fetches));
    assert_eq!(counts(&rig), (0, 1, 1), "(reads, discoveries, key sets)");
    rig.session.sign_out(&rig.browser).await.unwrap();
    rig.session.sign_in(&rig.browser).await.unwrap();
    assert_eq!(counts(&rig), (1, 1, 1), "a later sign-in reads first");
}
