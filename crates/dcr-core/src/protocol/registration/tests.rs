//! Unit tests for RFC 7591 registration and RFC 7592 read/delete. Fixtures are inline and named
//! for what is wrong with them; test names carry the security checklist IDs.

use super::*;
use serde_json::Value;

use crate::test_support::respond_raw;

mod device_key;
mod management;
mod redirects;
mod refusal;
mod update;

const REDIRECT: &str = "io.curity.dcrclient:/callback";
const NOW: i64 = 1_700_000_000;
const SECRET: &str = "tfs9nad3dweFAa1CqpUj5p6NC4-092hb5Gg4SVRhOkc";
const RAT: &str = "e99ab41e-52a1-4fa3-b21b-fb95a398c33a";

/// The seed tutorial's registration response, verbatim.
pub(super) const SEED_RESPONSE: &str = r#"{"default_acr_values": ["urn:se:curity:authentication:html-form:Username-Password"],"application_type": "native","registration_client_uri": "https://baa467f55bc7.eu.ngrok.io/token-service/oauth-registration/87f1d9de-de2f-4e96-b27b-882cce0a3352","registration_access_token_expires_in": 31536000,"registration_access_token": "e99ab41e-52a1-4fa3-b21b-fb95a398c33a","client_id": "87f1d9de-de2f-4e96-b27b-882cce0a3352","token_endpoint_auth_method": "client_secret_basic","scope": "openid profile","client_id_issued_at": 1624011134,"client_secret": "tfs9nad3dweFAa1CqpUj5p6NC4-092hb5Gg4SVRhOkc","id_token_signed_response_alg": "RS256","grant_types": ["authorization_code", "refresh_token"],"subject_type": "public","redirect_uris": ["io.curity.dcrclient:/callback"],"post_logout_redirect_uris":["io.curity.dcrclient:/logoutcallback"],"client_secret_expires_at": 0,"token_endpoint_auth_methods": ["client_secret_basic", "client_secret_post"],"response_types": ["code", "id_token"],"refresh_token_ttl": 3600}"#;

/// `body` byte for byte: [`SEED_RESPONSE`] is the tutorial's text, not re-serialized JSON.
fn resp(status: u16, body: &str) -> CappedResponse {
    respond_raw(status, Some("application/json"), body.as_bytes())
}

/// The seed response with one field replaced (`None` removes it).
fn seed_with(field: &str, value: Option<Value>) -> String {
    let mut doc: Value = serde_json::from_str(SEED_RESPONSE).unwrap();
    let map = doc.as_object_mut().unwrap();
    match value {
        Some(value) => map.insert(field.into(), value),
        None => map.remove(field),
    };
    doc.to_string()
}

/// What the app sends by default: full DCR asking for client_secret_basic.
fn full_basic() -> RegistrationBody {
    RegistrationBody::full(
        REDIRECT,
        "io.curity.dcrclient:/logoutcallback",
        "openid profile",
        TokenEndpointAuthMethod::ClientSecretBasic,
    )
}

fn register(status: u16, body: &str) -> Result<ClientRegistration, RegistrationError> {
    registration_response(resp(status, body), &full_basic(), REDIRECT, NOW).map_err(|r| r.error)
}

/// R3/R5: a response without `field`, or with `field: null`, is refused as missing it.
fn assert_required(field: &'static str) {
    for body in [seed_with(field, None), seed_with(field, Some(Value::Null))] {
        match register(201, &body) {
            Err(RegistrationError::MissingField(missing)) => assert_eq!(missing, field, "{body}"),
            other => panic!("{field} absent or null: {other:?}"),
        }
    }
}

/// RFC 7592 §2: a management request goes to the registration's own
/// `registration_client_uri`, authorized by its registration access token.
fn assert_managed_with_the_registration_token(
    request: &OutgoingRequest,
    registration: &ClientRegistration,
) {
    assert_eq!(
        request.url,
        *registration.registration_client_uri.as_ref().unwrap()
    );
    assert_eq!(
        request.authorization.as_ref().unwrap().expose(),
        format!("Bearer {RAT}")
    );
}

/// Like [`register`], keeping the whole refusal (with its cleanup handle).
fn refuse(request: &RegistrationBody, body: &str) -> RefusedRegistration {
    registration_response(resp(201, body), request, REDIRECT, NOW).unwrap_err()
}

#[test]
fn full_body_is_exactly_the_seeds_with_the_auth_method() {
    let body = RegistrationBody::full(
        REDIRECT,
        "io.curity.dcrclient:/logoutcallback",
        "openid profile",
        TokenEndpointAuthMethod::ClientSecretBasic,
    );
    assert_eq!(
        body.to_json(),
        r#"{"redirect_uris":["io.curity.dcrclient:/callback"],"post_logout_redirect_uris":["io.curity.dcrclient:/logoutcallback"],"application_type":"native","grant_types":["authorization_code"],"scope":"openid profile","token_endpoint_auth_method":"client_secret_basic"}"#
    );
    assert!(!body.is_templatized());
    let post = RegistrationBody::full(
        REDIRECT,
        "x:/y",
        "openid",
        TokenEndpointAuthMethod::ClientSecretPost,
    );
    assert!(post
        .to_json()
        .ends_with(r#""token_endpoint_auth_method":"client_secret_post"}"#));
}

#[test]
fn templatized_body_is_exactly_the_software_id() {
    let body = RegistrationBody::templatized("mobile-dcr-template-client");
    assert_eq!(
        body.to_json(),
        r#"{"software_id":"mobile-dcr-template-client"}"#
    );
    assert!(body.is_templatized());
}

#[test]
fn registration_request_is_a_bearer_json_post() {
    let endpoint =
        Url::parse("https://idsvr.example/oauth/v2/oauth-dynamic-client-registration").unwrap();
    let token = Secret::new("25a3ee8e-451d-4d00-9ea4-4d8f258405bb");
    let request = prepare_registration(&endpoint, &token, &RegistrationBody::templatized("tmpl"));
    assert_eq!(request.method, Method::Post);
    assert_eq!(request.url, endpoint);
    assert_eq!(
        request.authorization.as_ref().unwrap().expose(),
        "Bearer 25a3ee8e-451d-4d00-9ea4-4d8f258405bb"
    );
    assert_eq!(request.content_type, Some("application/json"));
    assert_eq!(
        request.body.as_ref().unwrap().expose(),
        r#"{"software_id":"tmpl"}"#
    );
    assert!(!format!("{request:?}").contains("25a3ee8e"));
}

#[test]
fn the_seed_response_is_accepted_with_every_field() {
    let registration = register(201, SEED_RESPONSE).unwrap();
    assert_eq!(
        registration.client_id,
        "87f1d9de-de2f-4e96-b27b-882cce0a3352"
    );
    assert_eq!(
        registration.client_secret.as_ref().unwrap().expose(),
        SECRET
    );
    assert_eq!(registration.client_secret_expires_at, SecretExpiry::Never);
    assert_eq!(
        registration.token_endpoint_auth_method,
        TokenEndpointAuthMethod::ClientSecretBasic
    );
    assert_eq!(
        registration
            .registration_access_token
            .as_ref()
            .unwrap()
            .expose(),
        RAT
    );
    assert_eq!(
        registration.registration_client_uri.as_ref().unwrap().as_str(),
        "https://baa467f55bc7.eu.ngrok.io/token-service/oauth-registration/87f1d9de-de2f-4e96-b27b-882cce0a3352"
    );
    assert_eq!(registration.client_id_issued_at, Some(1_624_011_134));
    assert_eq!(registration.response_json.expose(), SEED_RESPONSE);
    assert!(!registration.secret_expired(i64::MAX));
}

#[test]
fn r3_200_is_accepted_like_201() {
    assert!(register(200, SEED_RESPONSE).is_ok());
}

#[test]
fn r3_redirects_and_other_statuses_are_unexpected() {
    for status in [202, 204, 301, 302, 303, 307, 308, 404, 429, 500, 503] {
        match register(status, SEED_RESPONSE) {
            Err(RegistrationError::UnexpectedStatus(s)) => assert_eq!(s, status),
            other => panic!("{status}: {other:?}"),
        }
    }
}

#[test]
fn r3_missing_client_id_is_rejected() {
    assert_required("client_id");
}

#[test]
fn r3_malformed_client_id_is_rejected() {
    for bad in [
        Value::from(5),
        Value::from(""),
        Value::from("a\nb"),
        Value::from("x".repeat(300)),
    ] {
        let body = seed_with("client_id", Some(bad));
        assert!(matches!(
            register(201, &body),
            Err(RegistrationError::Parse(_))
        ));
    }
}

#[test]
fn r3_body_that_is_not_a_json_object_is_rejected() {
    for body in ["<html>hello</html>", "[]", "\"text\"", ""] {
        assert!(
            matches!(register(201, body), Err(RegistrationError::Parse(_))),
            "{body}"
        );
    }
    let not_utf8 = respond_raw(201, None, &[0xff, 0xfe, b'{']);
    assert!(matches!(
        registration_response(not_utf8, &full_basic(), REDIRECT, NOW),
        Err(RefusedRegistration {
            error: RegistrationError::Parse(_),
            created: true,
            cleanup: None,
        })
    ));
}

#[test]
fn missing_client_secret_is_rejected_for_secret_based_auth() {
    for method in ["client_secret_basic", "client_secret_post"] {
        let mut doc: Value = serde_json::from_str(&seed_with("client_secret", None)).unwrap();
        doc["token_endpoint_auth_method"] = Value::from(method);
        assert!(matches!(
            register(201, &doc.to_string()),
            Err(RegistrationError::MissingField("client_secret"))
        ));
    }
    let wrong_type = seed_with("client_secret", Some(Value::from(42)));
    assert!(matches!(
        register(201, &wrong_type),
        Err(RegistrationError::Parse(_))
    ));
}

#[test]
fn auth_method_defaults_to_basic_and_post_is_honoured() {
    let absent = register(201, &seed_with("token_endpoint_auth_method", None)).unwrap();
    assert_eq!(
        absent.token_endpoint_auth_method,
        TokenEndpointAuthMethod::ClientSecretBasic
    );
    let post_body = seed_with(
        "token_endpoint_auth_method",
        Some("client_secret_post".into()),
    );
    let asked_for_post = RegistrationBody::full(
        REDIRECT,
        "x:/y",
        "openid",
        TokenEndpointAuthMethod::ClientSecretPost,
    );
    let templatized = RegistrationBody::templatized("tmpl");
    for request in [asked_for_post, templatized] {
        let post = registration_response(resp(201, &post_body), &request, REDIRECT, NOW).unwrap();
        assert_eq!(
            post.token_endpoint_auth_method,
            TokenEndpointAuthMethod::ClientSecretPost
        );
    }
}

#[test]
fn unsupported_auth_methods_are_rejected_with_a_sanitized_name() {
    for method in ["none", "client_secret_jwt", "tls_client_auth\u{1b}[31m"] {
        let body = seed_with("token_endpoint_auth_method", Some(method.into()));
        // Templatized: the template decides, but only a method we can use is accepted.
        let templatized = RegistrationBody::templatized("tmpl");
        match registration_response(resp(201, &body), &templatized, REDIRECT, NOW)
            .map_err(|r| r.error)
        {
            Err(RegistrationError::UnsupportedAuthMethod(name)) => {
                assert!(!name.chars().any(char::is_control))
            }
            other => panic!("{method}: {other:?}"),
        }
    }
}

#[test]
fn r5_secret_without_expiry_is_rejected() {
    assert_required("client_secret_expires_at");
}

#[test]
fn r6_zero_means_never_and_a_future_time_is_kept() {
    assert_eq!(
        register(201, SEED_RESPONSE)
            .unwrap()
            .client_secret_expires_at,
        SecretExpiry::Never
    );
    let later = register(
        201,
        &seed_with("client_secret_expires_at", Some((NOW + 3600).into())),
    )
    .unwrap();
    assert_eq!(later.client_secret_expires_at, SecretExpiry::At(NOW + 3600));
    assert_eq!(later.client_secret_expires_at.as_unix(), NOW + 3600);
    assert_eq!(SecretExpiry::Never.as_unix(), 0);
    assert!(!later.secret_expired(NOW + 3599));
    assert!(later.secret_expired(NOW + 3600));
}

#[test]
fn r6_a_secret_already_expired_is_rejected() {
    for at in [NOW - 1, NOW, 1] {
        let body = seed_with("client_secret_expires_at", Some(at.into()));
        assert!(
            matches!(
                register(201, &body),
                Err(RegistrationError::SecretAlreadyExpired)
            ),
            "{at}"
        );
    }
}

#[test]
fn r6_malformed_expiry_is_rejected() {
    for bad in [
        Value::from(-5),
        Value::from(1.5),
        Value::from("0"),
        Value::from(u64::MAX),
    ] {
        let body = seed_with("client_secret_expires_at", Some(bad.clone()));
        assert!(
            matches!(register(201, &body), Err(RegistrationError::Parse(_))),
            "{bad}"
        );
    }
}

#[test]
fn our_redirect_uri_must_be_registered() {
    // Another path, or ours with a suffix: exact match only (RFC 8252 §8.10).
    for registered in [
        "io.curity.dcrclient:/other",
        "io.curity.dcrclient:/callback/x",
    ] {
        let body = seed_with("redirect_uris", Some(serde_json::json!([registered])));
        assert!(
            matches!(
                register(201, &body),
                Err(RegistrationError::RedirectUriMissing)
            ),
            "{registered}"
        );
    }
    let not_list = seed_with("redirect_uris", Some(REDIRECT.into()));
    assert!(matches!(
        register(201, &not_list),
        Err(RegistrationError::Parse(_))
    ));
}

#[test]
fn n1_management_uri_must_be_https_or_loopback() {
    let plain = seed_with(
        "registration_client_uri",
        Some("http://idsvr.example/reg/1".into()),
    );
    assert!(matches!(
        register(201, &plain),
        Err(RegistrationError::Parse(_))
    ));
    let not_url = seed_with("registration_client_uri", Some("not a url".into()));
    assert!(matches!(
        register(201, &not_url),
        Err(RegistrationError::Parse(_))
    ));
    let loopback = seed_with(
        "registration_client_uri",
        Some("http://127.0.0.1:8443/reg/1".into()),
    );
    assert!(register(201, &loopback)
        .unwrap()
        .registration_client_uri
        .is_some());
}

#[test]
fn r1_rejections_are_structured_and_sanitized() {
    for code in [
        "invalid_redirect_uri",
        "invalid_client_metadata",
        "invalid_software_statement",
    ] {
        let body = format!(
            r#"{{"error":"{code}","error_description":"bad\u001b[31m value\n{}"}}"#,
            "y".repeat(5000)
        );
        match register(400, &body) {
            Err(RegistrationError::Rejected { error, description }) => {
                assert_eq!(error, code);
                let description = description.unwrap();
                assert!(description.starts_with("bad[31m value"));
                assert!(!description.chars().any(char::is_control));
                assert!(description.chars().count() <= crate::error::MAX_MESSAGE_CHARS);
            }
            other => panic!("{code}: {other:?}"),
        }
    }
    let error = register(400, r#"{"error":"invalid_client_metadata"}"#).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the identity server refused to register this device: invalid_client_metadata"
    );
    assert_eq!(error.kind(), "registrationRejected");
}

#[test]
fn r1_400_without_an_oauth_body_is_an_unexpected_status() {
    for body in ["<html>Bad Request</html>", "{}", r#"{"error":""}"#] {
        assert!(
            matches!(
                register(400, body),
                Err(RegistrationError::UnexpectedStatus(400))
            ),
            "{body}"
        );
    }
}

#[test]
fn r2_refused_dcr_token_is_invalid_token() {
    for (status, body) in [
        (
            401,
            r#"{"error":"invalid_token","error_description":"invalid token provided"}"#,
        ),
        (401, ""),
        (403, r#"{"error":"insufficient_scope"}"#),
        (403, r#"{"error":"invalid_token"}"#),
    ] {
        let error = register(status, body).unwrap_err();
        assert!(
            matches!(error, RegistrationError::InvalidToken),
            "{status} {body}"
        );
        assert_eq!(error.kind(), "dcrTokenRejected");
    }
    assert!(matches!(
        register(403, r#"{"error":"access_denied"}"#),
        Err(RegistrationError::Rejected { .. })
    ));
    assert!(matches!(
        register(403, "nope"),
        Err(RegistrationError::UnexpectedStatus(403))
    ));
}

#[test]
fn z1_errors_never_echo_the_body() {
    // Each body carries the secret and the token but fails a different check.
    let bodies = [
        seed_with("client_id", None),
        seed_with("client_secret_expires_at", None),
        seed_with("redirect_uris", Some(serde_json::json!([]))),
        seed_with("client_secret_expires_at", Some(Value::from("soon"))),
        format!("{{\"client_secret\": \"{SECRET}\", \"registration_access_token\": \"{RAT}\""),
        format!("<html>{SECRET} {RAT}</html>"),
    ];
    for body in bodies {
        let error = register(201, &body).unwrap_err();
        for shown in [error.to_string(), format!("{error:?}")] {
            assert!(!shown.contains(SECRET) && !shown.contains(RAT), "{shown}");
        }
    }
}

#[test]
fn z1_registration_debug_redacts_every_secret() {
    let registration = register(201, SEED_RESPONSE).unwrap();
    let shown = format!("{registration:?}");
    assert!(shown.contains("87f1d9de-de2f-4e96-b27b-882cce0a3352"));
    assert!(!shown.contains(SECRET));
    assert!(!shown.contains(RAT));
}

#[test]
fn stored_json_is_parsed_without_judging_expiry() {
    // The keychain path: an expired secret is still a registration; the session re-registers.
    let expired = seed_with("client_secret_expires_at", Some(5.into()));
    let registration = parse_registration(Secret::new(expired), Some(REDIRECT)).unwrap();
    assert!(registration.secret_expired(NOW));
}
