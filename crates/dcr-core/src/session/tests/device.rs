//! The device-bound modes through the whole state machine, against the fake
//! server's strict `private_key_jwt` and DPoP checks: nonces retried once and never twice,
//! `invalid_dpop_proof` as its own kind, a Bearer token refused when DPoP was asked for, and a
//! registration that substitutes a secret refused and deleted.

use super::*;
use crate::device::signer::KeyHolder;
use crate::error::ErrorKind;

fn device_rig(extra: &str) -> Rig {
    let config = Config::from_json(&config_json(extra)).unwrap();
    rig_with(config, Arc::new(MemoryStore::new()))
}

const KEY_AND_DPOP: &str = r#""tokenEndpointAuthMethod":"private_key_jwt","dpop":true"#;

#[tokio::test]
async fn k4_device_key_lifecycle_with_a_required_nonce_retries_once_then_reuses_it() {
    let rig = device_rig(KEY_AND_DPOP);
    rig.idp
        .with(|s| s.device.required_nonce = Some("first".into()));
    let view = rig.registered().await;
    assert_eq!(view.credential, Credential::DeviceKey);
    assert!(view.tokens_bound);
    let thumbprint = view.device_key_thumbprint.clone().unwrap();
    let body = rig.idp.with(|s| s.last_registration_body.clone()).unwrap();
    assert_eq!(body["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(body["dpop_bound_access_tokens"], true);
    assert_eq!(body["jwks"]["keys"][0]["kid"], thumbprint.as_str());

    let view = rig.session.sign_in(&rig.browser).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    assert!(view.tokens_bound);
    // One use_dpop_nonce for the code exchange, answered by exactly one retry; the refresh
    // then carries the nonce from the start. UserInfo, which asks for none, gets none: the
    // token endpoint's nonce is not its own (RFC 9449 §9).
    assert_eq!(rig.idp.with(|s| s.device.nonce_asks), 1);
    let view = rig.session.refresh().await.unwrap();
    assert!(view.tokens_bound);
    rig.idp.with(|s| {
        assert_eq!(s.device.nonce_asks, 1);
        let proofs = &s.device.proofs;
        assert_eq!(proofs.len(), 4, "exchange, its retry, UserInfo, refresh");
        assert!(proofs[0].get("nonce").is_none());
        assert!(proofs[2].get("nonce").is_none());
        assert!([&proofs[1], &proofs[3]]
            .iter()
            .all(|p| p["nonce"] == "nonce-1"));
        assert!(
            proofs[2].get("ath").is_some(),
            "UserInfo proof binds the token"
        );
        assert_eq!(s.userinfo_requests, [("DPoP".to_owned(), 200)]);
    });
    assert!(view.user.unwrap().claims.contains_key("email"));
    let view = rig.session.sign_out(&rig.browser).await.unwrap();
    assert_eq!(view.state, StateName::Registered);
    let view = rig.session.forget().await.unwrap();
    assert_eq!(view.last_event, Some(Event::Forgotten));
}

/// RFC 9449 §8 and §9: the authorization server (token endpoint) and a resource server
/// (UserInfo) issue their own nonces, and a nonce is only accepted by the server that issued it.
/// Each proof carries the nonce of the server it goes to: one `use_dpop_nonce` per server, its
/// retry answered, and from then on neither server has to ask again.
#[tokio::test]
async fn k4_the_token_endpoint_and_userinfo_each_keep_their_own_nonce() {
    let rig = device_rig(KEY_AND_DPOP);
    rig.registered().await;
    rig.idp.with(|s| {
        s.device.required_nonce = Some("token-endpoint".into());
        s.device.userinfo_nonce = Some("userinfo".into());
    });
    let view = rig.session.sign_in(&rig.browser).await.unwrap();
    // UserInfo's use_dpop_nonce was retried with its nonce, and its claims kept.
    assert!(view.user.unwrap().claims.contains_key("email"));
    rig.session.refresh().await.unwrap();
    rig.session.sign_out(&rig.browser).await.unwrap();
    let view = rig.session.sign_in(&rig.browser).await.unwrap();
    assert!(view.user.unwrap().claims.contains_key("email"));
    rig.idp.with(|s| {
        let asked = |path: &str| -> Vec<Option<&str>> {
            s.device
                .proofs
                .iter()
                .filter(|p| p["htu"].as_str().unwrap().ends_with(path))
                .map(|p| p["nonce"].as_str())
                .collect()
        };
        // The exchange (asked, retried), the refresh, the second exchange.
        assert_eq!(
            asked("/token"),
            [None, Some("nonce-1"), Some("nonce-1"), Some("nonce-1")]
        );
        // UserInfo (asked, retried), then UserInfo after the second sign-in.
        assert_eq!(asked("/userinfo"), [None, Some("nonce-2"), Some("nonce-2")]);
        assert_eq!(s.device.nonce_asks, 2, "once per server");
        let dpop = |status| ("DPoP".to_owned(), status);
        assert_eq!(s.userinfo_requests, [dpop(401), dpop(200), dpop(200)]);
    });
}

#[tokio::test]
async fn k4_use_dpop_nonce_is_retried_once_and_never_twice() {
    let rig = device_rig(KEY_AND_DPOP);
    rig.registered().await;
    rig.idp.with(|s| s.device.nonce_every_time = true);
    let error = rig.failed_sign_in().await;
    assert_eq!(error.kind(), ErrorKind::ServerError, "{error}");
    rig.idp.with(|s| {
        assert_eq!(s.device.nonce_asks, 2, "the first try and one retry");
        assert_eq!(s.device.proofs.len(), 2);
        assert_eq!(
            s.device.proofs[1]["nonce"], "nonce-1",
            "the retry used the nonce"
        );
    });
    assert_eq!(rig.state().await, StateName::Registered);
}

#[tokio::test]
async fn k4_invalid_dpop_proof_is_reported_and_keeps_the_tokens() {
    let rig = device_rig(KEY_AND_DPOP);
    rig.signed_in().await;
    rig.idp.with(|s| s.device.refuse_proofs = true);
    let error = rig.failed_refresh().await;
    assert_eq!(error.kind(), ErrorKind::InvalidDpopProof, "{error}");
    assert_eq!(error.kind().as_str(), "invalidDpopProof");
    // Not invalid_grant: the sign-in and the registration stay, and a retry can work.
    assert_eq!(rig.state().await, StateName::SignedIn);
    rig.idp.with(|s| s.device.refuse_proofs = false);
    assert_eq!(
        rig.session.refresh().await.unwrap().state,
        StateName::SignedIn
    );
}

#[tokio::test]
async fn k4_a_bearer_token_is_refused_when_dpop_was_asked_for() {
    let rig = device_rig(r#""dpop":true"#);
    let view = rig.registered().await;
    assert_eq!(view.credential, Credential::ClientSecret);
    assert!(
        view.device_key_thumbprint.is_some(),
        "a DPoP key for this install"
    );
    rig.idp.with(|s| s.device.ignore_proofs = true);
    let error = rig.failed_sign_in().await;
    assert_eq!(error.kind(), ErrorKind::InvalidResponse, "{error}");
    assert!(error.message().contains("DPoP"), "{error}");
    assert_eq!(rig.state().await, StateName::Registered);
    // Honoured proofs: the same client signs in with a bound token (client secret + DPoP).
    rig.idp.with(|s| s.device.ignore_proofs = false);
    let view = rig.session.sign_in(&rig.browser).await.unwrap();
    assert!(view.tokens_bound);
    assert_eq!(view.credential, Credential::ClientSecret);
}

#[tokio::test]
async fn k3_a_registration_that_substitutes_a_secret_is_refused_and_deleted() {
    let rig = device_rig(r#""tokenEndpointAuthMethod":"private_key_jwt""#);
    rig.idp.with(|s| {
        s.registration_patch = Some(("client_secret", Some(serde_json::json!("shared-secret"))))
    });
    let error = rig.session.register(&rig.browser).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidResponse, "{error}");
    assert!(error.message().contains("deleted again"), "{error}");
    assert!(!error.message().contains("shared-secret"));
    rig.idp.with(|s| {
        assert_eq!(s.deleted, ["client-1"]);
        assert_eq!(s.delete_requests.len(), 1);
    });
    assert!(rig.store.is_empty());
    let view = rig.session.state().await.unwrap();
    assert_eq!(view.state, StateName::Unregistered);
}

#[tokio::test]
async fn k5_an_entry_without_its_device_key_is_discarded_with_its_own_reason() {
    let rig = device_rig(r#""tokenEndpointAuthMethod":"private_key_jwt""#);
    rig.signed_in().await;
    let raw = rig.store.raw(rig.key()).unwrap();
    let mut entry: serde_json::Value = serde_json::from_str(raw.expose()).unwrap();
    entry.as_object_mut().unwrap().remove("deviceKey");
    let copy = Arc::new(MemoryStore::new());
    copy.put_raw(rig.key(), &entry.to_string());
    let elsewhere = Session::with_transport(
        rig.session.config.clone(),
        rig.idp.clone(),
        Box::new(copy.clone()),
    );
    let view = elsewhere.state().await.unwrap();
    assert_eq!(view.state, StateName::Unregistered);
    assert_eq!(view.reason, Some(Reason::DeviceKeyMissing));
    assert_eq!(
        elsewhere.refresh().await.unwrap_err().kind(),
        ErrorKind::NotRegistered
    );
    assert!(copy.is_empty());
    // The original device is unaffected.
    assert_eq!(
        rig.session.refresh().await.unwrap().state,
        StateName::SignedIn
    );
}

/// Making the device key can fail (the system's random number generator): registering then
/// reports it with the kind a key rotation reports for the same failure, and never panics.
#[test]
fn a_device_key_that_cannot_be_made_is_an_error_not_a_panic() {
    use crate::device::key::DeviceKeyError;
    use crate::session::registering::new_device_key;
    let error = new_device_key(true, || Err(DeviceKeyError::Generate)).unwrap_err();
    assert_eq!(error.kind(), Error::from(DeviceKeyError::Generate).kind());
    assert_eq!(error.kind(), ErrorKind::DeviceKeyUnavailable);
    assert!(new_device_key(false, || Err(DeviceKeyError::Generate))
        .unwrap()
        .is_none());
}

/// Home, About and `dcr status` say who holds the device key from the view: the holder and the
/// engine's sentence, never the key. A client secret without DPoP has no key and no holder.
#[tokio::test]
async fn k8_the_view_names_who_holds_the_device_key_and_never_the_key() {
    let rig = device_rig(KEY_AND_DPOP);
    let view = rig.registered().await;
    assert_eq!(view.device_key_holder, Some(KeyHolder::Software));
    assert_eq!(
        view.device_key_text,
        Some("Device key stored in the keychain")
    );
    let json = serde_json::to_value(&view).unwrap();
    assert_eq!(json["deviceKeyHolder"], "software");
    assert_eq!(json["deviceKeyText"], "Device key stored in the keychain");
    // The entry's `deviceKey` member (the PKCS#8) is nowhere in what the shells get.
    let raw = rig.store.raw(rig.key()).expect("the entry");
    let entry: serde_json::Value = serde_json::from_str(raw.expose()).unwrap();
    let pkcs8 = entry["deviceKey"]
        .as_str()
        .expect("a software key's PKCS#8");
    assert!(!json.to_string().contains(pkcs8));

    let plain = device_rig("");
    let view = plain.registered().await;
    assert_eq!(view.credential, Credential::ClientSecret);
    assert_eq!((view.device_key_holder, view.device_key_text), (None, None));
}
