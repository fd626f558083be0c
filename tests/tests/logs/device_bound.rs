//! K5, Z1 for the device-bound modes: the device's private key, its client assertions and DPoP
//! proofs, and every token are in no log line (TRACE, every crate, the real keychain over
//! D-Bus included), no `StateView`, no About report and no error. The private key is written to the keychain
//! entry and nowhere else.

use std::sync::Arc;

use crate::capture::capture_logs;
use dcr_core::device::store::{KeychainStore, RegistrationStore};
use dcr_core::diagnostics::{About, ShellFacts};
use dcr_core::session::{Credential, Event};
use dcr_core::{Config, Session};
use dcr_tests::engine::{self, Form, RecordingTransport};
use dcr_tests::keyring::require_test_keyring;
use dcr_tests::leaks::{assert_no_secret_in, Jwts};
use dcr_tests::{Idp, IdpOptions, ScriptedAgent, ScriptedBrowser};

#[tokio::test]
async fn k5_the_device_key_assertions_and_proofs_never_reach_logs_or_views() {
    require_test_keyring("k5_the_device_key_assertions_and_proofs_never_reach_logs_or_views");
    let buffer = capture_logs().await;

    let idp = Idp::start_with(IdpOptions::device_bound(true)).await;
    let form = Form::Full;
    let key = engine::store_key(&idp, form);
    KeychainStore::new().delete(&key).unwrap();
    let mut config = engine::config_json(&idp, form);
    config["tokenEndpointAuthMethod"] = "private_key_jwt".into();
    config["dpop"] = true.into();
    let config = Config::from_json(&config.to_string()).unwrap();
    let transport = Arc::new(RecordingTransport::new());
    let session = Session::with_transport(
        config.clone(),
        transport.clone(),
        Box::new(KeychainStore::new()),
    );
    let agent = ScriptedAgent::login(Arc::new(ScriptedBrowser::new()));
    let mut shown = Vec::new();

    let view = session.register(&agent).await.unwrap();
    assert_eq!(view.credential, Credential::DeviceKey);
    shown.push(serde_json::to_string(&view).unwrap());
    let stored = KeychainStore::new().load(&key).unwrap().expect("stored");
    // A software key's stored form is its PKCS#8 as a JSON string.
    let private_key: String =
        serde_json::from_str(stored.device_key.as_ref().unwrap().stored_form().expose())
            .expect("a software key's PKCS#8");
    shown.push(format!("{stored:?}"));
    shown.push(serde_json::to_string(&session.sign_in(&agent).await.unwrap()).unwrap());
    let view = session.refresh().await.unwrap();
    shown.push(serde_json::to_string(&view).unwrap());
    // About this device: the view and the report "Copy diagnostics" copies, signed in
    // with the device key and DPoP-bound tokens.
    let about = About::new(ShellFacts::default(), Some(&config), Some(&view), 0);
    assert!(about.report.contains("Device key thumbprint: "));
    shown.push(about.report.clone());
    shown.push(serde_json::to_string(&about).unwrap());
    // A restart restores the key from the real keychain, and keeps working.
    let restarted =
        Session::with_transport(config, transport.clone(), Box::new(KeychainStore::new()));
    let view = restarted.state().await.unwrap();
    assert_eq!(view.last_event, Some(Event::Restored));
    assert_eq!(
        view.device_key_thumbprint,
        Some(stored.device_key.as_ref().unwrap().thumbprint().to_owned())
    );
    shown.push(format!("{view:?}"));
    let error = restarted.refresh().await.unwrap_err();
    shown.push(format!("{error:?} {error}"));
    shown.push(serde_json::to_string(&restarted.sign_in(&agent).await.unwrap()).unwrap());
    shown.push(serde_json::to_string(&restarted.sign_out(&agent).await.unwrap()).unwrap());
    shown.push(serde_json::to_string(&restarted.forget().await.unwrap()).unwrap());

    // What must stay secret: the private key, every assertion, proof and token.
    let mut secrets: Vec<(String, String)> = vec![("private key".into(), private_key)];
    for secret in idp.admin_issued_secrets_by_kind().await {
        secrets.push((secret.kind, secret.value));
    }
    for exchange in transport.exchanges() {
        if let Some(assertion) = exchange.form("client_assertion") {
            secrets.push(("client assertion".into(), assertion));
        }
        if let Some(proof) = exchange.dpop.clone() {
            secrets.push(("DPoP proof".into(), proof));
        }
        if let Some(verifier) = exchange.form("code_verifier") {
            secrets.push(("code_verifier".into(), verifier));
        }
    }
    let kinds = |kind: &str| secrets.iter().filter(|(k, _)| k == kind).count();
    assert!(
        kinds("client assertion") >= 4 && kinds("DPoP proof") >= 4,
        "{}",
        secrets.len()
    );

    let logs = buffer.text();
    assert!(
        logs.contains("DPoP nonce"),
        "the nonce retry happened and was logged"
    );
    assert!(logs.lines().any(|line| line.contains(" TRACE ")));
    assert_no_secret_in("the logs", &logs, &secrets, Jwts::AnyCompactJws);
    assert_no_secret_in(
        "the views and errors",
        &shown.join("\n"),
        &secrets,
        Jwts::AnyCompactJws,
    );
}
