//! "Rotate device key" against the real identity server in its `device-bound` profile
//! (private_key_jwt required, DPoP-bound tokens, a DPoP nonce on every proof): the engine
//! registers the new key with an RFC 7592 update, stores the rotated registration access token,
//! refreshes with the new key, and the server refuses an assertion signed by the old one.

use std::sync::Arc;

use dcr_core::device::key::DeviceKey;
use dcr_core::device::store::MemoryStore;
use dcr_core::session::{Credential, Event, StateName};
use dcr_core::{Config, Session};
use dcr_tests::engine::{config_json, Form, RecordingTransport, Rig};
use dcr_tests::flows::{http, Device};
use dcr_tests::{Idp, IdpOptions, ScriptedAgent, ScriptedBrowser};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A token request authenticated by `key` for `client_id`, with a DPoP proof by the same key and
/// one retry for `use_dpop_nonce` (RFC 9449 §8). The grant is a refresh token the server never
/// issued: client authentication comes first, so `invalid_client` means the assertion was
/// refused and `invalid_grant` means it was accepted.
async fn token_request_signed_by(
    idp: &Idp,
    key: &DeviceKey,
    client_id: &str,
) -> (StatusCode, Value) {
    Device::new(idp, key, client_id)
        .refresh("never-issued-refresh-token")
        .await
}

/// The `kid` in the header of the client assertion a token request carried.
fn assertion_kid(exchange: &dcr_tests::engine::Exchange) -> String {
    use base64::Engine as _;
    let assertion = exchange
        .form("client_assertion")
        .expect("a client assertion");
    let header = assertion.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn kr4_rotation_registers_the_new_key_and_the_server_refuses_the_old_one() {
    let options = IdpOptions::device_bound(true);
    let extra = json!({ "tokenEndpointAuthMethod": "private_key_jwt", "dpop": true });
    let rig = Rig::start_configured(options, Form::Full, RecordingTransport::new(), extra).await;
    let (idp, transport, session) = (&rig.idp, &rig.transport, &rig.session);
    let agent = rig.agent();
    let stored = || rig.stored().expect("a stored registration");

    let view = session.register_and_sign_in(&agent).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    assert_eq!(view.credential, Credential::DeviceKey);
    assert!(view.tokens_bound);
    let before = stored();
    let client_id = before.registration.client_id.clone();
    let old_key = before.device_key.clone().expect("the device key is stored");
    let old_token = before
        .registration
        .registration_access_token
        .clone()
        .expect("a registration access token");
    assert_eq!(
        view.device_key_thumbprint.as_deref(),
        Some(old_key.thumbprint())
    );

    // Rotate: one RFC 7592 PUT with the new public key, authorized by the registration token.
    let view = session.rotate_device_key().await.unwrap();
    assert_eq!(view.last_event, Some(Event::KeyRotated));
    assert_eq!(view.state, StateName::SignedIn, "still signed in");
    let after = stored();
    let new_key = after.device_key.clone().expect("the new key is stored");
    assert_ne!(new_key.thumbprint(), old_key.thumbprint());
    assert_eq!(
        view.device_key_thumbprint.as_deref(),
        Some(new_key.thumbprint())
    );
    assert_eq!(after.registration.client_id, client_id, "the same client");
    let puts = transport.with_method("PUT");
    assert_eq!(puts.len(), 1, "{puts:?}");
    assert_eq!(puts[0].status, Some(200));
    assert_eq!(
        puts[0].authorization.as_deref(),
        Some(format!("Bearer {}", old_token.expose()).as_str())
    );
    let sent: Value = serde_json::from_str(puts[0].request_body.as_deref().unwrap()).unwrap();
    assert_eq!(sent["client_id"], client_id.as_str());
    assert_eq!(sent["jwks"], new_key.public_jwks());
    for forbidden in [
        "registration_access_token",
        "registration_client_uri",
        "client_secret_expires_at",
        "client_id_issued_at",
    ] {
        assert!(sent.get(forbidden).is_none(), "{forbidden} was sent");
    }

    // oidc-provider rotates the registration access token on every update: the new one is
    // stored, and the old one no longer reads the client.
    let new_token = after
        .registration
        .registration_access_token
        .clone()
        .expect("a registration access token");
    assert_ne!(
        new_token.expose(),
        old_token.expose(),
        "the rotated token is stored"
    );
    let uri = after.registration.registration_client_uri.clone().unwrap();
    let old_read = http()
        .get(uri.clone())
        .bearer_auth(old_token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(old_read.status(), StatusCode::UNAUTHORIZED);
    let new_read = http()
        .get(uri)
        .bearer_auth(new_token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(new_read.status(), StatusCode::OK);

    // Refresh works, signed by the new key.
    let view = session.refresh().await.unwrap();
    assert_eq!(view.last_event, Some(Event::Refreshed));
    assert!(view.tokens_bound);
    let refresh = transport.grants("refresh_token").pop().unwrap();
    assert_eq!(refresh.status, Some(200));
    assert_eq!(assertion_kid(&refresh), new_key.thumbprint());

    // The point: the old key no longer authenticates this client; the new one does.
    let (status, body) = token_request_signed_by(idp, &old_key, &client_id).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], "invalid_client");
    let (status, body) = token_request_signed_by(idp, &new_key, &client_id).await;
    assert_eq!(body["error"], "invalid_grant", "{status} {body}");

    // Sign out and in again (SSO): the RFC 7592 read before the sign-in uses the new token.
    session.sign_out(&agent).await.unwrap();
    let view = session.sign_in(&agent).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    assert_eq!(idp.admin_list_clients().await.len(), 1, "still one client");
}

#[tokio::test]
async fn kr5_a_client_secret_registration_has_no_key_to_rotate() {
    let idp = Idp::start().await;
    let config = Config::from_json(&config_json(&idp, Form::Full).to_string()).unwrap();
    let transport = Arc::new(RecordingTransport::new());
    let session = Session::with_transport(config, transport.clone(), Box::new(MemoryStore::new()));
    let agent = ScriptedAgent::login(Arc::new(ScriptedBrowser::new()));
    session.register_and_sign_in(&agent).await.unwrap();
    let error = session.rotate_device_key().await.unwrap_err();
    assert_eq!(error.kind(), "rotationUnavailable");
    assert!(transport.with_method("PUT").is_empty(), "nothing was sent");
    let view = session.state().await.unwrap();
    assert_eq!(view.credential, Credential::ClientSecret);
    assert_eq!(view.state, StateName::SignedIn);
}

/// `DCR_CONFIG=config.device-bound.json IDP_PROFILE=device-bound make run` from
/// `docs/device-bound.md`: the sample is valid, asks for both modes, and is `config.json`
/// otherwise.
#[test]
fn the_sample_device_bound_config_is_config_json_with_both_modes() {
    use dcr_core::config::TokenEndpointAuthMethod;
    let root = dcr_tests::repo_root();
    let plain = Config::load(root.join("config.json")).unwrap();
    let bound = Config::load(root.join("config.device-bound.json")).unwrap();
    assert_eq!(
        bound.token_endpoint_auth_method,
        TokenEndpointAuthMethod::PrivateKeyJwt
    );
    assert!(bound.dpop);
    assert_eq!(bound.issuer, plain.issuer);
    assert_eq!(bound.redirect_uri, plain.redirect_uri);
    assert_eq!(bound.registration_client_id, plain.registration_client_id);
    assert_eq!(bound.scope, plain.scope);
}
