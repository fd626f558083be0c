//! The server half of sign-out and forget, when it fails, is reported
//! (`pendingServerCleanup`) and can be tried again with `finish_server_cleanup`.

use super::*;

#[tokio::test]
async fn l1_a_failed_server_sign_out_is_pending_and_can_be_finished() {
    let rig = rig();
    let view = rig.signed_out_with_the_logout_page_closed().await;
    assert_eq!(view.state, StateName::Registered);
    assert!(view.user.is_none() && view.token_fingerprint.is_none());
    assert_eq!(view.last_event, Some(Event::SignedOutLocally));
    assert_eq!(view.pending_server_cleanup, Some(ServerCleanup::SignOut));
    let json = serde_json::to_value(&view).unwrap();
    assert_eq!(json["pendingServerCleanup"], "signOut");
    assert_eq!(json["lastEvent"], "signedOutLocally");

    // Still failing: still pending.
    let view = rig.finish_cleanup().await;
    assert_eq!(view.pending_server_cleanup, Some(ServerCleanup::SignOut));

    rig.idp.with(|s| s.cancel_browser = false);
    let view = rig.finish_cleanup().await;
    assert_eq!(view.last_event, Some(Event::SignedOut));
    assert_eq!(view.pending_server_cleanup, None);
    assert_eq!(view.state, StateName::Registered);
    assert_eq!(
        rig.idp.with(|s| s.browser_steps.clone()),
        vec![
            "/authorize login",
            "/authorize sso",
            "/logout sso",
            "/logout sso",
            "/logout sso"
        ]
    );
    // Nothing left to do: a no-op.
    let again = rig.finish_cleanup().await;
    assert_eq!(again, view);
    assert_eq!(rig.idp.with(|s| s.browser_steps.len()), 5);
}

#[tokio::test]
async fn l2_without_an_end_session_endpoint_nothing_is_pending() {
    let rig = rig();
    rig.idp.with(|s| s.no_end_session = true);
    rig.signed_in().await;
    let view = rig.session.sign_out(&rig.browser).await.unwrap();
    assert_eq!(view.last_event, Some(Event::SignedOutLocally));
    assert_eq!(view.pending_server_cleanup, None);
}

#[tokio::test]
async fn a_failed_server_delete_at_forget_is_pending_and_can_be_finished() {
    let rig = rig();
    rig.registered().await;
    rig.idp.with(|s| s.delete_status = Some(503));
    let view = rig.session.forget().await.unwrap();
    assert_eq!(view.state, StateName::Unregistered);
    assert_eq!(view.last_event, Some(Event::ForgottenLocally));
    assert_eq!(view.pending_server_cleanup, Some(ServerCleanup::Forget));
    assert_eq!(
        serde_json::to_value(&view).unwrap()["pendingServerCleanup"],
        "forget"
    );
    assert!(rig.store.is_empty(), "the local wipe happened");

    rig.idp.with(|s| s.delete_status = None);
    let view = rig.finish_cleanup().await;
    assert_eq!(view.last_event, Some(Event::Forgotten));
    assert_eq!(view.pending_server_cleanup, None);
    assert_eq!(rig.idp.with(|s| s.deleted.clone()), vec!["client-1"]);
    assert!(
        rig.store.is_empty(),
        "a retry never stores the registration again"
    );
}

/// docs/faults.md, FI2: the server deleted the client but the answer was lost. The
/// retry's delete is answered 401 (RFC 7592 §2.3: no such client), which here is our own delete
/// having gone through: `forgotten`, nothing pending. The old code kept `forgottenLocally` and the
/// retry button forever.
#[tokio::test]
async fn fi2_a_delete_whose_answer_was_lost_is_forgotten_on_the_retry() {
    let rig = rig();
    rig.registered().await;
    rig.idp.with(|s| s.delete_answer_lost = true);
    let view = rig.session.forget().await.unwrap();
    assert_eq!(view.last_event, Some(Event::ForgottenLocally));
    assert_eq!(view.pending_server_cleanup, Some(ServerCleanup::Forget));
    assert_eq!(rig.idp.with(|s| s.deleted.clone()), vec!["client-1"]);

    let view = rig.finish_cleanup().await;
    assert_eq!(view.last_event, Some(Event::Forgotten));
    assert_eq!(view.pending_server_cleanup, None);
    assert_eq!(rig.idp.with(|s| s.delete_requests.len()), 2);
}

/// The other side of the one above: a delete that was *answered* 401 proves nothing was
/// deleted (R7), and a retry answered 401 again does not change that.
#[tokio::test]
async fn fi2_a_delete_answered_401_stays_not_deleted_on_the_retry() {
    let rig = rig();
    rig.registered().await;
    rig.idp.with(|s| s.delete_status = Some(401));
    let view = rig.session.forget().await.unwrap();
    assert_eq!(view.pending_server_cleanup, Some(ServerCleanup::Forget));
    let view = rig.finish_cleanup().await;
    assert_eq!(view.last_event, Some(Event::ForgottenLocally));
    assert_eq!(view.pending_server_cleanup, Some(ServerCleanup::Forget));
}

/// Nothing to retry without a management endpoint; and a pending cleanup never survives a
/// restart (memory only), and is dropped by a new registration.
#[tokio::test]
async fn pending_cleanup_is_memory_only_and_dropped_by_a_new_registration() {
    let rig = rig();
    rig.idp.with(|s| s.no_management = true);
    rig.registered().await;
    let view = rig.session.forget().await.unwrap();
    assert_eq!(view.last_event, Some(Event::ForgottenLocally));
    assert_eq!(view.pending_server_cleanup, None);

    let rig = super::rig();
    rig.registered().await;
    rig.idp.with(|s| s.delete_status = Some(503));
    let view = rig.session.forget().await.unwrap();
    assert_eq!(view.pending_server_cleanup, Some(ServerCleanup::Forget));
    assert_eq!(
        rig.restart().state().await.unwrap().pending_server_cleanup,
        None
    );
    rig.idp.with(|s| s.delete_status = None);
    let view = rig.registered().await;
    assert_eq!(view.pending_server_cleanup, None);
}

#[tokio::test]
async fn a_new_sign_in_drops_a_pending_sign_out() {
    let rig = rig();
    let view = rig.signed_out_with_the_logout_page_closed().await;
    assert_eq!(view.pending_server_cleanup, Some(ServerCleanup::SignOut));
    rig.idp.with(|s| s.cancel_browser = false);
    let view = rig.session.sign_in(&rig.browser).await.unwrap();
    assert_eq!(view.pending_server_cleanup, None);
}
