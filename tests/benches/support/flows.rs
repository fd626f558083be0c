//! The protocol by hand, as `tests/tests/idp_smoke.rs` does it: plain HTTP to the bundled
//! identity server plus the scripted browser, with none of the engine's checks, discovery,
//! key fetching, keychain or RFC 7592 read. It provides real tokens and registrations to measure
//! the engine on, and the "bare round trips" baseline of the lifecycle bench.

use std::sync::OnceLock;

use dcr_tests::engine::{POST_LOGOUT_URI, REDIRECT_URI, REGISTRATION_CLIENT};
use dcr_tests::{pkce_pair, random_token, Idp, ScriptedBrowser, DEMO_USER};
use serde_json::{json, Value};
use url::Url;

/// A dynamic client's credentials.
pub struct Client {
    pub id: String,
    pub secret: String,
}

/// The token response of a sign-in, and the nonce it was requested with.
pub struct SignedIn {
    pub tokens: Value,
    pub nonce: String,
}

impl SignedIn {
    pub fn get(&self, name: &str) -> &str {
        self.tokens[name]
            .as_str()
            .unwrap_or_else(|| panic!("the token response has no {name}"))
    }
}

/// One client for every call, as a real app keeps one: building a client loads the OS trust
/// store, which would otherwise be timed as part of every round trip of the baseline.
fn http() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("reqwest client")
    })
}

/// The seed's registration request (Curity's tutorial), plus `extra` metadata.
pub fn registration_body(extra: Value) -> Value {
    let mut body = json!({
        "redirect_uris": [REDIRECT_URI],
        "post_logout_redirect_uris": [POST_LOGOUT_URI],
        "application_type": "native",
        "grant_types": ["authorization_code"],
        "scope": "openid profile",
        "token_endpoint_auth_method": "client_secret_basic"
    });
    if let (Some(base), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        base.extend(extra.clone());
    }
    body
}

/// Authorization code flow with PKCE S256 (RFC 7636), then the code exchange. `client` is
/// `None` for the public registration client.
pub async fn sign_in(
    idp: &Idp,
    browser: &ScriptedBrowser,
    client_id: &str,
    client: Option<&Client>,
    scope: &str,
    prompt_login: bool,
) -> SignedIn {
    let (verifier, challenge) = pkce_pair();
    let (state, nonce) = (random_token(16), random_token(16));
    let mut authorize = idp.endpoint("auth");
    authorize.query_pairs_mut().extend_pairs([
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT_URI),
        ("scope", scope),
        ("state", &state),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    if scope.split(' ').any(|s| s == "openid") {
        authorize.query_pairs_mut().append_pair("nonce", &nonce);
    }
    if prompt_login {
        authorize.query_pairs_mut().append_pair("prompt", "login");
    }
    let callback = browser
        .open(authorize, Some(DEMO_USER))
        .await
        .expect("the browser step reaches the app's redirect URI");
    let code = callback
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("the callback carries a code");
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", verifier.as_str()),
    ];
    let mut request = http().post(idp.endpoint("token"));
    match client {
        Some(c) => request = request.basic_auth(&c.id, Some(&c.secret)),
        None => form.push(("client_id", client_id)),
    }
    let response = request.form(&form).send().await.expect("token request");
    assert_eq!(response.status(), 200, "code exchange for {client_id}");
    SignedIn {
        tokens: response.json().await.expect("token response is JSON"),
        nonce,
    }
}

/// The registration login (static public client, scope `dcr`, `prompt=login`): the DCR token.
pub async fn dcr_token(idp: &Idp, browser: &ScriptedBrowser) -> String {
    sign_in(idp, browser, REGISTRATION_CLIENT, None, "dcr", true)
        .await
        .get("access_token")
        .to_owned()
}

/// RFC 7591 §3.1 with the DCR token as Bearer. Returns the whole response.
pub async fn register(idp: &Idp, dcr_token: &str, body: &Value) -> Value {
    let response = http()
        .post(idp.endpoint("reg"))
        .bearer_auth(dcr_token)
        .json(body)
        .send()
        .await
        .expect("registration request");
    assert_eq!(response.status(), 201, "registration");
    response
        .json()
        .await
        .expect("registration response is JSON")
}

pub fn client_of(registration: &Value) -> Client {
    let text = |name: &str| {
        registration[name]
            .as_str()
            .unwrap_or_else(|| panic!("the registration has no {name}"))
            .to_owned()
    };
    Client {
        id: text("client_id"),
        secret: text("client_secret"),
    }
}

/// RFC 6749 §6 with `client_secret_basic`.
pub async fn refresh(idp: &Idp, client: &Client, refresh_token: &str) -> Value {
    let response = http()
        .post(idp.endpoint("token"))
        .basic_auth(&client.id, Some(&client.secret))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .send()
        .await
        .expect("refresh request");
    assert_eq!(response.status(), 200, "refresh");
    response.json().await.expect("refresh response is JSON")
}

/// RP-Initiated Logout 1.0: the end-session page, confirmed, back to the app.
pub async fn logout(idp: &Idp, browser: &ScriptedBrowser, id_token: &str) -> Url {
    let mut url = idp.endpoint("session/end");
    url.query_pairs_mut().extend_pairs([
        ("id_token_hint", id_token),
        ("post_logout_redirect_uri", POST_LOGOUT_URI),
        ("state", &random_token(8)),
    ]);
    browser
        .open(url, None)
        .await
        .expect("logout returns to the app")
}
