//! R4: which redirect URIs a fresh registration may list. A redirect URI decides where the
//! server sends authorization codes for this client, so a 201 that adds one (or hides the list)
//! is refused and its client deleted; other metadata a server narrows or extends is accepted.

use super::*;
use serde_json::json;

const LOOPBACK: &str = "http://127.0.0.1/callback";

fn with_redirects(uris: Value) -> String {
    seed_with("redirect_uris", Some(uris))
}

fn refused_for(request: &RegistrationBody, expected: &str, body: &str) -> RegistrationError {
    let refused = registration_response(resp(201, body), request, expected, NOW).unwrap_err();
    assert!(refused.created && refused.cleanup.is_some(), "{body}");
    refused.error
}

#[test]
fn r4_a_full_201_that_adds_a_redirect_uri_is_refused() {
    for added in [
        "https://evil.example/callback",
        "io.curity.dcrclient:/elsewhere",
        // Full DCR asked for one URI: even this app's loopback form was not asked for.
        LOOPBACK,
    ] {
        for uris in [json!([REDIRECT, added]), json!([added, REDIRECT])] {
            let error = refused_for(&full_basic(), REDIRECT, &with_redirects(uris));
            assert!(
                matches!(error, RegistrationError::RedirectUriAdded),
                "{added}: {error:?}"
            );
            assert_eq!(error.kind(), "invalidResponse");
            // The foreign URI is the server's text: it is never shown.
            assert!(!error.to_string().contains(added), "{error}");
        }
    }
}

#[test]
fn r4_a_full_201_must_list_its_redirect_uris() {
    for body in [
        seed_with("redirect_uris", None),
        seed_with("redirect_uris", Some(Value::Null)),
    ] {
        let error = refused_for(&full_basic(), REDIRECT, &body);
        assert!(
            matches!(error, RegistrationError::MissingField("redirect_uris")),
            "{error:?}"
        );
    }
    let not_strings = with_redirects(json!([REDIRECT, 5]));
    assert!(matches!(
        refused_for(&full_basic(), REDIRECT, &not_strings),
        RegistrationError::Parse(_)
    ));
}

/// RFC 7591 §3.2.1: "the authorization server MAY reject or replace any of the client's
/// requested metadata values". Changes that do not decide where codes go are kept.
#[test]
fn r4_other_metadata_may_be_narrowed_or_extended() {
    let mut doc: Value = serde_json::from_str(SEED_RESPONSE).unwrap();
    // The bundled server and Curity add the refresh_token grant; scope narrowed; extra
    // response types, post-logout URIs and metadata of the server's own.
    doc["grant_types"] = json!(["authorization_code", "refresh_token"]);
    doc["scope"] = json!("openid");
    doc["response_types"] = json!(["code", "id_token"]);
    doc["post_logout_redirect_uris"] = json!(["io.curity.dcrclient:/logoutcallback", "x:/y"]);
    doc["default_max_age"] = json!(3600);
    // The same URI twice is still only ours.
    doc["redirect_uris"] = json!([REDIRECT, REDIRECT]);
    let registration = register(201, &doc.to_string()).unwrap();
    assert_eq!(
        registration.client_id,
        "87f1d9de-de2f-4e96-b27b-882cce0a3352"
    );
}

/// Templatized DCR sends no redirect URI: the template's list is registered. It must hold ours
/// (or no sign-in could come back), and may hold only this app's redirect URIs in its other
/// modes (a template serving both the app's scheme and loopback lists both), nothing foreign.
#[test]
fn r4_a_templatized_201_lists_ours_and_only_this_apps_other_redirects() {
    let template =
        RegistrationBody::templatized("tmpl").with_app_redirect_uris([REDIRECT, LOOPBACK]);
    let both = with_redirects(json!([REDIRECT, LOOPBACK]));
    for expected in [REDIRECT, LOOPBACK] {
        assert!(
            registration_response(resp(201, &both), &template, expected, NOW).is_ok(),
            "{expected}"
        );
    }
    let only_ours = with_redirects(json!([REDIRECT]));
    assert!(registration_response(resp(201, &only_ours), &template, REDIRECT, NOW).is_ok());

    let foreign = with_redirects(json!([REDIRECT, LOOPBACK, "https://evil.example/callback"]));
    assert!(matches!(
        refused_for(&template, REDIRECT, &foreign),
        RegistrationError::RedirectUriAdded
    ));
    // The template's list without ours: the loopback sign-in could never come back.
    assert!(matches!(
        refused_for(&template, LOOPBACK, &only_ours),
        RegistrationError::RedirectUriMissing
    ));
    // RFC 7591 §3.2.1 returns all registered metadata; an unlisted template list is unknown.
    assert!(matches!(
        refused_for(&template, REDIRECT, &seed_with("redirect_uris", None)),
        RegistrationError::MissingField("redirect_uris")
    ));
    // Without the app's other redirects, a templatized body accepts ours alone.
    let bare = RegistrationBody::templatized("tmpl");
    assert!(matches!(
        refused_for(&bare, REDIRECT, &both),
        RegistrationError::RedirectUriAdded
    ));
    // The app's redirects never go on the wire: the body is still exactly the software_id.
    assert_eq!(template.to_json(), r#"{"software_id":"tmpl"}"#);
}
