//! RFC 7592 read and delete.

use super::*;

#[test]
fn rfc7592_read_and_delete_use_the_registration_access_token() {
    let registration = register(201, SEED_RESPONSE).unwrap();
    let read = prepare_read(&registration).unwrap();
    assert_eq!(read.method, Method::Get);
    assert_eq!(
        read.url,
        *registration.registration_client_uri.as_ref().unwrap()
    );
    assert_eq!(
        read.authorization.as_ref().unwrap().expose(),
        format!("Bearer {RAT}")
    );
    assert!(read.body.is_none() && read.content_type.is_none());
    let delete = prepare_delete(&registration).unwrap();
    assert_eq!(delete.method, Method::Delete);
    assert_eq!(delete.url, read.url);
    assert_eq!(
        delete.authorization.as_ref().unwrap().expose(),
        format!("Bearer {RAT}")
    );
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

#[test]
fn rfc7592_read_response_maps_statuses() {
    assert_eq!(
        read_response(resp(200, SEED_RESPONSE)).unwrap(),
        ClientStatus::Active
    );
    assert_eq!(
        read_response(resp(401, r#"{"error":"invalid_token"}"#)).unwrap(),
        ClientStatus::Gone
    );
    assert_eq!(read_response(resp(404, "")).unwrap(), ClientStatus::Gone);
    assert!(matches!(
        read_response(resp(200, "<html>")),
        Err(RegistrationError::Parse(_))
    ));
    assert!(matches!(
        read_response(resp(200, "[1]")),
        Err(RegistrationError::Parse(_))
    ));
    assert!(matches!(
        read_response(resp(403, r#"{"error":"access_denied"}"#)),
        Err(RegistrationError::Rejected { .. })
    ));
    assert!(matches!(
        read_response(resp(302, "")),
        Err(RegistrationError::UnexpectedStatus(302))
    ));
    assert!(matches!(
        read_response(resp(500, "")),
        Err(RegistrationError::UnexpectedStatus(500))
    ));
}

#[test]
fn rfc7592_delete_response_treats_already_gone_as_done() {
    for status in [200, 204, 401, 404] {
        assert!(delete_response(resp(status, "")).is_ok(), "{status}");
    }
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
