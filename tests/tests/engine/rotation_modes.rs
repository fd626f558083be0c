//! The whole lifecycle against an identity server that rotates the registration access token on
//! every RFC 7592 call (`IDP_ROTATE_REGISTRATION_TOKEN=1`, as Keycloak does; RFC 7592 §3 allows a
//! new token in any answer, and the client must then drop the old one), in each browser mode:
//! `embedded` (the scripted login window), `system` (the engine's deep-link agent, the test
//! playing the browser and the OS), `loopback` (the engine's listener, the test playing the
//! browser). Register and sign in; after a restart sign in again, which reads the client first
//! (RFC 7592 §2.1) and gets a new token; refresh; after a second restart sign in again, whose read
//! only works with the token the first read stored; refresh; forget. Then the client is gone from
//! the server and no keychain entry is left for it.
//!
//! Over the real keychain: run through `scripts/test.sh --test engine_rotation_modes`.

use std::sync::Arc;
use std::time::Duration;

use dcr_core::agents::deep_link::{DeepLinkInbox, SystemAgent};
use dcr_core::agents::loopback::LoopbackAgent;
use dcr_core::agents::UserBrowser;
use dcr_core::config::UserAgentKind;
use dcr_core::device::store::KeychainStore;
use dcr_core::session::{Event, StateName};
use dcr_core::{Config, Session, UserAgent};
use dcr_tests::engine::{client_id, config_json, Exchange, Form, RecordingTransport};
use dcr_tests::keyring::{clear_entries_for_issuer, entries_for_issuer, require_test_keyring};
use dcr_tests::loopback::LoopbackBrowser;
use dcr_tests::system::{DeepLinkBrowser, Delivery};
use dcr_tests::{Idp, IdpOptions, ScriptedAgent, ScriptedBrowser};

/// Long enough for any browser step here; short enough that a step whose browser failed ends
/// the test instead of waiting the agents' ten minutes.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// The user's browser and the engine's user agent for one mode. One browser (one cookie jar, so
/// one SSO session at the server) for the whole test: the user's browser outlives the app.
struct Browsing {
    agent: Box<dyn UserAgent>,
    browser: Arc<ScriptedBrowser>,
    /// System mode: what became of each deep link.
    deep_links: Option<Arc<DeepLinkBrowser>>,
}

impl Browsing {
    fn new(mode: UserAgentKind) -> Browsing {
        let browser = Arc::new(ScriptedBrowser::new());
        let (agent, deep_links): (Box<dyn UserAgent>, _) = match mode {
            UserAgentKind::Embedded => (Box::new(ScriptedAgent::login(browser.clone())), None),
            UserAgentKind::System => {
                let inbox = DeepLinkInbox::default();
                let links = Arc::new(DeepLinkBrowser::new(browser.clone(), inbox.clone()));
                let browser = UserBrowser::new(links.clone()).with_timeout(STEP_TIMEOUT);
                let agent = SystemAgent::new(browser, inbox);
                (Box::new(agent), Some(links))
            }
            UserAgentKind::Loopback => {
                let opener = Arc::new(LoopbackBrowser::new(browser.clone()));
                let agent = LoopbackAgent::new(UserBrowser::new(opener).with_timeout(STEP_TIMEOUT));
                (Box::new(agent), None)
            }
        };
        Browsing {
            agent,
            browser,
            deep_links,
        }
    }
}

/// The tutorial's config in `mode`.
fn config(idp: &Idp, mode: UserAgentKind) -> Config {
    let mut json = config_json(idp, Form::Full);
    json["userAgent"] = mode.as_str().into();
    let config = Config::from_json(&json.to_string()).expect("the test config is valid");
    assert_eq!(config.active_user_agent(), mode);
    config
}

/// The bearer token an exchange authorized itself with (never printed: it is a secret).
fn bearer(exchange: &Exchange) -> Option<&str> {
    exchange.authorization.as_deref()?.strip_prefix("Bearer ")
}

/// Every RFC 7592 request carried the registration access token of the answer before it (the
/// 201, then each rotation), and the server accepted each. Returns how many reads there were.
fn assert_token_chain(mode: UserAgentKind, transport: &RecordingTransport) -> usize {
    let calls: Vec<Exchange> = transport
        .exchanges()
        .into_iter()
        .filter(|exchange| exchange.path.contains("/reg"))
        .collect();
    let (created, management) = calls.split_first().expect("a registration");
    assert_eq!(
        (created.method, created.status),
        ("POST", Some(201)),
        "{mode:?}: {calls:?}"
    );
    let token = |exchange: &Exchange| {
        exchange.response_json().and_then(|body| {
            body["registration_access_token"]
                .as_str()
                .map(str::to_owned)
        })
    };
    let mut current = token(created).expect("the 201 carries a registration access token");
    for (n, call) in management.iter().enumerate() {
        assert!(
            bearer(call) == Some(current.as_str()),
            "{mode:?}: RFC 7592 call {} ({call:?}) did not use the latest registration access \
             token; all calls: {calls:?}",
            n + 1
        );
        assert!(
            matches!(call.status, Some(200 | 204)),
            "{mode:?}: RFC 7592 call {} refused: {calls:?}",
            n + 1
        );
        match token(call) {
            // The server of this test rotates on every read: a read that kept the token would
            // not test adopting a new one.
            Some(rotated) => {
                assert!(
                    rotated != current,
                    "{mode:?}: call {} kept the token",
                    n + 1
                );
                current = rotated;
            }
            None => assert_eq!(call.method, "DELETE", "{mode:?}: {call:?} carries no token"),
        }
    }
    management
        .iter()
        .filter(|call| call.method == "GET")
        .count()
}

/// `what` failed: say which mode, which step, and the error's kind (never a secret).
/// The value of a step that must succeed in `mode`; a failure names the mode, the step and the
/// error's kind.
fn ok<T>(mode: UserAgentKind, what: &str, result: Result<T, dcr_core::Error>) -> T {
    result.unwrap_or_else(|error| panic!("{mode:?}: {what} failed: {} ({error})", error.kind()))
}

async fn lifecycle(mode: UserAgentKind) {
    let idp = Idp::start_with(IdpOptions {
        rotate_registration_token: true,
        ..IdpOptions::default()
    })
    .await;
    let issuer = idp.issuer.as_str();
    clear_entries_for_issuer(issuer);
    let browsing = Browsing::new(mode);
    let agent = browsing.agent.as_ref();
    let transport = Arc::new(RecordingTransport::new());
    let config = config(&idp, mode);
    // A new session over a new keychain connection is an app restart: only the keychain entry
    // survives it.
    let restart = || {
        Session::with_transport(
            config.clone(),
            transport.clone(),
            Box::new(KeychainStore::new()),
        )
    };

    // First run: no RFC 7592 read (the 201 just said the client exists).
    let first = restart();
    let view = ok(mode, "first run", first.register_and_sign_in(agent).await);
    assert_eq!(view.state, StateName::SignedIn, "{mode:?}");
    let client = client_id(&view);
    assert_eq!(
        entries_for_issuer(issuer),
        1,
        "{mode:?}: one keychain entry"
    );
    drop(first);

    // Two restarts, each signing in (the RFC 7592 read first) and refreshing. The second read
    // authorizes itself with the token the first one got back and stored.
    let mut session = None;
    for run in 1..=2 {
        let restarted = restart();
        let view = ok(mode, "restoring", restarted.state().await);
        assert_eq!(
            (view.state, view.last_event),
            (StateName::Registered, Some(Event::Restored)),
            "{mode:?}: restart {run}"
        );
        let view = ok(
            mode,
            &format!("sign-in after restart {run}"),
            restarted.sign_in(agent).await,
        );
        assert_eq!(view.state, StateName::SignedIn, "{mode:?}: restart {run}");
        assert_eq!(client_id(&view), client, "{mode:?}: the same client");
        let view = ok(
            mode,
            &format!("refresh after restart {run}"),
            restarted.refresh().await,
        );
        assert_eq!(view.last_event, Some(Event::Refreshed), "{mode:?}");
        session = Some(restarted);
    }
    assert_eq!(
        browsing.browser.password_posts(),
        1,
        "{mode:?}: one password, then SSO"
    );

    // Forget: RFC 7592 delete with the latest token, then the keychain entry.
    let session = session.expect("two restarts ran");
    let view = ok(mode, "forget", session.forget().await);
    assert_eq!(
        (view.state, view.last_event),
        (StateName::Unregistered, Some(Event::Forgotten)),
        "{mode:?}: the server confirmed the delete"
    );
    assert!(
        idp.admin_list_clients().await.is_empty(),
        "{mode:?}: the client is gone from the server"
    );
    assert_eq!(entries_for_issuer(issuer), 0, "{mode:?}: no keychain entry");
    let view = ok(mode, "the last restart", restart().state().await);
    assert_eq!(view.state, StateName::Unregistered, "{mode:?}");

    let reads = assert_token_chain(mode, &transport);
    assert!(
        reads >= 2,
        "{mode:?}: a read before each later sign-in, {reads} seen"
    );
    if let Some(links) = &browsing.deep_links {
        let deliveries = links.deliveries();
        assert!(
            deliveries.iter().all(|d| *d == Delivery::Routed(Ok(()))),
            "{mode:?}: every deep link ended its step: {deliveries:?}"
        );
    }
}

#[tokio::test]
async fn rotating_server_lifecycle_embedded() {
    require_test_keyring("rotating_server_lifecycle_embedded");
    lifecycle(UserAgentKind::Embedded).await;
}

#[tokio::test]
async fn rotating_server_lifecycle_system() {
    require_test_keyring("rotating_server_lifecycle_system");
    lifecycle(UserAgentKind::System).await;
}

#[tokio::test]
async fn rotating_server_lifecycle_loopback() {
    require_test_keyring("rotating_server_lifecycle_loopback");
    lifecycle(UserAgentKind::Loopback).await;
}
