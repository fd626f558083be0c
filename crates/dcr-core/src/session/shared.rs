//! The keychain entry is shared with this user's other processes (the desktop app, the `dcr`
//! CLI). These are the session's rules for that, used under the [`ProcessLock`]:
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
use super::{now, Event, Reason, Session};
use crate::device::store::StoredRegistration;
use crate::error::Error;

/// What a registration attempt ended with.
pub(super) enum NewRegistration {
    /// This process registered a client and stored it.
    Created(StoredRegistration),
    /// Another process stored a live registration while this one's browser step ran.
    Adopted(StoredRegistration),
}

impl Session {
    /// Under the lock, before registering: a live registration in the entry means another
    /// process got there first.
    pub(super) async fn registered_elsewhere(&self) -> Result<Option<StoredRegistration>, Error> {
        Ok(self
            .entry
            .read()
            .await?
            .filter(|theirs| !theirs.registration.secret_expired(now())))
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
