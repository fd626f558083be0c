//! The keychain's errors ([`StoreError`]) and the device key's ([`DeviceKeyError`]): the two
//! halves of what this install keeps between runs.

use super::ErrorKind;

/// Why the keychain could not be used. Messages hold no secret and say what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// S2: not the same as no entry; never a reason to register again.
    #[error("the keychain is locked or refused access; unlock your keyring (your desktop usually offers to when asked, or open its passwords app) and try again")]
    Locked,
    /// S1: no keychain service at all, or it failed. The text says how to fix it.
    #[error("the keychain is unavailable: {0}")]
    Unavailable(String),
    /// S3: the entry is unreadable; discard it and register again.
    #[error("the saved registration in the keychain is unreadable; it will be discarded and this device registered again")]
    Corrupt,
    /// S4.
    #[error("the registration is {bytes} bytes, more than the {limit} bytes a keychain entry holds on every supported system")]
    TooLarge { bytes: usize, limit: usize },
    /// K5: the entry's registration authenticates with a device key that is not in it (a copy
    /// of the entry from another device): unusable, so it is discarded like a corrupt one.
    #[error("the saved registration signs in with a device key that is not in this keychain entry (was it copied from another device?); it will be discarded and this device registered again")]
    DeviceKeyMissing,
}

impl StoreError {
    /// The stable kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Locked => ErrorKind::KeychainLocked,
            Self::Unavailable(_) => ErrorKind::KeychainUnavailable,
            Self::Corrupt | Self::DeviceKeyMissing => ErrorKind::KeychainCorrupt,
            Self::TooLarge { .. } => ErrorKind::KeychainEntryTooLarge,
        }
    }

    /// S3, K5: the entry cannot be used and is to be discarded (never a reason to keep asking).
    pub fn is_unusable_entry(&self) -> bool {
        matches!(self, Self::Corrupt | Self::DeviceKeyMissing)
    }
}

/// Why a stored key could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceKeyError {
    #[error("the device key could not be generated")]
    Generate,
    #[error("the stored device key is unreadable")]
    Unreadable,
    /// The key exists but produced no valid signature.
    #[error("the device key could not sign")]
    Sign,
    /// `deviceKeyStorage: "tpm"` on a computer without a TPM device node.
    #[error("deviceKeyStorage is \"tpm\" but this computer has no TPM ({0} does not exist); turn the TPM on in the firmware settings, or set deviceKeyStorage to \"auto\" or \"software\"")]
    TpmMissing(String),
    /// The TPM exists but this user may not open it (on Linux, members of the `tss` group may).
    #[error("this computer's TPM ({0}) is not accessible to you; add yourself to the tss group (sudo usermod -aG tss $USER), log out and in again, and retry, or set deviceKeyStorage to \"software\"")]
    TpmNotAccessible(String),
    /// The TPM answered with an error, or could not be reached; the text is the TSS's, with no
    /// key material (the TSS never has any to show).
    #[error("the TPM failed: {0}")]
    Tpm(String),
    /// The TPM refused to load the stored key: it was cleared or replaced, or the keychain
    /// entry was copied from another computer.
    #[error("this device's key is no longer available: the TPM that held it was cleared or replaced, or this keychain entry comes from another computer; register this device again")]
    NoLongerAvailable,
    /// A TPM-held key was asked for where this app has no TPM support yet.
    #[error(
        "deviceKeyStorage \"tpm\" is supported on Linux only; set it to \"auto\" or \"software\""
    )]
    TpmUnsupported,
}
