//! Loopback mode (`userAgent: "loopback"`, RFC 8252 §7.3) end to end against the bundled
//! identity server: the engine's real [`LoopbackAgent`] binds a listener per browser step, and
//! a test browser ([`LoopbackBrowser`]) signs in and delivers the callback with an HTTP GET,
//! after a forged (wrong-state) GET that must get a 400 and change nothing.

use std::sync::{Arc, Mutex, PoisonError};

use dcr_core::agents::loopback::LoopbackAgent;
use dcr_core::agents::{BrowserControl, BrowserOpener, UserBrowser};
use dcr_core::device::store::MemoryStore;
use dcr_core::session::{Event, StateName};
use dcr_core::{Config, Progress, ProgressSink, Session};
use dcr_tests::engine::{config_json, query, Form, RecordingTransport, REGISTRATION_CLIENT};
use dcr_tests::loopback::{listening_sockets, Delivery, LoopbackBrowser};
use dcr_tests::{Idp, ScriptedBrowser};
use serde_json::{json, Value};
use url::Url;

const LOOPBACK_REDIRECT: &str = "http://127.0.0.1/callback";
const LOOPBACK_POST_LOGOUT: &str = "http://127.0.0.1/logoutcallback";

#[derive(Default)]
struct Steps(Mutex<Vec<Progress>>);

impl ProgressSink for Steps {
    fn report(&self, step: Progress) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(step);
    }
}

impl Steps {
    fn take(&self) -> Vec<Progress> {
        let mut steps = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        steps.dedup();
        steps
    }
}

struct LoopbackRig {
    idp: Idp,
    transport: Arc<RecordingTransport>,
    session: Session,
    steps: Arc<Steps>,
    browser: Arc<LoopbackBrowser>,
    agent: LoopbackAgent,
}

struct Opener(Arc<LoopbackBrowser>);

impl BrowserOpener for Opener {
    fn open(&self, url: &Url) -> Result<(), String> {
        self.0.open(url)
    }
}

async fn rig(form: Form) -> LoopbackRig {
    let idp = Idp::start().await;
    let mut config = config_json(&idp, form);
    config["userAgent"] = "loopback".into();
    let config = Config::from_json(&config.to_string()).expect("valid config");
    assert!(config.loopback_mode());
    let transport = Arc::new(RecordingTransport::new());
    let steps = Arc::new(Steps::default());
    let session = Session::with_transport(config, transport.clone(), Box::new(MemoryStore::new()))
        .with_progress(steps.clone());
    let browser = Arc::new(LoopbackBrowser::new(Arc::new(ScriptedBrowser::new())));
    let agent = LoopbackAgent::new(UserBrowser::new(Arc::new(Opener(browser.clone()))));
    LoopbackRig {
        idp,
        transport,
        session,
        steps,
        browser,
        agent,
    }
}

/// The redirect a step's request named (`redirect_uri` or `post_logout_redirect_uri`).
fn step_redirect(delivery: &Delivery) -> Url {
    let name = if delivery.opened.path().contains("session/end") {
        "post_logout_redirect_uri"
    } else {
        "redirect_uri"
    };
    Url::parse(&query(&delivery.opened, name).expect("the request names its redirect"))
        .expect("a URL")
}

/// Every step: a fresh listener on 127.0.0.1 only, the forged request refused with 400, the
/// real one answered with the fixed page, and the port closed afterwards.
fn check_step(delivery: &Delivery, path: &str) -> u16 {
    assert_eq!(delivery.error, None, "{delivery:?}");
    let redirect = step_redirect(delivery);
    assert_eq!(redirect.scheme(), "http");
    assert_eq!(redirect.host_str(), Some("127.0.0.1"));
    assert_eq!(redirect.path(), path);
    let port = redirect.port().expect("a loopback redirect names its port");
    assert_eq!(
        delivery.loopback_only,
        Some(true),
        "bound to 127.0.0.1 only"
    );
    let callback = delivery.callback.as_ref().expect("the server redirected");
    assert_eq!(
        callback.port(),
        Some(port),
        "the server kept the step's port"
    );
    assert_eq!(
        delivery.forged_status,
        Some(400),
        "wrong state: 400, keep waiting"
    );
    assert_eq!(delivery.status, Some(200));
    let page = delivery.page.as_deref().unwrap_or_default();
    assert!(page.contains("You can close this tab"), "{page}");
    assert!(!page.contains("<script"), "{page}");
    assert!(
        listening_sockets(port).is_empty(),
        "the listener is gone after the step"
    );
    port
}

/// First run, later sign-in, refresh and sign-out in loopback mode.
#[tokio::test]
async fn loopback_mode_lifecycle() {
    let r = rig(Form::Full).await;

    // First run: registration login, RFC 7591 with the loopback redirect, SSO sign-in.
    let view = r.session.register_and_sign_in(&r.agent).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    assert_eq!(
        r.steps.take(),
        [
            Progress::WaitingForSignIn,
            Progress::Registering,
            Progress::SigningIn
        ]
    );
    let first = r.browser.wait_for(2).await;
    assert_eq!(
        query(&first[0].opened, "client_id").as_deref(),
        Some(REGISTRATION_CLIENT)
    );
    let login_port = check_step(&first[0], "/callback");
    let sign_in_port = check_step(&first[1], "/callback");
    assert_ne!(login_port, sign_in_port, "one listener per step");
    assert_eq!(r.browser.browser.password_posts(), 1, "SSO: one password");

    // The registration asked for the port-less loopback URIs as a native client, and the
    // server registered exactly those.
    let registrations = r.transport.to("/reg");
    assert_eq!(registrations.len(), 1);
    let sent: Value =
        serde_json::from_str(registrations[0].request_body.as_deref().unwrap()).unwrap();
    assert_eq!(sent["redirect_uris"], json!([LOOPBACK_REDIRECT]));
    assert_eq!(
        sent["post_logout_redirect_uris"],
        json!([LOOPBACK_POST_LOGOUT])
    );
    assert_eq!(sent["application_type"], "native");
    let echoed = registrations[0].response_json().unwrap();
    assert_eq!(echoed["redirect_uris"], json!([LOOPBACK_REDIRECT]));
    let clients = r.idp.admin_list_clients().await;
    assert_eq!(clients[0].redirect_uris, [LOOPBACK_REDIRECT]);

    // The code exchange sent the step's own redirect, port included (RFC 6749 §4.1.3).
    let exchanges = r.transport.grants("authorization_code");
    assert_eq!(exchanges.len(), 2);
    assert_eq!(
        exchanges[1].form("redirect_uri").as_deref(),
        Some(step_redirect(&first[1]).as_str())
    );

    // Refresh: no browser.
    let view = r.session.refresh().await.unwrap();
    assert_eq!(view.last_event, Some(Event::Refreshed));
    assert_eq!(r.steps.take(), [Progress::Refreshing]);

    // Sign-out: the end-session redirect comes back to a loopback listener too, and confirms.
    let view = r.session.sign_out(&r.agent).await.unwrap();
    assert_eq!(view.state, StateName::Registered);
    assert_eq!(view.last_event, Some(Event::SignedOut));
    assert_eq!(r.steps.take(), [Progress::SigningOut]);
    let all = r.browser.wait_for(3).await;
    check_step(&all[2], "/logoutcallback");

    // A later sign-in: the server session is gone, so the password is asked again.
    let view = r.session.sign_in(&r.agent).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    assert_eq!(view.last_event, Some(Event::SignedIn));
    assert_eq!(r.steps.take(), [Progress::SigningIn]);
    let all = r.browser.wait_for(4).await;
    check_step(&all[3], "/callback");
    assert_eq!(r.browser.browser.password_posts(), 2);

    // Forget: RFC 7592 delete, no browser.
    let view = r.session.forget().await.unwrap();
    assert_eq!(view.state, StateName::Unregistered);
    assert_eq!(r.steps.take(), [Progress::Forgetting]);
    assert_eq!(r.browser.deliveries().len(), 4);
}

/// Templatized DCR in loopback mode: the template must list the loopback redirect, and the
/// registration response check (the redirect must be listed) passes with the port-less URI.
#[tokio::test]
async fn loopback_mode_templatized_registration() {
    let r = rig(Form::Templatized).await;
    let view = r.session.register_and_sign_in(&r.agent).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    let clients = r.idp.admin_list_clients().await;
    assert!(
        clients[0]
            .redirect_uris
            .contains(&LOOPBACK_REDIRECT.to_owned()),
        "{:?}",
        clients[0].redirect_uris
    );
}

/// Cancel while the browser has not come back: the step ends with `cancelled`, nothing
/// changes, and the listener is closed.
#[tokio::test]
async fn loopback_cancel_closes_the_listener_and_changes_nothing() {
    struct Nowhere(Mutex<Vec<Url>>, BrowserControl);
    impl BrowserOpener for Nowhere {
        fn open(&self, url: &Url) -> Result<(), String> {
            let mut opened = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            opened.push(url.clone());
            // The user clicks "Open the browser again" once, then Cancel.
            if opened.len() == 1 {
                self.1.open_again();
            } else {
                self.1.cancel();
            }
            Ok(())
        }
    }
    let r = rig(Form::Full).await;
    let control = BrowserControl::default();
    let nowhere = Arc::new(Nowhere(Mutex::new(Vec::new()), control.clone()));
    let agent = LoopbackAgent::new(UserBrowser::new(nowhere.clone()).with_control(control));
    let error = r.session.register(&agent).await.expect_err("cancelled");
    assert_eq!(error.kind(), dcr_core::error::ErrorKind::Cancelled);
    let opened = nowhere.0.lock().unwrap().clone();
    assert_eq!(opened.len(), 2, "opened, then opened again");
    assert_eq!(opened[0], opened[1], "the same request both times");
    let redirect = Url::parse(&query(&opened[0], "redirect_uri").unwrap()).unwrap();
    assert!(listening_sockets(redirect.port().unwrap()).is_empty());
    let view = r.session.state().await.unwrap();
    assert_eq!(view.state, StateName::Unregistered);
}
