//! The identity server's `device-bound` profile against the engine's device key: the
//! client assertions (RFC 7523) and DPoP proofs (RFC 9449) that `dcr_core::device_key` makes are
//! accepted by a real oidc-provider, tokens come back bound to the device's key, and a copy of
//! the registration without the private key gets nowhere.
//!
//! This drives the protocol by hand; the engine's own flow in this mode builds on it.

use dcr_core::device_key::DeviceKey;
use dcr_core::Secret;
use dcr_tests::flows::{
    authorize, dcr_token_response, http, registration_body, try_register, AuthorizeRequest,
    REDIRECT_URI,
};
use dcr_tests::{Idp, IdpOptions, ScriptedBrowser};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The device's side of the conversation: its key, its client, and the server's DPoP nonce.
struct Device<'a> {
    idp: &'a Idp,
    key: DeviceKey,
    client_id: String,
    nonce: Option<String>,
    nonce_retries: usize,
}

impl<'a> Device<'a> {
    /// `client_id` as this device, with `key` and no DPoP nonce yet.
    fn new(idp: &'a Idp, key: DeviceKey, client_id: &str) -> Self {
        Device {
            idp,
            key,
            client_id: client_id.to_owned(),
            nonce: None,
            nonce_retries: 0,
        }
    }

    /// A token-endpoint request authenticated with a client assertion and carrying a DPoP proof;
    /// `use_dpop_nonce` (RFC 9449 §8) is answered with exactly one retry.
    async fn token_request(&mut self, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let endpoint = self.idp.endpoint("token");
        for attempt in 0..2 {
            let assertion =
                self.key
                    .client_assertion(&self.client_id, self.idp.issuer.as_str(), now());
            let proof = self
                .key
                .dpop_proof("POST", &endpoint, now(), None, self.nonce.as_deref());
            let mut body: Vec<(&str, &str)> = form.to_vec();
            body.push((
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ));
            body.push(("client_assertion", assertion.expose()));
            let response = http()
                .post(endpoint.clone())
                .header("DPoP", proof.expose())
                .form(&body)
                .send()
                .await
                .unwrap();
            let status = response.status();
            let fresh_nonce = response
                .headers()
                .get("dpop-nonce")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let json: Value = response.json().await.unwrap_or(Value::Null);
            if fresh_nonce.is_some() {
                self.nonce = fresh_nonce;
            }
            if status == StatusCode::BAD_REQUEST
                && json["error"] == "use_dpop_nonce"
                && attempt == 0
            {
                self.nonce_retries += 1;
                continue;
            }
            return (status, json);
        }
        unreachable!("the loop returns on its second pass")
    }

    /// RFC 6749 §6 with a fresh client assertion and DPoP proof.
    async fn refresh(&mut self, refresh_token: &str) -> (StatusCode, Value) {
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    /// UserInfo with a DPoP-bound access token (RFC 9449 §7.1), one nonce retry.
    async fn userinfo(&mut self, access_token: &str) -> StatusCode {
        let endpoint = self.idp.endpoint("me");
        let token = Secret::new(access_token);
        for attempt in 0..2 {
            let proof =
                self.key
                    .dpop_proof("GET", &endpoint, now(), Some(&token), self.nonce.as_deref());
            let response = http()
                .get(endpoint.clone())
                .header("Authorization", format!("DPoP {access_token}"))
                .header("DPoP", proof.expose())
                .send()
                .await
                .unwrap();
            if let Some(nonce) = response.headers().get("dpop-nonce") {
                self.nonce = nonce.to_str().ok().map(str::to_owned);
            }
            let asks_for_nonce = response
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("use_dpop_nonce"));
            if response.status() == StatusCode::UNAUTHORIZED && asks_for_nonce && attempt == 0 {
                self.nonce_retries += 1;
                continue;
            }
            return response.status();
        }
        unreachable!("the loop returns on its second pass")
    }
}

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
        let idp = Idp::start_with(IdpOptions {
            profile: Some("device-bound"),
            dpop_nonce,
            ..IdpOptions::default()
        })
        .await;
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
        let mut device = Device::new(&idp, key, &client_id);

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
        let mut thief = Device::new(&idp, DeviceKey::generate().unwrap(), &client_id);
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
