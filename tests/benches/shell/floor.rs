//! The floor for "password submit to Home": the identity server's own time for the same
//! first run done with a plain HTTP client (reqwest with a cookie jar, connections kept alive),
//! from the password POST on: the login form's redirects back to the registration callback,
//! the code exchange for the DCR token, the RFC 7591 registration, the SSO authorization
//! request's redirects, and the new client's code exchange. Nothing else: no discovery (the app
//! has it before the form shows), no key set, UserInfo or ID-token checks, no store, no window.

use std::time::{Duration, Instant};

use dcr_tests::flows::{self, code_of, exchange, AuthorizeRequest, REGISTRATION_CLIENT};
use dcr_tests::{Idp, ScriptedBrowser, DEMO_USER};
use reqwest::redirect::Policy;
use serde_json::json;
use url::Url;

pub struct Floor {
    /// The two browser legs: password POST to the registration callback, and the SSO request
    /// to its callback.
    pub redirects: Duration,
    /// Everything from the password POST to the second token response.
    pub total: Duration,
}

/// The authorization request's URL and its PKCE verifier (no browser step yet).
fn authorize_url(idp: &Idp, client_id: &str, scope: &str, prompt_login: bool) -> (Url, String) {
    let request = flows::request_url(
        idp,
        &AuthorizeRequest {
            client_id,
            scope,
            prompt_login,
            credentials: None,
            extra: &[],
        },
    );
    (request.url, request.verifier)
}

/// One first run by hand; the clock starts at the password POST.
pub async fn first_run(idp: &Idp) -> Floor {
    let browser = ScriptedBrowser::new();
    let http = reqwest::Client::builder()
        .cookie_provider(browser.jar())
        .redirect(Policy::none())
        .no_proxy()
        .build()
        .expect("an HTTP client");
    let (authorize, verifier) = authorize_url(idp, REGISTRATION_CLIENT, "dcr", true);
    // Up to the login form (untimed): /auth redirects to the interaction page, which is loaded.
    let interaction = browser
        .open_until(authorize, None, |_| true)
        .await
        .expect("the authorization request redirects to the login page");
    let page = http
        .get(interaction.clone())
        .send()
        .await
        .expect("login page");
    assert_eq!(page.status(), 200, "the login page");
    let _ = page.text().await;
    let mut login = interaction.clone();
    login.set_path(&format!("{}/login", interaction.path()));

    let started = Instant::now();
    let response = http
        .post(login)
        .form(&[("login", DEMO_USER.0), ("password", DEMO_USER.1)])
        .send()
        .await
        .expect("password POST");
    let resume = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| interaction.join(v).ok())
        .expect("the password POST redirects");
    let callback = browser.open(resume, None).await.expect("back to the app");
    let mut redirects = started.elapsed();

    let dcr = exchange(&http, idp, &code_of(&callback), &verifier, None).await;
    let token = dcr["access_token"].as_str().expect("a DCR token");
    let body = flows::registration_body(json!({}));
    let registration = flows::register(&http, idp, token, &body).await;
    let client = flows::client_of(&registration);

    let (authorize, verifier) = authorize_url(idp, &client.id, "openid profile", false);
    let sso = Instant::now();
    let callback = browser
        .open(authorize, None)
        .await
        .expect("SSO without a password");
    redirects += sso.elapsed();
    exchange(&http, idp, &code_of(&callback), &verifier, Some(&client)).await;
    assert_eq!(
        browser.password_posts(),
        0,
        "the password went in by hand, once"
    );
    Floor {
        redirects,
        total: started.elapsed(),
    }
}
