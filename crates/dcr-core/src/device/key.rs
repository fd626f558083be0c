//! A key pair that belongs to this install, and the two JWTs it signs: the client assertion for
//! `private_key_jwt` (RFC 7523 §2.2, OIDC Core §9) and the DPoP proof (RFC 9449 §4).
//!
//! A per-install client secret is a bearer secret: whoever copies it can use it anywhere. A key
//! pair generated on the device is better: the server only ever learns the public half (the
//! `jwks` sent at registration), and a copied keychain entry without the private key proves
//! nothing. The private key is a P-256 key (ES256, the algorithm every server that supports
//! either RFC implements), kept as PKCS#8 in the keychain entry and nowhere else.
//!
//! Everything here is pure apart from the random numbers: the caller passes the clock, the
//! audience or the request, and gets the compact JWT to send. The session wires it in.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::digest::{digest, SHA256};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};
use url::Url;

pub use crate::error::DeviceKeyError;
use crate::protocol::token::ClientAssertionSigner;
use crate::text::random_token;
use crate::Secret;

#[cfg(test)]
mod tests;

/// How long a client assertion is valid. RFC 7523 §3 asks for a short `exp`; a minute covers a
/// slow network and a small clock skew, and a replay window no longer than that.
pub const ASSERTION_LIFETIME_SECS: i64 = 60;

/// This install's P-256 key pair. `Debug` shows the thumbprint only.
pub struct DeviceKey {
    pkcs8: Secret,
    pair: EcdsaKeyPair,
    thumbprint: String,
}

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceKey")
            .field("thumbprint", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

impl DeviceKey {
    /// A fresh key pair from the system's CSPRNG.
    pub fn generate() -> Result<Self, DeviceKeyError> {
        let rng = SystemRandom::new();
        let document = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| DeviceKeyError::Generate)?;
        Self::from_pkcs8(Secret::new(URL_SAFE_NO_PAD.encode(document.as_ref())))
    }

    /// The key as stored: base64url PKCS#8.
    pub fn from_pkcs8(pkcs8: Secret) -> Result<Self, DeviceKeyError> {
        let der = zeroize::Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(pkcs8.expose())
                .map_err(|_| DeviceKeyError::Unreadable)?,
        );
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, &SystemRandom::new())
                .map_err(|_| DeviceKeyError::Unreadable)?;
        let thumbprint = thumbprint(&public_jwk_members(&pair));
        Ok(Self {
            pkcs8,
            pair,
            thumbprint,
        })
    }

    /// The private key for the keychain entry, and only for it.
    pub fn pkcs8(&self) -> &Secret {
        &self.pkcs8
    }

    /// RFC 7638 thumbprint of the public key: the `kid` at registration, `dpop_jkt` on the
    /// authorization request (RFC 9449 §10), and what the About view shows.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// The public key as the registration's `jwks` (RFC 7591 §2), with `kid`, `use` and `alg`.
    pub fn public_jwks(&self) -> Value {
        let mut jwk = public_jwk_members(&self.pair);
        jwk["kid"] = json!(self.thumbprint);
        jwk["use"] = json!("sig");
        jwk["alg"] = json!("ES256");
        json!({ "keys": [jwk] })
    }

    /// A DPoP proof (RFC 9449 §4.2) for one request. `access_token` adds `ath` (for requests to
    /// resources, §4.2 and §7.1); `nonce` is the server's latest `DPoP-Nonce` (§8).
    pub fn dpop_proof(
        &self,
        method: &str,
        url: &Url,
        now: i64,
        access_token: Option<&Secret>,
        nonce: Option<&str>,
    ) -> Secret {
        let header = json!({
            "typ": "dpop+jwt",
            "alg": "ES256",
            "jwk": public_jwk_members(&self.pair),
        });
        let mut claims = json!({
            "jti": random_token(16),
            "htm": method,
            "htu": dpop_htu(url),
            "iat": now,
        });
        if let Some(token) = access_token {
            claims["ath"] =
                json!(URL_SAFE_NO_PAD.encode(digest(&SHA256, token.expose().as_bytes())));
        }
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        Secret::new(self.sign(&header, &claims))
    }

    /// JWS compact serialization (RFC 7515 §7.1) with ES256 (RFC 7518 §3.4: R || S, 64 bytes,
    /// which is ring's fixed format).
    fn sign(&self, header: &Value, claims: &Value) -> String {
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        // Signing with a valid key and the system RNG does not fail; ring reports only an
        // unspecified error for a broken RNG, which would also have failed key generation.
        let signature = self
            .pair
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .map(|signature| URL_SAFE_NO_PAD.encode(signature.as_ref()))
            .unwrap_or_default();
        format!("{signing_input}.{signature}")
    }
}

/// The assertion is signed here; the token step only asks for it (RFC 7523 §2.2).
impl ClientAssertionSigner for DeviceKey {
    /// The `private_key_jwt` client assertion (RFC 7523 §3): `iss` = `sub` = the client ID, the
    /// given audience (the issuer identifier, or the token endpoint where a server wants it), a
    /// unique `jti`, and an `exp` [`ASSERTION_LIFETIME_SECS`] after `now`.
    fn client_assertion(&self, client_id: &str, audience: &str, now: i64) -> Secret {
        let header = json!({ "alg": "ES256", "kid": self.thumbprint, "typ": "JWT" });
        let claims = json!({
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "jti": random_token(16),
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECS,
        });
        Secret::new(self.sign(&header, &claims))
    }
}

/// The required public members of the EC JWK (RFC 7518 §6.2.1), nothing else.
fn public_jwk_members(pair: &EcdsaKeyPair) -> Value {
    // The uncompressed SEC1 point: 0x04 || X (32 bytes) || Y (32 bytes).
    let point = pair.public_key().as_ref();
    json!({
        "kty": "EC",
        "crv": "P-256",
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
        "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
    })
}

/// RFC 7638 §3: SHA-256 over the required members in lexicographic order, no whitespace.
fn thumbprint(jwk: &Value) -> String {
    let canonical = format!(
        r#"{{"crv":"{}","kty":"{}","x":"{}","y":"{}"}}"#,
        jwk["crv"].as_str().unwrap_or_default(),
        jwk["kty"].as_str().unwrap_or_default(),
        jwk["x"].as_str().unwrap_or_default(),
        jwk["y"].as_str().unwrap_or_default(),
    );
    URL_SAFE_NO_PAD.encode(digest(&SHA256, canonical.as_bytes()))
}

/// RFC 9449 §4.2 `htu`: the request URI without query and fragment. The `url` crate has already
/// lower-cased the scheme and host and dropped a default port (RFC 3986 §6.2.2 normalisation,
/// which §4.3 step 9 has the server apply before comparing).
pub fn dpop_htu(url: &Url) -> String {
    let mut htu = url.clone();
    htu.set_query(None);
    htu.set_fragment(None);
    htu.to_string()
}
