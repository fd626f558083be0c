//! The authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636 §4).
//!
//! [`prepare_authorization`] returns the URL for the user agent and a [`PendingAuthorization`]
//! holding `state`, `nonce` and the PKCE verifier. The pending value is single-use: the code
//! exchange consumes it, and it is neither `Clone` nor `Serialize`, so the verifier cannot be
//! sent twice or leave the engine (X4).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use url::Url;

use crate::config::{Config, RedirectUri};
use crate::protocol::discovery::ProviderMetadata;
pub(crate) use crate::text::random_token;
use crate::Secret;

/// Random bytes behind the verifier: 48 bytes give 64 base64url characters, above RFC 7636
/// §4.1's minimum of 43 (A6).
const VERIFIER_BYTES: usize = 48;
/// 256 bits for `state` and `nonce`.
const STATE_BYTES: usize = 32;

/// The PKCE `code_verifier` (RFC 7636 §4.1). Deliberately not `Clone`; `Debug` is redacted.
pub struct PkceVerifier(pub(crate) Secret);

impl PkceVerifier {
    fn generate() -> Self {
        Self(Secret::new(random_token(VERIFIER_BYTES)))
    }

    /// `BASE64URL(SHA256(verifier))`, RFC 7636 §4.2 `S256`.
    pub fn challenge(&self) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, self.0.expose().as_bytes());
        URL_SAFE_NO_PAD.encode(digest.as_ref())
    }

    pub(crate) fn into_secret(self) -> Secret {
        self.0
    }
}

impl std::fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PkceVerifier(<redacted>)")
    }
}

/// What differs between the registration login and the sign-in (the seed's three-field table).
#[derive(Debug, Clone, Copy)]
pub struct AuthorizationParams<'a> {
    pub client_id: &'a str,
    pub scope: &'a str,
    pub redirect_uri: &'a RedirectUri,
    /// `prompt=login` (OIDC Core §3.1.2.1): a fresh password for the registration login.
    pub force_login: bool,
    pub acr_values: Option<&'a str>,
    /// RFC 9449 §10 `dpop_jkt`: the thumbprint of the key the code is bound to, so only this
    /// device can redeem it. Sign-in only: the registration login's token stays a Bearer token.
    pub dpop_jkt: Option<&'a str>,
}

impl<'a> AuthorizationParams<'a> {
    /// The registration login: static public client, scope `dcr`, `prompt=login`.
    pub fn registration(config: &'a Config) -> Self {
        Self {
            client_id: &config.registration_client_id,
            scope: &config.dcr_scope,
            redirect_uri: &config.redirect_uri,
            force_login: true,
            acr_values: config.acr_values.as_deref(),
            dpop_jkt: None,
        }
    }

    /// The sign-in: the per-install client and the configured scope, SSO allowed.
    pub fn sign_in(config: &'a Config, client_id: &'a str) -> Self {
        Self {
            client_id,
            scope: &config.scope,
            redirect_uri: &config.redirect_uri,
            force_login: false,
            acr_values: config.acr_values.as_deref(),
            dpop_jkt: None,
        }
    }
}

/// An authorization request in flight. Consumed by the code exchange.
pub struct PendingAuthorization {
    pub(crate) state: Secret,
    pub(crate) nonce: Secret,
    pub(crate) verifier: PkceVerifier,
    pub(crate) client_id: String,
    pub(crate) redirect_uri: RedirectUri,
    /// The issuer and whether it promised `iss` (RFC 9207), for the callback check.
    pub(crate) issuer: String,
    pub(crate) iss_required: bool,
}

impl PendingAuthorization {
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn redirect_uri(&self) -> &RedirectUri {
        &self.redirect_uri
    }

    /// The nonce the ID token must carry (OIDC Core §3.1.3.7 step 11).
    pub fn nonce(&self) -> &Secret {
        &self.nonce
    }

    /// The `state` the callback must carry (RFC 6749 §4.1.2), for the browser step.
    pub fn state(&self) -> &Secret {
        &self.state
    }
}

impl std::fmt::Debug for PendingAuthorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingAuthorization")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri.as_str())
            .finish_non_exhaustive()
    }
}

/// Builds the authorization URL with fresh `state`, `nonce` and PKCE S256 (A6). S256 is sent
/// whatever `code_challenge_methods_supported` says (D4): plain would expose the verifier.
pub fn prepare_authorization(
    metadata: &ProviderMetadata,
    params: &AuthorizationParams<'_>,
) -> (Url, PendingAuthorization) {
    let pending = PendingAuthorization {
        state: Secret::new(random_token(STATE_BYTES)),
        nonce: Secret::new(random_token(STATE_BYTES)),
        verifier: PkceVerifier::generate(),
        client_id: params.client_id.to_owned(),
        redirect_uri: params.redirect_uri.clone(),
        issuer: metadata.issuer.clone(),
        iss_required: metadata.authorization_response_iss_parameter_supported,
    };
    let mut url = metadata.authorization_endpoint.clone();
    {
        // Appended after any query the endpoint already has (RFC 6749 §3.1).
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", params.client_id)
            .append_pair("redirect_uri", params.redirect_uri.as_str())
            .append_pair("scope", params.scope)
            .append_pair("state", pending.state.expose())
            .append_pair("code_challenge", &pending.verifier.challenge())
            .append_pair("code_challenge_method", "S256");
        // `nonce` is an OpenID Connect parameter (Core §3.1.2.1); a plain OAuth request such as
        // the `dcr` login has no ID token to bind it to, and oidc-provider rejects it there.
        if params.scope.split(' ').any(|scope| scope == "openid") {
            query.append_pair("nonce", pending.nonce.expose());
        }
        if params.force_login {
            query.append_pair("prompt", "login");
        }
        if let Some(acr) = params.acr_values {
            query.append_pair("acr_values", acr);
        }
        if let Some(jkt) = params.dpop_jkt {
            query.append_pair("dpop_jkt", jkt);
        }
    }
    (url, pending)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::metadata;
    use std::collections::HashMap;

    fn config() -> Config {
        Config::from_json(&crate::test_support::config_json(
            r#""acrValues":"urn:acr:pw""#,
        ))
        .unwrap()
    }

    fn query(url: &Url) -> HashMap<String, String> {
        url.query_pairs().into_owned().collect()
    }

    #[test]
    fn a6_registration_request_is_code_s256_with_prompt_login_and_dcr_scope() {
        let config = config();
        let (url, pending) =
            prepare_authorization(&metadata(), &AuthorizationParams::registration(&config));
        let q = query(&url);
        assert_eq!(url.path(), "/authorize");
        assert_eq!(q["tenant"], "a");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "mobile-dcr-client");
        assert_eq!(q["scope"], "dcr");
        assert_eq!(q["redirect_uri"], "io.curity.dcrclient:/callback");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["prompt"], "login");
        assert_eq!(q["acr_values"], "urn:acr:pw");
        assert_eq!(q["state"], pending.state.expose());
        assert!(!q.contains_key("nonce"), "no nonce on a non-OpenID request");
        assert_eq!(q["code_challenge"], pending.verifier.challenge());
    }

    #[test]
    fn a6_sign_in_request_uses_per_install_client_and_configured_scope_without_prompt() {
        let config = config();
        let (url, pending) = prepare_authorization(
            &metadata(),
            &AuthorizationParams::sign_in(&config, "87f1d9de"),
        );
        let q = query(&url);
        assert_eq!(q["client_id"], "87f1d9de");
        assert_eq!(q["scope"], "openid profile");
        assert_eq!(q["nonce"], pending.nonce.expose());
        assert!(!q.contains_key("prompt"));
        assert!(!q.contains_key("dpop_jkt"), "only when DPoP is on");
        assert_eq!(pending.client_id(), "87f1d9de");
    }

    #[test]
    fn k4_sign_in_request_binds_the_code_to_the_dpop_key_with_dpop_jkt() {
        let config = config();
        let key = crate::device::key::DeviceKey::generate().unwrap();
        let mut params = AuthorizationParams::sign_in(&config, "87f1d9de");
        params.dpop_jkt = Some(key.thumbprint());
        let (url, _) = prepare_authorization(&metadata(), &params);
        assert_eq!(query(&url)["dpop_jkt"], key.thumbprint());
        let (url, _) =
            prepare_authorization(&metadata(), &AuthorizationParams::registration(&config));
        assert!(
            !query(&url).contains_key("dpop_jkt"),
            "the DCR login stays Bearer"
        );
    }

    #[test]
    fn a6_verifier_is_long_fresh_and_never_in_the_url() {
        let config = config();
        let params = AuthorizationParams::registration(&config);
        let (url1, p1) = prepare_authorization(&metadata(), &params);
        let (_, p2) = prepare_authorization(&metadata(), &params);
        let verifier = p1.verifier.0.expose();
        assert!(
            verifier.len() >= 43 && verifier.len() <= 128,
            "RFC 7636 §4.1"
        );
        assert!(!url1.as_str().contains(verifier));
        assert_ne!(verifier, p2.verifier.0.expose());
        assert_ne!(p1.state.expose(), p2.state.expose());
        assert_ne!(p1.nonce.expose(), p2.nonce.expose());
        assert!(!format!("{p1:?}").contains(verifier));
        assert!(!format!("{:?}", p1.verifier).contains(verifier));
    }

    #[test]
    fn a6_challenge_is_rfc7636_appendix_b() {
        let verifier = PkceVerifier(Secret::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert_eq!(
            verifier.challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
