//! The deep-link routing (RFC 8252 §7.1, §8.9; checklist X1, X3) and the system agent's wait.

use std::time::Duration;

use super::*;
use crate::agents::{BrowserControl, BrowserOpener, BrowserPurpose};
use crate::Secret;

struct Opened(Mutex<Vec<Url>>);

impl BrowserOpener for Opened {
    fn open(&self, url: &Url) -> Result<(), String> {
        self.0.lock().unwrap().push(url.clone());
        Ok(())
    }
}

fn redirect() -> RedirectUri {
    RedirectUri::parse("io.curity.dcrclient:/callback").unwrap()
}

fn link(text: &str) -> Url {
    Url::parse(text).unwrap()
}

/// The request carries no `state` on purpose: the agent takes the step's, never the URL's.
fn step(state: &str) -> BrowserStep {
    let mut url = Url::parse("https://idp.example/authorize").unwrap();
    url.query_pairs_mut()
        .append_pair("redirect_uri", redirect().as_str());
    BrowserStep {
        url,
        redirect: redirect(),
        state: Secret::new(state),
        purpose: BrowserPurpose::SignIn,
        user_action_expected: true,
    }
}

#[test]
fn the_redirect_with_our_state_is_accepted() {
    let redirect = redirect();
    let ours = link("io.curity.dcrclient:/callback?code=c&state=s-1");
    assert_eq!(route(Some((&redirect, "s-1")), &ours), Ok(()));
}

#[test]
fn x1_a_forged_state_is_ignored() {
    let redirect = redirect();
    for forged in [
        "io.curity.dcrclient:/callback?code=c&state=s-2",
        "io.curity.dcrclient:/callback?code=c",
        "io.curity.dcrclient:/callback?code=c&state=",
        // Two states: one ours, one not (the engine might read the other one).
        "io.curity.dcrclient:/callback?state=s-1&code=c&state=evil",
    ] {
        assert_eq!(
            route(Some((&redirect, "s-1")), &link(forged)),
            Err(Ignored::WrongState),
            "{forged}"
        );
    }
}

#[test]
fn x3_our_scheme_with_another_path_or_another_scheme_is_ignored() {
    let redirect = redirect();
    for other in [
        "io.curity.dcrclient:/other?code=c&state=s-1",
        "io.curity.dcrclient:/callback/extra?code=c&state=s-1",
        "io.curity.dcrclient://callback?code=c&state=s-1",
        "com.example.evil:/callback?code=c&state=s-1",
        "https://idp.example/callback?code=c&state=s-1",
    ] {
        assert_eq!(
            route(Some((&redirect, "s-1")), &link(other)),
            Err(Ignored::OtherRedirect),
            "{other}"
        );
    }
}

/// A cold start with a callback URL: nothing waits, the link is dropped.
#[test]
fn x1_a_link_with_no_step_waiting_is_ignored() {
    let inbox = DeepLinkInbox::default();
    assert_eq!(
        inbox.deliver(&link("io.curity.dcrclient:/callback?code=c&state=s-1")),
        Err(Ignored::NoStepWaiting)
    );
}

/// X1 through the agent: a forged link neither ends nor cancels the step, the real one ends
/// it, and a duplicate after it finds nothing waiting.
#[tokio::test]
async fn x1_forged_then_real_then_duplicate() {
    let opened = Arc::new(Opened(Mutex::new(Vec::new())));
    let inbox = DeepLinkInbox::default();
    let agent = SystemAgent::new(UserBrowser::new(opened.clone()), inbox.clone());
    let state = "s-42";
    let real = link("io.curity.dcrclient:/callback?code=c&state=s-42");
    let waiting = tokio::spawn(async move { agent.authorize(step(state)).await });
    // Wait until the agent has opened the browser (and so registered its step).
    while opened.0.lock().unwrap().is_empty() {
        tokio::task::yield_now().await;
    }
    assert_eq!(
        inbox.deliver(&link("io.curity.dcrclient:/callback?code=x&state=forged")),
        Err(Ignored::WrongState)
    );
    assert!(
        !waiting.is_finished(),
        "a forged link must not end the step"
    );
    assert_eq!(inbox.deliver(&real), Ok(()));
    assert_eq!(waiting.await.unwrap().unwrap(), real);
    assert_eq!(inbox.deliver(&real), Err(Ignored::NoStepWaiting));
    assert_eq!(opened.0.lock().unwrap().len(), 1);
}

/// Cancel ends the step, "Open the browser again" reopens the same URL, and a link after the
/// step ended finds nothing waiting.
#[tokio::test]
async fn cancel_and_open_again() {
    let opened = Arc::new(Opened(Mutex::new(Vec::new())));
    let inbox = DeepLinkInbox::default();
    let control = BrowserControl::default();
    let browser = UserBrowser::new(opened.clone()).with_control(control.clone());
    let agent = SystemAgent::new(browser, inbox.clone());
    let waiting = tokio::spawn(async move { agent.authorize(step("s-7")).await });
    while opened.0.lock().unwrap().is_empty() {
        tokio::task::yield_now().await;
    }
    control.open_again();
    while opened.0.lock().unwrap().len() < 2 {
        tokio::task::yield_now().await;
    }
    let urls = opened.0.lock().unwrap().clone();
    assert_eq!(urls[0], urls[1]);
    control.cancel();
    assert!(matches!(
        waiting.await.unwrap(),
        Err(UserAgentError::Cancelled)
    ));
    assert_eq!(
        inbox.deliver(&link("io.curity.dcrclient:/callback?code=c&state=s-7")),
        Err(Ignored::NoStepWaiting)
    );
}

/// The step gives up with the sign-in timeout, like loopback.
#[tokio::test]
async fn the_wait_times_out() {
    let opened = Arc::new(Opened(Mutex::new(Vec::new())));
    let inbox = DeepLinkInbox::default();
    let browser = UserBrowser::new(opened).with_timeout(Duration::from_millis(100));
    let agent = SystemAgent::new(browser, inbox.clone());
    let error = agent.authorize(step("s-9")).await.unwrap_err();
    assert!(matches!(error, UserAgentError::Failed(ref text) if text.contains("in time")));
    assert_eq!(
        inbox.deliver(&link("io.curity.dcrclient:/callback?code=c&state=s-9")),
        Err(Ignored::NoStepWaiting)
    );
}
