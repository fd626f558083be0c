use std::collections::HashMap;

use serde_json::json;

use super::*;
use crate::protocol::authorize::{prepare_authorization, AuthorizationParams};
use crate::test_support::{config, metadata, oauth_error, respond, respond_raw};

fn form(request: &OutgoingRequest) -> HashMap<String, String> {
    url::form_urlencoded::parse(request.body.as_ref().unwrap().expose().as_bytes())
        .into_owned()
        .collect()
}

fn ok(body: serde_json::Value) -> CappedResponse {
    respond(200, &body)
}

/// A refresh with refresh token `rt`, the client authenticated by a secret-based `method`.
fn refresh_authenticated(
    method: TokenEndpointAuthMethod,
    client_id: &str,
    secret: &str,
) -> OutgoingRequest {
    let secret = Secret::new(secret);
    let auth = ClientAuth::for_secret_method(method, client_id, &secret).unwrap();
    prepare_refresh(&metadata().token_endpoint, &Secret::new("rt"), &auth).unwrap()
}

#[test]
fn registration_login_exchanges_as_a_public_client() {
    let config = config();
    let metadata = metadata();
    let (_, pending) =
        prepare_authorization(&metadata, &AuthorizationParams::registration(&config));
    let verifier = pending.verifier.0.expose().to_owned();
    let expected_nonce = pending.nonce.expose().to_owned();
    let auth = ClientAuth::Public {
        client_id: "mobile-dcr-client",
    };
    let code = AuthorizationCode(Secret::new("the-code"));
    let (request, nonce) =
        prepare_code_exchange(&metadata.token_endpoint, pending, code, &auth).unwrap();
    assert_eq!(nonce.expose(), expected_nonce);
    assert_eq!(request.method, Method::Post);
    assert_eq!(request.url, metadata.token_endpoint);
    assert_eq!(
        request.content_type,
        Some("application/x-www-form-urlencoded")
    );
    assert!(request.authorization.is_none());
    let form = form(&request);
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["code"], "the-code");
    assert_eq!(form["redirect_uri"], "io.curity.dcrclient:/callback");
    assert_eq!(form["code_verifier"], verifier);
    assert_eq!(form["client_id"], "mobile-dcr-client");
    assert!(!form.contains_key("client_secret"));
    assert!(!format!("{request:?}").contains("the-code"));
}

#[test]
fn t7_client_secret_basic_is_form_urlencoded_before_base64_and_not_in_body() {
    let request = refresh_authenticated(
        TokenEndpointAuthMethod::ClientSecretBasic,
        "id:1 2",
        "s3cr:t/+ é",
    );
    let header = request.authorization.as_ref().unwrap().expose().to_owned();
    let decoded = String::from_utf8(
        STANDARD
            .decode(header.strip_prefix("Basic ").unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(decoded, "id%3A1+2:s3cr%3At%2F%2B+%C3%A9");
    let form = form(&request);
    assert_eq!(form["grant_type"], "refresh_token");
    assert_eq!(form["refresh_token"], "rt");
    assert!(!form.contains_key("client_secret"));
    assert!(!request.body.as_ref().unwrap().expose().contains("s3cr"));
}

#[test]
fn client_secret_post_puts_id_and_secret_in_the_body() {
    let request = refresh_authenticated(
        TokenEndpointAuthMethod::ClientSecretPost,
        "87f1d9de",
        "tfs9nad3",
    );
    // private_key_jwt is no secret method: it gets no secret-based authentication.
    assert!(ClientAuth::for_secret_method(
        TokenEndpointAuthMethod::PrivateKeyJwt,
        "87f1d9de",
        &Secret::new("tfs9nad3")
    )
    .is_none());
    assert!(request.authorization.is_none());
    let form = form(&request);
    assert_eq!(form["client_id"], "87f1d9de");
    assert_eq!(form["client_secret"], "tfs9nad3");
}

#[test]
fn revocation_request_names_the_refresh_token() {
    let secret = Secret::new("s");
    let auth = ClientAuth::Basic {
        client_id: "c",
        secret: &secret,
    };
    let request =
        prepare_revocation(&metadata().token_endpoint, &Secret::new("rt"), &auth).unwrap();
    let form = form(&request);
    assert_eq!(form["token"], "rt");
    assert_eq!(form["token_type_hint"], "refresh_token");
    assert!(revocation_response(respond(200, &json!({}))).is_ok());
    assert!(revocation_response(respond(503, &json!({}))).is_err());
}

#[test]
fn full_response_is_parsed() {
    let response = token_response(
        ok(json!({"access_token":"at","token_type":"Bearer","expires_in":300,"refresh_token":"rt","id_token":"a.b.c","scope":"openid profile"})),
        true,
    )
    .unwrap();
    assert_eq!(response.access_token.expose(), "at");
    assert_eq!(response.refresh_token.as_ref().unwrap().expose(), "rt");
    assert_eq!(response.id_token.as_ref().unwrap().expose(), "a.b.c");
    assert_eq!(response.expires_in, Some(300));
    assert_eq!(response.scope.as_deref(), Some("openid profile"));
    assert!(!format!("{response:?}").contains("rt\""));
}

#[test]
fn t1_invalid_grant_is_structured() {
    let error = token_response(oauth_error(400, "invalid_grant", "code used"), true).unwrap_err();
    match error {
        TokenError::Server(e) => {
            assert!(e.is("invalid_grant"));
            assert_eq!(e.description.as_deref(), Some("code used"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn t2_invalid_client_is_structured_and_a_bare_401_is_not_invalid_client() {
    let error = token_response(respond(401, &json!({"error":"invalid_client"})), true).unwrap_err();
    assert!(matches!(error, TokenError::Server(ref e) if e.is("invalid_client")));
    assert_eq!(crate::Error::from(error).kind(), "invalidClient");
    // A 401 without an OAuth error body (a proxy, a gateway) proves nothing about the
    // client; it must not read as invalid_client, which wipes the registration.
    for body in [&b""[..], b"<html>401 Authorization Required</html>", b"{}"] {
        let bare = respond_raw(401, None, body);
        let error = token_response(bare, true).unwrap_err();
        assert!(matches!(error, TokenError::Unauthorized), "{error:?}");
        assert_eq!(crate::Error::from(error).kind(), "serverError");
    }
    let five = respond(503, &json!({"error":"temporarily_unavailable"}));
    assert!(matches!(
        token_response(five, true),
        Err(TokenError::UnexpectedStatus(503))
    ));
}

#[test]
fn t3_html_invalid_json_and_non_object_are_rejected() {
    let html = respond_raw(200, Some("text/html"), b"<html>");
    assert!(matches!(
        token_response(html, false),
        Err(TokenError::Parse(_))
    ));
    assert!(matches!(
        token_response(ok(json!(["at"])), false),
        Err(TokenError::Parse(_))
    ));
    assert!(matches!(
        token_response(ok(json!("at")), false),
        Err(TokenError::Parse(_))
    ));
}

#[test]
fn t4_missing_or_mistyped_fields_are_rejected() {
    let cases = [
        (
            json!({"token_type":"Bearer","id_token":"a.b.c"}),
            "access_token",
        ),
        (
            json!({"access_token":5,"token_type":"Bearer","id_token":"a.b.c"}),
            "access_token",
        ),
        (
            json!({"access_token":"at","id_token":"a.b.c"}),
            "token_type",
        ),
        (
            json!({"access_token":"at","token_type":"Bearer"}),
            "id_token",
        ),
        (
            json!({"access_token":"at","token_type":"Bearer","id_token":{}}),
            "id_token",
        ),
        (
            json!({"access_token":"at","token_type":"Bearer","id_token":"a.b.c","refresh_token":7}),
            "refresh_token",
        ),
    ];
    for (body, field) in cases {
        match token_response(ok(body.clone()), true) {
            Err(TokenError::MissingField(f)) => assert_eq!(f, field, "{body}"),
            other => panic!("{body}: {other:?}"),
        }
    }
    // Refresh and the DCR login do not require an ID token.
    assert!(token_response(
        ok(json!({"access_token":"at","token_type":"Bearer"})),
        false
    )
    .is_ok());
}

#[test]
fn t5_token_type_is_case_insensitive_bearer_and_mac_is_rejected() {
    assert!(token_response(
        ok(json!({"access_token":"at","token_type":"BeArEr"})),
        false
    )
    .is_ok());
    assert!(matches!(
        token_response(ok(json!({"access_token":"at","token_type":"mac"})), false),
        Err(TokenError::UnsupportedTokenType(t)) if t == "mac"
    ));
}

#[test]
fn t6_expires_in_absent_negative_huge_are_defaulted_or_clamped() {
    let parse = |expires: serde_json::Value| {
        let mut body = json!({"access_token":"at","token_type":"Bearer"});
        if !expires.is_null() {
            body["expires_in"] = expires;
        }
        token_response(ok(body), false).unwrap().expires_in
    };
    assert_eq!(parse(json!(null)), None);
    assert_eq!(parse(json!(-5)), Some(0));
    assert_eq!(parse(json!(1e300)), Some(MAX_EXPIRES_IN));
    assert_eq!(parse(json!("3600")), Some(3600));
    assert_eq!(parse(json!(true)), None);
    let no_scope = token_response(
        ok(json!({"access_token":"at","token_type":"Bearer"})),
        false,
    )
    .unwrap();
    assert!(no_scope.scope.is_none());
}

#[test]
fn f2_refresh_without_new_refresh_token_reports_none() {
    let response = token_response(
        ok(json!({"access_token":"at2","token_type":"Bearer"})),
        false,
    )
    .unwrap();
    assert!(
        response.refresh_token.is_none(),
        "the session keeps the old one"
    );
}
