//! The keychain entry as the session holds it: loaded once (lazily), read and written through the
//! store off the async runtime, and replaced in memory when a registration is committed. The
//! rules for sharing the entry with other processes are in `shared.rs`.

use tracing::{info, warn};

use super::{Event, Reason, Session};
use crate::error::Error;
use crate::store::{RegistrationStore, StoreError, StoreKey, StoredRegistration};

impl Session {
    pub(super) async fn ensure_loaded(&self) -> Result<(), Error> {
        if self.inner.lock().await.loaded {
            return Ok(());
        }
        let loaded = self.store_call(|store, key| store.load(key)).await;
        let mut inner = self.inner.lock().await;
        match loaded {
            Ok(found) => {
                if found.is_some() {
                    inner.last_event = Some(Event::Restored);
                }
                inner.registration = found;
            }
            // S3: discard the damaged entry and start unregistered. A failed delete does not
            // matter: the next save overwrites the same entry. K5: so is a private_key_jwt
            // registration without its key (copied from another device): it can prove nothing.
            Err(Error::Store(error)) if error.is_unusable_entry() => {
                warn!(kind = %error.kind(), "the keychain entry is unusable; discarding it");
                drop(inner);
                let _ = self.store_call(|store, key| store.delete(key)).await;
                inner = self.inner.lock().await;
                inner.reason = Some(match error {
                    StoreError::DeviceKeyMissing => Reason::DeviceKeyMissing,
                    _ => Reason::CorruptEntry,
                });
            }
            Err(error) => return Err(error),
        }
        inner.loaded = true;
        // `rememberSignIn: false`: a refresh token remembered while it was on is deleted.
        let forget_token = !self.config.remember_sign_in
            && inner
                .registration
                .as_ref()
                .is_some_and(|stored| stored.refresh_token.is_some());
        drop(inner);
        if forget_token {
            info!("rememberSignIn is off; deleting the remembered refresh token");
            self.keep_refresh_token(None).await;
        }
        Ok(())
    }

    /// Runs a blocking store call off the async runtime.
    pub(super) async fn store_call<T: Send + 'static>(
        &self,
        call: impl FnOnce(&dyn RegistrationStore, &StoreKey) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, Error> {
        let (store, key) = (self.store.clone(), self.binding.key().clone());
        tokio::task::spawn_blocking(move || call(store.as_ref(), &key))
            .await
            .map_err(|_| StoreError::Unavailable("the keychain call did not finish".into()))?
            .map_err(Error::from)
    }

    pub(super) async fn commit_registration(&self, stored: StoredRegistration, again: bool) {
        let mut inner = self.inner.lock().await;
        info!(client_id = %stored.registration.client_id, "registered");
        inner.registration = Some(stored);
        inner.tokens = None;
        inner.reason = None;
        inner.pending = None;
        inner.last_event = Some(if again {
            Event::Reregistered
        } else {
            Event::Registered
        });
    }
}
