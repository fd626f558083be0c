//! The state machine against a fake identity server and a memory store: no network.

mod browser_step;
mod callbacks;
mod cleanup;
mod device;
mod fake;
mod keys;
mod logs;
mod loopback;
mod lost_key;
mod management;
mod recovery;
mod remember;
mod revocation;
mod rotation;
mod shared;
mod sign_out;

use std::sync::Arc;

use serde_json::json;

use self::fake::{FakeBrowser, FakeIdp};
use super::*;
use crate::device::store::{MemoryStore, StoreError, StoreKey};
use crate::error::ErrorKind;
use crate::test_support::{config, config_json};
use crate::Secret;

struct Rig {
    idp: Arc<FakeIdp>,
    store: Arc<MemoryStore>,
    browser: FakeBrowser,
    session: Session,
    /// This rig's lock folder: every session of the rig takes the real cross-process lock, as
    /// the shells' sessions do, so a section that takes it twice (flock is not reentrant) hangs
    /// a test instead of a user's app.
    lock_dir: std::path::PathBuf,
}

impl Drop for Rig {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.lock_dir);
    }
}

fn rig_with(config: Config, store: Arc<MemoryStore>) -> Rig {
    static RIGS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let lock_dir = std::env::temp_dir().join(format!(
        "dcr-session-tests-{}-{}",
        std::process::id(),
        RIGS.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    ));
    let idp = FakeIdp::new();
    let session = locked(
        Session::with_transport(config, idp.clone(), Box::new(store.clone())),
        &lock_dir,
    );
    Rig {
        browser: FakeBrowser(idp.clone()),
        idp,
        store,
        session,
        lock_dir,
    }
}

fn locked(session: Session, dir: &std::path::Path) -> Session {
    let lock = crate::platform::lock::ProcessLock::in_dir(dir, &session.entry.key().fingerprint());
    session.with_process_lock(lock)
}

fn rig() -> Rig {
    rig_with(config(), Arc::new(MemoryStore::new()))
}

impl Rig {
    /// The keychain entry the rig's session uses.
    fn key(&self) -> &StoreKey {
        self.session.entry.key()
    }

    /// The state the session reports now.
    async fn state(&self) -> StateName {
        self.session.state().await.unwrap().state
    }

    /// Registers (the registration login in the browser); the client is not signed in.
    async fn registered(&self) -> StateView {
        self.session.register(&self.browser).await.unwrap()
    }

    /// A sign-in that must fail: its error.
    async fn failed_sign_in(&self) -> Error {
        self.session.sign_in(&self.browser).await.unwrap_err()
    }

    /// A refresh that must fail: its error.
    async fn failed_refresh(&self) -> Error {
        self.session.refresh().await.unwrap_err()
    }

    /// The first run every scenario starts from: register, then sign in (one click in the app).
    async fn signed_in(&self) -> StateView {
        self.session
            .register_and_sign_in(&self.browser)
            .await
            .unwrap()
    }

    /// Signs in, then signs out with the end-session page closed by the user (L1): the local
    /// half is done, the server's is not. The fake keeps closing browser steps until told not to.
    async fn signed_out_with_the_logout_page_closed(&self) -> StateView {
        self.signed_in().await;
        self.idp.with(|s| s.cancel_browser = true);
        self.session.sign_out(&self.browser).await.unwrap()
    }

    /// Retries the server half of a sign-out or forget that failed before.
    async fn finish_cleanup(&self) -> StateView {
        self.session
            .finish_server_cleanup(&self.browser)
            .await
            .unwrap()
    }

    /// The registration access token in the keychain entry (RFC 7592 §3: the one to use next).
    fn stored_registration_access_token(&self) -> String {
        let stored = self.store.load(self.key()).unwrap().unwrap();
        stored
            .registration
            .registration_access_token
            .unwrap()
            .expose()
            .to_owned()
    }

    /// A second session on the same store and server: an app restart, or another process.
    fn restart(&self) -> Session {
        locked(
            Session::with_transport(
                self.session.config.clone(),
                self.idp.clone(),
                Box::new(self.store.clone()),
            ),
            &self.lock_dir,
        )
    }
}

#[tokio::test]
async fn full_lifecycle_register_sign_in_refresh_sign_out_forget() {
    let rig = rig();
    let view = rig.session.state().await.unwrap();
    assert_eq!(view.state, StateName::Unregistered);

    let view = rig.registered().await;
    assert_eq!(view.state, StateName::Registered);
    assert_eq!(view.last_event, Some(Event::Registered));
    let registration = view.registration.unwrap();
    assert_eq!(registration.client_id, "client-1");
    assert_eq!(registration.client_secret_expires_at, None);
    assert_eq!(rig.store.len(), 1);
    let body = rig.idp.with(|s| s.last_registration_body.clone()).unwrap();
    assert_eq!(
        body,
        json!({"redirect_uris":["io.curity.dcrclient:/callback"],"post_logout_redirect_uris":["io.curity.dcrclient:/logoutcallback"],"application_type":"native","grant_types":["authorization_code"],"scope":"openid profile","token_endpoint_auth_method":"client_secret_basic"})
    );

    let view = rig.session.sign_in(&rig.browser).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    let user = view.user.clone().unwrap();
    assert_eq!(user.sub, "demouser");
    assert_eq!(user.display_name.as_deref(), Some("Demo User"));
    assert_eq!(user.claims["email"], "demo@example.com");
    // A five-minute token with a refresh token: the shells are told to refresh a minute early.
    let expires_at = view.access_token_expires_at.unwrap();
    assert_eq!(view.refresh_at, Some(expires_at - 60));
    assert!(!user.claims.contains_key("nonce"));
    let first_fingerprint = view.token_fingerprint.clone().unwrap();

    let view = rig.session.refresh().await.unwrap();
    assert_eq!(view.last_event, Some(Event::Refreshed));
    assert_ne!(view.token_fingerprint.unwrap(), first_fingerprint);
    // Rotation: the second refresh must present the rotated token, or the fake says invalid_grant.
    rig.session.refresh().await.unwrap();

    let view = rig.session.sign_out(&rig.browser).await.unwrap();
    assert_eq!(view.state, StateName::Registered);
    assert_eq!(view.last_event, Some(Event::SignedOut));
    assert!(view.user.is_none() && view.token_fingerprint.is_none());

    let view = rig.session.forget().await.unwrap();
    assert_eq!(view.state, StateName::Unregistered);
    assert_eq!(view.last_event, Some(Event::Forgotten));
    assert!(rig.store.is_empty());
    assert_eq!(rig.idp.with(|s| s.deleted.clone()), vec!["client-1"]);
    let steps = rig.idp.with(|s| s.browser_steps.clone());
    assert_eq!(
        steps,
        vec!["/authorize login", "/authorize sso", "/logout sso"]
    );
}

#[tokio::test]
async fn s5_restart_restores_the_registration() {
    let rig = rig();
    rig.registered().await;
    let restarted = rig.restart();
    let view = restarted.state().await.unwrap();
    assert_eq!(view.state, StateName::Registered);
    assert_eq!(view.last_event, Some(Event::Restored));
    assert_eq!(
        restarted.sign_in(&rig.browser).await.unwrap().state,
        StateName::SignedIn
    );
}

#[tokio::test]
async fn register_twice_is_a_no_op() {
    let rig = rig();
    rig.registered().await;
    let view = rig.registered().await;
    assert_eq!(view.last_event, Some(Event::AlreadyRegistered));
    assert_eq!(rig.idp.with(|s| s.registrations), 1);
}

#[tokio::test]
async fn templatized_registration_sends_only_the_software_id() {
    let config =
        Config::from_json(&config_json(r#""softwareId":"mobile-dcr-template-client""#)).unwrap();
    let rig = rig_with(config, Arc::new(MemoryStore::new()));
    let view = rig.registered().await;
    assert!(view.registration.unwrap().templatized);
    let body = rig.idp.with(|s| s.last_registration_body.clone()).unwrap();
    assert_eq!(body, json!({"software_id": "mobile-dcr-template-client"}));
}

#[tokio::test]
async fn cancellation_changes_nothing() {
    let rig = rig();
    rig.idp.with(|s| s.cancel_browser = true);
    let error = rig.session.register(&rig.browser).await.unwrap_err();
    assert_eq!(error.kind(), "cancelled");
    assert_eq!(rig.state().await, StateName::Unregistered);
    assert!(rig.store.is_empty());

    rig.idp.with(|s| s.cancel_browser = false);
    rig.registered().await;
    let before = rig.session.state().await.unwrap();
    rig.idp.with(|s| s.cancel_browser = true);
    assert_eq!(rig.failed_sign_in().await.kind(), "cancelled");
    assert_eq!(rig.session.state().await.unwrap(), before);
}

#[tokio::test]
async fn l2_logout_without_end_session_endpoint_is_local() {
    let rig = rig();
    rig.idp.with(|s| s.no_end_session = true);
    rig.signed_in().await;
    let view = rig.session.sign_out(&rig.browser).await.unwrap();
    assert_eq!(view.state, StateName::Registered);
    assert_eq!(view.last_event, Some(Event::SignedOutLocally));
}

#[tokio::test]
async fn l1_cancelled_logout_page_still_wipes_local_tokens() {
    let rig = rig();
    let view = rig.signed_out_with_the_logout_page_closed().await;
    assert_eq!(view.state, StateName::Registered);
    assert_eq!(view.last_event, Some(Event::SignedOutLocally));
}

#[tokio::test]
async fn not_registered_and_not_signed_in_are_their_own_errors() {
    let rig = rig();
    assert_eq!(rig.failed_sign_in().await.kind(), "notRegistered");
    rig.registered().await;
    assert_eq!(rig.failed_refresh().await.kind(), "notSignedIn");
}

#[tokio::test]
async fn z2_state_view_json_has_no_secrets() {
    let rig = rig();
    rig.signed_in().await;
    let view = rig.session.refresh().await.unwrap();
    let json = serde_json::to_string(&view).unwrap();
    for secret in rig.idp.with(|s| s.issued.clone()) {
        assert!(!json.contains(&secret), "{secret} leaked into {json}");
    }
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["state"], "signedIn");
    assert!(value["accessTokenExpiresAt"].is_i64());
    assert_eq!(value["registration"]["clientId"], "client-1");
    assert!(value["registration"]["clientSecretExpiresAt"].is_null());
    assert_eq!(value["lastEvent"], "refreshed");
}

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn session_is_send_and_sync() {
    assert_send_sync::<Session>();
}
