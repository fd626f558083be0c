//! The deep-link routing (RFC 8252 §7.1, §8.9; checklist X1, X3) and the system agent's wait.

use std::time::Duration;

use super::*;
use crate::agents::{BrowserControl, BrowserOpener, BrowserPurpose};
use crate::Secret;

/// The browser the agent opens: it only records the URLs.
struct Opened(Mutex<Vec<Url>>);

impl Opened {
    fn new() -> Arc<Self> {
        Arc::new(Opened(Mutex::new(Vec::new())))
    }

    fn urls(&self) -> Vec<Url> {
        self.0.lock().unwrap().clone()
    }

    /// Waits until the agent has opened the browser `times` times in all (and so has
    /// registered its step).
    async fn wait_for(&self, times: usize) {
        while self.0.lock().unwrap().len() < times {
            tokio::task::yield_now().await;
        }
    }
}

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

/// Our redirect with a code and `state`, as the OS delivers it.
fn callback(state: &str) -> Url {
    link(&format!(
        "io.curity.dcrclient:/callback?code=c&state={state}"
    ))
}

/// With no step waiting (none began, or it ended), the link for `state` finds nothing to end.
fn assert_nothing_waits(inbox: &DeepLinkInbox, state: &str) {
    assert_eq!(inbox.deliver(&callback(state)), Err(Ignored::NoStepWaiting));
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

/// A step waiting at our redirect with state `s-1` ignores each of `links` for `why`.
fn assert_ignored(links: &[&str], why: Ignored) {
    let redirect = redirect();
    for text in links {
        assert_eq!(
            route(Some((&redirect, "s-1")), &link(text)),
            Err(why),
            "{text}"
        );
    }
}

#[test]
fn the_redirect_with_our_state_is_accepted() {
    let redirect = redirect();
    assert_eq!(route(Some((&redirect, "s-1")), &callback("s-1")), Ok(()));
}

#[test]
fn x1_a_forged_state_is_ignored() {
    assert_ignored(
        &[
            "io.curity.dcrclient:/callback?code=c&state=s-2",
            "io.curity.dcrclient:/callback?code=c",
            "io.curity.dcrclient:/callback?code=c&state=",
            // Two states: one ours, one not (the engine might read the other one).
            "io.curity.dcrclient:/callback?state=s-1&code=c&state=evil",
        ],
        Ignored::WrongState,
    );
}

#[test]
fn x3_our_scheme_with_another_path_or_another_scheme_is_ignored() {
    assert_ignored(
        &[
            "io.curity.dcrclient:/other?code=c&state=s-1",
            "io.curity.dcrclient:/callback/extra?code=c&state=s-1",
            "io.curity.dcrclient://callback?code=c&state=s-1",
            "com.example.evil:/callback?code=c&state=s-1",
            "https://idp.example/callback?code=c&state=s-1",
        ],
        Ignored::OtherRedirect,
    );
}

/// A cold start with a callback URL: nothing waits, the link is dropped.
#[test]
fn x1_a_link_with_no_step_waiting_is_ignored() {
    assert_nothing_waits(&DeepLinkInbox::default(), "s-1");
}

/// X1 through the agent: a forged link neither ends nor cancels the step, the real one ends
/// it, and a duplicate after it finds nothing waiting.
#[tokio::test]
async fn x1_forged_then_real_then_duplicate() {
    let opened = Opened::new();
    let inbox = DeepLinkInbox::default();
    let agent = SystemAgent::new(UserBrowser::new(opened.clone()), inbox.clone());
    let state = "s-42";
    let real = callback(state);
    let waiting = tokio::spawn(async move { agent.authorize(step(state)).await });
    opened.wait_for(1).await;
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
    assert_nothing_waits(&inbox, state);
    assert_eq!(opened.urls().len(), 1);
}

/// Cancel ends the step, "Open the browser again" reopens the same URL, and a link after the
/// step ended finds nothing waiting.
#[tokio::test]
async fn cancel_and_open_again() {
    let opened = Opened::new();
    let inbox = DeepLinkInbox::default();
    let control = BrowserControl::default();
    let browser = UserBrowser::new(opened.clone()).with_control(control.clone());
    let agent = SystemAgent::new(browser, inbox.clone());
    let waiting = tokio::spawn(async move { agent.authorize(step("s-7")).await });
    opened.wait_for(1).await;
    control.open_again();
    opened.wait_for(2).await;
    let urls = opened.urls();
    assert_eq!(urls[0], urls[1]);
    control.cancel();
    assert!(matches!(
        waiting.await.unwrap(),
        Err(UserAgentError::Cancelled)
    ));
    assert_nothing_waits(&inbox, "s-7");
}

/// The step gives up with the sign-in timeout, like loopback.
#[tokio::test]
async fn the_wait_times_out() {
    let opened = Opened::new();
    let inbox = DeepLinkInbox::default();
    let browser = UserBrowser::new(opened).with_timeout(Duration::from_millis(100));
    let agent = SystemAgent::new(browser, inbox.clone());
    let error = agent.authorize(step("s-9")).await.unwrap_err();
    assert!(matches!(error, UserAgentError::Failed(ref text) if text.contains("in time")));
    assert_nothing_waits(&inbox, "s-9");
}
