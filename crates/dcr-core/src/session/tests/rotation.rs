//! "Rotate device key" at the session level, against the fake's RFC 7592 update: the new key is
//! used only after the server registered it and the keychain saved it together with the
//! rotated registration access token; a refused update or a failed save keeps the old key.

use serde_json::{json, Value};

use super::*;
use crate::device::key::DeviceKey;
use crate::protocol::registration::parse_registration;
use crate::test_support::config_json;

const REDIRECT: &str = "io.curity.dcrclient:/callback";
const SEEDED_RAT: &str = "rat-seeded";

/// A rig whose store holds a private_key_jwt registration of `client-1` with `key`, known to
/// the fake (as a registration by another run of the app would be).
fn device_rig(key: &Arc<DeviceKey>, management: bool) -> Rig {
    let config = Config::from_json(&config_json(
        r#""tokenEndpointAuthMethod":"private_key_jwt""#,
    ))
    .unwrap();
    let rig = rig_with(config, Arc::new(MemoryStore::new()));
    let mut response = json!({
        "client_id": "client-1",
        "token_endpoint_auth_method": "private_key_jwt",
        "token_endpoint_auth_signing_alg": "ES256",
        "jwks": key.public_jwks(),
        "redirect_uris": [REDIRECT],
        "post_logout_redirect_uris": ["io.curity.dcrclient:/logoutcallback"],
        "application_type": "native",
        "grant_types": ["authorization_code", "refresh_token"],
        "scope": "openid profile",
        "client_id_issued_at": 1_700_000_000,
        "registration_access_token": SEEDED_RAT,
        "registration_client_uri": "https://idp.example/register/client-1",
    });
    if !management {
        response
            .as_object_mut()
            .unwrap()
            .remove("registration_client_uri");
    }
    let registration =
        parse_registration(Secret::new(response.to_string()), Some(REDIRECT)).unwrap();
    rig.store
        .save(
            rig.key(),
            &StoredRegistration {
                registration,
                registered_at: 1_700_000_000,
                device_key: Some(key.clone()),
                refresh_token: None,
            },
        )
        .unwrap();
    rig.idp.with(|s| {
        s.clients
            .insert("client-1".into(), (String::new(), SEEDED_RAT.into()))
    });
    rig
}

fn stored(rig: &Rig) -> StoredRegistration {
    rig.store.load(rig.key()).unwrap().unwrap()
}

fn stored_thumbprint(rig: &Rig) -> String {
    stored(rig).device_key.unwrap().thumbprint().to_owned()
}

fn stored_rat(rig: &Rig) -> String {
    stored(rig)
        .registration
        .registration_access_token
        .unwrap()
        .expose()
        .to_owned()
}

fn registered_kid(rig: &Rig) -> Option<Value> {
    rig.idp.with(|s| {
        s.updates
            .jwks
            .get("client-1")
            .map(|jwks| jwks["keys"][0]["kid"].clone())
    })
}

#[tokio::test]
async fn kr3_rotation_saves_the_new_key_and_token_in_one_save_and_uses_them() {
    let old = Arc::new(DeviceKey::generate().unwrap());
    let rig = device_rig(&old, true);
    let view = rig.session.rotate_device_key().await.unwrap();
    assert_eq!(view.last_event, Some(Event::KeyRotated));
    let new = view.device_key_thumbprint.clone().unwrap();
    assert_ne!(new, old.thumbprint());

    // The server got the new public key, with the whole metadata and nothing forbidden.
    let bodies = rig.idp.with(|s| s.updates.bodies.clone());
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["client_id"], "client-1");
    assert_eq!(bodies[0]["redirect_uris"], json!([REDIRECT]));
    assert_eq!(bodies[0]["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(registered_kid(&rig), Some(json!(new)));

    // One save holds both: the new private key and the token the update rotated.
    assert_eq!(stored_thumbprint(&rig), new);
    let rotated = stored_rat(&rig);
    assert_ne!(rotated, SEEDED_RAT);
    assert_eq!(
        rig.idp.with(|s| s.clients["client-1"].1.clone()),
        rotated,
        "the stored token is the server's current one"
    );
    let json: Value =
        serde_json::from_str(stored(&rig).registration.response_json.expose()).unwrap();
    assert_eq!(json["jwks"]["keys"][0]["kid"], json!(new));

    // A restart finds the new key; the rotated token manages the client (an RFC 7592 delete).
    let restarted = rig.restart();
    assert_eq!(
        restarted.state().await.unwrap().device_key_thumbprint,
        Some(new.clone())
    );
    let view = restarted.forget().await.unwrap();
    assert_eq!(view.last_event, Some(Event::Forgotten));
    assert_eq!(
        rig.idp.with(|s| s.delete_requests.clone()),
        vec![("/register/client-1".to_owned(), rotated)]
    );
}

/// How the fake answers an update (status and body, or a patched 200), and the kind expected.
type Case = (
    Option<(u16, Value)>,
    Option<(&'static str, Option<Value>)>,
    &'static str,
);

/// The whole flow on the fake, which verifies every assertion against the registered key and
/// every DPoP proof: registered with a device key, rotated while signed in, and the refresh and
/// the next sign-in then work with the new key alone.
#[tokio::test]
async fn kr4_after_rotation_refresh_and_sign_in_work_with_the_new_key_alone() {
    let config = Config::from_json(&config_json(
        r#""tokenEndpointAuthMethod":"private_key_jwt","dpop":true"#,
    ))
    .unwrap();
    let rig = rig_with(config, Arc::new(MemoryStore::new()));
    let view = rig.signed_in().await;
    let old = view.device_key_thumbprint.clone().unwrap();
    let view = rig.session.rotate_device_key().await.unwrap();
    let new = view.device_key_thumbprint.clone().unwrap();
    assert_ne!(new, old);
    let registered = rig
        .idp
        .with(|s| s.device.client_keys.get("client-1").cloned())
        .unwrap();
    assert_eq!(registered["kid"], json!(new));

    let view = rig.session.refresh().await.unwrap();
    assert_eq!(view.last_event, Some(Event::Refreshed));
    assert!(view.tokens_bound);
    rig.session.sign_out(&rig.browser).await.unwrap();
    let view = rig.session.sign_in(&rig.browser).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    assert_eq!(view.device_key_thumbprint, Some(new));
}

#[tokio::test]
async fn kr2_a_refused_update_keeps_the_old_key_and_registration() {
    let cases: [Case; 4] = [
        (
            Some((400, json!({"error": "invalid_client_metadata"}))),
            None,
            "registrationRejected",
        ),
        (
            Some((401, json!({"error": "invalid_token"}))),
            None,
            "registrationRejected",
        ),
        (Some((503, json!({}))), None, "invalidResponse"),
        // Accepted, but the answer does not list the new key.
        (
            None,
            Some(("jwks", Some(json!({"keys": []})))),
            "invalidResponse",
        ),
    ];
    for (error, patch, kind) in cases {
        let old = Arc::new(DeviceKey::generate().unwrap());
        let rig = device_rig(&old, true);
        rig.idp.with(|s| {
            s.updates.error = error.clone();
            s.updates.patch = patch.clone();
        });
        let failed = rig.session.rotate_device_key().await.unwrap_err();
        let case = format!("{error:?} {patch:?}");
        assert_eq!(failed.kind(), kind, "{case}");
        assert_eq!(stored_thumbprint(&rig), old.thumbprint(), "{case}");
        assert_eq!(stored_rat(&rig), SEEDED_RAT, "{case}");
        let view = rig.session.state().await.unwrap();
        assert_eq!(
            view.device_key_thumbprint.as_deref(),
            Some(old.thumbprint()),
            "{case}: the old key is still the one in use"
        );
        assert_ne!(view.last_event, Some(Event::KeyRotated), "{case}");
    }
}

#[tokio::test]
async fn kr2_a_failed_save_switches_the_server_back_to_the_old_key() {
    let old = Arc::new(DeviceKey::generate().unwrap());
    let rig = device_rig(&old, true);
    rig.store
        .set_save_error(Some(StoreError::Unavailable("no Secret Service".into())));
    let failed = rig.session.rotate_device_key().await.unwrap_err();
    assert_eq!(failed.kind(), "keychainUnavailable");

    // Two updates: the new key, then the old one again, each with the token the one before
    // rotated.
    let bodies = rig.idp.with(|s| s.updates.bodies.clone());
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert_ne!(bodies[0]["jwks"], old.public_jwks());
    assert_eq!(bodies[1]["jwks"], old.public_jwks());
    assert_eq!(registered_kid(&rig), Some(json!(old.thumbprint())));
    // The keychain was not changed, and the old key is the one in use.
    assert_eq!(stored_thumbprint(&rig), old.thumbprint());
    let view = rig.session.state().await.unwrap();
    assert_eq!(
        view.device_key_thumbprint.as_deref(),
        Some(old.thumbprint())
    );
}

#[tokio::test]
async fn kr5_rotation_needs_a_device_key_and_a_management_endpoint() {
    // A client-secret registration has no key to rotate; nothing is sent.
    let secret_rig = rig();
    secret_rig
        .session
        .register(&secret_rig.browser)
        .await
        .unwrap();
    let error = secret_rig.session.rotate_device_key().await.unwrap_err();
    assert_eq!(error.kind(), "rotationUnavailable");
    assert!(secret_rig.idp.with(|s| s.updates.bodies.is_empty()));

    // A device key without RFC 7592 management cannot be updated on the server.
    let old = Arc::new(DeviceKey::generate().unwrap());
    let rig = device_rig(&old, false);
    let error = rig.session.rotate_device_key().await.unwrap_err();
    assert_eq!(error.kind(), "rotationUnavailable");
    assert!(rig.idp.with(|s| s.updates.bodies.is_empty()));
    assert_eq!(stored_thumbprint(&rig), old.thumbprint());

    // Not registered at all.
    let empty = super::rig();
    let error = empty.session.rotate_device_key().await.unwrap_err();
    assert_eq!(error.kind(), "notRegistered");
}
