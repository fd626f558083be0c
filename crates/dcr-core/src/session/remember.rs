//! Staying signed in (`rememberSignIn: true`): the refresh token, and no other token,
//! is kept in the registration's keychain entry (`store.rs`), so a later start signs in again
//! with one refresh instead of a browser step.
//!
//! - It is written, re-read and deleted under the cross-process lock only, like the
//!   registration it belongs to: the desktop app and the `dcr` CLI share it, and with rotation
//!   (RFC 6749 §10.4, RFC 9700 §4.14.2) a refresh token works once. Before every refresh the
//!   entry is read again and a token another process stored is used instead of ours (see
//!   `reload_under_lock`); the rotated one is stored before the lock is let go.
//! - A refused refresh (`invalid_grant`, an ID token that fails its checks) deletes it; so do
//!   sign-out and forget (the whole entry), and any start with `rememberSignIn: false`.
//! - A failure to store it never fails the sign-in or refresh that produced it: the user is
//!   signed in, just not remembered (logged with its kind).

use tracing::{info, warn};

use super::revocation::{is_bare_unauthorized, is_invalid_client};
use super::signing_in::Identity;
use super::tokens::{refresh_refused, RefreshGrant, Tokens};
use super::{now, Event, Reason, Session, StateView};
use crate::device::store::StoredRegistration;
use crate::error::Error;
use crate::progress::Progress;
use crate::Secret;

impl Session {
    /// Puts `token` in the entry in place of the refresh token it holds (`None` deletes it),
    /// when the entry still holds this session's client and the token differs. The caller
    /// holds the cross-process lock.
    pub(super) async fn keep_refresh_token_locked(&self, token: Option<Secret>) {
        let ours = self
            .inner
            .lock()
            .await
            .registration
            .as_ref()
            .map(|stored| stored.registration.client_id.clone());
        let current = match self.entry.read().await {
            Ok(current) => current,
            Err(error) => {
                warn!(kind = %error.kind(), "could not read the keychain entry to keep the refresh token");
                return;
            }
        };
        let Some(mut current) =
            current.filter(|current| Some(&current.registration.client_id) == ours.as_ref())
        else {
            // Forgotten or replaced by another process: nothing of ours to keep it with.
            return;
        };
        if current.refresh_token == token {
            self.mirror(current).await;
            return;
        }
        let removing = token.is_none();
        current.refresh_token = token;
        match self.entry.save(&current).await {
            Ok(()) => {
                info!(
                    removing,
                    "updated the remembered refresh token in the keychain"
                );
                self.mirror(current).await;
            }
            Err(error) => warn!(
                kind = %error.kind(),
                removing,
                "could not update the remembered refresh token in the keychain"
            ),
        }
    }

    /// [`Self::keep_refresh_token_locked`], taking the lock.
    pub(super) async fn keep_refresh_token(&self, token: Option<Secret>) {
        let _lock = self.entry.lock().await;
        self.keep_refresh_token_locked(token).await;
    }

    /// The in-memory registration follows what the entry holds now (its refresh token is what
    /// `reload_under_lock` compares with to notice another process's newer one).
    async fn mirror(&self, current: StoredRegistration) {
        let mut inner = self.inner.lock().await;
        if inner
            .registration
            .as_ref()
            .map(|s| &s.registration.client_id)
            == Some(&current.registration.client_id)
        {
            inner.registration = Some(current);
        }
    }

    /// [`Self::resume`] when it needs nothing but the keychain: the state, with the resume done,
    /// or `None` when it would refresh (a remembered sign-in), which is left to `resume` and the
    /// network. The desktop shell draws its first frame from this, before the page has asked.
    pub async fn resume_from_keychain(&self) -> Result<Option<StateView>, Error> {
        if self.inner.lock().await.resumed {
            return self.state().await.map(Some);
        }
        let _op = self.op.lock().await;
        self.resume_locally().await
    }

    /// The keychain-only part of a resume, under the operation lock: the entry loaded, and the
    /// resume finished here (`Some`) unless the remembered refresh token is to be used.
    async fn resume_locally(&self) -> Result<Option<StateView>, Error> {
        self.ensure_loaded().await?;
        let mut inner = self.inner.lock().await;
        let refresh_wanted = !inner.resumed
            && self.config.remember_sign_in
            && inner.tokens.is_none()
            && inner
                .registration
                .as_ref()
                .is_some_and(|stored| stored.refresh_token.is_some());
        if refresh_wanted {
            return Ok(None);
        }
        inner.resumed = true;
        drop(inner);
        Ok(Some(self.view().await))
    }

    /// On start: the state, after signing in again with the remembered refresh token when
    /// `rememberSignIn` is on and the entry holds one (one refresh, no browser). Tried once per
    /// session; a later call is [`Session::state`]. A refused refresh deletes the token and
    /// leaves the session registered (`reason: sessionExpired`, "Welcome back"); a network or
    /// server failure is returned and the token kept, so calling again tries again.
    pub async fn resume(&self) -> Result<StateView, Error> {
        if self.inner.lock().await.resumed {
            return self.state().await;
        }
        let _op = self.op.lock().await;
        if let Some(view) = self.resume_locally().await? {
            return Ok(view);
        }
        self.report(Progress::Refreshing);
        let (stored, outcome) = {
            let _lock = self.entry.lock().await;
            // The entry as it is now: another process may have rotated the token meanwhile.
            self.reload_under_lock().await?;
            let stored = self.inner.lock().await.registration.clone();
            let Some((stored, token)) = stored.and_then(|stored| {
                let token = stored.refresh_token.clone()?;
                Some((stored, token))
            }) else {
                self.inner.lock().await.resumed = true;
                return Ok(self.view().await);
            };
            if stored.registration.secret_expired(now()) {
                // R6: the secret may not be used; the next sign-in registers again (and the new
                // registration replaces the entry, token and all).
                self.inner.lock().await.resumed = true;
                return Ok(self.view().await);
            }
            let outcome = self.restore_with(&stored, token).await;
            if matches!(&outcome, Err(error) if refresh_refused(error)) {
                self.keep_refresh_token_locked(None).await;
            }
            (stored, outcome)
        };
        match outcome {
            Ok(tokens) => {
                let mut inner = self.inner.lock().await;
                inner.tokens = Some(tokens);
                inner.reason = None;
                inner.last_event = Some(Event::Resumed);
                inner.resumed = true;
                info!(client_id = %stored.registration.client_id, "signed in with the remembered refresh token");
                drop(inner);
                Ok(self.view().await)
            }
            Err(error) if is_invalid_client(&error) => Err(self.revoked(&stored, false).await),
            Err(error) if error.is_device_key_lost() => {
                self.inner.lock().await.resumed = true;
                Err(self.device_key_lost(&stored).await)
            }
            Err(error) if is_bare_unauthorized(&error) && self.client_gone(&stored).await => {
                Err(self.revoked(&stored, true).await)
            }
            Err(error) if refresh_refused(&error) => {
                info!(kind = %error.kind(), "the remembered sign-in was refused; deleted it");
                let mut inner = self.inner.lock().await;
                inner.reason = Some(Reason::SessionExpired);
                inner.resumed = true;
                drop(inner);
                Ok(self.view().await)
            }
            Err(error) => {
                warn!(kind = %error.kind(), "could not sign in with the remembered refresh token; kept it");
                Err(error)
            }
        }
    }

    /// The refresh grant (RFC 6749 §6) with a refresh token from the keychain and no tokens in
    /// memory: the response must carry an ID token (there is no earlier one to keep), checked
    /// like a sign-in's except for the nonce (OIDC Core §12.2), then UserInfo. A rotated refresh
    /// token is stored as soon as the token endpoint returned it, so a later failure (no keys)
    /// cannot lose it. The caller holds the op and the cross-process lock.
    async fn restore_with(
        &self,
        stored: &StoredRegistration,
        refresh_token: Secret,
    ) -> Result<Tokens, Error> {
        let registration = &stored.registration;
        let RefreshGrant {
            tokens,
            metadata,
            dpop,
        } = self.refresher().grant(stored, &refresh_token).await?;
        let refresh_token = tokens.refresh_token.clone().or(Some(refresh_token));
        self.keep_refresh_token_locked(refresh_token.clone()).await;
        let identity = Identity {
            metadata: &metadata,
            client_id: &registration.client_id,
            nonce: None,
            dpop,
        };
        self.signing_in()
            .identify(tokens, refresh_token, identity)
            .await
    }
}
