//! The real OS keychain, through the keyring 4 ecosystem: `keyring-core` entries on the native
//! store that keyring 4's default `v1` feature picks for each system:
//!
//! | system | store |
//! |---|---|
//! | Linux, BSD | Secret Service over D-Bus (pure-Rust zbus; gnome-keyring, KWallet, KeePassXC) |
//! | macOS | Keychain Services |
//! | Windows | Credential Manager |
//!
//! This store owns its backend instead of installing keyring's process-wide default store, so
//! nothing else in the process can swap in a mock, and keyring 3's silent fallback to an
//! in-memory mock cannot happen: on a system without a keychain every call is
//! [`StoreError::Unavailable`]. The backend connects on first use and reconnects after a platform
//! failure, so a keyring daemon that starts or restarts after the app is still found.
//!
//! Every call blocks on the keychain (on a desktop, possibly on an unlock prompt that the user
//! answers); async code calls it through `spawn_blocking`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use keyring_core::{CredentialPersistence, CredentialStore, Entry, Error as KeyringError};
use zeroize::{Zeroize, Zeroizing};

use super::{decode, encode, RegistrationStore, StoreError, StoreKey, StoredRegistration};
use crate::text::sanitize;
use crate::Secret;

#[cfg(test)]
mod tests;

/// The OS keychain. Cheap to create; connects lazily.
#[derive(Default)]
pub struct KeychainStore {
    backend: Mutex<Option<Arc<CredentialStore>>>,
}

impl std::fmt::Debug for KeychainStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeychainStore").finish_non_exhaustive()
    }
}

impl KeychainStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Connects now, so a shell can report a missing keychain at start-up instead of after the
    /// user has signed in.
    pub fn check_available(&self) -> Result<(), StoreError> {
        self.backend().map(drop).map_err(map_error)
    }

    fn backend(&self) -> keyring_core::Result<Arc<CredentialStore>> {
        let mut slot = self.backend.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(store) = slot.as_ref() {
            return Ok(store.clone());
        }
        let store = native::store()?;
        // Belt and braces against any in-memory store (keyring 3's silent mock, S5).
        if matches!(
            store.persistence(),
            CredentialPersistence::EntryOnly | CredentialPersistence::ProcessOnly
        ) {
            return Err(KeyringError::NotSupportedByStore(
                "the keychain backend only keeps entries in memory".into(),
            ));
        }
        *slot = Some(store.clone());
        Ok(store)
    }

    fn forget_backend(&self) {
        *self.backend.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Runs `op` on the key's entry. After a platform failure (the Secret Service restarted, the
    /// D-Bus connection dropped) it reconnects and tries once more; every operation here is
    /// idempotent, so the retry is safe.
    fn with_entry<T>(
        &self,
        key: &StoreKey,
        op: impl Fn(&Entry) -> keyring_core::Result<T>,
    ) -> keyring_core::Result<T> {
        let attempt = || {
            self.backend()
                .and_then(|store| op(&native::entry(&store, key)?))
        };
        match attempt() {
            Err(KeyringError::PlatformFailure(_)) => {
                self.forget_backend();
                attempt()
            }
            other => other,
        }
    }

    /// Readable attributes beside the hashed entry name, where the store supports them (for
    /// `secret-tool search` and keychain viewers). Cosmetic: a failure is logged, not reported.
    fn describe(&self, key: &StoreKey) {
        let Some(attributes) = native::readable_attributes(key) else {
            return;
        };
        if let Err(error) = self.with_entry(key, |entry| entry.update_attributes(&attributes)) {
            tracing::debug!(
                kind = %map_error(error).kind(),
                "could not add readable keychain attributes"
            );
        }
    }
}

impl RegistrationStore for KeychainStore {
    fn load(&self, key: &StoreKey) -> Result<Option<StoredRegistration>, StoreError> {
        match self.with_entry(key, Entry::get_secret) {
            Ok(bytes) => {
                let bytes = Zeroizing::new(bytes);
                let text = std::str::from_utf8(&bytes).map_err(|_| StoreError::Corrupt)?;
                decode(key, &Secret::new(text)).map(Some)
            }
            // No entry is the unregistered state, not an error.
            Err(KeyringError::NoEntry) => Ok(None),
            Err(error) => Err(map_error(error)),
        }
    }

    fn save(&self, key: &StoreKey, value: &StoredRegistration) -> Result<(), StoreError> {
        let raw = encode(value)?;
        let set = |entry: &Entry| entry.set_secret(raw.expose().as_bytes());
        match self.with_entry(key, set) {
            Ok(()) => {}
            // Several items match (another program wrote one): replace them all with ours.
            Err(KeyringError::Ambiguous(entries)) => {
                delete_all(entries)?;
                self.with_entry(key, set).map_err(map_error)?;
            }
            Err(error) => return Err(map_error(error)),
        }
        self.describe(key);
        Ok(())
    }

    fn delete(&self, key: &StoreKey) -> Result<(), StoreError> {
        match self.with_entry(key, Entry::delete_credential) {
            Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
            Err(KeyringError::Ambiguous(entries)) => delete_all(entries),
            Err(error) => Err(map_error(error)),
        }
    }
}

fn delete_all(entries: Vec<Entry>) -> Result<(), StoreError> {
    for entry in entries {
        match entry.delete_credential() {
            Ok(()) | Err(KeyringError::NoEntry) => {}
            Err(error) => return Err(map_error(error)),
        }
    }
    Ok(())
}

/// keyring errors → [`StoreError`]. Platform detail is kept (sanitized) because it is what
/// tells a user or admin what is wrong; it never contains the stored value. Variants that carry
/// the stored bytes are wiped, never formatted.
pub(crate) fn map_error(error: KeyringError) -> StoreError {
    let unavailable = |detail: String| {
        StoreError::Unavailable(format!(
            "{} failed ({}); {}",
            native::NAME,
            sanitize(&detail, 120),
            native::HINT
        ))
    };
    match error {
        KeyringError::NoStorageAccess(_) => StoreError::Locked,
        KeyringError::PlatformFailure(detail) => unavailable(detail.to_string()),
        KeyringError::NotSupportedByStore(reason) => unavailable(reason),
        KeyringError::Invalid(what, reason) => {
            unavailable(format!("it rejected the entry's {what}: {reason}"))
        }
        KeyringError::TooLong(what, limit) => {
            unavailable(format!("the entry's {what} is longer than {limit}"))
        }
        KeyringError::NoDefaultStore => unavailable("no store was set up".into()),
        KeyringError::BadEncoding(mut bytes) | KeyringError::BadDataFormat(mut bytes, _) => {
            bytes.zeroize();
            StoreError::Corrupt
        }
        KeyringError::Ambiguous(_) | KeyringError::BadStoreFormat(_) => StoreError::Corrupt,
        KeyringError::NoEntry => unavailable("the entry disappeared".into()),
        _ => unavailable("an unexpected keychain error".into()),
    }
}

/// The native store for each system: the same choice keyring 4's `v1` feature makes.
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
mod native {
    use super::*;

    pub(super) const NAME: &str = "the Secret Service";
    pub(super) const HINT: &str = "install and start a Secret Service provider such as gnome-keyring or KWallet in your desktop session, then try again";

    pub(super) fn store() -> keyring_core::Result<Arc<CredentialStore>> {
        Ok(zbus_secret_service_keyring_store::Store::new()?)
    }

    /// The label is what keychain viewers (Seahorse, KWallet) show.
    pub(super) fn entry(
        store: &Arc<CredentialStore>,
        key: &StoreKey,
    ) -> keyring_core::Result<Entry> {
        let label = key.label();
        let modifiers = HashMap::from([("label", label.as_str())]);
        Entry::new_in_store_with_modifiers(store, key.service(), &key.user(), &modifiers)
    }

    pub(super) fn readable_attributes(key: &StoreKey) -> Option<HashMap<&str, &str>> {
        let mut attributes = HashMap::from([
            ("issuer", key.issuer()),
            ("registration_client_id", key.registration_client_id()),
            ("redirect_uri", key.redirect_uri()),
        ]);
        if let Some(software_id) = key.software_id() {
            attributes.insert("software_id", software_id);
        }
        Some(attributes)
    }
}

/// Every keychain but the Secret Service: an entry by service and user only, since none of them
/// shows a label or is searched by other attributes.
#[cfg(not(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
)))]
mod plain {
    use super::*;

    pub(super) fn entry(
        store: &Arc<CredentialStore>,
        key: &StoreKey,
    ) -> keyring_core::Result<Entry> {
        Entry::new_in_store(store, key.service(), &key.user())
    }

    pub(super) fn readable_attributes(_key: &StoreKey) -> Option<HashMap<&str, &str>> {
        None
    }
}

#[cfg(target_os = "macos")]
mod native {
    use super::*;

    pub(super) const NAME: &str = "the macOS Keychain";
    pub(super) const HINT: &str = "check that your login keychain exists and is not damaged (Keychain Access), then try again";

    pub(super) fn store() -> keyring_core::Result<Arc<CredentialStore>> {
        Ok(apple_native_keyring_store::keychain::Store::new()?)
    }

    pub(super) use super::plain::{entry, readable_attributes};
}

#[cfg(target_os = "windows")]
mod native {
    use super::*;

    pub(super) const NAME: &str = "Windows Credential Manager";
    pub(super) const HINT: &str =
        "check that the Credential Manager service is running, then try again";

    pub(super) fn store() -> keyring_core::Result<Arc<CredentialStore>> {
        Ok(windows_native_keyring_store::Store::new()?)
    }

    pub(super) use super::plain::{entry, readable_attributes};
}

/// No supported keychain (iOS, Android, others): every call is Unavailable, never a mock.
#[cfg(not(any(
    all(
        unix,
        not(any(target_os = "macos", target_os = "ios", target_os = "android"))
    ),
    target_os = "macos",
    target_os = "windows"
)))]
mod native {
    use super::*;

    pub(super) const NAME: &str = "the keychain";
    pub(super) const HINT: &str =
        "this app keeps its registration only in an OS keychain, which this system does not offer";

    pub(super) fn store() -> keyring_core::Result<Arc<CredentialStore>> {
        Err(KeyringError::NotSupportedByStore(
            "this operating system has no keychain this app supports".into(),
        ))
    }

    pub(super) use super::plain::{entry, readable_attributes};
}
