//! The identity server's `device-bound` profile against the engine's device key: the
//! client assertions (RFC 7523) and DPoP proofs (RFC 9449) that `dcr_core::device::key` makes are
//! accepted by a real oidc-provider, tokens come back bound to the device's key, and a copy of
//! the registration without the private key gets nowhere.
//!
//! This drives the protocol by hand; the engine's own flow in this mode builds on it.

use dcr_core::device::key::DeviceKey;
use dcr_tests::flows::{
    authorize, dcr_token_response, http, registration_body, try_register, AuthorizeRequest, Device,
    REDIRECT_URI,
};
use dcr_tests::{Idp, IdpOptions, ScriptedBrowser};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The seed's registration request with the device's public key instead of a shared secret
/// (RFC 7591 §2: `jwks`; RFC 7523 client assertions).
fn device_registration_body(key: &DeviceKey) -> Value {
    registration_body(json!({
        "token_endpoint_auth_method": "private_key_jwt",
        "token_endpoint_auth_signing_alg": "ES256",
        "jwks": key.public_jwks(),
    }))
}

async fn register(idp: &Idp, dcr_token: &str, body: &Value) -> (StatusCode, Value) {
    try_register(&http(), idp, Some(dcr_token), body).await
}

#[tokio::test]
async fn a_device_key_registers_signs_in_and_refreshes_with_dpop_bound_tokens() {
    for dpop_nonce in [false, true] {
        let idp = Idp::start_with(IdpOptions::device_bound(dpop_nonce)).await;
        let browser = ScriptedBrowser::new();
        let dcr = dcr_token_response(&idp, &browser).await["access_token"]
            .as_str()
            .expect("a DCR token")
            .to_owned();

        // This profile refuses a shared secret.
        let mut with_secret = device_registration_body(&DeviceKey::generate().unwrap());
        with_secret["token_endpoint_auth_method"] = json!("client_secret_basic");
        let (status, body) = register(&idp, &dcr, &with_secret).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"], "invalid_client_metadata");

        let key = DeviceKey::generate().unwrap();
        let (status, registered) = register(&idp, &dcr, &device_registration_body(&key)).await;
        assert_eq!(status, StatusCode::CREATED, "{registered}");
        assert!(
            registered.get("client_secret").is_none(),
            "no shared secret: {registered}"
        );
        assert_eq!(registered["token_endpoint_auth_method"], "private_key_jwt");
        assert_eq!(registered["jwks"]["keys"][0]["kid"], key.thumbprint());
        let client_id = registered["client_id"].as_str().unwrap().to_owned();
        let mut device = Device::new(&idp, &key, &client_id);

        // SSO sign-in bound to the key from the start (RFC 9449 §10: dpop_jkt).
        let thumbprint = device.key.thumbprint().to_owned();
        let authorized = authorize(
            &idp,
            &browser,
            AuthorizeRequest {
                client_id: &client_id,
                scope: "openid profile",
                prompt_login: false,
                credentials: None,
                extra: &[("dpop_jkt", thumbprint.as_str())],
            },
        )
        .await
        .expect("SSO sign-in");
        let (status, tokens) = device
            .token_request(&[
                ("grant_type", "authorization_code"),
                ("code", &authorized.code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", &authorized.verifier),
            ])
            .await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        assert_eq!(tokens["token_type"], "DPoP", "a DPoP-bound access token");
        let access_token = tokens["access_token"].as_str().unwrap().to_owned();

        // The bound token works with a proof and not without (the stolen-token case).
        assert_eq!(device.userinfo(&access_token).await, StatusCode::OK);
        let bare = http()
            .get(idp.endpoint("me"))
            .bearer_auth(&access_token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            bare.status(),
            StatusCode::UNAUTHORIZED,
            "replayed without a proof"
        );

        // Refresh with a fresh assertion and proof.
        let refresh_token = tokens["refresh_token"]
            .as_str()
            .expect("a refresh token")
            .to_owned();
        let (status, refreshed) = device.refresh(&refresh_token).await;
        assert_eq!(status, StatusCode::OK, "{refreshed}");
        assert_eq!(refreshed["token_type"], "DPoP");
        let next_refresh = refreshed["refresh_token"].as_str().unwrap().to_owned();

        // A copy of the registration on another device, without this device's private key: its
        // own key signs the assertion, and the server refuses it.
        let thief_key = DeviceKey::generate().unwrap();
        let mut thief = Device::new(&idp, &thief_key, &client_id);
        let (status, body) = thief.refresh(&next_refresh).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["error"], "invalid_client");

        if dpop_nonce {
            assert!(device.nonce_retries >= 1, "the server asked for a nonce");
        } else {
            assert_eq!(device.nonce_retries, 0);
        }
    }
}
