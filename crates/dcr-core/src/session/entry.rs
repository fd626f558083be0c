//! The keychain entry as the session holds it: loaded once (lazily) from the shared entry
//! (`shared_entry.rs`), and replaced in memory when a registration is committed. What the
//! session does with another process's changes to the entry is in `shared.rs`.

use tracing::info;

use super::{Event, Session};
use crate::device::store::StoredRegistration;
use crate::error::Error;

impl Session {
    pub(super) async fn ensure_loaded(&self) -> Result<(), Error> {
        if self.inner.lock().await.loaded {
            return Ok(());
        }
        let loaded = self.entry.load().await?;
        let mut inner = self.inner.lock().await;
        match loaded {
            Ok(found) => {
                if found.is_some() {
                    inner.last_event = Some(Event::Restored);
                }
                inner.registration = found;
            }
            // S3, K5: the entry was unusable and is gone (`shared_entry.rs`).
            Err(reason) => inner.reason = Some(reason),
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
