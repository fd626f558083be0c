//! Cancelling against the bundled identity server: closing the window, or Cancel on the login
//! page (which the server answers with `error=access_denied`, RFC 6749 §4.1.2.1), is its own
//! outcome (`cancelled`, not an error screen) and changes no state, at every browser step.

use dcr_core::session::{Event, StateName};
use dcr_tests::engine::{query, Form, Rig};
use dcr_tests::ScriptedAgent;

#[tokio::test]
async fn cancellation_changes_nothing_at_any_browser_step() {
    let r = Rig::start(Form::Full).await;
    let agent = r.agent();
    let closing = ScriptedAgent::closing_the_window(r.browser.clone());
    let cancel_link = ScriptedAgent::cancelling_at_login_page(r.browser.clone());

    // At registration. A3: the login page's Cancel link comes back as `access_denied`, which
    // the message calls "declined".
    for (ua, says) in [(&closing, "cancelled"), (&cancel_link, "declined")] {
        let error = r.session.register(ua).await.unwrap_err();
        assert_eq!(error.kind(), "cancelled", "{error}");
        assert!(error.is_cancelled());
        assert!(error.message().contains(says), "{}", error.message());
        let view = r.session.state().await.unwrap();
        assert_eq!(view.state, StateName::Unregistered);
        assert!(view.reason.is_none() && view.registration.is_none());
    }
    assert_eq!(
        cancel_link.returned().len(),
        1,
        "the login page's Cancel link was followed"
    );
    assert_eq!(
        query(&cancel_link.returned()[0], "error").as_deref(),
        Some("access_denied")
    );
    assert!(r.stored().is_none());
    assert!(r.transport.to("/reg").is_empty(), "no registration request");
    assert!(r.idp.admin_list_clients().await.is_empty());
    assert_eq!(r.browser.password_posts(), 0);

    // At sign-in, while registered.
    let registered = r.session.register(&agent).await.unwrap();
    let error = r.session.sign_in(&closing).await.unwrap_err();
    assert_eq!(error.kind(), "cancelled");
    assert_eq!(r.session.state().await.unwrap(), registered);

    // At sign-in, while signed in: still signed in with the same tokens.
    let signed_in = r.session.sign_in(&agent).await.unwrap();
    let error = r.session.sign_in(&closing).await.unwrap_err();
    assert_eq!(error.kind(), "cancelled");
    assert_eq!(r.session.state().await.unwrap(), signed_in);
    // The tokens still work.
    assert_eq!(
        r.session.refresh().await.unwrap().state,
        StateName::SignedIn
    );

    // At sign-in after logout (no SSO session, so the login page shows): Cancel there.
    let signed_out = r.session.sign_out(&agent).await.unwrap();
    let error = r.session.sign_in(&cancel_link).await.unwrap_err();
    assert_eq!(error.kind(), "cancelled", "{error}");
    assert_eq!(r.session.state().await.unwrap(), signed_out);

    // Cancelling the logout page still wipes the local tokens (L1), but says so.
    r.session.sign_in(&agent).await.unwrap();
    let view = r.session.sign_out(&closing).await.unwrap();
    assert_eq!(view.state, StateName::Registered);
    assert_eq!(view.last_event, Some(Event::SignedOutLocally));

    // The registration survived all of it: each cancelled sign-in asked the server (RFC 7592
    // read) and found the client alive.
    let stored = r.stored().unwrap();
    assert_eq!(
        stored.registration.client_id,
        registered.registration.unwrap().client_id
    );
    assert_eq!(r.transport.to("/reg").len(), 1);
    assert_eq!(r.idp.admin_list_clients().await.len(), 1);
    let reads = r
        .transport
        .to(&format!("/reg/{}", stored.registration.client_id));
    assert!(reads
        .iter()
        .all(|e| e.method == "GET" && e.status == Some(200)));
}
