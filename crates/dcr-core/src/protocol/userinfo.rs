//! The UserInfo endpoint (OIDC Core §5.3): profile claims for display.
//!
//! The response is only used when its `sub` equals the ID token's (§5.3.2, I12); otherwise
//! it may be about someone else and is discarded.

use serde_json::{Map, Value};
use url::Url;

use crate::error::UserInfoError;
use crate::platform::http::{CappedResponse, Method, OutgoingRequest};
use crate::Secret;

/// GET with the access token as a Bearer credential (RFC 6750 §2.1).
pub fn prepare_userinfo(endpoint: &Url, access_token: &Secret) -> OutgoingRequest {
    OutgoingRequest {
        method: Method::Get,
        url: endpoint.clone(),
        authorization: Some(Secret::new(format!("Bearer {}", access_token.expose()))),
        content_type: None,
        body: None,
        dpop: None,
    }
}

/// GET with a DPoP-bound access token (RFC 9449 §7.1): `Authorization: DPoP <token>` and the
/// proof, which must carry `ath` (the token's hash) and the server's latest nonce.
pub fn prepare_userinfo_dpop(
    endpoint: &Url,
    access_token: &Secret,
    proof: Secret,
) -> OutgoingRequest {
    let mut header = String::with_capacity(5 + access_token.expose().len());
    header.push_str("DPoP ");
    header.push_str(access_token.expose());
    OutgoingRequest {
        authorization: Some(Secret::new(header)),
        dpop: Some(proof),
        ..prepare_userinfo(endpoint, access_token)
    }
}

/// RFC 9449 §7.1, §8: a resource server's DPoP errors come in `WWW-Authenticate`, e.g.
/// `DPoP error="use_dpop_nonce"`. True when `response` names `error`.
pub fn dpop_challenge(response: &CappedResponse, error: &str) -> bool {
    response.status == 401
        && response.www_authenticate.as_deref().is_some_and(|value| {
            value
                .split(',')
                .filter_map(|part| part.trim().rsplit_once('='))
                .any(|(name, v)| name.trim().ends_with("error") && v.trim_matches('"') == error)
        })
}

/// Checks the response and its `sub`. A signed (`application/jwt`) response is not requested
/// by this client and is refused as unparseable.
pub fn userinfo_response(
    response: CappedResponse,
    expected_sub: &str,
) -> Result<Map<String, Value>, UserInfoError> {
    if dpop_challenge(&response, "invalid_dpop_proof") {
        return Err(UserInfoError::InvalidDpopProof);
    }
    if response.status != 200 {
        return Err(UserInfoError::UnexpectedStatus(response.status));
    }
    let value: Value = serde_json::from_slice(&response.body).map_err(|_| UserInfoError::Parse)?;
    let Value::Object(claims) = value else {
        return Err(UserInfoError::Parse);
    };
    // I12: exact comparison; a missing sub is as bad as a different one.
    if claims.get("sub").and_then(Value::as_str) != Some(expected_sub) {
        return Err(UserInfoError::SubjectMismatch);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{respond, respond_raw};
    use serde_json::json;

    #[test]
    fn request_sends_the_access_token_as_bearer() {
        let request = prepare_userinfo(
            &Url::parse("https://idp.example/me").unwrap(),
            &Secret::new("at"),
        );
        assert_eq!(request.method, Method::Get);
        assert_eq!(request.authorization.unwrap().expose(), "Bearer at");
    }

    #[test]
    fn k4_a_bound_token_is_sent_with_the_dpop_scheme_and_the_proof() {
        let request = prepare_userinfo_dpop(
            &Url::parse("https://idp.example/me").unwrap(),
            &Secret::new("at"),
            Secret::new("the.proof.jwt"),
        );
        assert_eq!(request.method, Method::Get);
        assert_eq!(request.authorization.unwrap().expose(), "DPoP at");
        assert_eq!(request.dpop.unwrap().expose(), "the.proof.jwt");
        assert!(request.body.is_none());
    }

    #[test]
    fn matching_subject_is_accepted() {
        let claims = userinfo_response(
            respond(200, &json!({"sub":"demouser","name":"Demo"})),
            "demouser",
        )
        .unwrap();
        assert_eq!(claims["name"], "Demo");
    }

    #[test]
    fn i12_userinfo_sub_mismatch_is_discarded() {
        let result = userinfo_response(
            respond(200, &json!({"sub":"mallory","name":"M"})),
            "demouser",
        );
        assert!(matches!(result, Err(UserInfoError::SubjectMismatch)));
        let result = userinfo_response(respond(200, &json!({"name":"no sub"})), "demouser");
        assert!(matches!(result, Err(UserInfoError::SubjectMismatch)));
    }

    #[test]
    fn errors_and_non_objects_are_rejected() {
        assert!(matches!(
            userinfo_response(respond(401, &json!({})), "a"),
            Err(UserInfoError::UnexpectedStatus(401))
        ));
        assert!(matches!(
            userinfo_response(respond(200, &json!([])), "a"),
            Err(UserInfoError::Parse)
        ));
        let jwt = respond_raw(200, Some("application/jwt"), b"a.b.c");
        assert!(matches!(
            userinfo_response(jwt, "a"),
            Err(UserInfoError::Parse)
        ));
    }
}
