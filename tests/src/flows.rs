//! The identity server's protocol driven by hand (no engine): the authorization request through
//! the scripted browser, and the DCR token. Tests that check the server itself (`idp_smoke.rs`,
//! `idp_device_bound.rs`) build on these, and do their own token requests.

use std::collections::HashMap;

use serde_json::Value;

use crate::{pkce_pair, random_token, BrowserError, Idp, ScriptedBrowser, DEMO_USER};

pub const REGISTRATION_CLIENT: &str = "mobile-dcr-client";
pub const REDIRECT_URI: &str = "io.curity.dcrclient:/callback";
pub const POST_LOGOUT_URI: &str = "io.curity.dcrclient:/logoutcallback";

/// A back-channel client that, like the engine's, never follows redirects.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
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
        // `nonce` is OpenID Connect only; oidc-provider rejects it on a plain OAuth request.
        url.query_pairs_mut().append_pair("nonce", &nonce);
    }
    if request.prompt_login {
        url.query_pairs_mut().append_pair("prompt", "login");
    }
    url.query_pairs_mut().extend_pairs(request.extra);

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
    let code = params.get("code").expect("the callback carries a code");
    Ok(Authorized {
        code: code.clone(),
        verifier,
        nonce,
    })
}

/// Logs in with the static client (scope `dcr`, prompt=login) and returns the token response
/// that carries the DCR access token.
pub async fn dcr_token_response(idp: &Idp, browser: &ScriptedBrowser) -> Value {
    let authorized = authorize(
        idp,
        browser,
        AuthorizeRequest {
            client_id: REGISTRATION_CLIENT,
            scope: "dcr",
            prompt_login: true,
            credentials: Some(DEMO_USER),
            extra: &[],
        },
    )
    .await
    .expect("login with the registration client");
    let response = http()
        .post(idp.endpoint("token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", authorized.code.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", authorized.verifier.as_str()),
            ("client_id", REGISTRATION_CLIENT),
        ])
        .send()
        .await
        .expect("the token endpoint answers");
    assert_eq!(response.status(), 200, "DCR token exchange");
    response.json().await.expect("a JSON token response")
}
