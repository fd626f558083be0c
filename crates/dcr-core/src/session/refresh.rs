//! Refresh (RFC 6749 §6): serialized with every other operation (F3), single flight within the
//! process (F8), and under the cross-process lock with the entry read again (F7, `shared.rs`,
//! `remember.rs`); and when to refresh next ([`Expiry`]), which the shells only arm a timer for.

use std::sync::atomic::Ordering;

use tracing::{info, warn};

use super::revocation::{is_bare_unauthorized, is_invalid_client};
use super::{now, remember, steps, Event, Reason, Session, StateView, Tokens};
use crate::error::{Error, ErrorKind};
use crate::progress::Progress;

/// Refresh at most this many seconds before the access token expires…
const MAX_LEAD_SECS: i64 = 60;
/// …and at least this many, so a refresh is not raced by the expiry itself.
const MIN_LEAD_SECS: i64 = 5;

/// When an access token expires and when to refresh it, fixed when the token is received: the
/// lifetime as first seen (`expires_in`, RFC 6749 §5.1), not what is left of it later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Expiry {
    /// Seconds since the Unix epoch.
    pub(super) at: i64,
    /// A fifth of the lifetime before `at`, between [`MIN_LEAD_SECS`] and [`MAX_LEAD_SECS`]
    /// (a 5-minute token is refreshed a minute early, a 20-second one 5 s early).
    pub(super) refresh_at: i64,
}

impl Expiry {
    /// For a token received at `now` with `expires_in`; `None` when the server did not say.
    pub(super) fn after(expires_in: Option<u64>, now: i64) -> Option<Self> {
        // token.rs clamps `expires_in` far below i64::MAX; saturate all the same.
        let lifetime = i64::try_from(expires_in?).unwrap_or(i64::MAX);
        let at = now.saturating_add(lifetime);
        let lead = (lifetime / 5).clamp(MIN_LEAD_SECS, MAX_LEAD_SECS);
        Some(Self {
            at,
            refresh_at: at - lead,
        })
    }
}

impl Tokens {
    /// When the shells should refresh next: `None` without a refresh token (nothing to
    /// refresh with, RFC 6749 §6) or without a known expiry.
    pub(super) fn refresh_at(&self) -> Option<i64> {
        self.refresh_token.as_ref()?;
        self.expiry.map(|expiry| expiry.refresh_at)
    }
}

impl Session {
    /// One refresh (RFC 6749 §6), serialized with every other operation (F3), and single
    /// flight: a call made while another refresh is running (the background refresh and a
    /// click, say) waits for it and shares its outcome, without a token request of its own.
    pub async fn refresh(&self) -> Result<StateView, Error> {
        let asked = self.refreshes.load(Ordering::SeqCst);
        let _op = self.op.lock().await;
        if self.refreshes.load(Ordering::SeqCst) != asked {
            let shared = self.inner.lock().await.last_refresh.clone();
            return match shared {
                Some(Err((kind, message))) => Err(Error::Joined { kind, message }),
                _ => Ok(self.view().await),
            };
        }
        let outcome = self.refresh_once().await;
        self.inner.lock().await.last_refresh = Some(match &outcome {
            Ok(_) => Ok(()),
            Err(error) => Err((error.kind(), error.message())),
        });
        // Still under `op`: a call that read the old count waits for this one.
        self.refreshes.fetch_add(1, Ordering::SeqCst);
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
            let outcome = self.refresh_with(&stored, tokens).await;
            // rememberSignIn: the rotated token replaces the stored one before another process
            // can read it; a refused one is deleted (remember.rs).
            if self.config.remember_sign_in {
                match &outcome {
                    Ok(refreshed) => {
                        let token = refreshed.tokens.refresh_token.clone();
                        self.keep_refresh_token_locked(token).await;
                    }
                    Err(error) if remember::refresh_refused(error) => {
                        self.keep_refresh_token_locked(None).await;
                    }
                    Err(_) => {}
                }
            }
            (stored, outcome)
        };
        match outcome {
            Ok(steps::Refreshed {
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
            Ok(steps::Refreshed {
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
