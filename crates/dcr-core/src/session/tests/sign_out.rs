//! F5 (RFC 7009 §2.2): revoking the refresh token at sign-out is best effort. Whatever the
//! revocation endpoint does, the session ends Registered, without tokens.

use super::fake::Outage;
use super::*;

#[tokio::test]
async fn f5_revocation_answering_503_or_dropping_the_connection_still_signs_out() {
    for outage in [Outage::Status(503), Outage::Drop] {
        let rig = rig();
        rig.signed_in().await;
        rig.idp.with(|s| s.revocation_failure = Some(outage));
        let view = rig.session.sign_out(&rig.browser).await.unwrap();
        assert_eq!(rig.idp.with(|s| s.revocations), 1, "{outage:?}");
        assert_eq!(view.state, StateName::Registered, "{outage:?}");
        assert!(view.user.is_none() && view.token_fingerprint.is_none());
        assert!(view.access_token_expires_at.is_none());
        // The logout page still ran: the server part that could be done was done.
        assert_eq!(view.last_event, Some(Event::SignedOut));
        let steps = rig.idp.with(|s| s.browser_steps.clone());
        assert_eq!(steps.last().map(String::as_str), Some("/logout sso"));
        // Nothing left to use: no refresh token in memory, none in the store.
        assert_eq!(rig.failed_refresh().await.kind(), "notSignedIn");
        assert_eq!(rig.store.len(), 1, "the registration stays");
        let restarted = rig.restart().state().await.unwrap();
        assert_eq!(restarted.state, StateName::Registered);
    }
}

/// The counterpart: a working endpoint gets the refresh token, which the server then forgets.
#[tokio::test]
async fn f5_sign_out_revokes_the_refresh_token() {
    let rig = rig();
    rig.signed_in().await;
    let view = rig.session.sign_out(&rig.browser).await.unwrap();
    assert_eq!(view.state, StateName::Registered);
    assert_eq!(rig.idp.with(|s| s.revocations), 1);
}
