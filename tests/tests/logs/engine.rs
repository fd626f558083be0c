//! Z1/Z2: no secret ever reaches a log line, a `StateView` or an error message. The whole
//! lifecycle (revocation found at refresh and at sign-in included) runs against the real
//! identity server and the real keychain with every log event of every crate (the engine, hyper,
//! zbus, …) captured at TRACE, as a user running the app with `RUST_LOG=trace` would get. Then every secret value the server actually issued
//! (`GET /admin/issued-secrets`), every PKCE verifier and every client-authentication header
//! the engine actually sent is searched for, whole and in 16-character pieces.

use std::collections::HashSet;
use std::sync::Arc;

use crate::capture::capture_logs;
use dcr_core::device::store::{KeychainStore, RegistrationStore};
use dcr_core::diagnostics::{About, ShellFacts};
use dcr_core::session::{Event, StateName};
use dcr_core::{Error, StateView};
use dcr_tests::engine::{self, Form, RecordingTransport, SECRET_KINDS};
use dcr_tests::keyring::require_test_keyring;
use dcr_tests::leaks::{assert_no_secret_in, Jwts, PIECE};
use dcr_tests::{Idp, ScriptedAgent, ScriptedBrowser};

/// What the app shows or hands to a UI.
#[derive(Default)]
struct Shown(Vec<String>);

impl Shown {
    fn view(&mut self, view: &StateView) -> StateView {
        self.0.push(serde_json::to_string(view).unwrap());
        self.0.push(format!("{view:?}"));
        view.clone()
    }

    fn error(&mut self, error: Error) -> Error {
        self.0.push(error.to_string());
        self.0.push(error.message());
        self.0.push(format!("{error:?}"));
        self.0.push(serde_json::to_string(&error).unwrap());
        error
    }
}

#[tokio::test]
async fn no_secret_appears_in_trace_logs_views_or_errors() {
    require_test_keyring("no_secret_appears_in_trace_logs_views_or_errors");
    let logs = capture_logs().await;
    let idp = Idp::start().await;
    let form = Form::Full;
    let key = engine::store_key(&idp, form);
    KeychainStore::new().delete(&key).unwrap();
    let browser = Arc::new(ScriptedBrowser::new());
    let agent = ScriptedAgent::login(browser.clone());
    let closing = ScriptedAgent::closing_the_window(browser.clone());
    let transport = Arc::new(RecordingTransport::new());
    let session = engine::session(
        &idp,
        form,
        transport.clone(),
        Box::new(KeychainStore::new()),
    );
    let mut shown = Shown::default();

    // The lifecycle, with every view and error kept.
    shown.view(&session.state().await.unwrap());
    shown.view(&session.register(&agent).await.unwrap());
    shown.view(&session.register(&agent).await.unwrap()); // already registered
    let view = shown.view(&session.sign_in(&agent).await.unwrap());
    // About this device: the view and the report "Copy diagnostics" copies.
    let about = About::new(
        ShellFacts::default(),
        Some(session.config()),
        Some(&view),
        0,
    );
    shown.0.push(about.report.clone());
    shown.0.push(serde_json::to_string(&about).unwrap());
    let client_id = view.registration.unwrap().client_id;
    shown.view(&session.refresh().await.unwrap());
    shown.view(&session.refresh().await.unwrap());
    shown.view(&session.sign_out(&agent).await.unwrap());
    let error = shown.error(
        session
            .sign_in(&ScriptedAgent::sso_only(browser.clone()))
            .await
            .unwrap_err(),
    );
    assert_eq!(error.kind(), "userAgent");
    shown.view(&session.sign_in(&agent).await.unwrap());
    assert_eq!(
        shown
            .error(session.sign_in(&closing).await.unwrap_err())
            .kind(),
        "cancelled"
    );
    // A restart restores from the keychain.
    let restarted = engine::session(
        &idp,
        form,
        transport.clone(),
        Box::new(KeychainStore::new()),
    );
    let view = shown.view(&restarted.state().await.unwrap());
    assert_eq!(view.last_event, Some(Event::Restored));
    assert_eq!(
        shown.error(restarted.refresh().await.unwrap_err()).kind(),
        "notSignedIn"
    );
    shown.view(&restarted.sign_in(&agent).await.unwrap());
    // Revocation, then a fresh registration and forget.
    assert!(idp.admin_delete_client(&client_id).await);
    assert_eq!(
        shown.error(restarted.refresh().await.unwrap_err()).kind(),
        "invalidClient"
    );
    shown.view(&restarted.state().await.unwrap());
    let view = shown.view(&restarted.register_and_sign_in(&agent).await.unwrap());
    assert_eq!(view.state, StateName::SignedIn);
    shown.view(&restarted.refresh().await.unwrap());
    shown.view(&restarted.sign_out(&agent).await.unwrap());
    // Deleted again, and found at sign-in this time (the RFC 7592 read, with its token).
    let second_client = view.registration.unwrap().client_id;
    assert!(idp.admin_delete_client(&second_client).await);
    assert_eq!(
        shown
            .error(restarted.sign_in(&agent).await.unwrap_err())
            .kind(),
        "invalidClient"
    );
    shown.view(&restarted.register(&agent).await.unwrap());
    shown.view(&restarted.forget().await.unwrap());
    assert!(KeychainStore::new().load(&key).unwrap().is_none());

    // The ground truth: what the server issued, checked against what the engine saw.
    let issued = idp.admin_issued_secrets_by_kind().await;
    let kinds: HashSet<&str> = issued.iter().map(|s| s.kind.as_str()).collect();
    for kind in SECRET_KINDS {
        assert!(
            kinds.contains(kind),
            "the server reported no {kind}: {issued:?}"
        );
    }
    let values: HashSet<&str> = issued.iter().map(|s| s.value.as_str()).collect();
    let codes: Vec<String> = agent
        .returned()
        .iter()
        .filter_map(|url| {
            url.query_pairs()
                .find(|(k, _)| k == "code")
                .map(|(_, v)| v.into_owned())
        })
        .collect();
    assert!(codes.len() >= 5, "{}", codes.len());
    assert!(
        codes.iter().all(|code| values.contains(code.as_str())),
        "every code the agent saw was recorded"
    );
    for exchange in transport.to("/token") {
        let tokens = exchange.response_json().unwrap();
        for field in ["access_token", "refresh_token", "id_token"] {
            if let Some(value) = tokens[field].as_str() {
                assert!(values.contains(value), "the server recorded every {field}");
            }
        }
    }

    // Plus what only the engine knows: PKCE verifiers and client-authentication headers.
    let mut secrets: Vec<(String, String)> = issued
        .iter()
        .map(|s| (s.kind.clone(), s.value.clone()))
        .collect();
    for exchange in transport.exchanges() {
        if let Some(verifier) = exchange.form("code_verifier") {
            secrets.push(("code_verifier".into(), verifier));
        }
        if let Some(header) = exchange.authorization {
            let credentials = header.split_once(' ').map_or(header.as_str(), |(_, c)| c);
            secrets.push(("authorization header".into(), credentials.to_owned()));
        }
    }
    assert!(
        secrets
            .iter()
            .filter(|(kind, _)| kind == "code_verifier")
            .count()
            >= 5
    );

    // The capture worked: the engine's own events, and TRACE events of other crates, are in.
    let logs = logs.text();
    assert!(
        logs.contains("registered") && logs.contains("tokens refreshed"),
        "{logs:.2000}"
    );
    assert!(
        logs.contains(&client_id),
        "client IDs are not secret and are logged"
    );
    assert!(
        logs.lines().any(|line| line.contains(" TRACE ")),
        "TRACE events were captured"
    );
    println!(
        "captured {} log lines ({} bytes), {} views and errors, {} secrets",
        logs.lines().count(),
        logs.len(),
        shown.0.len(),
        secrets.len()
    );

    // The detector itself finds a whole secret and a piece of one.
    let (kind, sample) = &secrets[0];
    for planted in [sample.clone(), format!("x={}…", &sample[2..2 + PIECE])] {
        let found = std::panic::catch_unwind(|| {
            assert_no_secret_in("a planted line", &planted, &secrets, Jwts::IdTokens)
        });
        assert!(found.is_err(), "a planted {kind} was not found");
    }

    assert_no_secret_in("the logs", &logs, &secrets, Jwts::IdTokens);
    assert_no_secret_in(
        "the views and errors",
        &shown.0.join("\n"),
        &secrets,
        Jwts::IdTokens,
    );
}
