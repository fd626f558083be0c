//! A1, X1 (RFC 8252 §8.9, RFC 6749 §10.12): a callback is good for the one flow whose `state`
//! it carries. Delivered again (a duplicated deep link) or replayed into a later flow, it is
//! refused before any token request, and nothing changes.

use std::sync::Mutex;

use url::Url;

use super::fake::FakeBrowser;
use super::*;
use crate::agents::{BrowserStep, UserAgent, UserAgentError};

/// The real browser, which remembers every callback; once told, it answers a later flow with
/// an earlier callback instead of the fresh one (the fresh code is issued but never used).
struct Replaying {
    browser: FakeBrowser,
    seen: Mutex<Vec<Url>>,
    replay: Mutex<Option<usize>>,
}

impl Replaying {
    fn new(rig: &Rig) -> Self {
        Self {
            browser: FakeBrowser(rig.idp.clone()),
            seen: Mutex::new(Vec::new()),
            replay: Mutex::new(None),
        }
    }

    fn replay(&self, index: usize) {
        *self.replay.lock().unwrap() = Some(index);
    }
}

#[async_trait::async_trait]
impl UserAgent for Replaying {
    async fn authorize(&self, step: BrowserStep) -> Result<Url, UserAgentError> {
        let fresh = self.browser.authorize(step).await?;
        let mut seen = self.seen.lock().unwrap();
        seen.push(fresh.clone());
        Ok(match *self.replay.lock().unwrap() {
            Some(index) => seen[index].clone(),
            None => fresh,
        })
    }
}

fn token_requests(rig: &Rig) -> usize {
    rig.idp.with(|s| s.token_requests)
}

/// The registration login's callback delivered twice: the copy lands in the sign-in flow that
/// follows at once (`register_and_sign_in`), and is refused there.
#[tokio::test]
async fn a1_the_same_callback_delivered_twice_is_refused_the_second_time() {
    let rig = rig();
    let browser = Replaying::new(&rig);
    browser.replay(0);
    let error = rig
        .session
        .register_and_sign_in(&browser)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "stateMismatch");
    assert_eq!(token_requests(&rig), 1, "only the registration's exchange");
    let view = rig.session.state().await.unwrap();
    assert_eq!(view.state, StateName::Registered);
    assert!(view.user.is_none());
}

/// A sign-in's callback kept by an attacker and injected into a later sign-in.
#[tokio::test]
async fn a1_replayed_callback_into_a_new_flow_is_refused_without_a_token_request() {
    let rig = rig();
    let browser = Replaying::new(&rig);
    rig.session.register_and_sign_in(&browser).await.unwrap();
    rig.session.sign_out(&browser).await.unwrap();
    let before = rig.session.state().await.unwrap();
    let requests = token_requests(&rig);

    browser.replay(1);
    let error = rig.session.sign_in(&browser).await.unwrap_err();
    assert_eq!(error.kind(), "stateMismatch");
    assert_eq!(token_requests(&rig), requests, "no token request");
    assert_eq!(rig.session.state().await.unwrap(), before);
    // And the flow after that works with its own callback.
    *browser.replay.lock().unwrap() = None;
    let view = rig.session.sign_in(&browser).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
}
