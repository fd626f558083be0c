//! The loopback user agent (RFC 8252 §7.3): the user's own browser opens the authorization
//! URL, and the answer comes back to a [`LoopbackListener`] bound for that one step.
//!
//! How the pieces meet: the engine asks [`UserAgent::prepare_redirect`] before it builds a
//! request; this agent binds a fresh listener (loopback only, ephemeral port) and returns its
//! `http://127.0.0.1:<port>/callback`, which the engine then uses for the request, the
//! callback check and the code exchange. [`UserAgent::authorize`] opens the browser and waits
//! on that listener. The engine never sees a socket or a browser; the shells only choose this
//! agent when the config says `userAgent: "loopback"`, and add their own waiting screen.
//!
//! The wait ends with the callback, with the user's Cancel, or after the sign-in timeout
//! ([`UserBrowser::wait`]); the listener is closed in every case.

use std::sync::{Mutex, PoisonError};

use url::Url;

use super::LoopbackListener;
use crate::agents::{BrowserStep, UserAgent, UserAgentError, UserBrowser};
use crate::config::RedirectUri;

pub struct LoopbackAgent {
    browser: UserBrowser,
    /// The listener bound by `prepare_redirect`, for the next `authorize`. Steps are
    /// sequential (the session serializes operations), so one slot is enough; a step the
    /// engine prepared but never opened leaves it here until the next one replaces it.
    prepared: Mutex<Option<LoopbackListener>>,
}

impl LoopbackAgent {
    pub fn new(browser: UserBrowser) -> Self {
        Self {
            browser,
            prepared: Mutex::new(None),
        }
    }
}

#[async_trait::async_trait]
impl UserAgent for LoopbackAgent {
    async fn prepare_redirect(
        &self,
        registered: &RedirectUri,
    ) -> Result<RedirectUri, UserAgentError> {
        let listener = LoopbackListener::bind(registered.url().path())
            .await
            .map_err(|error| {
                UserAgentError::Failed(format!(
                    "could not listen on the loopback interface: {error}"
                ))
            })?;
        let redirect =
            RedirectUri::parse(listener.redirect_uri().as_str()).map_err(UserAgentError::Failed)?;
        *self.prepared.lock().unwrap_or_else(PoisonError::into_inner) = Some(listener);
        Ok(redirect)
    }

    async fn authorize(&self, step: BrowserStep) -> Result<Url, UserAgentError> {
        let listener = self
            .prepared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .filter(|listener| step.redirect.matches(listener.redirect_uri()))
            .ok_or_else(|| {
                UserAgentError::Failed("no loopback listener was prepared for this step".into())
            })?;
        // The listener's own pre-check (X6): only the step's state ends the wait. The engine
        // checks the whole callback again (`callback::check_callback`,
        // `logout::check_logout_callback`).
        let callback = async { Ok(listener.accept_callback(step.state.expose()).await) };
        self.browser.wait(&step.url, callback).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::agents::{BrowserOpener, BrowserPurpose};
    use crate::Secret;

    struct Opened(Mutex<Vec<Url>>);

    impl BrowserOpener for Opened {
        fn open(&self, url: &Url) -> Result<(), String> {
            self.0.lock().unwrap().push(url.clone());
            Ok(())
        }
    }

    /// The request carries no `state` on purpose: the agent takes the step's, never the URL's.
    fn step(redirect: RedirectUri) -> BrowserStep {
        let mut url = Url::parse("https://idp.example/authorize").unwrap();
        url.query_pairs_mut()
            .append_pair("redirect_uri", redirect.as_str());
        BrowserStep {
            url,
            redirect,
            state: Secret::new("s-123"),
            purpose: BrowserPurpose::SignIn,
            user_action_expected: false,
        }
    }

    fn registered() -> RedirectUri {
        RedirectUri::parse("http://127.0.0.1/callback").unwrap()
    }

    /// X5: the step gives up with the sign-in timeout, and its port is closed then.
    #[tokio::test]
    async fn x5_the_wait_times_out_and_closes_the_port() {
        let opened = Arc::new(Opened(Mutex::new(Vec::new())));
        let agent = LoopbackAgent::new(
            UserBrowser::new(opened.clone()).with_timeout(Duration::from_millis(200)),
        );
        let redirect = agent.prepare_redirect(&registered()).await.unwrap();
        let port = redirect.url().port().expect("a port");
        assert_ne!(port, 0);
        assert_eq!(redirect.url().path(), "/callback");
        assert_eq!(redirect.url().host_str(), Some("127.0.0.1"));
        let error = agent.authorize(step(redirect)).await.unwrap_err();
        assert!(matches!(error, UserAgentError::Failed(ref text) if text.contains("in time")));
        assert_eq!(opened.0.lock().unwrap().len(), 1);
        assert!(tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err());
    }

    /// The step must end on the listener prepared for it: a redirect it was not prepared for
    /// (another port) is refused before any browser opens.
    #[tokio::test]
    async fn a_step_without_its_prepared_listener_is_refused() {
        let opened = Arc::new(Opened(Mutex::new(Vec::new())));
        let agent = LoopbackAgent::new(UserBrowser::new(opened.clone()));
        let error = agent.authorize(step(registered())).await.unwrap_err();
        assert!(matches!(error, UserAgentError::Failed(_)));
        agent.prepare_redirect(&registered()).await.unwrap();
        let other = RedirectUri::parse("http://127.0.0.1:9/callback").unwrap();
        assert!(agent.authorize(step(other)).await.is_err());
        assert!(opened.0.lock().unwrap().is_empty(), "no browser opened");
    }

    /// The callback with our state ends the step with the URL the browser was sent to.
    #[tokio::test]
    async fn the_callback_with_our_state_ends_the_step() {
        let opened = Arc::new(Opened(Mutex::new(Vec::new())));
        let agent = LoopbackAgent::new(UserBrowser::new(opened.clone()));
        let redirect = agent.prepare_redirect(&registered()).await.unwrap();
        let port = redirect.url().port().unwrap();
        let browser = tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap();
            stream
                .write_all(b"GET /callback?code=c&state=s-123 HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).await.unwrap();
            answer
        });
        let url = agent.authorize(step(redirect)).await.unwrap();
        assert_eq!(url.query(), Some("code=c&state=s-123"));
        assert!(browser.await.unwrap().starts_with("HTTP/1.1 200"));
    }
}
