//! The engine's negative paths against the real identity server: admin revocation, short
//! secret lifetime, expired DCR token, cancellation, locked keychain.

mod engine_support;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use dcr_core::http::back_channel_client;
use dcr_core::session::{Event, Reason, StateName};
use dcr_core::store::{MemoryStore, StoreError};
use dcr_core::Session;
use dcr_tests::{Idp, IdpOptions};
use engine_support::{config_for, session_with, ScriptedUserAgent, Shared, SlowRegistration};

#[tokio::test]
async fn t2_admin_deletion_then_refresh_leads_to_unregistered_revoked() {
    let idp = Idp::start().await;
    let ua = ScriptedUserAgent::new();
    let store = Arc::new(MemoryStore::new());
    let session = session_with(config_for(&idp, ""), Shared(store.clone()));
    let view = session.register_and_sign_in(&ua).await.unwrap();
    let client_id = view.registration.unwrap().client_id;

    // The seed's "admin disables a stolen device".
    assert!(idp.admin_delete_client(&client_id).await);
    let error = session.refresh().await.unwrap_err();
    assert_eq!(error.kind(), "invalidClient");
    let view = session.state().await.unwrap();
    assert_eq!(view.state, StateName::Unregistered);
    assert_eq!(view.reason, Some(Reason::Revoked));
    assert!(store.is_empty(), "the dead registration is wiped");
    // Never loops: nothing registered itself again.
    assert!(idp.admin_list_clients().await.is_empty());
    assert_eq!(ua.password_posts(), 1);
}

#[tokio::test]
async fn r6_short_secret_lifetime_triggers_re_registration() {
    let idp = Idp::start_with(IdpOptions {
        client_secret_ttl: Some(3),
        ..Default::default()
    })
    .await;
    let ua = ScriptedUserAgent::new();
    let session = session_with(config_for(&idp, ""), MemoryStore::new());
    let first = session.register(&ua).await.unwrap().registration.unwrap();
    assert!(first.client_secret_expires_at.is_some());

    tokio::time::sleep(Duration::from_secs(4)).await;
    let view = session.sign_in(&ua).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    let second = view.registration.unwrap();
    assert_ne!(
        second.client_id, first.client_id,
        "a new client was registered"
    );
    let clients = idp.admin_list_clients().await;
    assert_eq!(
        clients.len(),
        1,
        "the expired client was deleted (RFC 7592)"
    );
    assert_eq!(clients[0].client_id, second.client_id);
}

#[tokio::test]
async fn r2_expired_dcr_token_is_a_clear_error_with_nothing_stored() {
    let idp = Idp::start_with(IdpOptions {
        dcr_token_ttl: Some(1),
        ..Default::default()
    })
    .await;
    let ua = ScriptedUserAgent::new();
    let store = Arc::new(MemoryStore::new());
    let slow = SlowRegistration {
        inner: back_channel_client(),
        delay: Duration::from_secs(3),
    };
    let session = Session::with_transport(
        config_for(&idp, ""),
        Arc::new(slow),
        Box::new(Shared(store.clone())),
    );
    let error = session.register(&ua).await.unwrap_err();
    assert_eq!(error.kind(), "dcrTokenRejected");
    assert!(
        error.message().contains("sign in again"),
        "{}",
        error.message()
    );
    assert!(store.is_empty());
    assert!(idp.admin_list_clients().await.is_empty());
    assert_eq!(
        session.state().await.unwrap().state,
        StateName::Unregistered
    );
}

#[tokio::test]
async fn cancellation_leaves_the_state_unchanged() {
    let idp = Idp::start().await;
    let ua = ScriptedUserAgent::new();
    let store = Arc::new(MemoryStore::new());
    let session = session_with(config_for(&idp, ""), Shared(store.clone()));

    ua.cancel.store(true, Ordering::SeqCst);
    assert_eq!(session.register(&ua).await.unwrap_err().kind(), "cancelled");
    assert_eq!(
        session.state().await.unwrap().state,
        StateName::Unregistered
    );
    assert!(store.is_empty() && idp.admin_list_clients().await.is_empty());

    ua.cancel.store(false, Ordering::SeqCst);
    session.register(&ua).await.unwrap();
    let before = session.state().await.unwrap();
    ua.cancel.store(true, Ordering::SeqCst);
    assert_eq!(session.sign_in(&ua).await.unwrap_err().kind(), "cancelled");
    assert_eq!(session.state().await.unwrap(), before);
}

/// Clicks the login page's Cancel link: the server answers `error=access_denied` with our state.
struct CancelAtLoginPage;

#[dcr_core::async_trait]
impl dcr_core::UserAgent for CancelAtLoginPage {
    async fn authorize(
        &self,
        url: url::Url,
        redirect: &dcr_core::RedirectUri,
    ) -> Result<url::Url, dcr_core::UserAgentError> {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut next = url;
        let mut aborted = false;
        for _ in 0..10 {
            if redirect.matches(&next) {
                return Ok(next);
            }
            let response = http.get(next.clone()).send().await.unwrap();
            let location = match response.headers().get("location") {
                Some(location) => next.join(location.to_str().unwrap()).unwrap(),
                // The login form: take the Cancel link (`<interaction>/abort`).
                None if !aborted && next.path().contains("/interaction/") => {
                    aborted = true;
                    let mut abort = next.clone();
                    abort.set_path(&format!("{}/abort", next.path().trim_end_matches('/')));
                    abort
                }
                None => panic!("unexpected page at {}", next.path()),
            };
            next = location;
        }
        panic!("too many redirects");
    }
}

#[tokio::test]
async fn a3_access_denied_at_the_login_page_is_cancellation() {
    let idp = Idp::start().await;
    let store = Arc::new(MemoryStore::new());
    let session = session_with(config_for(&idp, ""), Shared(store.clone()));
    let error = session.register(&CancelAtLoginPage).await.unwrap_err();
    assert_eq!(error.kind(), "cancelled", "{}", error.message());
    assert!(error.message().contains("declined"), "{}", error.message());
    assert!(store.is_empty());
    assert_eq!(
        session.state().await.unwrap().state,
        StateName::Unregistered
    );
}

#[tokio::test]
async fn s2_locked_keychain_is_a_clear_error_and_no_registration() {
    let idp = Idp::start().await;
    let ua = ScriptedUserAgent::new();
    let session = session_with(
        config_for(&idp, ""),
        MemoryStore::failing_load(StoreError::Locked),
    );
    let error = session.state().await.unwrap_err();
    assert_eq!(error.kind(), "keychainLocked");
    assert!(error.message().contains("unlock"), "{}", error.message());
    assert_eq!(
        session.register(&ua).await.unwrap_err().kind(),
        "keychainLocked"
    );
    assert!(
        idp.admin_list_clients().await.is_empty(),
        "a locked keychain never means re-register"
    );
    assert!(ua.opened.lock().unwrap().is_empty());
}

#[tokio::test]
async fn s1_keychain_save_failure_leaves_no_orphan_client() {
    let idp = Idp::start().await;
    let ua = ScriptedUserAgent::new();
    let store = MemoryStore::failing_save(StoreError::Unavailable(
        "no Secret Service on the bus".into(),
    ));
    let session = session_with(config_for(&idp, ""), store);
    assert_eq!(
        session.register(&ua).await.unwrap_err().kind(),
        "keychainUnavailable"
    );
    assert!(
        idp.admin_list_clients().await.is_empty(),
        "the new client was deleted (RFC 7592)"
    );
    let view = session.state().await.unwrap();
    assert_eq!(view.state, StateName::Unregistered);
    assert_ne!(view.last_event, Some(Event::Registered));
}
