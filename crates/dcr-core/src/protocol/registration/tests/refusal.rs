//! A 200/201 that we refuse still created a client on the server: the refusal carries the
//! management handle (read first, leniently) so the session can delete it (RFC 7592 §2.3).

use super::*;
use crate::error::Error;

const SEED_URI: &str = "https://baa467f55bc7.eu.ngrok.io/token-service/oauth-registration/87f1d9de-de2f-4e96-b27b-882cce0a3352";

/// Each body is the seed response with one thing wrong, and still carries the seed's
/// registration_client_uri and registration_access_token.
fn bad_bodies() -> Vec<(&'static str, RegistrationBody, String)> {
    let templatized = RegistrationBody::templatized("tmpl");
    vec![
        ("no secret", full_basic(), seed_with("client_secret", None)),
        (
            "no expiry",
            full_basic(),
            seed_with("client_secret_expires_at", None),
        ),
        (
            "auth method not asked for",
            full_basic(),
            seed_with(
                "token_endpoint_auth_method",
                Some("client_secret_post".into()),
            ),
        ),
        (
            "auth method we cannot use",
            templatized,
            seed_with("token_endpoint_auth_method", Some("private_key_jwt".into())),
        ),
        (
            "redirect URI replaced",
            full_basic(),
            seed_with(
                "redirect_uris",
                Some(serde_json::json!(["evil.example:/callback"])),
            ),
        ),
        (
            "redirect URI missing",
            full_basic(),
            seed_with("redirect_uris", Some(serde_json::json!([]))),
        ),
        (
            "redirect URI on another host added",
            full_basic(),
            seed_with(
                "redirect_uris",
                Some(serde_json::json!([
                    REDIRECT,
                    "https://evil.example/callback"
                ])),
            ),
        ),
        (
            "redirect URIs not listed",
            full_basic(),
            seed_with("redirect_uris", None),
        ),
        (
            "secret already expired",
            full_basic(),
            seed_with("client_secret_expires_at", Some((NOW - 1).into())),
        ),
        ("no client_id", full_basic(), seed_with("client_id", None)),
    ]
}

#[test]
fn r1_every_refused_201_carries_the_handle_to_delete_the_client() {
    for (what, request, body) in bad_bodies() {
        let refused = refuse(&request, &body);
        assert!(refused.created, "{what}");
        let handle = refused
            .cleanup
            .as_ref()
            .unwrap_or_else(|| panic!("{what}: no handle"));
        let delete = prepare_cleanup(handle);
        assert_eq!(delete.method, Method::Delete, "{what}");
        assert_eq!(delete.url.as_str(), SEED_URI, "{what}");
        assert_eq!(
            delete.authorization.as_ref().unwrap().expose(),
            format!("Bearer {RAT}"),
            "{what}"
        );
        assert!(delete.body.is_none());
    }
}

#[test]
fn r1_the_error_says_what_became_of_the_client() {
    let body = seed_with("client_secret", None);
    let deleted = refuse(&full_basic(), &body).into_error(true);
    assert!(
        deleted
            .to_string()
            .ends_with("; the client it created was deleted again"),
        "{deleted}"
    );
    assert!(deleted.to_string().contains("no `client_secret`"));
    assert_eq!(deleted.kind(), "invalidResponse");
    let kept = refuse(&full_basic(), &body).into_error(false);
    assert!(
        kept.to_string()
            .ends_with("could not be deleted on the server"),
        "{kept}"
    );
    // Messages stay within what the UI shows, the cleanup part included.
    for (what, request, body) in bad_bodies() {
        let shown = Error::from(refuse(&request, &body).into_error(false)).message();
        assert!(
            shown.ends_with("could not be deleted on the server"),
            "{what}: {shown}"
        );
    }
}

/// The token is never sent where N1 forbids (plain http to a remote host), and cannot be sent
/// when it is not a header-safe string: the refusal then says the client could not be deleted.
#[test]
fn r1_a_bad_management_handle_is_not_used() {
    let bodies = [
        seed_with(
            "registration_client_uri",
            Some("http://idsvr.example/reg/1".into()),
        ),
        seed_with("registration_client_uri", Some("not a url".into())),
        seed_with("registration_client_uri", Some("file:///etc/passwd".into())),
        seed_with("registration_access_token", Some("a\nb".into())),
        "<html>not json</html>".to_owned(),
    ];
    for body in bodies {
        let refused = refuse(&full_basic(), &body);
        assert!(refused.created && refused.cleanup.is_none(), "{body}");
        assert!(refused
            .into_error(false)
            .to_string()
            .ends_with("could not be deleted on the server"));
    }
    // Without a management token the body itself is fine: that is not a refusal.
    assert!(register(201, &seed_with("registration_access_token", None)).is_ok());
}

#[test]
fn r1_an_error_status_created_nothing_and_needs_no_cleanup() {
    for (status, body) in [
        (400, r#"{"error":"invalid_client_metadata"}"#),
        (401, r#"{"error":"invalid_token"}"#),
        (500, SEED_RESPONSE),
    ] {
        let refused =
            registration_response(resp(status, body), &full_basic(), REDIRECT, NOW).unwrap_err();
        assert!(!refused.created && refused.cleanup.is_none(), "{status}");
        assert!(!matches!(
            refused.into_error(false),
            RegistrationError::Refused { .. }
        ));
    }
}

#[test]
fn z1_the_cleanup_handle_shows_no_token() {
    let refused = refuse(&full_basic(), &seed_with("client_secret", None));
    let shown = format!("{refused:?}");
    assert!(!shown.contains(RAT), "{shown}");
}
