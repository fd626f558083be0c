//! The signed-in user's tokens: what they are, when to refresh them next (the shells only arm a
//! timer for the instant the engine names), the refresh grant (RFC 6749 §6) with this install's
//! credentials, and single flight (a refresh asked for while one runs shares its outcome).
//!
//! [`Refresher`] depends on the identity server only and returns new tokens; the session
//! serializes refreshes, takes the cross-process lock and commits (`refresh.rs`, `remember.rs`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::credentials::{dpop_key, Credentials};
use super::now;
use super::server::IdentityServer;
use crate::config::Config;
use crate::device::key::DeviceKey;
use crate::device::store::StoredRegistration;
use crate::error::{Error, ErrorKind, TokenError};
use crate::protocol::discovery::ProviderMetadata;
use crate::protocol::id_token::{IdToken, IdTokenExpectations};
use crate::protocol::token::{prepare_refresh, token_response_for, TokenResponse};
use crate::Secret;

/// Tokens of the signed-in user. Never leaves the engine.
#[derive(Clone)]
pub(super) struct Tokens {
    pub(super) access_token: Secret,
    pub(super) refresh_token: Option<Secret>,
    /// The last valid ID token: a refresh may not return one, and logout needs the hint.
    pub(super) id_token: IdToken,
    pub(super) expiry: Option<Expiry>,
    pub(super) userinfo: Option<serde_json::Map<String, serde_json::Value>>,
    /// `token_type: DPoP`: the access token only works with a proof from the device key.
    pub(super) bound: bool,
}

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

/// Single flight for refreshes within the process: a refresh asked for while another runs (the
/// background refresh and a click, say) waits for it and shares its outcome, without a token
/// request of its own. Refreshes are already serialized by the session's `op` lock; this only
/// tells a waiter that the refresh it waited for has happened meanwhile.
#[derive(Default)]
pub(super) struct RefreshFlight {
    /// How many refreshes have ended.
    ended: AtomicU64,
    /// How the last one ended: `Err` holds its kind and message, which is all a shell sees of
    /// an error.
    last: Mutex<Option<Result<(), (ErrorKind, String)>>>,
}

impl RefreshFlight {
    /// Taken before waiting for `op`.
    pub(super) fn ticket(&self) -> u64 {
        self.ended.load(Ordering::SeqCst)
    }

    /// Once `op` is held: the outcome of a refresh that ended while the holder of `ticket`
    /// waited, which it shares instead of refreshing again.
    pub(super) fn joined(&self, ticket: u64) -> Option<Result<(), Error>> {
        if self.ended.load(Ordering::SeqCst) == ticket {
            return None;
        }
        let last = self
            .last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        Some(match last {
            Some(Err((kind, message))) => Err(Error::Joined { kind, message }),
            _ => Ok(()),
        })
    }

    /// Records how a refresh ended. The caller still holds `op`, so a call that took its ticket
    /// before this one waits for it and sees the new count.
    pub(super) fn end<T>(&self, outcome: &Result<T, Error>) {
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some(match outcome {
            Ok(_) => Ok(()),
            Err(error) => Err((error.kind(), error.message())),
        });
        self.ended.fetch_add(1, Ordering::SeqCst);
    }
}

/// The refresh grant, over the session's identity server.
pub(super) struct Refresher<'a> {
    pub(super) config: &'a Config,
    pub(super) server: &'a IdentityServer,
}

impl Refresher<'_> {
    /// The refresh grant with the client credentials; rotation keeps the old refresh token
    /// when none is returned (F2), and the last valid ID token when none is returned or when
    /// the new one could not be checked for want of keys (see [`Refreshed`]).
    pub(super) async fn refresh(
        &self,
        stored: &StoredRegistration,
        old: Tokens,
    ) -> Result<Refreshed, Error> {
        let registration = &stored.registration;
        let refresh_token = old.refresh_token.clone().ok_or(Error::NotSignedIn)?;
        let RefreshGrant {
            tokens,
            metadata,
            dpop,
        } = self.grant(stored, &refresh_token).await?;
        let (id_token, unchecked) = match &tokens.id_token {
            // OIDC Core §12.2: same subject; no nonce to check.
            Some(raw) => {
                let expect = IdTokenExpectations {
                    issuer: &metadata.issuer,
                    client_id: &registration.client_id,
                    nonce: None,
                    previous_sub: Some(&old.id_token.claims.sub),
                    now: now(),
                };
                match self.server.verify(raw, &metadata, &expect).await {
                    Ok(id_token) => (id_token, None),
                    // A token that FAILED its checks (signature, iss, aud, sub) ends the session
                    // (the caller drops everything). One that could not be CHECKED is no
                    // evidence against this response: the access and refresh tokens came from
                    // the token endpoint over the same authenticated channel as always, and a
                    // refresh may omit the ID token altogether (OIDC Core §12.2), in which case
                    // the last verified one is kept too. So the unchecked token is discarded,
                    // never used, and the caller reports the retryable error.
                    Err(error) if error.is_keys_unavailable() => (old.id_token, Some(error)),
                    Err(error) => return Err(error),
                }
            }
            None => (old.id_token, None),
        };
        Ok(Refreshed {
            tokens: Tokens {
                expiry: Expiry::after(tokens.expires_in, now()),
                refresh_token: tokens.refresh_token.or(old.refresh_token),
                access_token: tokens.access_token,
                id_token,
                userinfo: old.userinfo,
                bound: dpop.is_some(),
            },
            unchecked,
        })
    }

    /// The refresh grant (RFC 6749 §6) with this registration's credentials, and a DPoP proof
    /// when tokens are bound (RFC 9449 §5). The caller decides what the answer means: a refresh
    /// in memory keeps the last ID token, a remembered sign-in needs a new one.
    pub(super) async fn grant<'s>(
        &self,
        stored: &'s StoredRegistration,
        refresh_token: &Secret,
    ) -> Result<RefreshGrant<'s>, Error> {
        let credentials = Credentials::of(stored)?;
        let dpop = dpop_key(self.config, stored);
        let metadata = self.server.metadata().await?;
        let response = self
            .server
            .send_token_request(dpop, |now| {
                let auth = credentials.auth(&metadata.issuer, now);
                prepare_refresh(&metadata.token_endpoint, refresh_token, &auth)
            })
            .await?;
        let tokens = token_response_for(response, false, dpop.is_some())?;
        Ok(RefreshGrant {
            tokens,
            metadata,
            dpop,
        })
    }
}

/// Whether a refresh failure means the refresh token is dead (delete it), as opposed to a
/// failure worth trying again with it (network, server error, keys unavailable).
pub(super) fn refresh_refused(error: &Error) -> bool {
    matches!(
        error.kind(),
        ErrorKind::InvalidGrant | ErrorKind::IdTokenInvalid
    ) || matches!(error, Error::Token(TokenError::MissingField("id_token")))
}

/// A refresh that went through at the token endpoint. `unchecked` is set when the response's
/// new ID token could not be checked because the key set was unavailable: `tokens` then holds
/// the new access and refresh tokens with the last verified ID token, and the caller keeps them
/// (the old refresh token may already be rotated away) and reports the retryable `keysUnavailable` error.
pub(super) struct Refreshed {
    pub tokens: Tokens,
    pub unchecked: Option<Error>,
}

/// What the token endpoint answered to a refresh grant, with what it was sent with.
pub(super) struct RefreshGrant<'s> {
    pub tokens: TokenResponse,
    pub metadata: Arc<ProviderMetadata>,
    pub dpop: Option<&'s DeviceKey>,
}
