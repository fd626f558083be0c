//! Provider metadata: OpenID Connect Discovery 1.0 with the RFC 7591 and RFC 9207 fields.
//!
//! [`prepare_discovery`] builds the GET, [`discovery_response`] checks the document. The session
//! fetches it once and keeps it; nothing is cached when a check fails (D1).

use serde_json::{Map, Value};
use url::Url;

use crate::config::Issuer;
use crate::error::DiscoveryError;
use crate::platform::http::{CappedResponse, Method, OutgoingRequest};
use crate::text::check_secure_url;

/// The metadata the engine uses, every endpoint already checked for https-or-loopback (D3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderMetadata {
    /// Equal to the configured issuer, byte for byte (D1).
    pub issuer: String,
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    pub jwks_uri: Url,
    /// RFC 7591 §3: where the per-install client is registered.
    pub registration_endpoint: Url,
    pub userinfo_endpoint: Option<Url>,
    /// RP-Initiated Logout 1.0 §2.1; absent means local-only logout (L2).
    pub end_session_endpoint: Option<Url>,
    /// RFC 7009 §2.
    pub revocation_endpoint: Option<Url>,
    /// RFC 9207 §3: when true, a callback without `iss` is rejected (A2).
    pub authorization_response_iss_parameter_supported: bool,
    /// Informational only: the engine always sends S256, whatever this says (D4, RFC 7636 §4.2).
    pub code_challenge_methods_supported: Vec<String>,
}

/// OIDC Discovery 1.0 §4.1: the issuer with any trailing `/` removed, then
/// `/.well-known/openid-configuration`.
pub fn discovery_url(issuer: &Issuer) -> Url {
    let text = format!(
        "{}/.well-known/openid-configuration",
        issuer.as_str().trim_end_matches('/')
    );
    // The issuer is a valid absolute URL without query or fragment, so this cannot fail.
    Url::parse(&text).unwrap_or_else(|_| issuer.url().clone())
}

pub fn prepare_discovery(issuer: &Issuer) -> OutgoingRequest {
    OutgoingRequest {
        method: Method::Get,
        url: discovery_url(issuer),
        authorization: None,
        content_type: None,
        body: None,
        dpop: None,
    }
}

/// Checks the discovery document: status 200, a JSON object, the exact issuer, the endpoints.
pub fn discovery_response(
    response: CappedResponse,
    issuer: &Issuer,
) -> Result<ProviderMetadata, DiscoveryError> {
    if response.status != 200 {
        return Err(DiscoveryError::UnexpectedStatus(response.status));
    }
    let value: Value = serde_json::from_slice(&response.body).map_err(|_| {
        DiscoveryError::Parse("not JSON; is `issuer` pointing at a web page?".into())
    })?;
    let Value::Object(doc) = value else {
        return Err(DiscoveryError::Parse(
            "the top level is not an object".into(),
        ));
    };
    // D1 (Discovery 1.0 §4.3): exact string comparison, trailing slash included.
    let actual = doc
        .get("issuer")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if actual != issuer.as_str() {
        return Err(DiscoveryError::IssuerMismatch {
            expected: issuer.as_str().to_owned(),
            actual: crate::text::sanitize(actual, 120),
        });
    }
    Ok(ProviderMetadata {
        issuer: actual.to_owned(),
        authorization_endpoint: required(&doc, "authorization_endpoint")?,
        token_endpoint: required(&doc, "token_endpoint")?,
        jwks_uri: required(&doc, "jwks_uri")?,
        registration_endpoint: required(&doc, "registration_endpoint")?,
        userinfo_endpoint: optional(&doc, "userinfo_endpoint")?,
        end_session_endpoint: optional(&doc, "end_session_endpoint")?,
        revocation_endpoint: optional(&doc, "revocation_endpoint")?,
        authorization_response_iss_parameter_supported: doc
            .get("authorization_response_iss_parameter_supported")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        code_challenge_methods_supported: doc
            .get("code_challenge_methods_supported")
            .and_then(Value::as_array)
            .map(|methods| {
                methods
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    })
}

fn required(doc: &Map<String, Value>, field: &'static str) -> Result<Url, DiscoveryError> {
    optional(doc, field)?.ok_or(DiscoveryError::MissingEndpoint(field))
}

/// An absent endpoint is `None`; a present but malformed or insecure one is an error, because a
/// server that publishes a broken endpoint is not one to trust with the rest.
fn optional(doc: &Map<String, Value>, field: &'static str) -> Result<Option<Url>, DiscoveryError> {
    let Some(value) = doc.get(field) else {
        return Ok(None);
    };
    let url = value
        .as_str()
        .and_then(|text| Url::parse(text).ok())
        .filter(|url| url.fragment().is_none())
        .ok_or(DiscoveryError::MissingEndpoint(field))?;
    // D3 (RFC 9700 §2.6): refused here, before anything connects to it.
    check_secure_url(&url).map_err(|_| DiscoveryError::InsecureEndpoint(field))?;
    Ok(Some(url))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{respond, respond_raw};
    use serde_json::json;

    const ISSUER: &str = "https://idp.example/oauth/v2/oauth-anonymous";

    fn issuer() -> Issuer {
        Issuer::parse(ISSUER).unwrap()
    }

    fn doc() -> Value {
        json!({
            "issuer": ISSUER,
            "authorization_endpoint": "https://idp.example/oauth/v2/oauth-authorize",
            "token_endpoint": "https://idp.example/oauth/v2/oauth-token",
            "jwks_uri": "https://idp.example/oauth/v2/oauth-anonymous/jwks",
            "registration_endpoint": "https://idp.example/oauth/v2/oauth-dynamic-client-registration",
            "userinfo_endpoint": "https://idp.example/oauth/v2/oauth-userinfo",
            "end_session_endpoint": "https://idp.example/oauth/v2/oauth-session/logout",
            "authorization_response_iss_parameter_supported": true,
            "code_challenge_methods_supported": ["plain"],
        })
    }

    #[test]
    fn request_is_a_get_to_the_well_known_path() {
        let request = prepare_discovery(&issuer());
        assert_eq!(request.method, Method::Get);
        assert_eq!(
            request.url.as_str(),
            "https://idp.example/oauth/v2/oauth-anonymous/.well-known/openid-configuration"
        );
        assert!(request.authorization.is_none() && request.body.is_none());
        let slash = Issuer::parse("https://idp.example/").unwrap();
        assert_eq!(
            discovery_url(&slash).as_str(),
            "https://idp.example/.well-known/openid-configuration"
        );
    }

    #[test]
    fn valid_document_is_accepted() {
        let metadata = discovery_response(respond(200, &doc()), &issuer()).unwrap();
        assert_eq!(metadata.issuer, ISSUER);
        assert!(metadata.authorization_response_iss_parameter_supported);
        assert!(metadata.end_session_endpoint.is_some());
        assert!(metadata.revocation_endpoint.is_none());
    }

    #[test]
    fn d1_issuer_mismatch_is_rejected() {
        let mut body = doc();
        body["issuer"] = json!("https://evil.example/oauth/v2/oauth-anonymous");
        let error = discovery_response(respond(200, &body), &issuer()).unwrap_err();
        assert!(matches!(error, DiscoveryError::IssuerMismatch { .. }));
    }

    #[test]
    fn d1_issuer_trailing_slash_difference_is_rejected() {
        let mut body = doc();
        body["issuer"] = json!(format!("{ISSUER}/"));
        assert!(matches!(
            discovery_response(respond(200, &body), &issuer()),
            Err(DiscoveryError::IssuerMismatch { .. })
        ));
        body.as_object_mut().unwrap().remove("issuer");
        assert!(matches!(
            discovery_response(respond(200, &body), &issuer()),
            Err(DiscoveryError::IssuerMismatch { .. })
        ));
    }

    #[test]
    fn d2_required_endpoints_missing_are_rejected() {
        for field in [
            "authorization_endpoint",
            "token_endpoint",
            "jwks_uri",
            "registration_endpoint",
        ] {
            let mut body = doc();
            body.as_object_mut().unwrap().remove(field);
            match discovery_response(respond(200, &body), &issuer()) {
                Err(DiscoveryError::MissingEndpoint(f)) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
            body[field] = json!(42);
            assert!(discovery_response(respond(200, &body), &issuer()).is_err());
        }
    }

    #[test]
    fn d2_non_200_html_and_array_are_rejected() {
        assert!(matches!(
            discovery_response(respond(404, &doc()), &issuer()),
            Err(DiscoveryError::UnexpectedStatus(404))
        ));
        let html = respond_raw(200, Some("text/html"), b"<html><body>Welcome</body></html>");
        assert!(matches!(
            discovery_response(html, &issuer()),
            Err(DiscoveryError::Parse(_))
        ));
        assert!(matches!(
            discovery_response(respond(200, &json!([doc()])), &issuer()),
            Err(DiscoveryError::Parse(_))
        ));
    }

    #[test]
    fn d3_http_endpoint_on_non_loopback_host_is_rejected() {
        let mut body = doc();
        body["token_endpoint"] = json!("http://idp.example/oauth/v2/oauth-token");
        assert!(matches!(
            discovery_response(respond(200, &body), &issuer()),
            Err(DiscoveryError::InsecureEndpoint("token_endpoint"))
        ));
        let mut body = doc();
        body["end_session_endpoint"] = json!("http://idp.example/logout");
        assert!(matches!(
            discovery_response(respond(200, &body), &issuer()),
            Err(DiscoveryError::InsecureEndpoint("end_session_endpoint"))
        ));
    }

    #[test]
    fn d3_http_endpoints_on_loopback_are_accepted() {
        let local = "http://127.0.0.1:8443/oauth/v2/oauth-anonymous";
        let body = json!({
            "issuer": local,
            "authorization_endpoint": format!("{local}/auth"),
            "token_endpoint": format!("{local}/token"),
            "jwks_uri": format!("{local}/jwks"),
            "registration_endpoint": format!("{local}/reg"),
        });
        let metadata =
            discovery_response(respond(200, &body), &Issuer::parse(local).unwrap()).unwrap();
        assert!(!metadata.authorization_response_iss_parameter_supported);
        assert!(metadata.end_session_endpoint.is_none());
    }

    #[test]
    fn d4_plain_only_methods_are_kept_for_information_only() {
        // The authorize module always sends S256; this field never changes that.
        let metadata = discovery_response(respond(200, &doc()), &issuer()).unwrap();
        assert_eq!(metadata.code_challenge_methods_supported, vec!["plain"]);
    }
}
