//! A key pair that belongs to this install, and the two JWTs it signs: the client assertion for
//! `private_key_jwt` (RFC 7523 §2.2, OIDC Core §9) and the DPoP proof (RFC 9449 §4).
//!
//! A per-install client secret is a bearer secret: whoever copies it can use it anywhere. A key
//! pair generated on the device is better: the server only ever learns the public half (the
//! `jwks` sent at registration), and a copied keychain entry without the private key proves
//! nothing. The key is a P-256 key (ES256, the algorithm every server that supports either RFC
//! implements). Its private half is held by a [`DeviceSigner`]: in software (PKCS#8 in the
//! keychain entry and nowhere else) or in this computer's TPM (the entry holds only blobs that
//! TPM alone can load). The JWTs are assembled here, once, for every holder.
//!
//! Everything here is pure apart from the random numbers and the signer: the caller passes the
//! clock, the audience or the request, and gets the compact JWT to send, or the signer's error.
//! The session wires it in.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::digest::{digest, SHA256};
use serde_json::{json, Value};
use url::Url;

use super::signer::{DeviceSigner, KeyHolder, PublicPoint};
use super::software::SoftwareKey;
use crate::config::DeviceKeyStorage;
pub use crate::error::DeviceKeyError;
use crate::protocol::token::ClientAssertionSigner;
use crate::text::random_token;
use crate::Secret;

#[cfg(test)]
mod tests;

/// How long a client assertion is valid. RFC 7523 §3 asks for a short `exp`; a minute covers a
/// slow network and a small clock skew, and a replay window no longer than that.
pub const ASSERTION_LIFETIME_SECS: i64 = 60;

/// This install's P-256 key, whoever holds its private half. `Debug` shows the thumbprint and
/// the holder only.
pub struct DeviceKey {
    signer: Box<dyn DeviceSigner>,
    thumbprint: String,
}

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceKey")
            .field("thumbprint", &self.thumbprint)
            .field("holder", &self.signer.holder())
            .finish_non_exhaustive()
    }
}

impl DeviceKey {
    /// A fresh software key pair from the system's CSPRNG.
    pub fn generate() -> Result<Self, DeviceKeyError> {
        Ok(Self::from_signer(Box::new(SoftwareKey::generate()?)))
    }

    /// A fresh key where `deviceKeyStorage` says: software, the TPM (an error naming the fix
    /// when there is no usable one), or the TPM when usable and else software.
    pub fn generate_for(storage: DeviceKeyStorage) -> Result<Self, DeviceKeyError> {
        match storage {
            DeviceKeyStorage::Software => Self::generate(),
            DeviceKeyStorage::Tpm => Self::generate_in_tpm(),
            DeviceKeyStorage::Auto => match tpm_probe() {
                Ok(()) => Self::generate_in_tpm(),
                Err(reason) => {
                    tracing::info!(%reason, "no usable TPM; the device key is kept in the keychain");
                    Self::generate()
                }
            },
        }
    }

    /// A fresh key in this process's TPM (`TPM2TOOLS_TCTI`, else `/dev/tpmrm0`).
    #[cfg(target_os = "linux")]
    pub fn generate_in_tpm() -> Result<Self, DeviceKeyError> {
        Ok(Self::from_signer(Box::new(super::tpm::TpmKey::generate()?)))
    }

    /// macOS (Secure Enclave) and Windows (Platform Crypto Provider) have no TPM holder yet.
    #[cfg(not(target_os = "linux"))]
    pub fn generate_in_tpm() -> Result<Self, DeviceKeyError> {
        Err(DeviceKeyError::TpmUnsupported)
    }

    /// A software key as stored: base64url PKCS#8.
    pub fn from_pkcs8(pkcs8: Secret) -> Result<Self, DeviceKeyError> {
        Ok(Self::from_signer(Box::new(SoftwareKey::from_pkcs8(pkcs8)?)))
    }

    /// A key held by `signer`.
    pub fn from_signer(signer: Box<dyn DeviceSigner>) -> Self {
        let thumbprint = thumbprint(&public_jwk_members(signer.public_point()));
        Self { signer, thumbprint }
    }

    /// The keychain entry's `deviceKey` member (JSON text), and only for it: the PKCS#8 of a
    /// software key, the TPM-wrapped blobs of a TPM key.
    pub fn stored_form(&self) -> Secret {
        self.signer.stored_form()
    }

    /// Who holds the private key.
    pub fn holder(&self) -> KeyHolder {
        self.signer.holder()
    }

    /// Whether the key can still sign (see [`DeviceSigner::check_available`]): asked before a
    /// sign-in opens the browser, so a key that is gone is found out before the user types a
    /// password for nothing.
    pub fn check_available(&self) -> Result<(), DeviceKeyError> {
        self.off_the_runtime(|| self.signer.check_available())
    }

    /// Runs a signer call. A TPM call waits on the chip (milliseconds to, on a busy or slow
    /// TPM, far more) and must not hold up the async runtime's worker thread with it. Every
    /// signature of this install passes through here, inside the synchronous request builders
    /// that borrow the request being made (`form_request`, `send_token_request`'s builder), so
    /// this is the one place to move it off the runtime: `block_in_place` hands this worker's
    /// other tasks to another worker while the TPM works (`spawn_blocking` would need a
    /// `'static` job, that is the assertion signed ahead of the request and threaded through
    /// the protocol layer). A current-thread runtime (the CLI, one operation at a time) has no
    /// other worker to hand them to, and no runtime at all (a benchmark, a test) nothing to
    /// block: there the call runs as it is. A software signature takes microseconds, less than
    /// the hand-over, and is never moved.
    fn off_the_runtime<T>(&self, call: impl FnOnce() -> T) -> T {
        use tokio::runtime::{Handle, RuntimeFlavor};
        let blocks = self.signer.holder() == KeyHolder::Tpm;
        match Handle::try_current() {
            Ok(handle) if blocks && handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(call)
            }
            _ => call(),
        }
    }

    /// RFC 7638 thumbprint of the public key: the `kid` at registration, `dpop_jkt` on the
    /// authorization request (RFC 9449 §10), and what the About view shows.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// The public key as the registration's `jwks` (RFC 7591 §2), with `kid`, `use` and `alg`.
    pub fn public_jwks(&self) -> Value {
        let mut jwk = public_jwk_members(self.signer.public_point());
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
    ) -> Result<Secret, DeviceKeyError> {
        let header = json!({
            "typ": "dpop+jwt",
            "alg": "ES256",
            "jwk": public_jwk_members(self.signer.public_point()),
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
        self.sign(&header, &claims).map(Secret::new)
    }

    /// JWS compact serialization (RFC 7515 §7.1) with ES256 (RFC 7518 §3.4: R || S, 64
    /// bytes). A signer's failure is returned as it is: a JWT without a valid signature is
    /// never sent.
    fn sign(&self, header: &Value, claims: &Value) -> Result<String, DeviceKeyError> {
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.off_the_runtime(|| self.signer.sign(signing_input.as_bytes()))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }
}

/// The assertion is signed here; the token step only asks for it (RFC 7523 §2.2).
impl ClientAssertionSigner for DeviceKey {
    /// The `private_key_jwt` client assertion (RFC 7523 §3): `iss` = `sub` = the client ID, the
    /// given audience (the issuer identifier, or the token endpoint where a server wants it), a
    /// unique `jti`, and an `exp` [`ASSERTION_LIFETIME_SECS`] after `now`.
    fn client_assertion(
        &self,
        client_id: &str,
        audience: &str,
        now: i64,
    ) -> Result<Secret, DeviceKeyError> {
        let header = json!({ "alg": "ES256", "kid": self.thumbprint, "typ": "JWT" });
        let claims = json!({
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "jti": random_token(16),
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECS,
        });
        self.sign(&header, &claims).map(Secret::new)
    }
}

#[cfg(target_os = "linux")]
fn tpm_probe() -> Result<(), DeviceKeyError> {
    super::tpm::probe()
}

#[cfg(not(target_os = "linux"))]
fn tpm_probe() -> Result<(), DeviceKeyError> {
    Err(DeviceKeyError::TpmUnsupported)
}

/// The required public members of the EC JWK (RFC 7518 §6.2.1), nothing else.
fn public_jwk_members(point: &PublicPoint) -> Value {
    // The uncompressed SEC1 point: 0x04 || X (32 bytes) || Y (32 bytes).
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
