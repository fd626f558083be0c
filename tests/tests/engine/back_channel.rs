//! How many back-channel requests the first run makes, counted on the identity
//! server's side (`IDP_REQUEST_LOG`, `GET /admin/requests`), not by the engine's own account.
//! At most six: discovery, the DCR token exchange, the RFC 7591 registration, the per-install
//! client's code exchange, the key set and UserInfo. No RFC 7592 read right after the fresh
//! registration, and no second discovery or key-set fetch within the session. A correctness
//! test: it counts requests and never times anything (the timings are in `docs/benchmarks.md`).

use dcr_core::session::StateName;
use dcr_tests::engine::{Form, RecordingTransport, Rig};
use dcr_tests::{IdpOptions, LoggedRequest};

fn back_channel(log: &[LoggedRequest]) -> Vec<String> {
    log.iter()
        .filter(|r| r.back_channel)
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[tokio::test]
async fn first_run_makes_six_back_channel_requests_and_no_read_after_registering() {
    let options = IdpOptions {
        request_log: true,
        ..IdpOptions::default()
    };
    let r = Rig::start_with(options, Form::Full, RecordingTransport::new()).await;
    let agent = r.agent();
    r.idp.admin_clear_requests().await;

    let view = r.session.register_and_sign_in(&agent).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    let log = r.idp.admin_requests().await;
    let requests = back_channel(&log);
    assert_eq!(
        requests,
        [
            "GET /.well-known/openid-configuration",
            "POST /token",
            "POST /reg",
            "POST /token",
            "GET /jwks",
            "GET /me",
        ],
        "first run's back channel, in order (the whole log: {log:?})"
    );
    // The browser's requests are there too, so the log did see the whole first run.
    assert!(log.iter().any(|r| !r.back_channel && r.path == "/auth"));

    // Within the same session a refresh is one request: no second discovery or key set.
    r.idp.admin_clear_requests().await;
    r.session.refresh().await.unwrap();
    assert_eq!(back_channel(&r.idp.admin_requests().await), ["POST /token"]);
}
