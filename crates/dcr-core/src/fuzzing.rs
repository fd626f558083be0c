//! Entry points for the cargo-fuzz targets in `fuzz/` (cargo feature `fuzzing`, never on in a
//! shipped build). Each one turns the fuzzer's bytes into what the session would hand the pure
//! `*_response` check of one protocol step, and calls that check: the code under test is the
//! engine's own, unchanged. Only two things here reach inside the crate: a
//! [`PendingAuthorization`] with a known `state` (the fuzzer cannot guess a random one, so it would
//! never get past the state check), and the ID-token claims checks on a payload whose signature
//! the fuzzer cannot forge ([`id_token::verified_claims`]).
//!
//! Inputs are text with a few header lines before the response body, so seeds captured from the
//! bundled identity server stay readable and the fuzzer can vary the context (status, issuer,
//! expected client) as well as the body. The header layout of each target is in its doc comment;
//! `fuzz/corpus/<target>/` holds real examples.
//!
//! Every result is also turned into the [`Error`] a shell would see, with its kind and message,
//! so the error paths (which echo server text through `sanitize`) run too.

use crate::config::{Config, Issuer, RedirectUri, TokenEndpointAuthMethod};
use crate::platform::http::CappedResponse;
use crate::protocol::authorize::{PendingAuthorization, PkceVerifier};
use crate::protocol::callback::{check_callback, parse_callback_url};
use crate::protocol::discovery::discovery_response;
use crate::protocol::id_token::{self, jwks_response, verify_id_token, IdTokenExpectations};
use crate::protocol::registration::{read_response, registration_response, RegistrationBody};
use crate::protocol::token::{token_response_for, MAX_EXPIRES_IN};
use crate::{Error, Secret};

/// The redirect URI of the tutorial's `config.json`, which the captured responses name.
pub const REDIRECT_URI: &str = "io.curity.dcrclient:/callback";
const POST_LOGOUT_URI: &str = "io.curity.dcrclient:/logoutcallback";
/// A fixed "now" for the registration checks: secret expiry is judged against it.
const REGISTRATION_NOW: i64 = 1_700_000_000;

/// Splits `N` header lines (UTF-8, `\n`-terminated) off the front; the rest is the body.
fn header<const N: usize>(input: &[u8]) -> Option<([&str; N], &[u8])> {
    let mut rest = input;
    let mut lines = [""; N];
    for line in &mut lines {
        let end = rest.iter().position(|&b| b == b'\n')?;
        *line = std::str::from_utf8(&rest[..end]).ok()?;
        rest = &rest[end + 1..];
    }
    Some((lines, rest))
}

fn response(status: &str, body: &[u8]) -> Option<CappedResponse> {
    Some(CappedResponse {
        status: status.trim().parse().ok()?,
        content_type: Some("application/json".into()),
        body: body.to_vec(),
        ..CappedResponse::default()
    })
}

/// What a shell would do with a failure: its kind and its display message.
fn report(error: impl Into<Error>) {
    let error = error.into();
    let _ = error.kind();
    let message = error.message();
    assert!(!message.chars().any(char::is_control));
}

/// `callback`: `state\nissuer\niss_required (0|1)\nredirect_uri\n` then the URL the browser
/// ended on (what a user pastes or a deep link delivers).
pub fn callback(input: &[u8]) {
    let Some(([state, issuer, iss_required, redirect], url)) = header::<4>(input) else {
        return;
    };
    let (Ok(url), Ok(redirect_uri)) = (std::str::from_utf8(url), RedirectUri::parse(redirect))
    else {
        return;
    };
    let pending = PendingAuthorization {
        state: Secret::new(state.to_owned()),
        nonce: Secret::new("fuzz-nonce".to_owned()),
        verifier: PkceVerifier(Secret::new("fuzz-verifier".to_owned())),
        client_id: "fuzz-client".to_owned(),
        redirect_uri,
        issuer: issuer.to_owned(),
        iss_required: iss_required == "1",
    };
    match parse_callback_url(url).and_then(|url| check_callback(&url, &pending)) {
        Ok(code) => assert!(!code.0.expose().is_empty()),
        Err(error) => report(error),
    }
}

/// `token`: `status\n` then the token endpoint's body, checked as the code exchange (ID token
/// required), as the DCR login or a refresh, and as a DPoP-bound exchange.
pub fn token(input: &[u8]) {
    let Some(([status], body)) = header::<1>(input) else {
        return;
    };
    for (expect_id_token, dpop) in [(true, false), (false, false), (true, true)] {
        let Some(resp) = response(status, body) else {
            return;
        };
        match token_response_for(resp, expect_id_token, dpop) {
            Ok(tokens) => {
                assert!(!tokens.access_token.expose().is_empty());
                assert!(!expect_id_token || tokens.id_token.is_some());
                assert!(tokens.expires_in.is_none_or(|s| s <= MAX_EXPIRES_IN));
            }
            Err(error) => report(error),
        }
    }
}

fn registration_bodies() -> [RegistrationBody; 3] {
    [
        RegistrationBody::full(
            REDIRECT_URI,
            POST_LOGOUT_URI,
            "openid profile",
            TokenEndpointAuthMethod::ClientSecretBasic,
        ),
        RegistrationBody::full(
            REDIRECT_URI,
            POST_LOGOUT_URI,
            "openid profile",
            TokenEndpointAuthMethod::ClientSecretPost,
        ),
        // The bundled server's template serves the app's scheme and its loopback form.
        RegistrationBody::templatized("mobile-dcr-template-client")
            .with_app_redirect_uris([REDIRECT_URI, "http://127.0.0.1/callback"]),
    ]
}

/// `registration`: `status\n` then the RFC 7591 §3.2 response, checked against the full
/// (basic and post) and the templatized request bodies.
pub fn registration(input: &[u8]) {
    let Some(([status], body)) = header::<1>(input) else {
        return;
    };
    for request in registration_bodies() {
        let Some(resp) = response(status, body) else {
            return;
        };
        match registration_response(resp, &request, REDIRECT_URI, REGISTRATION_NOW) {
            Ok(registration) => {
                assert!(!registration.client_id.is_empty());
                assert!(!registration.secret_expired(REGISTRATION_NOW));
            }
            Err(refused) => {
                // A refusal by status created nothing, so it has nothing to clean up.
                assert!(refused.created || refused.cleanup.is_none());
                report(refused.error);
            }
        }
    }
}

/// `registration_read`: `status\n`, then the stored registration (one line of JSON, as the
/// registration response was), then the RFC 7592 §2.1 read response.
pub fn registration_read(input: &[u8]) {
    let Some(([status, current], body)) = header::<2>(input) else {
        return;
    };
    // The stored registration is one a full or a templatized request could have made.
    let Some(current) = registration_bodies().iter().find_map(|request| {
        let created = CappedResponse {
            status: 201,
            body: current.as_bytes().to_vec(),
            ..CappedResponse::default()
        };
        registration_response(created, request, REDIRECT_URI, REGISTRATION_NOW).ok()
    }) else {
        return;
    };
    let Some(resp) = response(status, body) else {
        return;
    };
    match read_response(resp, &current, REDIRECT_URI, REGISTRATION_NOW) {
        Ok(crate::protocol::registration::ClientStatus::Updated(read)) => {
            assert_eq!(read.client_id, current.client_id);
        }
        Ok(_) => {}
        Err(error) => report(error),
    }
}

/// `id_token`: `now\nissuer\nclient_id\nnonce\n` (an empty nonce is a refresh's token, which
/// has none), the compact JWS, `\n`, then the JWKS document. The token is verified against the
/// key set as the session does; its payload also goes through the claims checks directly, since
/// a mutated payload never carries a valid signature.
pub fn id_token(input: &[u8]) {
    let Some(([now, issuer, client_id, nonce, token], jwks)) = header::<5>(input) else {
        return;
    };
    let Ok(now) = now.trim().parse::<i64>() else {
        return;
    };
    let expect = IdTokenExpectations {
        issuer,
        client_id,
        nonce: Some(nonce).filter(|n| !n.is_empty()),
        previous_sub: None,
        now,
    };
    let keys = match jwks_response(CappedResponse {
        status: 200,
        body: jwks.to_vec(),
        ..CappedResponse::default()
    }) {
        Ok(keys) => keys,
        Err(error) => {
            report(error);
            Default::default()
        }
    };
    let raw = Secret::new(token.to_owned());
    match verify_id_token(&raw, &keys, &expect) {
        Ok(verified) => assert!(!verified.claims.sub.is_empty()),
        Err(error) => report(error),
    }
    if let Some(payload) = token.split('.').nth(1) {
        match id_token::verified_claims(payload, &expect) {
            Ok(claims) => assert!(!claims.sub.is_empty()),
            Err(error) => report(error),
        }
    }
}

/// `discovery`: `status\nissuer\n` then the provider metadata document.
pub fn discovery(input: &[u8]) {
    let Some(([status, issuer], body)) = header::<2>(input) else {
        return;
    };
    let (Ok(issuer), Some(resp)) = (Issuer::parse(issuer), response(status, body)) else {
        return;
    };
    match discovery_response(resp, &issuer) {
        Ok(metadata) => assert_eq!(metadata.issuer, issuer.as_str()),
        Err(error) => report(error),
    }
}

/// `config`: the whole input is `config.json`.
pub fn config(input: &[u8]) {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    match Config::from_json(text) {
        Ok(config) => {
            let _ = config.allowed_sign_in_origins();
            let _ = config.registered_redirect_uri();
            let _ = config.registered_post_logout_redirect_uri();
        }
        Err(error) => report(error),
    }
}
