//! The one operation behind every ES256 signature this install makes (the `private_key_jwt`
//! client assertion, every DPoP proof, and through the public key the `jwks` of a key-rotation
//! update): sign a JWS signing input with the device's P-256 key.
//!
//! Where the private key lives is the implementation's business: in the keychain entry as
//! PKCS#8 ([`SoftwareKey`](super::software::SoftwareKey)), or inside this computer's TPM, which
//! never lets it out (`tpm.rs`, Linux). The JWTs themselves are assembled once, in `key.rs`,
//! over this trait, so both holders produce byte-for-byte the same kind of token.
//!
//! Signing may fail (a TPM can be busy, cleared or gone), so [`DeviceSigner::sign`] is
//! fallible: a failure is a [`DeviceKeyError`] with a stable kind, never an empty signature.

use crate::error::DeviceKeyError;
use crate::Secret;

/// An uncompressed P-256 public point, SEC1 §2.3.3: `0x04 || X || Y`, 32 bytes each.
pub type PublicPoint = [u8; 65];

/// An ES256 JWS signature: `R || S`, each a 32-byte big-endian integer (RFC 7518 §3.4).
pub type Es256Signature = [u8; 64];

/// Who holds the private key: shown to the user and in diagnostics, never the key itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum KeyHolder {
    /// PKCS#8 in the keychain entry: whoever copies the whole entry holds the key.
    Software,
    /// Created in this computer's TPM 2.0; the entry holds only blobs that TPM alone can load.
    Tpm,
}

impl KeyHolder {
    /// The holder as `deviceKeyStorage` and the JSON views spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Software => "software",
            Self::Tpm => "tpm",
        }
    }

    /// What the user is told about where the device key lives: the one sentence Home, About,
    /// the diagnostics report and `dcr status` all show, so the app and the CLI cannot say
    /// different things. Worded by what it protects against: a TPM key cannot leave this
    /// computer (`fixedTPM`, TPM 2.0 Part 2 §8.3 `TPMA_OBJECT`); a software key is as safe
    /// as the keychain entry it is stored in.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Software => "Device key stored in the keychain",
            Self::Tpm => "Device key held by this computer's TPM (cannot be copied)",
        }
    }
}

/// A P-256 signing key for ES256.
pub trait DeviceSigner: Send + Sync {
    /// The public key. Known without signing (a TPM key's public area is stored beside it).
    fn public_point(&self) -> &PublicPoint;

    /// An ES256 signature over `signing_input` (RFC 7515 §5.1: ASCII(header.payload)), which
    /// the signer hashes with SHA-256 itself (RFC 7518 §3.4).
    fn sign(&self, signing_input: &[u8]) -> Result<Es256Signature, DeviceKeyError>;

    /// Whether the key can sign at all, without signing: a TPM key is loaded (a cleared or
    /// replaced TPM refuses it, [`DeviceKeyError::NoLongerAvailable`]). A software key always
    /// can.
    fn check_available(&self) -> Result<(), DeviceKeyError> {
        Ok(())
    }

    /// The keychain entry's `deviceKey` member as JSON text: whatever this holder needs to use
    /// the key again after a restart, and nothing more.
    fn stored_form(&self) -> Secret;

    /// Who holds the private key.
    fn holder(&self) -> KeyHolder;
}

/// RFC 7518 §3.4: an ECDSA signature as two 32-byte big-endian integers. A TPM returns `r` and
/// `s` as TPM2B buffers (TCG TPM 2.0 Part 2 §11.3.2, `TPMS_SIGNATURE_ECDSA`), which may be
/// shorter when an integer has leading zero bytes, or carry a leading zero; both are
/// normalised here. Anything longer than 32 significant bytes is not a P-256 signature.
pub fn es256_from_scalars(r: &[u8], s: &[u8]) -> Result<Es256Signature, DeviceKeyError> {
    let mut signature = [0u8; 64];
    for (half, scalar) in [(0, r), (32, s)] {
        let first = scalar
            .iter()
            .position(|byte| *byte != 0)
            .unwrap_or(scalar.len());
        let significant = &scalar[first..];
        if significant.is_empty() || significant.len() > 32 {
            return Err(DeviceKeyError::Sign);
        }
        signature[half + 32 - significant.len()..half + 32].copy_from_slice(significant);
    }
    Ok(signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tpm_scalars_are_padded_to_the_jws_width() {
        let short = [0x01u8; 31];
        let long = {
            let mut s = vec![0u8];
            s.extend([0xffu8; 32]);
            s
        };
        let signature = es256_from_scalars(&short, &long).unwrap();
        assert_eq!(signature[0], 0);
        assert_eq!(&signature[1..32], &short);
        assert_eq!(&signature[32..], &[0xffu8; 32]);
    }

    #[test]
    fn a_scalar_that_is_not_p256_is_an_error_not_a_signature() {
        assert_eq!(
            es256_from_scalars(&[1u8; 33], &[1u8; 32]),
            Err(DeviceKeyError::Sign)
        );
        assert_eq!(
            es256_from_scalars(&[], &[1u8; 32]),
            Err(DeviceKeyError::Sign)
        );
        assert_eq!(
            es256_from_scalars(&[0u8; 32], &[1u8; 32]),
            Err(DeviceKeyError::Sign)
        );
    }
}
