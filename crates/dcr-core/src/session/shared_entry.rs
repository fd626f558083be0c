//! The shared entry: this install's keychain entry, which the desktop app and the `dcr` CLI
//! (or two copies of either) read and write at the same time.
//!
//! [`SharedEntry`] owns everything that touches it: the store handle, this session's
//! [`Binding`] (its mode, redirect URIs and [`StoreKey`]), and the cross-process
//! [`ProcessLock`] for that entry. The rest of the session never calls the store and never
//! compares generations itself: it asks for one of the operations below, so the rules for
//! sharing the entry live in one place.
//!
//! - Every store call runs off the async runtime (keychain calls block).
//! - A locked or unavailable keychain is an error, never "unregistered" (S2); an unusable entry
//!   (S3 damaged, K5 a `private_key_jwt` registration without its key) is discarded.
//! - Every write and wipe of credentials that this process read earlier is a compare-and-swap
//!   on their [`Generation`]: a server may rotate the client secret or the registration access
//!   token on any RFC 7592 call (RFC 7592 §3), after which only the newest copy works. So the
//!   entry is written or wiped only while it still holds the credentials this process last
//!   read, never over (or away with) the newer ones another process just stored.

use std::sync::Arc;

use tracing::{info, warn};

use super::Reason;
use crate::config::Config;
use crate::device::store::{RegistrationStore, StoreError, StoreKey, StoredRegistration};
use crate::device::{self, Binding, Generation, Registration};
use crate::error::Error;
use crate::platform::lock::{ProcessLock, ProcessLockGuard};

/// This install's keychain entry, its store and its cross-process lock.
pub(super) struct SharedEntry {
    store: Arc<dyn RegistrationStore>,
    /// The mode this session registers and signs in with: its redirect URIs and entry key.
    binding: Binding,
    /// Serializes registration, refresh and wipes with other processes using the same entry.
    lock: ProcessLock,
}

/// What the entry holds for a client this session read earlier.
pub(super) enum Newest {
    /// The same client with the same credentials.
    Same(StoredRegistration),
    /// The same client with credentials another process stored since (RFC 7592 §3).
    Rotated(StoredRegistration),
    /// Another client, or nothing (forgotten, registered anew, or an unusable entry).
    Other,
}

impl SharedEntry {
    /// `config`'s entry in `store`, with no cross-process lock until [`Self::set_lock`].
    pub(super) fn new(config: &Config, store: Arc<dyn RegistrationStore>) -> Self {
        Self {
            binding: Binding::of(config),
            store,
            lock: ProcessLock::none(),
        }
    }

    /// `config`'s entry in the same store, locked like this one (its own lock file).
    pub(super) fn for_config(&self, config: &Config) -> Self {
        let binding = Binding::of(config);
        let lock = self.lock.for_entry(&binding.key().fingerprint());
        Self {
            binding,
            store: self.store.clone(),
            lock,
        }
    }

    pub(super) fn set_lock(&mut self, lock: ProcessLock) {
        self.lock = lock;
    }

    pub(super) fn binding(&self) -> &Binding {
        &self.binding
    }

    pub(super) fn key(&self) -> &StoreKey {
        self.binding.key()
    }

    /// Takes the cross-process lock (reentrant for this session, see [`ProcessLock`]).
    pub(super) async fn lock(&self) -> ProcessLockGuard {
        self.lock.acquire().await
    }

    /// The first read: the entry, or `Err(reason)` when it was unusable and has been discarded.
    pub(super) async fn load(&self) -> Result<Result<Option<StoredRegistration>, Reason>, Error> {
        match self.read().await {
            Ok(found) => Ok(Ok(found)),
            // S3: discard the damaged entry and start unregistered. A failed delete does not
            // matter: the next save overwrites the same entry. K5: so is a private_key_jwt
            // registration without its key (copied from another device): it can prove nothing.
            Err(Error::Store(error)) if error.is_unusable_entry() => {
                warn!(kind = %error.kind(), "the keychain entry is unusable; discarding it");
                let _ = self.call(|store, key| store.delete(key)).await;
                Ok(Err(match error {
                    StoreError::DeviceKeyMissing => Reason::DeviceKeyMissing,
                    _ => Reason::CorruptEntry,
                }))
            }
            Err(error) => Err(error),
        }
    }

    /// The entry as it is now. Callers that decide on it hold the lock.
    pub(super) async fn read(&self) -> Result<Option<StoredRegistration>, Error> {
        self.call(|store, key| store.load(key)).await
    }

    /// Under the lock: what the entry holds for `stored`'s client, compared by generation.
    pub(super) async fn newest(&self, stored: &StoredRegistration) -> Result<Newest, Error> {
        let current = match self.read().await {
            Ok(current) => current,
            // S3, K5: an unusable entry holds nothing newer; it is discarded when wiped.
            Err(Error::Store(error)) if error.is_unusable_entry() => None,
            Err(error) => return Err(error),
        };
        Ok(match current {
            Some(current) if current.registration.client_id == stored.registration.client_id => {
                if Generation::of(&current) == Generation::of(stored) {
                    Newest::Same(current)
                } else {
                    Newest::Rotated(current)
                }
            }
            _ => Newest::Other,
        })
    }

    /// Saves `stored` as it is. Callers hold the lock and have read the entry under it.
    pub(super) async fn save(&self, stored: &StoredRegistration) -> Result<(), Error> {
        let saved = stored.clone();
        self.call(move |store, key| store.save(key, &saved)).await
    }

    /// Saves `updated` (new credentials of the same client) in place of `read`, under the lock,
    /// only while the entry still holds `read`'s generation. The entry's refresh token is kept:
    /// it is the newest (another process may have rotated it), and the user's tokens stay valid
    /// when the client's credentials change (RFC 7592 §2.2).
    pub(super) async fn replace_if_ours(
        &self,
        read: &StoredRegistration,
        updated: &StoredRegistration,
    ) -> Result<(), Error> {
        let _lock = self.lock().await;
        let current = self
            .read()
            .await?
            .filter(|current| Generation::of(current) == Generation::of(read));
        let Some(current) = current else {
            info!("the keychain entry changed in another process; not writing over it");
            return Ok(());
        };
        let mut saved = updated.clone();
        saved.refresh_token = current.refresh_token;
        self.save(&saved).await
    }

    /// Deletes the entry only while it still holds `stored`'s generation (the same client with
    /// the same credentials), under the lock. Returns what the entry holds afterwards: another
    /// process's registration or newer credentials, or nothing.
    pub(super) async fn wipe_if_ours(
        &self,
        stored: &StoredRegistration,
    ) -> Result<Option<StoredRegistration>, Error> {
        let _lock = self.lock().await;
        match self.read().await {
            Ok(Some(theirs)) if Generation::of(&theirs) != Generation::of(stored) => {
                info!("the keychain entry holds another process's registration; keeping it");
                Ok(Some(theirs))
            }
            // S3, K5: an unusable entry is ours to discard as well.
            Ok(_) => {
                self.call(|store, key| store.delete(key)).await?;
                Ok(None)
            }
            Err(Error::Store(error)) if error.is_unusable_entry() => {
                self.call(|store, key| store.delete(key)).await?;
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    /// This install's registration over `config`'s allowed modes (see [`device::find`]).
    pub(super) async fn find(&self, config: &Config) -> Result<Option<Registration>, Error> {
        let (config, store) = (config.clone(), self.store.clone());
        tokio::task::spawn_blocking(move || device::find(&config, store.as_ref()))
            .await
            .map_err(|_| StoreError::Unavailable("the keychain call did not finish".into()))?
            .map_err(Error::from)
    }

    /// Runs a blocking store call off the async runtime.
    async fn call<T: Send + 'static>(
        &self,
        call: impl FnOnce(&dyn RegistrationStore, &StoreKey) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, Error> {
        let (store, key) = (self.store.clone(), self.binding.key().clone());
        tokio::task::spawn_blocking(move || call(store.as_ref(), &key))
            .await
            .map_err(|_| StoreError::Unavailable("the keychain call did not finish".into()))?
            .map_err(Error::from)
    }
}
