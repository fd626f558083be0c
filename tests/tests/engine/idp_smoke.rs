//! Smoke tests of the bundled identity server, against the real server (no mocks): discovery,
//! authenticated registration (RFC 7591) with a `dcr` access token, templatized registration,
//! SSO sign-in with the new client, refresh-token rotation, logout and admin revocation, and the
//! registration access token rotated on every RFC 7592 call (`IDP_ROTATE_REGISTRATION_TOKEN`).

use std::time::Duration;

use dcr_tests::flows::{
    answer, client_of, http, registration_body, try_refresh, try_register, try_sign_in, Client,
    Login, SignedIn, POST_LOGOUT_URI, REDIRECT_URI, REGISTRATION_CLIENT,
};
use dcr_tests::{
    jwt_claims, random_token, BrowserError, Idp, IdpOptions, ScriptedBrowser, DEMO_USER,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

const TEMPLATE_CLIENT: &str = "mobile-dcr-template-client";

/// The registration request from Curity's tutorial (non-templatized DCR).
fn seed_registration_body() -> Value {
    registration_body(json!({}))
}

/// Runs an authorization request through the scripted browser and exchanges the code, and
/// checks the ID token of an OpenID request (OIDC Core §3.1.3.7).
async fn sign_in(
    idp: &Idp,
    browser: &ScriptedBrowser,
    login: Login<'_>,
) -> Result<SignedIn, BrowserError> {
    let (client, openid) = (login.client, login.scope.split(' ').any(|s| s == "openid"));
    let tokens = try_sign_in(&http(), idp, browser, login).await?;
    if openid {
        let claims = jwt_claims(tokens.get("id_token"));
        assert_eq!(claims["iss"], idp.issuer.as_str());
        assert_eq!(
            claims["aud"],
            client.map_or(REGISTRATION_CLIENT, |c| c.id.as_str())
        );
        assert_eq!(claims["nonce"], tokens.nonce.as_str());
        assert_eq!(claims["sub"], "demouser");
    }
    Ok(tokens)
}

/// A sign-in with a dynamic client (`openid profile`, no `prompt=login`): SSO answers unless
/// the session has ended, and then the form gets `credentials`.
async fn client_sign_in(
    idp: &Idp,
    browser: &ScriptedBrowser,
    client: &Client,
    credentials: Option<(&str, &str)>,
) -> Result<SignedIn, BrowserError> {
    let login = Login {
        client: Some(client),
        scope: "openid profile",
        prompt_login: false,
        credentials,
    };
    sign_in(idp, browser, login).await
}

/// Logs in with the static client (scope `dcr`, prompt=login) and returns the DCR access token.
async fn dcr_token(idp: &Idp, browser: &ScriptedBrowser) -> String {
    let login = Login {
        client: None,
        scope: "dcr",
        prompt_login: true,
        credentials: Some(DEMO_USER),
    };
    let tokens = sign_in(idp, browser, login)
        .await
        .expect("the registration login reaches the app");
    assert_eq!(tokens.get("scope"), "dcr");
    assert_eq!(tokens.tokens["token_type"], "Bearer");
    assert!(
        tokens.tokens.get("refresh_token").is_none(),
        "the registration client gets no refresh token"
    );
    assert!(
        tokens.tokens.get("id_token").is_none(),
        "a plain OAuth request gets no ID token"
    );
    tokens.get("access_token").to_string()
}

/// A server started with `options`, and a DCR access token from it.
async fn dcr_token_from(options: IdpOptions) -> (Idp, String) {
    let idp = Idp::start_with(options).await;
    let dcr = dcr_token(&idp, &ScriptedBrowser::new()).await;
    (idp, dcr)
}

async fn register(idp: &Idp, bearer: Option<&str>, body: &Value) -> (StatusCode, Value) {
    try_register(&http(), idp, bearer, body).await
}

async fn refresh(idp: &Idp, client: &Client, refresh_token: &str) -> (StatusCode, Value) {
    try_refresh(&http(), idp, client, refresh_token).await
}

#[tokio::test]
async fn discovery_and_registration_without_a_valid_token() {
    let idp = Idp::start().await;
    let (_, discovery) = answer(http().get(idp.endpoint(".well-known/openid-configuration"))).await;
    assert_eq!(discovery["issuer"], idp.issuer.as_str());
    for endpoint in [
        "registration_endpoint",
        "end_session_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
    ] {
        let url = discovery[endpoint]
            .as_str()
            .unwrap_or_else(|| panic!("{endpoint} missing"));
        assert!(
            url.starts_with(idp.issuer.as_str()),
            "{endpoint} lives under the issuer"
        );
    }
    assert_eq!(
        discovery["authorization_response_iss_parameter_supported"],
        true
    );

    for bearer in [None, Some("garbage")] {
        let (status, body) = register(&idp, bearer, &seed_registration_body()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "bearer {bearer:?}");
        assert_eq!(body["error"], "invalid_token", "bearer {bearer:?}");
    }
    // RFC 6750 §3.1: a malformed Authorization header is a bad request, not a bad token.
    let (status, body) = register(&idp, Some(""), &seed_registration_body()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
}

#[tokio::test]
async fn register_sign_in_with_sso_refresh_and_revoke() {
    let idp = Idp::start().await;
    let browser = ScriptedBrowser::new();

    // A wrong password re-renders the form with an error; nothing is issued.
    let login = Login {
        client: None,
        scope: "dcr",
        prompt_login: true,
        credentials: Some(("demouser", "nope")),
    };
    let wrong = sign_in(&idp, &browser, login).await;
    match wrong {
        Err(BrowserError::LoginFailed { message }) => {
            assert_eq!(message, "Invalid username or password.")
        }
        other => panic!("expected LoginFailed, got {:?}", other.map(|_| ())),
    }

    let dcr = dcr_token(&idp, &browser).await;
    assert_eq!(
        browser.password_posts(),
        2,
        "one wrong and one right password"
    );

    // Non-templatized DCR with the tutorial's body.
    let (status, seeded) = register(&idp, Some(&dcr), &seed_registration_body()).await;
    assert_eq!(status, StatusCode::CREATED, "{seeded}");
    let client = client_of(&seeded);
    assert_eq!(
        seeded["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(seeded["scope"], "openid profile");
    assert_eq!(seeded["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(seeded["client_secret_expires_at"], 0);

    // RFC 7592 §2.1: the registration access token reads the client back.
    let read = http()
        .get(seeded["registration_client_uri"].as_str().unwrap())
        .bearer_auth(seeded["registration_access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    let read: Value = read.json().await.unwrap();
    assert_eq!(read["client_id"], client.id.as_str());
    // By default only an update rotates the registration access token, not a read.
    assert!(
        read["registration_access_token"] == seeded["registration_access_token"],
        "a read kept the registration access token"
    );

    // Templatized DCR copies the template's metadata into a new client.
    let (status, templated) =
        register(&idp, Some(&dcr), &json!({"software_id": TEMPLATE_CLIENT})).await;
    assert_eq!(status, StatusCode::CREATED, "{templated}");
    let template_client = client_of(&templated);
    assert_ne!(template_client.id, client.id);
    assert_eq!(templated["software_id"], TEMPLATE_CLIENT);
    // The template lists the private-use scheme and the port-less loopback redirects (RFC 8252
    // §7.3), so a templatized registration works in either user-agent mode.
    assert_eq!(
        templated["redirect_uris"],
        json!([REDIRECT_URI, "http://127.0.0.1/callback"])
    );
    assert_eq!(
        templated["post_logout_redirect_uris"],
        json!([POST_LOGOUT_URI, "http://127.0.0.1/logoutcallback"])
    );
    assert_eq!(templated["scope"], "openid profile");
    let (status, body) = register(
        &idp,
        Some(&dcr),
        &json!({"software_id": "no-such-template"}),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_client_metadata"))
    );

    // Sign in with the new client: SSO, no second password.
    let tokens = client_sign_in(&idp, &browser, &client, None)
        .await
        .expect("SSO sign-in with the dynamic client");
    assert_eq!(browser.password_posts(), 2, "SSO asked for no password");
    assert_eq!(jwt_claims(tokens.get("id_token"))["name"], "Demo User");
    let (_, userinfo) = answer(
        http()
            .get(idp.endpoint("me"))
            .bearer_auth(tokens.get("access_token")),
    )
    .await;
    assert_eq!(userinfo["sub"], "demouser");
    assert_eq!(userinfo["preferred_username"], "demouser");

    // An access token without the dcr scope cannot register.
    let (status, body) = register(
        &idp,
        Some(tokens.get("access_token")),
        &seed_registration_body(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_token"))
    );

    // Refresh works and rotates.
    let first = tokens.get("refresh_token").to_string();
    let (status, refreshed) = refresh(&idp, &client, &first).await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    let second = refreshed["refresh_token"]
        .as_str()
        .expect("a rotated refresh token")
        .to_string();
    assert_ne!(second, first);
    assert!(refreshed["id_token"].is_string());
    let (status, refreshed) = refresh(&idp, &client, &second).await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    let third = refreshed["refresh_token"].as_str().unwrap().to_string();

    // Replaying a rotated refresh token revokes the whole grant (tried on the template client).
    let tokens = client_sign_in(&idp, &browser, &template_client, None)
        .await
        .expect("SSO sign-in with the templatized client");
    let old = tokens.get("refresh_token");
    let (status, rotated) = refresh(&idp, &template_client, old).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = refresh(&idp, &template_client, old).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let (status, body) = refresh(
        &idp,
        &template_client,
        rotated["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );

    // The admin API lists both dynamic clients and revokes one.
    let listed = idp.admin_list_clients().await;
    let ids: Vec<&str> = listed.iter().map(|c| c.client_id.as_str()).collect();
    assert_eq!(ids, [client.id.as_str(), template_client.id.as_str()]);
    assert_eq!(listed[1].software_id.as_deref(), Some(TEMPLATE_CLIENT));
    assert!(idp.admin_delete_client(&client.id).await);
    assert!(!idp.admin_delete_client(&client.id).await, "already gone");
    let (status, body) = refresh(&idp, &client, &third).await;
    assert_eq!(body["error"], "invalid_client", "{status}");
    assert!(matches!(
        status,
        StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED
    ));
    assert_eq!(idp.admin_list_clients().await.len(), 1);

    // prompt=login shows the form even though an SSO session exists.
    dcr_token(&idp, &browser).await;
    assert_eq!(
        browser.password_posts(),
        3,
        "prompt=login asked for the password again"
    );
}

#[tokio::test]
async fn logout_ends_the_sso_session() {
    let idp = Idp::start().await;
    let browser = ScriptedBrowser::new();
    let dcr = dcr_token(&idp, &browser).await;
    let (_, registration) =
        register(&idp, Some(&dcr), &json!({"software_id": TEMPLATE_CLIENT})).await;
    let client = client_of(&registration);
    let tokens = client_sign_in(&idp, &browser, &client, None)
        .await
        .expect("SSO sign-in");

    // RP-Initiated Logout 1.0 §2–3: confirm, then back to the app with state.
    let state = random_token(8);
    let mut logout = idp.endpoint("session/end");
    logout.query_pairs_mut().extend_pairs([
        ("id_token_hint", tokens.get("id_token")),
        ("post_logout_redirect_uri", POST_LOGOUT_URI),
        ("state", &state),
    ]);
    let back = browser
        .open(logout, None)
        .await
        .expect("logout returns to the app");
    assert_eq!(back.as_str(), format!("{POST_LOGOUT_URI}?state={state}"));

    // Tokens issued without offline_access die with the session.
    let (status, body) = refresh(&idp, &client, tokens.get("refresh_token")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );

    // The next sign-in, even without prompt=login, needs the password again.
    let again = client_sign_in(&idp, &browser, &client, None).await;
    assert!(
        matches!(again, Err(BrowserError::LoginRequired)),
        "{:?}",
        again.map(|_| ())
    );
    client_sign_in(&idp, &browser, &client, Some(DEMO_USER))
        .await
        .expect("sign-in with the password after logout");
}

#[tokio::test]
async fn an_expired_dcr_token_cannot_register() {
    let (idp, dcr) = dcr_token_from(IdpOptions {
        dcr_token_ttl: Some(1),
        ..IdpOptions::default()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (status, body) = register(&idp, Some(&dcr), &seed_registration_body()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_token"))
    );
}

#[tokio::test]
async fn client_secret_lifetime_is_reported() {
    let (idp, dcr) = dcr_token_from(IdpOptions {
        client_secret_ttl: Some(3600),
        ..IdpOptions::default()
    })
    .await;
    let (status, body) = register(&idp, Some(&dcr), &seed_registration_body()).await;
    assert_eq!(status, StatusCode::CREATED);
    let issued = body["client_id_issued_at"].as_u64().unwrap();
    let expires = body["client_secret_expires_at"].as_u64().unwrap();
    assert!(
        (3599..=3601).contains(&(expires - issued)),
        "expires {expires}, issued {issued}"
    );
}

/// One RFC 7592 request to the client configuration endpoint with a registration access token:
/// the status, the `error` of a refusal, and the JSON body (`Value::Null` when there is none).
async fn manage(
    method: reqwest::Method,
    uri: &str,
    token: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut request = http().request(method, uri).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(body);
    }
    answer(request).await
}

fn registration_access_token(body: &Value) -> String {
    body["registration_access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no registration_access_token in {body}"))
        .to_owned()
}

/// `IDP_ROTATE_REGISTRATION_TOKEN=1`, as Keycloak behaves (RFC 7592 §3 allows a new token in any
/// answer): every read and every update answers with a new registration access token, the one
/// the request used then gets 401 `invalid_token` (RFC 6750 §3.1), and the new one works. The
/// rotated tokens are in the server's record of issued secrets, for the leak tests.
#[tokio::test]
async fn registration_access_token_rotates_on_every_call() {
    let (idp, dcr) = dcr_token_from(IdpOptions {
        rotate_registration_token: true,
        ..IdpOptions::default()
    })
    .await;
    let (status, registered) = register(&idp, Some(&dcr), &seed_registration_body()).await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    let client = client_of(&registered);
    let uri = registered["registration_client_uri"].as_str().unwrap();
    let issued = registration_access_token(&registered);

    // Two reads: each answers with the client and a new token, and retires the one it used.
    let mut current = issued;
    for read in 1..=2 {
        let (status, body) = manage(reqwest::Method::GET, uri, &current, None).await;
        assert_eq!(status, StatusCode::OK, "read {read}: {body}");
        assert_eq!(body["client_id"], client.id.as_str(), "read {read}");
        assert_eq!(body["registration_client_uri"], uri, "read {read}");
        let rotated = registration_access_token(&body);
        // assert! rather than assert_ne!: a failure must not print the tokens.
        assert!(rotated != current, "read {read} rotated the token");
        let (status, body) = manage(reqwest::Method::GET, uri, &current, None).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_token")),
            "read {read}: the old token is dead"
        );
        current = rotated;
    }

    // An update (RFC 7592 §2.2: the whole metadata, without the fields the server sets) rotates
    // it too.
    let (_, mut metadata) = manage(reqwest::Method::GET, uri, &current, None).await;
    let read_token = registration_access_token(&metadata);
    let object = metadata.as_object_mut().unwrap();
    for field in [
        "registration_access_token",
        "registration_client_uri",
        "client_secret_expires_at",
        "client_id_issued_at",
    ] {
        object.remove(field);
    }
    let (status, updated) = manage(reqwest::Method::PUT, uri, &read_token, Some(&metadata)).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    let after_update = registration_access_token(&updated);
    assert!(after_update != read_token, "the update rotated the token");
    let (status, _) = manage(reqwest::Method::GET, uri, &read_token, None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the token the update used"
    );

    let recorded: Vec<String> = idp
        .admin_issued_secrets_by_kind()
        .await
        .into_iter()
        .filter(|secret| secret.kind == "registration_access_token")
        .map(|secret| secret.value)
        .collect();
    assert_eq!(recorded.len(), 5, "issued, three reads, one update");
    assert!(
        recorded.last() == Some(&after_update),
        "the last one recorded is the update's"
    );

    // The latest token still manages the client: it deletes it (RFC 7592 §2.3).
    let (status, _) = manage(reqwest::Method::DELETE, uri, &after_update, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(idp.admin_list_clients().await.is_empty());
}
