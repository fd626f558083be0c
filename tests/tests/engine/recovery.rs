//! The engine's recovery rules against the real identity server: a client the administrator
//! deleted (T2), a short client-secret lifetime (R6), an expired DCR token (R2), and a server
//! session that ended under the app's feet (F1).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dcr_core::session::{Event, Reason, StateName};
use dcr_tests::engine::{self, Form, RecordingTransport, Rig, POST_LOGOUT_URI};
use dcr_tests::IdpOptions;

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Sleeps until the Unix clock has reached `at` (whole seconds, as the server counts).
async fn sleep_until(at: i64) {
    while unix_now() < at {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// T2: the administrator deletes the device's client (the tutorial's "stolen device"). The next
/// refresh gets `invalid_client`: the registration is wiped once, with the reason for the UI,
/// and nothing is retried or registered behind the user's back.
#[tokio::test]
async fn admin_deletion_then_refresh_is_revoked_once_without_a_loop() {
    let r = Rig::start(Form::Full).await;
    let agent = r.agent();
    let client_id = r.signed_in_client(&agent).await;
    assert!(r.idp.admin_delete_client(&client_id).await);
    let before = r.transport.exchanges().len();

    let error = r.session.refresh().await.unwrap_err();
    assert_eq!(error.kind(), "invalidClient", "{error}");
    assert!(
        error.message().contains("register this device again"),
        "{error}"
    );
    let view = r.session.state().await.unwrap();
    assert_eq!(view.state, StateName::Unregistered);
    assert_eq!(view.reason, Some(Reason::Revoked));
    assert_eq!(view.last_event, Some(Event::Revoked));
    assert!(view.registration.is_none() && view.user.is_none());
    assert!(r.stored().is_none(), "the stored entry is gone");

    // The refresh, then one best-effort RFC 7592 §2.3 delete (invalid_client may mean a
    // disabled client that still exists; here it is already gone, so the server answers 401).
    // No retry, no re-registration, no delete loop.
    let after: Vec<_> = r.transport.exchanges().split_off(before);
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(after[0].path.ends_with("/token"));
    assert_eq!(after[0].status, Some(401));
    assert!(after[1].path.ends_with(&client_id), "{after:?}");
    assert_eq!(after[1].status, Some(401));
    // Asking again is a plain "not registered", without touching the network.
    assert_eq!(
        r.session.refresh().await.unwrap_err().kind(),
        "notRegistered"
    );
    assert_eq!(
        r.session.sign_in(&agent).await.unwrap_err().kind(),
        "notRegistered"
    );
    assert_eq!(r.transport.exchanges().len(), before + 2);
    assert!(r.idp.admin_list_clients().await.is_empty());
    assert_eq!(r.browser.password_posts(), 1, "no login was started");

    // Registering again is the user's choice, and needs the password (the admin deletion
    // ended the SSO session).
    let view = r.session.register_and_sign_in(&agent).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    assert_ne!(view.registration.unwrap().client_id, client_id);
    assert_eq!(r.browser.password_posts(), 2);
}

/// T2 again, when the deletion is noticed at sign-in rather than at refresh (the app restarted,
/// so there are no tokens to refresh). The authorization endpoint no longer knows the client and
/// would show an error page instead of redirecting, so the engine asks first (RFC 7592 §2.1 read:
/// 401 for a deleted client), wipes the registration, and never opens the window.
#[tokio::test]
async fn admin_deletion_is_detected_at_sign_in_too() {
    let r = Rig::start(Form::Full).await;
    let agent = r.agent();
    let client_id = engine::client_id(&r.session.register(&agent).await.unwrap());
    assert!(r.idp.admin_delete_client(&client_id).await);
    let before = r.transport.exchanges().len();

    let error = r.session.sign_in(&agent).await.unwrap_err();
    assert_eq!(error.kind(), "invalidClient", "{error}");
    assert!(
        error.message().contains("register this device again"),
        "{error}"
    );
    let view = r.session.state().await.unwrap();
    assert_eq!(
        (view.state, view.reason, view.last_event),
        (
            StateName::Unregistered,
            Some(Reason::Revoked),
            Some(Event::Revoked)
        )
    );
    assert!(r.stored().is_none(), "the dead registration is wiped");
    assert_eq!(agent.opened().len(), 1, "no sign-in window was opened");
    // Exactly one request: the read, which the server refused.
    let after: Vec<_> = r.transport.exchanges().split_off(before);
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0].method, "GET");
    assert!(after[0].path.ends_with(&format!("/reg/{client_id}")));
    assert_eq!(after[0].status, Some(401));

    // No loop: a second attempt is a plain "not registered", without the network.
    assert_eq!(
        r.session.sign_in(&agent).await.unwrap_err().kind(),
        "notRegistered"
    );
    assert_eq!(r.transport.exchanges().len(), before + 1);
    assert!(r.idp.admin_list_clients().await.is_empty());
    assert_eq!(r.browser.password_posts(), 1);
}

/// R6: a client secret with a lifetime. Once it has expired, the next sign-in registers again
/// first (and deletes the old client, RFC 7592), and the expired secret is never sent. A refresh
/// with an expired secret is refused locally.
#[tokio::test]
async fn short_client_secret_lifetime_registers_again_before_the_secret_is_used() {
    let options = IdpOptions {
        client_secret_ttl: Some(2),
        ..IdpOptions::default()
    };
    let r = Rig::start_with(options, Form::Full, RecordingTransport::new()).await;
    let agent = r.agent();
    let view = r.session.register(&agent).await.unwrap();
    let old = view.registration.unwrap();
    let expires_at = old.client_secret_expires_at.expect("the secret expires");
    assert!((1..=3).contains(&(expires_at - unix_now())), "{expires_at}");
    sleep_until(expires_at).await;

    let view = r.session.sign_in(&agent).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    let new = view.registration.unwrap();
    assert_ne!(new.client_id, old.client_id, "a new client was registered");
    assert_eq!(
        r.browser.password_posts(),
        2,
        "the registration login asks for the password"
    );
    // The expired secret never reached the token endpoint; the new one did.
    let token_clients: Vec<_> = r
        .transport
        .to("/token")
        .iter()
        .map(|e| e.client_id())
        .collect();
    assert!(
        !token_clients.contains(&Some(old.client_id.clone())),
        "{token_clients:?}"
    );
    assert!(token_clients.contains(&Some(new.client_id.clone())));
    // The old client was deleted on the server.
    r.transport.assert_deleted_once(&old.client_id);
    let clients = r.idp.admin_list_clients().await;
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0].client_id, new.client_id);
    assert_eq!(r.stored().unwrap().registration.client_id, new.client_id);

    // The new secret expires too: refresh refuses to use it and says why.
    sleep_until(new.client_secret_expires_at.unwrap()).await;
    let requests = r.transport.exchanges().len();
    let error = r.session.refresh().await.unwrap_err();
    assert_eq!(error.kind(), "secretExpired", "{error}");
    assert_eq!(r.transport.exchanges().len(), requests, "nothing was sent");
    let view = r.session.state().await.unwrap();
    assert_eq!(view.state, StateName::Registered);
    assert_eq!(view.reason, Some(Reason::SecretExpired));
}

/// R2: the DCR token expires between the registration login and the registration request (a
/// slow network: the registration request is held back longer than the token lives). The error
/// is its own kind, says what to do, and nothing is stored or registered.
#[tokio::test]
async fn expired_dcr_token_is_a_clear_error_and_nothing_is_stored() {
    let options = IdpOptions {
        dcr_token_ttl: Some(1),
        ..IdpOptions::default()
    };
    // The token's exp is its whole-second iat + 1, so 1.5 s later it has expired for sure.
    let slow = RecordingTransport::delaying("/reg", Duration::from_millis(1500));
    let r = Rig::start_with(options, Form::Full, slow).await;
    let agent = r.agent();

    let error = r.session.register(&agent).await.unwrap_err();
    assert_eq!(error.kind(), "dcrTokenRejected", "{error}");
    assert!(error.message().contains("sign in again"), "{error}");
    let registrations = r.transport.to("/reg");
    assert_eq!(registrations.len(), 1);
    assert_eq!(
        registrations[0].status,
        Some(401),
        "the server refused the token"
    );
    let view = r.session.state().await.unwrap();
    assert_eq!(view.state, StateName::Unregistered);
    assert!(view.registration.is_none());
    assert!(r.store.is_empty());
    assert!(r.idp.admin_list_clients().await.is_empty());
}

/// F1: the identity server ends the SSO session (here: a logout in the same browser, started by
/// another app), which kills the session-bound tokens. The refresh gets `invalid_grant`: the
/// tokens are dropped, the registration stays, and signing in again works.
#[tokio::test]
async fn ended_server_session_drops_the_tokens_and_keeps_the_registration() {
    let r = Rig::start(Form::Full).await;
    let agent = r.agent();
    let client_id = r.signed_in_client(&agent).await;

    let mut end_session = r.idp.endpoint("session/end");
    end_session
        .query_pairs_mut()
        .append_pair("client_id", &client_id)
        .append_pair("post_logout_redirect_uri", POST_LOGOUT_URI);
    let back = r.browser.open(end_session, None).await.unwrap();
    assert_eq!(back.path(), "/logoutcallback");

    let error = r.session.refresh().await.unwrap_err();
    assert_eq!(error.kind(), "invalidGrant", "{error}");
    let view = r.session.state().await.unwrap();
    assert_eq!(view.state, StateName::Registered);
    assert_eq!(view.reason, Some(Reason::SessionExpired));
    assert_eq!(view.registration.unwrap().client_id, client_id);
    assert_eq!(r.idp.admin_list_clients().await.len(), 1);
    // Without tokens, a second refresh does not reach the server.
    assert_eq!(r.session.refresh().await.unwrap_err().kind(), "notSignedIn");

    let view = r.session.sign_in(&agent).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    assert_eq!(view.reason, None);
    assert_eq!(r.browser.password_posts(), 2);
}
