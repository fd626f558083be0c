//! The engine's device-bound modes end to end against the bundled identity server:
//! `private_key_jwt` (RFC 7523) with and without DPoP-bound tokens (RFC 9449), DPoP with a
//! client secret, server nonces, and what a copy of the keychain entry or a stolen token is
//! worth on another device (nothing).

use std::collections::HashSet;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use dcr_core::device::key::DeviceKey;
use dcr_core::device::store::{MemoryStore, RegistrationStore};
use dcr_core::protocol::token::ClientAssertionSigner;
use dcr_core::session::{Credential, Event, Reason, StateName};
use dcr_core::Session;
use dcr_tests::engine::{self, query, Exchange, Form, RecordingTransport, Rig};
use dcr_tests::flows::http;
use dcr_tests::{jwt_claims, IdpOptions, ScriptedAgent};
use reqwest::StatusCode;
use serde_json::{json, Value};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// One device: a session with a device-bound config over a recording back channel and a
/// memory store the test can look into.
async fn device(options: IdpOptions, form: Form, method: &str, dpop: bool) -> Rig {
    let extra = json!({ "tokenEndpointAuthMethod": method, "dpop": dpop });
    Rig::start_configured(options, form, RecordingTransport::new(), extra).await
}

fn jwt_header(jwt: &str) -> Value {
    let header = jwt.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
}

/// K1, K2: every request the per-install client authenticates carries a fresh assertion:
/// `iss` = `sub` = the client ID, `aud` = the issuer, a unique `jti`, `exp` at most 60 s after
/// `iat`, signed with the device key (`kid` = its thumbprint); never a secret.
fn assert_assertions(exchanges: &[Exchange], client_id: &str, issuer: &str, kid: &str) {
    let mut jtis = HashSet::new();
    for exchange in exchanges {
        assert_eq!(
            exchange.form("client_assertion_type").as_deref(),
            Some(JWT_BEARER),
            "{exchange:?}"
        );
        assert!(exchange.authorization.is_none(), "no Basic: {exchange:?}");
        assert!(exchange.form("client_secret").is_none(), "{exchange:?}");
        let assertion = exchange.form("client_assertion").expect("an assertion");
        assert_eq!(jwt_header(&assertion)["alg"], "ES256");
        assert_eq!(jwt_header(&assertion)["kid"], kid);
        let claims = jwt_claims(&assertion);
        assert_eq!(claims["iss"], client_id);
        assert_eq!(claims["sub"], client_id);
        assert_eq!(claims["aud"], issuer);
        let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
        assert!(lifetime > 0 && lifetime <= 60, "{lifetime}");
        assert!(
            jtis.insert(claims["jti"].as_str().unwrap().to_owned()),
            "jti reused"
        );
    }
}

/// K4: a DPoP proof on each request: the device's public key, `htm`, `htu` without query, and
/// the nonce the server gave last, when it gave one.
fn assert_proof(exchange: &Exchange, method: &str, thumbprint: &str, ath: bool) {
    let proof = exchange.dpop.as_deref().expect("a DPoP proof");
    let header = jwt_header(proof);
    assert_eq!(header["typ"], "dpop+jwt");
    assert_eq!(header["alg"], "ES256");
    let jwk = &header["jwk"];
    assert!(jwk.get("d").is_none(), "public key only");
    // RFC 7638: the proof's key is the device key (the one `dpop_jkt` named).
    let canonical = format!(
        r#"{{"crv":"{}","kty":"{}","x":"{}","y":"{}"}}"#,
        jwk["crv"].as_str().unwrap(),
        jwk["kty"].as_str().unwrap(),
        jwk["x"].as_str().unwrap(),
        jwk["y"].as_str().unwrap()
    );
    use sha2::Digest as _;
    let computed = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(canonical.as_bytes()));
    assert_eq!(computed, thumbprint);
    let claims = jwt_claims(proof);
    assert_eq!(claims["htm"], method);
    assert!(claims["htu"].as_str().unwrap().ends_with(&exchange.path));
    assert_eq!(claims.get("ath").is_some(), ath, "{claims}");
}

/// register → SSO sign-in → two refreshes → sign-out → forget, in a device-bound mode.
pub(crate) async fn lifecycle(d: &Rig, dpop: bool) -> (String, String) {
    let agent = ScriptedAgent::login(d.browser.clone());
    let issuer = d.idp.issuer.as_str().to_owned();

    let view = d.session.state().await.unwrap();
    assert_eq!(view.credential, Credential::DeviceKey);
    assert_eq!(
        view.device_key_thumbprint, None,
        "no key before registering"
    );

    // Registration: the public half of a fresh key, no secret back.
    let view = d.session.register(&agent).await.unwrap();
    assert_eq!(view.last_event, Some(Event::Registered));
    assert_eq!(view.credential, Credential::DeviceKey);
    assert_eq!(view.tokens_bound, dpop);
    let thumbprint = view.device_key_thumbprint.clone().expect("a thumbprint");
    let client_id = engine::client_id(&view);
    let sent: Value =
        serde_json::from_str(d.transport.to("/reg")[0].request_body.as_deref().unwrap()).unwrap();
    assert_eq!(sent["token_endpoint_auth_method"], "private_key_jwt");
    let jwk = &sent["jwks"]["keys"][0];
    assert_eq!(jwk["kid"], thumbprint.as_str());
    assert!(jwk.get("d").is_none(), "never the private key: {jwk}");
    match d.form {
        Form::Full => {
            assert_eq!(sent["token_endpoint_auth_signing_alg"], "ES256");
            assert_eq!(sent.get("dpop_bound_access_tokens").is_some(), dpop);
        }
        Form::Templatized => {
            let keys: Vec<_> = sent.as_object().unwrap().keys().cloned().collect();
            assert_eq!(
                keys,
                ["jwks", "software_id", "token_endpoint_auth_method"],
                "the template cannot know the device's key"
            );
        }
    }
    let stored = d
        .store
        .load(&engine::store_key(&d.idp, d.form))
        .unwrap()
        .expect("stored");
    assert!(stored.registration.client_secret.is_none());
    assert_eq!(stored.device_key.as_ref().unwrap().thumbprint(), thumbprint);
    let raw = d.store.raw(&engine::store_key(&d.idp, d.form)).unwrap();
    assert!(raw.expose().contains("\"deviceKey\":"));

    // SSO sign-in: the code bound to the key (dpop_jkt), redeemed with an assertion (and a
    // proof), a DPoP token when asked for.
    let view = d.session.sign_in(&agent).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    assert_eq!(view.tokens_bound, dpop);
    assert_eq!(view.user.as_ref().unwrap().sub, "demouser");
    let opened = agent.opened();
    assert_eq!(
        query(&opened[0], "dpop_jkt"),
        None,
        "the DCR login stays Bearer"
    );
    assert_eq!(
        query(&opened[1], "dpop_jkt"),
        dpop.then(|| thumbprint.clone())
    );
    let code = d.transport.grants("authorization_code");
    let exchange = code.last().unwrap();
    assert_eq!(exchange.status, Some(200));
    let token_type = exchange.response_json().unwrap()["token_type"].clone();
    assert_eq!(token_type, if dpop { "DPoP" } else { "Bearer" });
    if dpop {
        assert_proof(exchange, "POST", &thumbprint, false);
        let me = d.transport.to("/me");
        let last = me.last().expect("UserInfo was asked");
        assert_eq!(last.status, Some(200));
        assert!(last.authorization.as_deref().unwrap().starts_with("DPoP "));
        assert_proof(last, "GET", &thumbprint, true);
    } else {
        assert!(exchange.dpop.is_none());
    }

    // Two refreshes, each with a fresh assertion (and proof).
    let first = d.session.refresh().await.unwrap();
    let second = d.session.refresh().await.unwrap();
    assert_ne!(first.token_fingerprint, second.token_fingerprint);
    assert_eq!(second.tokens_bound, dpop);
    let refreshes: Vec<_> = d
        .transport
        .grants("refresh_token")
        .into_iter()
        .filter(|e| e.status == Some(200))
        .collect();
    assert_eq!(refreshes.len(), 2);
    for refresh in &refreshes {
        assert_eq!(refresh.dpop.is_some(), dpop);
        let token_type = refresh.response_json().unwrap()["token_type"].clone();
        assert_eq!(token_type, if dpop { "DPoP" } else { "Bearer" });
    }
    let stolen_refresh_token = refreshes[1].response_json().unwrap()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // Every authenticated token request: an assertion, never a secret, no jti twice.
    let authenticated: Vec<_> = d
        .transport
        .to("/token")
        .into_iter()
        .filter(|e| e.form("client_id").as_deref() != Some(engine::REGISTRATION_CLIENT))
        .collect();
    assert_assertions(&authenticated, &client_id, &issuer, &thumbprint);
    (client_id, stolen_refresh_token)
}

pub(crate) async fn sign_out_and_forget(d: &Rig, client_id: &str, issuer: &str) {
    let agent = ScriptedAgent::login(d.browser.clone());
    let view = d.session.sign_out(&agent).await.unwrap();
    assert_eq!(view.last_event, Some(Event::SignedOut));
    // RFC 7009 with the assertion (K2).
    let revocations = d.transport.to("/revocation");
    assert_eq!(revocations.len(), 1, "{revocations:?}");
    assert_eq!(revocations[0].status, Some(200));
    let stored_kid = jwt_header(&revocations[0].form("client_assertion").unwrap())["kid"].clone();
    assert_assertions(
        &revocations,
        client_id,
        issuer,
        stored_kid.as_str().unwrap(),
    );
    let view = d.session.forget().await.unwrap();
    assert_eq!(view.last_event, Some(Event::Forgotten));
    assert!(d.idp.admin_list_clients().await.is_empty());
}

#[tokio::test]
async fn k1_private_key_jwt_lifecycle_without_a_secret() {
    // The default profile accepts private_key_jwt (and does not require DPoP).
    let d = device(IdpOptions::default(), Form::Full, "private_key_jwt", false).await;
    let (client_id, _) = lifecycle(&d, false).await;
    let issuer = d.idp.issuer.as_str().to_owned();
    sign_out_and_forget(&d, &client_id, &issuer).await;
}

#[tokio::test]
async fn k4_private_key_jwt_with_dpop_lifecycle_on_the_device_bound_profile() {
    for (form, nonce) in [
        (Form::Full, false),
        (Form::Full, true),
        (Form::Templatized, true),
    ] {
        let d = device(
            IdpOptions::device_bound(nonce),
            form,
            "private_key_jwt",
            true,
        )
        .await;
        let (client_id, _) = lifecycle(&d, true).await;
        // K4: with nonces required, the first proof is refused with use_dpop_nonce and sent
        // once more, and later requests use the nonce they were given.
        let token = d.transport.to("/token");
        let asked: Vec<_> = token
            .iter()
            .filter(|e| {
                e.status == Some(400) && e.response_json().unwrap()["error"] == "use_dpop_nonce"
            })
            .collect();
        if nonce {
            assert!(!asked.is_empty(), "the server asked for a nonce");
            assert!(asked.iter().all(|e| e.response_dpop_nonce.is_some()));
            assert!(
                asked.len() < token.iter().filter(|e| e.dpop.is_some()).count(),
                "each ask was answered with a retry that succeeded"
            );
            for proof in token.iter().filter_map(|e| e.dpop.as_deref()).skip(1) {
                assert!(
                    jwt_claims(proof).get("nonce").is_some(),
                    "later proofs carry it"
                );
            }
        } else {
            assert!(asked.is_empty());
        }
        let issuer = d.idp.issuer.as_str().to_owned();
        sign_out_and_forget(&d, &client_id, &issuer).await;
    }
}

#[tokio::test]
async fn k4_client_secret_with_dpop_binds_tokens_on_the_default_profile() {
    let d = device(
        IdpOptions::default(),
        Form::Full,
        "client_secret_basic",
        true,
    )
    .await;
    let agent = ScriptedAgent::login(d.browser.clone());
    let view = d.session.register_and_sign_in(&agent).await.unwrap();
    assert_eq!(view.credential, Credential::ClientSecret);
    assert!(view.tokens_bound);
    let thumbprint = view.device_key_thumbprint.clone().expect("a DPoP key");
    let sent: Value =
        serde_json::from_str(d.transport.to("/reg")[0].request_body.as_deref().unwrap()).unwrap();
    assert_eq!(sent["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(sent["dpop_bound_access_tokens"], true);
    assert!(sent.get("jwks").is_none(), "the DPoP key is not registered");
    assert_eq!(
        query(&agent.opened()[1], "dpop_jkt").as_deref(),
        Some(thumbprint.as_str())
    );
    let exchange = d.transport.grants("authorization_code").pop().unwrap();
    assert!(exchange
        .authorization
        .as_deref()
        .unwrap()
        .starts_with("Basic "));
    assert_proof(&exchange, "POST", &thumbprint, false);
    assert_eq!(exchange.response_json().unwrap()["token_type"], "DPoP");
    let view = d.session.refresh().await.unwrap();
    assert!(view.tokens_bound);
    let refresh = d.transport.grants("refresh_token").pop().unwrap();
    assert_eq!(refresh.response_json().unwrap()["token_type"], "DPoP");
    let view = d.session.sign_out(&agent).await.unwrap();
    assert_eq!(view.last_event, Some(Event::SignedOut));
    let view = d.session.forget().await.unwrap();
    assert_eq!(view.last_event, Some(Event::Forgotten));
}

/// K5: the point of the mode. A copy of the keychain entry on another device, without the
/// private key, is no registration at all; the stolen refresh token does not refresh with
/// another key's assertion; and the DPoP-bound access token is useless without a proof.
#[tokio::test]
async fn k5_a_stolen_copy_without_the_private_key_cannot_refresh_or_use_the_tokens() {
    let d = device(
        IdpOptions::device_bound(false),
        Form::Full,
        "private_key_jwt",
        true,
    )
    .await;
    let (client_id, stolen_refresh_token) = lifecycle(&d, true).await;
    let key = engine::store_key(&d.idp, d.form);

    // The entry copied without the private key: the other device's session discards it.
    let mut entry: Value = serde_json::from_str(d.store.raw(&key).unwrap().expose()).unwrap();
    entry.as_object_mut().unwrap().remove("deviceKey");
    let other = Arc::new(MemoryStore::new());
    other.put_raw(&key, &entry.to_string());
    let thief = Session::with_transport(
        d.session.config().clone(),
        Arc::new(RecordingTransport::new()),
        Box::new(other.clone()),
    );
    let view = thief.state().await.unwrap();
    assert_eq!(view.state, StateName::Unregistered);
    assert_eq!(view.reason, Some(Reason::DeviceKeyMissing));
    assert_eq!(thief.refresh().await.unwrap_err().kind(), "notRegistered");
    assert!(other.is_empty(), "the unusable copy is discarded");

    // The stolen refresh token, with an assertion from another key: refused.
    let token_endpoint = d.idp.endpoint("token");
    let thief_key = DeviceKey::generate().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let assertion = thief_key
        .client_assertion(&client_id, d.idp.issuer.as_str(), now)
        .unwrap();
    let proof = thief_key
        .dpop_proof("POST", &token_endpoint, now, None, None)
        .unwrap();
    let response = http()
        .post(token_endpoint.clone())
        .header("DPoP", proof.expose())
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", stolen_refresh_token.as_str()),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion.expose()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");

    // The DPoP-bound access token replayed without a proof: refused by UserInfo.
    let me = d.transport.to("/me");
    let access_token = me
        .last()
        .unwrap()
        .authorization
        .as_deref()
        .unwrap()
        .strip_prefix("DPoP ")
        .unwrap()
        .to_owned();
    for scheme in ["Bearer", "DPoP"] {
        let replayed = http()
            .get(d.idp.endpoint("me"))
            .header("Authorization", format!("{scheme} {access_token}"))
            .send()
            .await
            .unwrap();
        assert!(
            replayed.status().is_client_error(),
            "{scheme}: {}",
            replayed.status()
        );
    }
    // The device itself is still fine.
    assert_eq!(
        d.session.refresh().await.unwrap().state,
        StateName::SignedIn
    );
}
