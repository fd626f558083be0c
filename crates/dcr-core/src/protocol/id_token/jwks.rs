//! The key set (RFC 7517) and JWS signature checks (RFC 7515, RFC 7518 §3) with `ring`.
//!
//! Only asymmetric algorithms are on the allow-list. Keys that cannot be parsed are skipped
//! (D5), so one odd key never hides the real one.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::{Map, Value};
use url::Url;

use crate::error::IdTokenError;
use crate::platform::http::{CappedResponse, Method, OutgoingRequest};

/// D6: the key set is fetched again on an unknown `kid` only when the cached one is at least
/// this old, so a flood of tokens with invented key ids cannot become a flood of fetches.
pub const JWKS_MIN_REFETCH_SECS: i64 = 30;

/// The allow-listed JWS algorithms (RFC 7518 §3.1, RFC 8037 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Rs256,
    Rs384,
    Rs512,
    Ps256,
    Ps384,
    Ps512,
    Es256,
    Es384,
    EdDsa,
}

impl Algorithm {
    /// `none` and HMAC are refused with their own errors (I2); anything else unknown is refused.
    pub fn parse(alg: &str) -> Result<Self, IdTokenError> {
        Ok(match alg {
            "RS256" => Self::Rs256,
            "RS384" => Self::Rs384,
            "RS512" => Self::Rs512,
            "PS256" => Self::Ps256,
            "PS384" => Self::Ps384,
            "PS512" => Self::Ps512,
            "ES256" => Self::Es256,
            "ES384" => Self::Es384,
            "EdDSA" => Self::EdDsa,
            _ if alg.eq_ignore_ascii_case("none") => return Err(IdTokenError::Unsigned),
            _ if alg.starts_with("HS") => {
                return Err(IdTokenError::SymmetricAlgorithm(crate::text::sanitize(
                    alg, 20,
                )))
            }
            _ => {
                return Err(IdTokenError::UnsupportedAlgorithm(crate::text::sanitize(
                    alg, 20,
                )))
            }
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
            Self::Ps256 => "PS256",
            Self::Ps384 => "PS384",
            Self::Ps512 => "PS512",
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::EdDsa => "EdDSA",
        }
    }
}

#[derive(Debug, Clone)]
enum KeyMaterial {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    /// Uncompressed SEC1 point `04 || x || y`.
    P256(Vec<u8>),
    P384(Vec<u8>),
    Ed25519(Vec<u8>),
}

/// One usable public key.
#[derive(Debug, Clone)]
pub struct Jwk {
    kid: Option<String>,
    alg: Option<String>,
    material: KeyMaterial,
}

impl Jwk {
    fn parse(entry: &Map<String, Value>) -> Option<Self> {
        let text = |name: &str| entry.get(name).and_then(Value::as_str);
        let bytes = |name: &str| text(name).and_then(|v| URL_SAFE_NO_PAD.decode(v).ok());
        // RFC 7517 §4.2: a key marked for encryption is not a signing key.
        if text("use").is_some_and(|u| u != "sig") {
            return None;
        }
        let material = match text("kty")? {
            "RSA" => KeyMaterial::Rsa {
                n: bytes("n")?,
                e: bytes("e")?,
            },
            "EC" => {
                let (x, y) = (bytes("x")?, bytes("y")?);
                let len = match text("crv")? {
                    "P-256" => 32,
                    "P-384" => 48,
                    _ => return None,
                };
                if x.len() != len || y.len() != len {
                    return None;
                }
                let point = [&[4u8][..], &x, &y].concat();
                if len == 32 {
                    KeyMaterial::P256(point)
                } else {
                    KeyMaterial::P384(point)
                }
            }
            "OKP" if text("crv")? == "Ed25519" => {
                let x = bytes("x")?;
                (x.len() == 32).then_some(KeyMaterial::Ed25519(x))?
            }
            _ => return None,
        };
        Some(Self {
            kid: text("kid").map(str::to_owned),
            alg: text("alg").map(str::to_owned),
            material,
        })
    }

    /// Whether this key can check a signature made with `alg`.
    fn fits(&self, alg: Algorithm) -> bool {
        if self.alg.as_deref().is_some_and(|a| a != alg.name()) {
            return false;
        }
        use Algorithm::*;
        matches!(
            (&self.material, alg),
            (
                KeyMaterial::Rsa { .. },
                Rs256 | Rs384 | Rs512 | Ps256 | Ps384 | Ps512
            ) | (KeyMaterial::P256(_), Es256)
                | (KeyMaterial::P384(_), Es384)
                | (KeyMaterial::Ed25519(_), EdDsa)
        )
    }

    fn verify(&self, alg: Algorithm, message: &[u8], sig: &[u8]) -> bool {
        use Algorithm::*;
        // ring refuses RSA moduli under 2048 bits for these parameters, as it should.
        let rsa = |params: &'static signature::RsaParameters| match &self.material {
            KeyMaterial::Rsa { n, e } => RsaPublicKeyComponents { n, e }
                .verify(params, message, sig)
                .is_ok(),
            _ => false,
        };
        let point = |params: &'static dyn signature::VerificationAlgorithm| match &self.material {
            KeyMaterial::P256(p) | KeyMaterial::P384(p) | KeyMaterial::Ed25519(p) => {
                UnparsedPublicKey::new(params, p)
                    .verify(message, sig)
                    .is_ok()
            }
            KeyMaterial::Rsa { .. } => false,
        };
        match alg {
            Rs256 => rsa(&signature::RSA_PKCS1_2048_8192_SHA256),
            Rs384 => rsa(&signature::RSA_PKCS1_2048_8192_SHA384),
            Rs512 => rsa(&signature::RSA_PKCS1_2048_8192_SHA512),
            Ps256 => rsa(&signature::RSA_PSS_2048_8192_SHA256),
            Ps384 => rsa(&signature::RSA_PSS_2048_8192_SHA384),
            Ps512 => rsa(&signature::RSA_PSS_2048_8192_SHA512),
            // JWS ECDSA signatures are the fixed-size r || s form (RFC 7518 §3.4).
            Es256 => point(&signature::ECDSA_P256_SHA256_FIXED),
            Es384 => point(&signature::ECDSA_P384_SHA384_FIXED),
            EdDsa => point(&signature::ED25519),
        }
    }
}

/// A parsed key set, fetched from `jwks_uri`.
#[derive(Debug, Clone, Default)]
pub struct Jwks {
    keys: Vec<Jwk>,
}

impl Jwks {
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Checks `sig` over `message`. With a `kid`, only keys with that id are tried (an unknown
    /// id is [`IdTokenError::UnknownKey`], so the caller may refetch, D6). Without one (I10),
    /// every key that fits the algorithm is tried.
    pub fn verify(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
        message: &[u8],
        sig: &[u8],
    ) -> Result<(), IdTokenError> {
        let mut candidates = self
            .keys
            .iter()
            .filter(|key| kid.is_none() || key.kid.as_deref() == kid)
            .filter(|key| key.fits(alg))
            .peekable();
        if candidates.peek().is_none() {
            return Err(IdTokenError::UnknownKey);
        }
        if candidates.any(|key| key.verify(alg, message, sig)) {
            Ok(())
        } else {
            Err(IdTokenError::BadSignature)
        }
    }
}

pub fn prepare_jwks(jwks_uri: &Url) -> OutgoingRequest {
    OutgoingRequest {
        method: Method::Get,
        url: jwks_uri.clone(),
        authorization: None,
        content_type: None,
        body: None,
        dpop: None,
    }
}

/// Parses `{"keys": [...]}`, skipping entries that are not usable signing keys (D5).
pub fn jwks_response(response: CappedResponse) -> Result<Jwks, IdTokenError> {
    if response.status != 200 {
        return Err(IdTokenError::JwksStatus(response.status));
    }
    let value: Value =
        serde_json::from_slice(&response.body).map_err(|_| IdTokenError::JwksParse)?;
    let entries = value
        .get("keys")
        .and_then(Value::as_array)
        .ok_or(IdTokenError::JwksParse)?;
    let keys = entries
        .iter()
        .filter_map(Value::as_object)
        .filter_map(Jwk::parse)
        .collect();
    Ok(Jwks { keys })
}

/// How long the session waits before its one retry of a key-set fetch that failed (a network
/// error or an error status): long enough for a restarting server or a flapping proxy, short
/// enough that the user barely notices.
pub const JWKS_RETRY_BACKOFF: std::time::Duration = std::time::Duration::from_millis(500);

/// D6: whether an unknown `kid` justifies fetching the key set again.
pub fn should_refetch(fetched_at: i64, now: i64) -> bool {
    refetch_due(fetched_at, now, JWKS_MIN_REFETCH_SECS)
}

/// D6 with another minimum interval (in seconds) between key-set fetches.
pub fn refetch_due(fetched_at: i64, now: i64, min_interval_secs: i64) -> bool {
    now.saturating_sub(fetched_at) >= min_interval_secs
}
