//! RFC 7592 read and delete.

use super::*;

#[test]
fn rfc7592_read_and_delete_use_the_registration_access_token() {
    let registration = register(201, SEED_RESPONSE).unwrap();
    let read = prepare_read(&registration).unwrap();
    assert_eq!(read.method, Method::Get);
    assert_managed_with_the_registration_token(&read, &registration);
    assert!(read.body.is_none() && read.content_type.is_none());
    let delete = prepare_delete(&registration).unwrap();
    assert_eq!(delete.method, Method::Delete);
    assert_managed_with_the_registration_token(&delete, &registration);
    assert!(delete.body.is_none());
}

#[test]
fn rfc7592_without_endpoint_or_token_there_is_no_request() {
    for field in ["registration_client_uri", "registration_access_token"] {
        let registration = register(201, &seed_with(field, None)).unwrap();
        assert!(prepare_read(&registration).is_none(), "{field}");
        assert!(prepare_delete(&registration).is_none(), "{field}");
    }
}

fn read(status: u16, body: &str) -> Result<ClientStatus, RegistrationError> {
    let current = register(201, SEED_RESPONSE).unwrap();
    read_response(resp(status, body), &current, REDIRECT, NOW)
}

#[test]
fn rfc7592_read_response_maps_statuses() {
    assert!(matches!(read(200, SEED_RESPONSE), Ok(ClientStatus::Active)));
    assert!(matches!(
        read(401, r#"{"error":"invalid_token"}"#),
        Ok(ClientStatus::Gone)
    ));
    assert!(matches!(read(404, ""), Ok(ClientStatus::Gone)));
    assert!(matches!(
        read(200, "<html>"),
        Err(RegistrationError::Parse(_))
    ));
    assert!(matches!(read(200, "[1]"), Err(RegistrationError::Parse(_))));
    assert!(matches!(
        read(403, r#"{"error":"access_denied"}"#),
        Err(RegistrationError::Rejected { .. })
    ));
    assert!(matches!(
        read(302, ""),
        Err(RegistrationError::UnexpectedStatus(302))
    ));
    assert!(matches!(
        read(500, ""),
        Err(RegistrationError::UnexpectedStatus(500))
    ));
}

/// RFC 7592 §3: a read that carries a new secret or a new registration access token is an
/// update, with everything else of the registration kept.
#[test]
fn rfc7592_read_with_a_rotated_secret_or_token_is_an_update() {
    // (the rotated field, its new value, then the secret and token the update must hold)
    for (field, rotated, secret, token) in [
        ("client_secret", "rotated-secret", "rotated-secret", RAT),
        (
            "registration_access_token",
            "rotated-rat",
            SECRET,
            "rotated-rat",
        ),
    ] {
        let Ok(ClientStatus::Updated(updated)) = read(200, &seed_with(field, Some(rotated.into())))
        else {
            panic!("a new {field} is an update");
        };
        assert_eq!(
            updated.client_secret.as_ref().unwrap().expose(),
            secret,
            "{field}"
        );
        let kept_token = updated.registration_access_token.as_ref().unwrap();
        assert_eq!(kept_token.expose(), token, "{field}");
        assert!(updated.response_json.expose().contains(rotated), "{field}");
    }
}

/// A read that leaves out the management endpoint and token (oidc-provider's does) keeps ours.
#[test]
fn rfc7592_read_without_management_fields_keeps_ours() {
    let mut doc: Value = serde_json::from_str(SEED_RESPONSE).unwrap();
    let map = doc.as_object_mut().unwrap();
    map.remove("registration_access_token");
    map.remove("registration_client_uri");
    assert!(matches!(
        read(200, &doc.to_string()),
        Ok(ClientStatus::Active)
    ));
    doc["client_secret"] = "rotated-secret".into();
    let Ok(ClientStatus::Updated(updated)) = read(200, &doc.to_string()) else {
        panic!("a new secret is an update");
    };
    assert_eq!(
        updated.registration_access_token.as_ref().unwrap().expose(),
        RAT
    );
    assert!(updated.registration_client_uri.is_some());
    assert!(
        updated.response_json.expose().contains(RAT),
        "stored with the kept token"
    );
}

/// RFC 7592 §2.1: a read about another client, or one that fails the registration checks, is
/// an error and never an update.
#[test]
fn rfc7592_a_read_that_fails_the_checks_is_an_error_not_an_update() {
    let other_client = seed_with("client_id", Some("someone-else".into()));
    assert!(matches!(
        read(200, &other_client),
        Err(RegistrationError::ClientIdMismatch)
    ));
    let rotated_other = {
        let mut doc: Value = serde_json::from_str(&other_client).unwrap();
        doc["client_secret"] = "rotated-secret".into();
        doc.to_string()
    };
    assert!(matches!(
        read(200, &rotated_other),
        Err(RegistrationError::ClientIdMismatch)
    ));
    let bad = [
        seed_with("client_secret", None),
        seed_with("client_secret_expires_at", None),
        seed_with("client_secret_expires_at", Some((NOW - 10).into())),
        seed_with(
            "token_endpoint_auth_method",
            Some("client_secret_post".into()),
        ),
        seed_with("token_endpoint_auth_method", Some("none".into())),
        seed_with("redirect_uris", Some(serde_json::json!(["evil:/callback"]))),
        seed_with(
            "registration_client_uri",
            Some("http://evil.example/reg".into()),
        ),
        seed_with("registration_access_token", Some(Value::from(7))),
    ];
    for body in bad {
        let result = read(200, &body);
        assert!(result.is_err(), "{body}: {result:?}");
    }
}

/// RFC 7592 §2.3: only 200/204 (and 404, see `delete_response`) count as deleted. A 401 means
/// the token was refused: the client may still exist.
#[test]
fn rfc7592_delete_answered_401_is_not_deleted() {
    for status in [200, 204, 404] {
        assert!(delete_response(resp(status, "")).is_ok(), "{status}");
    }
    assert!(matches!(
        delete_response(resp(401, r#"{"error":"invalid_token"}"#)),
        Err(RegistrationError::DeleteUnauthorized)
    ));
    assert!(matches!(
        delete_response(resp(405, "")),
        Err(RegistrationError::UnexpectedStatus(405))
    ));
    assert!(matches!(
        delete_response(resp(500, "{}")),
        Err(RegistrationError::UnexpectedStatus(500))
    ));
    assert!(matches!(
        delete_response(resp(400, r#"{"error":"invalid_request"}"#)),
        Err(RegistrationError::Rejected { .. })
    ));
}
