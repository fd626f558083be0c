//! The identity server's protocol driven by hand (no engine): the authorization request through
//! the scripted browser, the code exchange, RFC 7591 registration, refresh and logout, and a
//! device's key-bound token requests ([`Device`]), with none of the engine's checks, discovery,
//! keychain or RFC 7592 read. Tests that check the server itself
//! (`tests/tests/engine/idp_smoke.rs`, `idp_device_bound.rs`) build on these; the benches use them
//! for real tokens and registrations and as the "bare round trips" baseline.

use std::collections::HashMap;

use dcr_core::device::key::DeviceKey;
use dcr_core::protocol::token::ClientAssertionSigner;
use dcr_core::Secret;

use serde_json::{json, Value};
use url::Url;

use crate::{pkce_pair, random_token, BrowserError, Idp, ScriptedBrowser, DEMO_USER};
use reqwest::StatusCode;

pub use crate::engine::{POST_LOGOUT_URI, REDIRECT_URI, REGISTRATION_CLIENT};

/// A back-channel client that, like the engine's, never follows redirects. A new one per call:
/// its pooled connections belong to the runtime that opened them, and each test has its own.
/// The benches, on one runtime, keep one for every call and pass it in.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

/// Sends `request` and returns the status and the JSON body (`Value::Null` when there is none),
/// for the tests that check a refusal as closely as a success.
pub async fn answer(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The JSON body of an [`answer`] that must have the `expected` status.
fn expect_status((status, body): (StatusCode, Value), expected: u16, what: &str) -> Value {
    assert_eq!(status, expected, "{what}");
    assert!(body.is_object(), "{what} response is JSON");
    body
}

/// One authorization request.
pub struct AuthorizeRequest<'a> {
    pub client_id: &'a str,
    pub scope: &'a str,
    pub prompt_login: bool,
    pub credentials: Option<(&'a str, &'a str)>,
    /// Extra parameters, e.g. `dpop_jkt`.
    pub extra: &'a [(&'a str, &'a str)],
}

/// An authorization request's URL (RFC 6749 §4.1.1 with PKCE S256, RFC 7636 §4.3), and the
/// values its callback and code exchange are checked with.
pub struct RequestUrl {
    pub url: Url,
    pub state: String,
    pub verifier: String,
    pub nonce: String,
}

/// Builds the authorization request's URL (no browser step yet).
pub fn request_url(idp: &Idp, request: &AuthorizeRequest<'_>) -> RequestUrl {
    let (verifier, challenge) = pkce_pair();
    let state = random_token(16);
    let nonce = random_token(16);
    let mut url = idp.endpoint("auth");
    url.query_pairs_mut().extend_pairs([
        ("response_type", "code"),
        ("client_id", request.client_id),
        ("redirect_uri", REDIRECT_URI),
        ("scope", request.scope),
        ("state", &state),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    if request.scope.split(' ').any(|s| s == "openid") {
        // OIDC Core §3.1.2.1: `nonce` is OpenID Connect only; oidc-provider rejects it on a
        // plain OAuth request (the registration login's scope is `dcr`).
        url.query_pairs_mut().append_pair("nonce", &nonce);
    }
    if request.prompt_login {
        url.query_pairs_mut().append_pair("prompt", "login");
    }
    url.query_pairs_mut().extend_pairs(request.extra);
    RequestUrl {
        url,
        state,
        verifier,
        nonce,
    }
}

/// The `code` of an authorization response (RFC 6749 §4.1.2).
pub fn code_of(callback: &Url) -> String {
    callback
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("the callback carries a code")
}

/// What came back: the code, and what the token request and ID-token check need.
pub struct Authorized {
    pub code: String,
    pub verifier: String,
    pub nonce: String,
}

/// Runs the authorization request through the scripted browser and checks the callback: our
/// redirect URI, the echoed `state` (RFC 6749 §4.1.2) and the issuer (RFC 9207 §2).
pub async fn authorize(
    idp: &Idp,
    browser: &ScriptedBrowser,
    request: AuthorizeRequest<'_>,
) -> Result<Authorized, BrowserError> {
    let RequestUrl {
        url,
        state,
        verifier,
        nonce,
    } = request_url(idp, &request);
    let callback = browser.open(url, request.credentials).await?;
    assert_eq!(
        callback.scheme(),
        "io.curity.dcrclient",
        "stopped at the app's redirect URI"
    );
    assert_eq!(callback.path(), "/callback");
    let params: HashMap<String, String> = callback.query_pairs().into_owned().collect();
    assert_eq!(params.get("state"), Some(&state), "state is echoed");
    assert_eq!(
        params.get("iss").map(String::as_str),
        Some(idp.issuer.as_str())
    );
    Ok(Authorized {
        code: code_of(&callback),
        verifier,
        nonce,
    })
}

/// A dynamic client's credentials.
pub struct Client {
    pub id: String,
    pub secret: String,
}

/// The code exchange (RFC 6749 §4.1.3, with the PKCE verifier): as `client` with
/// `client_secret_basic`, or as the public registration client when `None`.
pub async fn exchange(
    http: &reqwest::Client,
    idp: &Idp,
    code: &str,
    verifier: &str,
    client: Option<&Client>,
) -> Value {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", verifier),
    ];
    let mut request = http.post(idp.endpoint("token"));
    match client {
        Some(c) => request = request.basic_auth(&c.id, Some(&c.secret)),
        None => form.push(("client_id", REGISTRATION_CLIENT)),
    }
    let response = request
        .form(&form)
        .send()
        .await
        .expect("the token endpoint answers");
    let client_id = client.map_or(REGISTRATION_CLIENT, |c| c.id.as_str());
    assert_eq!(response.status(), 200, "code exchange for {client_id}");
    response.json().await.expect("a JSON token response")
}

/// Logs in with the static client (scope `dcr`, prompt=login) and returns the token response
/// that carries the DCR access token.
pub async fn dcr_token_response(idp: &Idp, browser: &ScriptedBrowser) -> Value {
    sign_in(&http(), idp, browser, None, "dcr", true)
        .await
        .tokens
}

/// The registration login's DCR access token.
pub async fn dcr_token(http: &reqwest::Client, idp: &Idp, browser: &ScriptedBrowser) -> String {
    sign_in(http, idp, browser, None, "dcr", true)
        .await
        .get("access_token")
        .to_owned()
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

/// Authorization code flow with PKCE S256 (RFC 7636) as the demo user, then the code exchange.
/// `client` is `None` for the public registration client.
pub async fn sign_in(
    http: &reqwest::Client,
    idp: &Idp,
    browser: &ScriptedBrowser,
    client: Option<&Client>,
    scope: &str,
    prompt_login: bool,
) -> SignedIn {
    let login = Login {
        client,
        scope,
        prompt_login,
        credentials: Some(DEMO_USER),
    };
    try_sign_in(http, idp, browser, login)
        .await
        .expect("the browser step reaches the app's redirect URI")
}

/// What a sign-in asks for. `client` is `None` for the public registration client.
pub struct Login<'a> {
    pub client: Option<&'a Client>,
    pub scope: &'a str,
    pub prompt_login: bool,
    /// What the login form gets if it shows (`None`: SSO only).
    pub credentials: Option<(&'a str, &'a str)>,
}

/// Like [`sign_in`], for any [`Login`], with the browser's failure when the login does not
/// reach the app.
pub async fn try_sign_in(
    http: &reqwest::Client,
    idp: &Idp,
    browser: &ScriptedBrowser,
    login: Login<'_>,
) -> Result<SignedIn, BrowserError> {
    let request = AuthorizeRequest {
        client_id: login.client.map_or(REGISTRATION_CLIENT, |c| c.id.as_str()),
        scope: login.scope,
        prompt_login: login.prompt_login,
        credentials: login.credentials,
        extra: &[],
    };
    let authorized = authorize(idp, browser, request).await?;
    let (code, verifier) = (&authorized.code, &authorized.verifier);
    Ok(SignedIn {
        tokens: exchange(http, idp, code, verifier, login.client).await,
        nonce: authorized.nonce,
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

/// RFC 7591 §3.1 with the DCR token as Bearer. Returns the whole response.
pub async fn register(http: &reqwest::Client, idp: &Idp, dcr_token: &str, body: &Value) -> Value {
    expect_status(
        try_register(http, idp, Some(dcr_token), body).await,
        201,
        "registration",
    )
}

/// An RFC 7591 §3.1 request with `bearer` as the initial access token, if any: the status and
/// the JSON answer, a refusal included.
pub async fn try_register(
    http: &reqwest::Client,
    idp: &Idp,
    bearer: Option<&str>,
    body: &Value,
) -> (StatusCode, Value) {
    let mut request = http.post(idp.endpoint("reg")).json(body);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    answer(request).await
}

/// The client id and secret of a registration response (RFC 7591 §3.2.1).
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
pub async fn refresh(
    http: &reqwest::Client,
    idp: &Idp,
    client: &Client,
    refresh_token: &str,
) -> Value {
    expect_status(
        try_refresh(http, idp, client, refresh_token).await,
        200,
        "refresh",
    )
}

/// The refresh request of [`refresh`]: the status and the JSON answer, a refusal included.
pub async fn try_refresh(
    http: &reqwest::Client,
    idp: &Idp,
    client: &Client,
    refresh_token: &str,
) -> (StatusCode, Value) {
    let request = http
        .post(idp.endpoint("token"))
        .basic_auth(&client.id, Some(&client.secret))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ]);
    answer(request).await
}

/// RP-Initiated Logout 1.0 §2: the end-session page, confirmed, back to the app.
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

/// Seconds since the Unix epoch, for the `iat` of assertions and proofs.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

/// A device's side of the conversation with the token and UserInfo endpoints: its key (RFC 7523
/// client assertions, RFC 9449 DPoP proofs), its client, and the server's DPoP nonce.
pub struct Device<'a> {
    pub idp: &'a Idp,
    pub key: &'a DeviceKey,
    pub client_id: String,
    pub nonce: Option<String>,
    /// How often the server asked for a nonce (`use_dpop_nonce`, RFC 9449 §8).
    pub nonce_retries: usize,
}

impl<'a> Device<'a> {
    /// `client_id` as this device, with `key` and no DPoP nonce yet.
    pub fn new(idp: &'a Idp, key: &'a DeviceKey, client_id: &str) -> Self {
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
    pub async fn token_request(&mut self, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let endpoint = self.idp.endpoint("token");
        for attempt in 0..2 {
            let assertion = self
                .key
                .client_assertion(&self.client_id, self.idp.issuer.as_str(), now())
                .expect("the device key signs");
            let proof = self
                .key
                .dpop_proof("POST", &endpoint, now(), None, self.nonce.as_deref())
                .expect("the device key signs");
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
                .expect("the server answers");
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
    pub async fn refresh(&mut self, refresh_token: &str) -> (StatusCode, Value) {
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    /// UserInfo with a DPoP-bound access token (RFC 9449 §7.1), one nonce retry.
    pub async fn userinfo(&mut self, access_token: &str) -> StatusCode {
        let endpoint = self.idp.endpoint("me");
        let token = Secret::new(access_token);
        for attempt in 0..2 {
            let proof = self
                .key
                .dpop_proof("GET", &endpoint, now(), Some(&token), self.nonce.as_deref())
                .expect("the device key signs");
            let response = http()
                .get(endpoint.clone())
                .header("Authorization", format!("DPoP {access_token}"))
                .header("DPoP", proof.expose())
                .send()
                .await
                .expect("the server answers");
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
