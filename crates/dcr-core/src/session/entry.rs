//! This install's registration as the session holds it, and the keychain entry it mirrors:
//! loaded once (lazily) from the shared entry (`shared_entry.rs`), replaced in memory when a
//! registration is committed, and kept in step with the entry, which is shared with this
//! user's other processes (the desktop app, the `dcr` CLI). The rules, used under the
//! [`ProcessLock`]:
//!
//! - before registering, look again: if another process registered meanwhile, adopt its
//!   registration instead of creating a second client (which would be left orphaned);
//! - before refreshing, and before every RFC 7592 call, look again: use a secret or
//!   registration access token another process stored (RFC 7592 §3 rotation; some servers
//!   rotate the token on every call, so an old one is dead), and notice a device forgotten or
//!   registered anew elsewhere;
//! - write and wipe the credentials only through the shared entry's compare-and-swap on their
//!   generation (`shared_entry.rs`), never over (or away with) the newer ones another process
//!   just wrote.
//!
//! [`ProcessLock`]: crate::platform::lock::ProcessLock

use tracing::info;

use super::client_management::adopted;
use super::{Event, Reason, Session};
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

    /// Takes over the registration another process stored. No browser step, no new client.
    pub(super) async fn adopt(&self, theirs: StoredRegistration) {
        info!(client_id = %theirs.registration.client_id, "another process registered this device; using its registration");
        let mut inner = self.inner.lock().await;
        inner.registration = Some(theirs);
        inner.tokens = None;
        inner.reason = None;
        inner.last_event = Some(Event::AlreadyRegistered);
    }

    /// Under the lock, before a refresh: brings the in-memory registration up to date with the
    /// entry. The same client with new credentials is taken over silently; a forgotten or
    /// replaced client ends this session's sign-in (its tokens belong to a client that another
    /// process deleted), without touching the entry.
    pub(super) async fn reload_under_lock(&self) -> Result<(), Error> {
        let current = self.entry.read().await?;
        let mut inner = self.inner.lock().await;
        let ours = inner
            .registration
            .as_ref()
            .map(|stored| stored.registration.client_id.clone());
        match (ours, current) {
            (None, _) => Ok(()),
            (Some(ours), Some(current)) if current.registration.client_id == ours => {
                // rememberSignIn: a refresh token in the entry other than the one this session
                // last saw there was stored by another process after a rotation; ours may be
                // dead already, so the newest is used (remember.rs).
                let seen = inner
                    .registration
                    .as_ref()
                    .and_then(|stored| stored.refresh_token.clone());
                if self.config.remember_sign_in
                    && current.refresh_token.is_some()
                    && current.refresh_token != seen
                {
                    if let Some(tokens) = inner.tokens.as_mut() {
                        info!("using the refresh token another process stored");
                        tokens.refresh_token = current.refresh_token.clone();
                    }
                }
                inner.registration = Some(current);
                Ok(())
            }
            (Some(_), current) => {
                info!("the keychain entry changed in another process; signing out here");
                let forgotten = current.is_none();
                inner.registration = current;
                inner.tokens = None;
                inner.reason = (!forgotten).then_some(Reason::SessionExpired);
                Err(if forgotten {
                    Error::NotRegistered
                } else {
                    Error::NotSignedIn
                })
            }
        }
    }

    /// Under the lock: the newest credentials for `stored`'s client
    /// (`client_management.rs`). The in-memory registration takes the newer ones.
    pub(super) async fn newest(
        &self,
        stored: &StoredRegistration,
    ) -> Result<StoredRegistration, Error> {
        let current = self.clients().newest(stored).await?;
        if current.rotated {
            self.adopt_credentials(&current.stored).await;
        }
        Ok(current.stored)
    }

    /// The in-memory registration takes `current`'s credentials when it is the same client
    /// (see [`adopted`]).
    pub(super) async fn adopt_credentials(&self, current: &StoredRegistration) {
        let mut inner = self.inner.lock().await;
        if let Some(updated) = inner
            .registration
            .as_ref()
            .and_then(|ours| adopted(ours, current))
        {
            inner.registration = Some(updated);
        }
    }
}
