//! End-to-end: the failure screens a person meets before anything works: a broken config.json
//! and an identity server that does not answer. Each says what to do next.

use std::net::TcpListener;

use dcr_tests::app::launch;
use dcr_tests::desktop::ONE_WINDOW_AT_A_TIME;
use serde_json::json;

fn config_file(name: &str, config: serde_json::Value) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("dcr-e2e-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("cannot create the config folder");
    let path = dir.join("config.json");
    std::fs::write(&path, config.to_string()).expect("cannot write the config");
    path
}

/// A loopback port with nothing listening on it.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

fn curity_keys(issuer: &str) -> serde_json::Value {
    json!({
        "issuer": issuer,
        "registrationClientID": "mobile-dcr-client",
        "redirectUri": "io.curity.dcrclient:/callback",
        "postLogoutRedirectUri": "io.curity.dcrclient:/logoutcallback",
        "scope": "openid profile"
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_config_names_the_key_and_the_fix() {
    let _one = ONE_WINDOW_AT_A_TIME.lock().await;
    let mut config = curity_keys("http://127.0.0.1:8443/oauth/v2/oauth-anonymous");
    config["registrationClientId"] = json!("typo-in-the-key-name");
    let desktop = launch(&config_file("bad-config", config)).await;
    let message = desktop.text_of("#error-message").await;
    desktop.screenshot("11-invalid-config").await;
    assert!(
        message.contains("registrationClientId"),
        "the message names the key: {message}"
    );
    assert!(
        !desktop.has("#register").await,
        "no way forward until the config is fixed"
    );
    desktop.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_http_to_a_remote_issuer_is_refused_at_start() {
    let _one = ONE_WINDOW_AT_A_TIME.lock().await;
    let config = curity_keys("http://login.example.com/oauth/v2/oauth-anonymous");
    let desktop = launch(&config_file("http-remote", config)).await;
    let message = desktop.text_of("#error-message").await;
    assert!(
        message.contains("issuer"),
        "the message names the key: {message}"
    );
    assert!(
        message.contains("https"),
        "the message says the fix: {message}"
    );
    desktop.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_identity_server_offers_retry() {
    let _one = ONE_WINDOW_AT_A_TIME.lock().await;
    let issuer = format!(
        "http://127.0.0.1:{}/oauth/v2/oauth-anonymous",
        closed_port()
    );
    let desktop = launch(&config_file("unreachable", curity_keys(&issuer))).await;
    desktop.click("#register").await;
    let title = desktop.text_of("#error-title").await;
    desktop.screenshot("12-unreachable").await;
    assert!(
        desktop.has("#retry").await,
        "the unreachable screen offers a retry ({title})"
    );
    let state = dcr_tests::app::current_state(&desktop).await;
    assert_eq!(state["state"], "unregistered", "nothing changed");

    // Retrying runs the registration again (and fails the same way, with the same screen).
    desktop.click("#retry").await;
    desktop.find("#retry").await;
    desktop.close().await;
}
