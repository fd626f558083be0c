//! Fixtures shared by the unit tests: a config, provider metadata, canned responses and
//! signing keys that mint ID tokens. Test-only; the RSA key file is a throwaway test key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair, RsaPublicKeyComponents,
};
use serde_json::{json, Value};
use url::Url;

use crate::config::Config;
use crate::platform::http::CappedResponse;
use crate::protocol::discovery::ProviderMetadata;
use crate::protocol::id_token::{jwks_response, Jwks};

pub(crate) const ISSUER: &str = "https://idp.example/oauth/v2/oauth-anonymous";
pub(crate) const CLIENT_ID: &str = "87f1d9de-de2f-4e96-b27b-882cce0a3352";

/// The tutorial's config against [`ISSUER`], plus `extra` keys (`"key":value` pairs).
pub(crate) fn config_json(extra: &str) -> String {
    let mut json = format!(
        r#"{{"issuer":"{ISSUER}","registrationClientID":"mobile-dcr-client","redirectUri":"io.curity.dcrclient:/callback","postLogoutRedirectUri":"io.curity.dcrclient:/logoutcallback","scope":"openid profile""#
    );
    if !extra.is_empty() {
        json.push(',');
        json.push_str(extra);
    }
    json.push('}');
    json
}

pub(crate) fn config() -> Config {
    Config::from_json(&config_json("")).unwrap()
}

pub(crate) fn metadata() -> ProviderMetadata {
    let url = |path: &str| Url::parse(&format!("https://idp.example{path}")).unwrap();
    ProviderMetadata {
        issuer: ISSUER.into(),
        authorization_endpoint: url("/authorize?tenant=a"),
        token_endpoint: url("/token"),
        jwks_uri: url("/jwks"),
        registration_endpoint: url("/register"),
        userinfo_endpoint: Some(url("/userinfo")),
        end_session_endpoint: Some(url("/logout")),
        revocation_endpoint: None,
        authorization_response_iss_parameter_supported: true,
        code_challenge_methods_supported: vec!["plain".into()],
    }
}

pub(crate) fn respond(status: u16, body: &Value) -> CappedResponse {
    respond_raw(
        status,
        Some("application/json"),
        &serde_json::to_vec(body).unwrap(),
    )
}

/// An OAuth error response (RFC 6749 §5.2): `error` and `error_description` in a JSON body.
pub(crate) fn oauth_error(status: u16, error: &str, description: &str) -> CappedResponse {
    respond(
        status,
        &serde_json::json!({"error": error, "error_description": description}),
    )
}

/// A response whose body is taken as given: HTML, a JWT, bytes that are not UTF-8, or JSON
/// text kept byte for byte. `content_type: None` sends no `Content-Type` header.
pub(crate) fn respond_raw(status: u16, content_type: Option<&str>, body: &[u8]) -> CappedResponse {
    CappedResponse {
        status,
        content_type: content_type.map(str::to_owned),
        body: body.to_vec(),
        ..Default::default()
    }
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A signing key for minting test ID tokens.
pub(crate) enum TestKey {
    Rsa(RsaKeyPair),
    P256(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

impl TestKey {
    pub(crate) fn rsa() -> Self {
        let der = include_bytes!("test_support/rsa2048-test-only.pk8");
        Self::Rsa(RsaKeyPair::from_pkcs8(der).unwrap())
    }

    pub(crate) fn p256() -> Self {
        let rng = SystemRandom::new();
        let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
        Self::P256(EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap())
    }

    pub(crate) fn ed25519() -> Self {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        Self::Ed25519(Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap())
    }

    /// The public JWK.
    pub(crate) fn jwk(&self, kid: &str) -> Value {
        match self {
            Self::Rsa(key) => {
                let parts: RsaPublicKeyComponents<Vec<u8>> = key.public().into();
                json!({"kty":"RSA","kid":kid,"use":"sig","n":b64(parts.n),"e":b64(parts.e)})
            }
            Self::P256(key) => {
                let point = key.public_key().as_ref();
                json!({"kty":"EC","crv":"P-256","kid":kid,"x":b64(&point[1..33]),"y":b64(&point[33..65])})
            }
            Self::Ed25519(key) => {
                json!({"kty":"OKP","crv":"Ed25519","kid":kid,"x":b64(key.public_key().as_ref())})
            }
        }
    }

    pub(crate) fn default_alg(&self) -> &'static str {
        match self {
            Self::Rsa(_) => "RS256",
            Self::P256(_) => "ES256",
            Self::Ed25519(_) => "EdDSA",
        }
    }

    /// Signs `claims` under `header` (whose `alg` picks RS256 or PS256 for RSA keys).
    pub(crate) fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
        let rng = SystemRandom::new();
        let signature = match self {
            Self::Rsa(key) => {
                let padding: &'static dyn signature::RsaEncoding = if header["alg"] == "PS256" {
                    &signature::RSA_PSS_SHA256
                } else {
                    &signature::RSA_PKCS1_SHA256
                };
                let mut out = vec![0; key.public().modulus_len()];
                key.sign(padding, &rng, input.as_bytes(), &mut out).unwrap();
                out
            }
            Self::P256(key) => key.sign(&rng, input.as_bytes()).unwrap().as_ref().to_vec(),
            Self::Ed25519(key) => key.sign(input.as_bytes()).as_ref().to_vec(),
        };
        format!("{input}.{}", b64(signature))
    }

    /// A token with the default header for this key and `kid`.
    pub(crate) fn mint(&self, kid: &str, claims: &Value) -> String {
        self.sign(&json!({"alg": self.default_alg(), "kid": kid}), claims)
    }
}

/// A key set from `(key, kid)` pairs, parsed like a server's.
pub(crate) fn jwks_of(keys: &[(&TestKey, &str)]) -> Jwks {
    let keys: Vec<Value> = keys.iter().map(|(key, kid)| key.jwk(kid)).collect();
    jwks_response(respond(200, &json!({ "keys": keys }))).unwrap()
}

/// Claims that pass every check for [`CLIENT_ID`], `nonce` and `now`.
pub(crate) fn good_claims(nonce: &str, now: i64) -> Value {
    json!({
        "iss": ISSUER,
        "sub": "demouser",
        "aud": CLIENT_ID,
        "exp": now + 300,
        "iat": now,
        "nonce": nonce,
        "name": "Demo User",
        "auth_time": now - 5,
    })
}

/// A registration response as oidc-provider gives it for `private_key_jwt`: no secret and no
/// secret expiry, the method echoed (RFC 7591 §3.2.1 returns the registered metadata).
pub(crate) fn as_private_key_jwt(body: &mut Value) {
    if let Some(map) = body.as_object_mut() {
        map.remove("client_secret");
        map.remove("client_secret_expires_at");
        map.insert(
            "token_endpoint_auth_method".into(),
            json!("private_key_jwt"),
        );
    }
}
