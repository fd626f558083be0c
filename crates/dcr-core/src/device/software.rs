//! The software-held device key: a P-256 key pair generated from the system's CSPRNG and kept
//! as PKCS#8 (base64url) in the keychain entry and nowhere else. Whoever copies the whole entry
//! holds the key; the TPM holder (`tpm.rs`) is the one that cannot be copied.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};

use super::signer::{DeviceSigner, Es256Signature, KeyHolder, PublicPoint};
use crate::error::DeviceKeyError;
use crate::Secret;

/// A P-256 key pair in memory. `Debug` shows nothing of the key.
pub struct SoftwareKey {
    pkcs8: Secret,
    pair: EcdsaKeyPair,
    point: PublicPoint,
}

impl std::fmt::Debug for SoftwareKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SoftwareKey(<redacted>)")
    }
}

impl SoftwareKey {
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
        let point: PublicPoint = pair
            .public_key()
            .as_ref()
            .try_into()
            .map_err(|_| DeviceKeyError::Unreadable)?;
        Ok(Self { pkcs8, pair, point })
    }
}

impl DeviceSigner for SoftwareKey {
    fn public_point(&self) -> &PublicPoint {
        &self.point
    }

    /// ring's fixed format is already R || S (RFC 7518 §3.4). ring reports only an unspecified
    /// error, for a broken RNG; it becomes [`DeviceKeyError::Sign`], never an empty signature.
    fn sign(&self, signing_input: &[u8]) -> Result<Es256Signature, DeviceKeyError> {
        let signature = self
            .pair
            .sign(&SystemRandom::new(), signing_input)
            .map_err(|_| DeviceKeyError::Sign)?;
        signature
            .as_ref()
            .try_into()
            .map_err(|_| DeviceKeyError::Sign)
    }

    /// A JSON string: base64url needs no escaping.
    fn stored_form(&self) -> Secret {
        let text = self.pkcs8.expose();
        let mut json = String::with_capacity(text.len() + 2);
        json.push('"');
        json.push_str(text);
        json.push('"');
        Secret::new(json)
    }

    fn holder(&self) -> KeyHolder {
        KeyHolder::Software
    }
}
