//! Shared by the `engine_*` tests: the scripted login as the engine's [`UserAgent`], a session
//! against a running [`Idp`], and a transport that can be slowed down.
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dcr_core::http::{
    back_channel_client, CappedResponse, Method, OutgoingRequest, SendError, Transport,
};
use dcr_core::store::{RegistrationStore, StoreError, StoreKey, StoredRegistration};
use dcr_core::{Config, RedirectUri, Session, UserAgent, UserAgentError};
use dcr_tests::{Idp, ScriptedBrowser, DEMO_USER};
use url::Url;

/// The tutorial's config against a running identity server, plus `extra` keys.
pub fn config_for(idp: &Idp, extra: &str) -> Config {
    let mut json = format!(
        r#"{{"issuer":"{}","registrationClientID":"mobile-dcr-client","redirectUri":"io.curity.dcrclient:/callback","postLogoutRedirectUri":"io.curity.dcrclient:/logoutcallback","scope":"openid profile""#,
        idp.issuer.as_str()
    );
    if !extra.is_empty() {
        json.push(',');
        json.push_str(extra);
    }
    json.push('}');
    Config::from_json(&json).expect("test config is valid")
}

/// The scripted login window: follows redirects, posts the login form when asked, stops at the
/// app's redirect. Credentials can be withheld to prove SSO, and the user can "close" it.
pub struct ScriptedUserAgent {
    pub browser: ScriptedBrowser,
    pub with_password: AtomicBool,
    pub cancel: AtomicBool,
    /// Every URL the engine asked to open (authorization and logout requests).
    pub opened: Mutex<Vec<Url>>,
}

impl ScriptedUserAgent {
    pub fn new() -> Self {
        Self {
            browser: ScriptedBrowser::new(),
            with_password: AtomicBool::new(true),
            cancel: AtomicBool::new(false),
            opened: Mutex::new(Vec::new()),
        }
    }

    pub fn password_posts(&self) -> usize {
        self.browser.password_posts()
    }
}

#[dcr_core::async_trait]
impl UserAgent for ScriptedUserAgent {
    async fn authorize(&self, url: Url, redirect: &RedirectUri) -> Result<Url, UserAgentError> {
        self.opened.lock().unwrap().push(url.clone());
        if self.cancel.load(Ordering::SeqCst) {
            return Err(UserAgentError::Cancelled);
        }
        let credentials = self
            .with_password
            .load(Ordering::SeqCst)
            .then_some(DEMO_USER);
        let redirect = redirect.clone();
        self.browser
            .open_until(url, credentials, move |location| redirect.matches(location))
            .await
            .map_err(|error| UserAgentError::Failed(error.to_string()))
    }
}

/// A transport that waits before registration requests (to let a DCR token expire).
pub struct SlowRegistration {
    pub inner: reqwest::Client,
    pub delay: Duration,
}

#[dcr_core::async_trait]
impl Transport for SlowRegistration {
    async fn send(&self, request: OutgoingRequest) -> Result<CappedResponse, SendError> {
        if request.method == Method::Post && request.url.path().ends_with("/reg") {
            tokio::time::sleep(self.delay).await;
        }
        self.inner.send(request).await
    }
}

/// Lets a test keep a handle on a store the session owns.
pub struct Shared<S>(pub Arc<S>);

impl<S: RegistrationStore> RegistrationStore for Shared<S> {
    fn load(&self, key: &StoreKey) -> Result<Option<StoredRegistration>, StoreError> {
        self.0.load(key)
    }
    fn save(&self, key: &StoreKey, value: &StoredRegistration) -> Result<(), StoreError> {
        self.0.save(key, value)
    }
    fn delete(&self, key: &StoreKey) -> Result<(), StoreError> {
        self.0.delete(key)
    }
}

pub fn session_with(config: Config, store: impl RegistrationStore + 'static) -> Session {
    Session::new(config, back_channel_client(), Box::new(store))
}

/// Whether the real-keychain tests may run (scripts/test.sh sets this inside a D-Bus session
/// with an unlocked gnome-keyring). Prints why when they may not.
pub fn keyring_enabled(test: &str) -> bool {
    if std::env::var("DCR_TEST_KEYRING").as_deref() == Ok("1") {
        return true;
    }
    println!("note: {test} did not run: it needs DCR_TEST_KEYRING=1 and an unlocked Secret Service (scripts/test.sh)");
    false
}
