//! Refresh (RFC 6749 §6): serialized with every other operation (F3), single flight within the
//! process (F8, `tokens.rs`), and under the cross-process lock with the entry read again (F7,
//! `entry.rs`, `remember.rs`). The grant itself and when to refresh next are in `tokens.rs`.

use tracing::{info, warn};

use super::revocation::{is_bare_unauthorized, is_invalid_client};
use super::tokens::{refresh_refused, Refreshed};
use super::{now, Event, Reason, Session, StateView};
use crate::error::{Error, ErrorKind};
use crate::progress::Progress;

impl Session {
    /// One refresh (RFC 6749 §6), serialized with every other operation (F3), and single
    /// flight: a call made while another refresh is running (the background refresh and a
    /// click, say) waits for it and shares its outcome, without a token request of its own.
    pub async fn refresh(&self) -> Result<StateView, Error> {
        let ticket = self.refreshes.ticket();
        let _op = self.op.lock().await;
        if let Some(shared) = self.refreshes.joined(ticket) {
            shared?;
            return Ok(self.view().await);
        }
        let outcome = self.refresh_once().await;
        self.refreshes.end(&outcome);
        outcome
    }

    /// The refresh itself; the caller holds `op`.
    async fn refresh_once(&self) -> Result<StateView, Error> {
        self.report(Progress::Refreshing);
        self.ensure_loaded().await?;
        // The cross-process lock covers reading the entry and the refresh itself, and is let go
        // before any recovery below: a wipe and an RFC 7592 update take it again themselves
        // (flock is not reentrant, even within one process).
        let (stored, outcome) = {
            let _lock = self.entry.lock().await;
            self.reload_under_lock().await?;
            let (stored, tokens) = {
                let inner = self.inner.lock().await;
                let stored = inner.registration.clone().ok_or(Error::NotRegistered)?;
                let tokens = inner.tokens.clone().ok_or(Error::NotSignedIn)?;
                (stored, tokens)
            };
            if stored.registration.secret_expired(now()) {
                // R6: the secret may not be used; the next sign-in registers again.
                let mut inner = self.inner.lock().await;
                inner.tokens = None;
                inner.reason = Some(Reason::SecretExpired);
                return Err(Error::SecretExpired);
            }
            let outcome = self.refresher().refresh(&stored, tokens).await;
            // rememberSignIn: the rotated token replaces the stored one before another process
            // can read it; a refused one is deleted (remember.rs).
            if self.config.remember_sign_in {
                match &outcome {
                    Ok(refreshed) => {
                        let token = refreshed.tokens.refresh_token.clone();
                        self.keep_refresh_token_locked(token).await;
                    }
                    Err(error) if refresh_refused(error) => {
                        self.keep_refresh_token_locked(None).await;
                    }
                    Err(_) => {}
                }
            }
            (stored, outcome)
        };
        match outcome {
            Ok(Refreshed {
                tokens,
                unchecked: None,
            }) => {
                let mut inner = self.inner.lock().await;
                inner.tokens = Some(tokens);
                inner.last_event = Some(Event::Refreshed);
                info!("tokens refreshed");
                drop(inner);
                Ok(self.view().await)
            }
            // The server rotated the refresh token, but the new ID token could
            // not be checked (no key set). The old refresh token may be dead already, so the new
            // tokens are kept (with the last verified ID token) and the error is retryable.
            Ok(Refreshed {
                tokens,
                unchecked: Some(error),
            }) => {
                warn!(
                    kind = %error.kind(),
                    "refreshed, but the new ID token could not be checked; tokens kept"
                );
                self.inner.lock().await.tokens = Some(tokens);
                Err(error)
            }
            Err(error) if is_invalid_client(&error) => Err(self.revoked(&stored, false).await),
            Err(error) if error.is_device_key_lost() => Err(self.device_key_lost(&stored).await),
            // A bare 401 (a proxy?) is not invalid_client: only an RFC 7592 read that says the
            // client is gone wipes it. Otherwise tokens and registration stay, and the error
            // (retryable) is reported.
            Err(error) if is_bare_unauthorized(&error) && self.client_gone(&stored).await => {
                Err(self.revoked(&stored, true).await)
            }
            Err(error) => {
                warn!(kind = %error.kind(), "refresh failed");
                // F1: invalid_grant drops the tokens and keeps the registration; so does an
                // invalid ID token (the old refresh token may already be rotated away).
                // Network and server errors keep the tokens for a later retry.
                if matches!(
                    error.kind(),
                    ErrorKind::InvalidGrant | ErrorKind::IdTokenInvalid
                ) {
                    let mut inner = self.inner.lock().await;
                    inner.tokens = None;
                    inner.reason = Some(Reason::SessionExpired);
                }
                Err(error)
            }
        }
    }
}
