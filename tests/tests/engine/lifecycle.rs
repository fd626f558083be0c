//! The engine end to end against the bundled identity server, through the scripted user agent:
//! the whole lifecycle with both registration forms, `client_secret_post`, and serialized
//! refreshes. The store is the in-memory one here; `engine_keychain.rs` runs against the real
//! keychain, `engine_cancellation.rs` and `engine_recovery.rs` take the other paths.

use dcr_core::device::store::MemoryStore;
use dcr_core::session::{Event, StateName};
use dcr_core::{Config, Session};
use dcr_tests::engine::{
    self, query, Form, Rig, POST_LOGOUT_URI, REDIRECT_URI, REGISTRATION_CLIENT, TEMPLATE_CLIENT,
};
use dcr_tests::{jwt_claims, ScriptedAgent};
use serde_json::{json, Value};

/// register → store → SSO sign-in (no second password) → refresh with rotation → logout →
/// sign-in asks for the password again → forget (RFC 7592 delete).
async fn lifecycle(form: Form) {
    let r = Rig::start(form).await;
    let agent = r.agent();

    let view = r.session.state().await.unwrap();
    assert_eq!(view.state, StateName::Unregistered);
    assert!(view.registration.is_none() && view.last_event.is_none());

    // Register: one login with the static client (scope dcr, prompt=login), then RFC 7591.
    let view = r.session.register(&agent).await.unwrap();
    assert_eq!(view.state, StateName::Registered);
    assert_eq!(view.last_event, Some(Event::Registered));
    let registration = view.registration.clone().unwrap();
    assert_eq!(registration.templatized, form == Form::Templatized);
    assert_eq!(registration.client_secret_expires_at, None);
    let client_id = registration.client_id.clone();
    assert_eq!(r.browser.password_posts(), 1);
    let login = &agent.opened()[0];
    assert_eq!(
        query(login, "client_id").as_deref(),
        Some(REGISTRATION_CLIENT)
    );
    assert_eq!(query(login, "scope").as_deref(), Some("dcr"));
    assert_eq!(query(login, "prompt").as_deref(), Some("login"));
    assert_eq!(
        query(login, "code_challenge_method").as_deref(),
        Some("S256")
    );

    // The registration request on the wire is exactly the specified body, with the DCR token.
    let registrations = r.transport.to("/reg");
    assert_eq!(registrations.len(), 1, "{registrations:?}");
    let sent: Value =
        serde_json::from_str(registrations[0].request_body.as_deref().unwrap()).unwrap();
    let expected = match form {
        Form::Full => json!({
            "redirect_uris": [REDIRECT_URI],
            "post_logout_redirect_uris": [POST_LOGOUT_URI],
            "application_type": "native",
            "grant_types": ["authorization_code"],
            "scope": "openid profile",
            "token_endpoint_auth_method": "client_secret_basic",
        }),
        Form::Templatized => json!({ "software_id": TEMPLATE_CLIENT }),
    };
    assert_eq!(sent, expected);
    let dcr_token = r.transport.to("/token")[0].response_json().unwrap()["access_token"].clone();
    assert_eq!(
        registrations[0].authorization.as_deref(),
        Some(format!("Bearer {}", dcr_token.as_str().unwrap()).as_str())
    );

    // Stored, and known to the server with the right form.
    let stored = r.stored().expect("the registration is stored");
    assert_eq!(stored.registration.client_id, client_id);
    assert!(stored.registration.client_secret.is_some());
    let clients = r.idp.admin_list_clients().await;
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0].client_id, client_id);
    assert_eq!(clients[0].software_id.as_deref(), form.software_id());
    assert!(clients[0].grant_types.contains(&"refresh_token".to_owned()));

    // SSO sign-in with the per-install client: no second password.
    let view = r.session.sign_in(&agent).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    assert_eq!(view.last_event, Some(Event::SignedIn));
    let user = view.user.clone().unwrap();
    assert_eq!(user.sub, "demouser");
    assert_eq!(user.display_name.as_deref(), Some("Demo User"));
    assert_eq!(user.claims["preferred_username"], "demouser");
    assert_eq!(
        r.browser.password_posts(),
        1,
        "the sign-in used the SSO session"
    );
    let sign_in = &agent.opened()[1];
    assert_eq!(
        query(sign_in, "client_id").as_deref(),
        Some(client_id.as_str())
    );
    assert_eq!(query(sign_in, "scope").as_deref(), Some("openid profile"));
    assert_eq!(query(sign_in, "prompt"), None);
    // Before the window opened, an RFC 7592 read (with the registration access token) checked
    // that the server still knows the client.
    let reads = r.transport.to(&format!("/reg/{client_id}"));
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert_eq!((reads[0].method, reads[0].status), ("GET", Some(200)));
    let rat = registrations[0].response_json().unwrap()["registration_access_token"].clone();
    assert_eq!(
        reads[0].authorization.as_deref(),
        Some(format!("Bearer {}", rat.as_str().unwrap()).as_str())
    );
    let exchange = r.transport.to("/token").pop().unwrap();
    assert_eq!(exchange.client_id().as_deref(), Some(client_id.as_str()));
    assert!(exchange
        .authorization
        .as_deref()
        .unwrap()
        .starts_with("Basic "));
    let fingerprint = view.token_fingerprint.clone().unwrap();

    // Two refreshes: the second must send the refresh token the first one rotated in (sending
    // the old one again would make the server revoke the whole grant).
    let first = r.session.refresh().await.unwrap();
    assert_eq!(first.state, StateName::SignedIn);
    assert_eq!(first.last_event, Some(Event::Refreshed));
    assert_ne!(first.token_fingerprint.as_ref(), Some(&fingerprint));
    let second = r.session.refresh().await.unwrap();
    assert_ne!(second.token_fingerprint, first.token_fingerprint);
    assert_eq!(second.user.as_ref().unwrap().sub, "demouser");
    let refreshes = r.transport.grants("refresh_token");
    assert_eq!(refreshes.len(), 2);
    let rotated = refreshes[0].response_json().unwrap()["refresh_token"].clone();
    assert_ne!(
        refreshes[0].form("refresh_token"),
        refreshes[1].form("refresh_token")
    );
    assert_eq!(
        refreshes[1].form("refresh_token").as_deref(),
        rotated.as_str()
    );
    assert!(refreshes
        .iter()
        .all(|e| e.client_id().as_deref() == Some(client_id.as_str())));

    // Logout: the end-session URL carries this client's ID token as the hint, and the server
    // confirms.
    let view = r.session.sign_out(&agent).await.unwrap();
    assert_eq!(view.state, StateName::Registered);
    assert_eq!(view.last_event, Some(Event::SignedOut));
    assert!(view.user.is_none() && view.token_fingerprint.is_none());
    let logout = agent.opened().pop().unwrap();
    let hint = query(&logout, "id_token_hint").expect("id_token_hint");
    assert_eq!(jwt_claims(&hint)["aud"], client_id.as_str());
    assert_eq!(
        query(&logout, "post_logout_redirect_uri").as_deref(),
        Some(POST_LOGOUT_URI)
    );
    assert_eq!(
        query(&logout, "client_id").as_deref(),
        Some(client_id.as_str())
    );

    // The SSO session is gone: a user agent without the password cannot sign in, and the
    // failed attempt changes nothing...
    let error = r
        .session
        .sign_in(&ScriptedAgent::sso_only(r.browser.clone()))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "userAgent", "{error}");
    assert!(error.message().contains("asked for a password"), "{error}");
    assert_eq!(
        r.session.state().await.unwrap().state,
        StateName::Registered
    );
    // ...and with the password it works again, with the same registration.
    let view = r.session.sign_in(&agent).await.unwrap();
    assert_eq!(view.state, StateName::SignedIn);
    assert_eq!(
        r.browser.password_posts(),
        2,
        "the password was asked for again"
    );
    assert_eq!(view.registration.unwrap().client_id, client_id);
    assert_eq!(r.idp.admin_list_clients().await.len(), 1);

    // Forget: RFC 7592 delete on the server, and the entry is gone.
    let view = r.session.forget().await.unwrap();
    assert_eq!(view.state, StateName::Unregistered);
    assert_eq!(view.last_event, Some(Event::Forgotten));
    assert!(r.idp.admin_list_clients().await.is_empty());
    assert!(r.stored().is_none());
}

#[tokio::test]
async fn full_lifecycle_with_full_metadata_registration() {
    lifecycle(Form::Full).await;
}

#[tokio::test]
async fn full_lifecycle_with_templatized_registration() {
    lifecycle(Form::Templatized).await;
}

/// `tokenEndpointAuthMethod: client_secret_post` is registered, and then honoured: the code
/// exchange and the refresh send the credentials in the body, never as Basic.
#[tokio::test]
async fn client_secret_post_is_honoured_when_registered() {
    let r = Rig::start(Form::Full).await;
    let mut config = engine::config_json(&r.idp, Form::Full);
    config["tokenEndpointAuthMethod"] = "client_secret_post".into();
    let config = Config::from_json(&config.to_string()).unwrap();
    let session =
        Session::with_transport(config, r.transport.clone(), Box::new(MemoryStore::new()));

    let view = session.register_and_sign_in(&r.agent()).await.unwrap();
    let client_id = view.registration.unwrap().client_id;
    assert_eq!(session.refresh().await.unwrap().state, StateName::SignedIn);
    let sent: Value =
        serde_json::from_str(r.transport.to("/reg")[0].request_body.as_deref().unwrap()).unwrap();
    assert_eq!(sent["token_endpoint_auth_method"], "client_secret_post");
    let authenticated: Vec<_> = r
        .transport
        .to("/token")
        .into_iter()
        .filter(|e| e.client_id().as_deref() == Some(client_id.as_str()))
        .collect();
    assert_eq!(authenticated.len(), 2, "the sign-in and the refresh");
    for exchange in authenticated {
        assert!(exchange.authorization.is_none(), "{exchange:?}");
        assert!(exchange.form("client_secret").is_some(), "{exchange:?}");
    }
}

/// F3 and F8: concurrent refreshes never send the same refresh token twice (the server would
/// revoke the whole grant: refresh-token reuse detection). Three at once share one token
/// request (single flight) and all succeed; the next refresh sends the token that one rotated in.
#[tokio::test]
async fn concurrent_refreshes_are_serialized() {
    let r = Rig::start(Form::Full).await;
    r.session.register_and_sign_in(&r.agent()).await.unwrap();

    let (a, b, c) = tokio::join!(
        r.session.refresh(),
        r.session.refresh(),
        r.session.refresh()
    );
    for result in [a, b, c] {
        assert_eq!(result.unwrap().state, StateName::SignedIn);
    }
    assert_eq!(
        r.transport.grants("refresh_token").len(),
        1,
        "one shared request"
    );
    assert_eq!(
        r.session.refresh().await.unwrap().state,
        StateName::SignedIn
    );
    let refreshes = r.transport.grants("refresh_token");
    assert_eq!(refreshes.len(), 2);
    let rotated = refreshes[0].response_json().unwrap()["refresh_token"].clone();
    assert_eq!(
        refreshes[1].form("refresh_token").as_deref(),
        rotated.as_str()
    );
}
