//! T2: this install's client is dead (the administrator deleted or revoked it, or the server let
//! it expire). Noticing it, and wiping it once, without a loop.
//!
//! Two signals say so. `invalid_client` from the token endpoint (RFC 6749 §5.2), at the code
//! exchange or at a refresh. And, for a sign-in, the RFC 7592 §2.1 read: a sign-in with a deleted
//! client never reaches the token endpoint, because the authorization endpoint cannot check the
//! redirect URI of a client it does not know, so it shows an error page instead of redirecting
//! (RFC 6749 §4.1.2.1) and the user agent can only fail or be closed. Without the read, an app
//! that restarted (no tokens, so no refresh to fail) would keep a registration that can never
//! sign in again.

use tracing::{info, warn};

use super::{now, Event, Reason, Session};
use crate::error::{CallbackError, Error, RegistrationError, TokenError};
use crate::registration::{prepare_read, read_response, ClientStatus};
use crate::store::StoredRegistration;

/// What an RFC 7592 read found out.
pub(super) enum Liveness {
    /// The client exists; this is its registration from now on (updated and stored when the
    /// server rotated the secret or the registration access token, RFC 7592 §3).
    Alive(Box<StoredRegistration>),
    Gone,
    /// No management endpoint, a transport failure, or an answer we do not accept. The
    /// registration to carry on with: the newest in the keychain entry.
    Unknown(Box<StoredRegistration>),
}

impl Session {
    /// The RFC 7592 §2.1 read: true only when the server says this client no longer exists.
    /// Whenever it cannot tell (no management endpoint, a transport failure, an unexpected
    /// answer, a body that fails our checks) this is false and the caller carries on as before:
    /// a flaky read must never block a sign-in, and must never wipe a registration.
    pub(super) async fn client_gone(&self, stored: &StoredRegistration) -> bool {
        match self.check_client(stored).await {
            Ok(Liveness::Gone) => true,
            Ok(_) => false,
            Err(error) => {
                warn!(
                    kind = %error.kind(),
                    "could not read or store the registration for the RFC 7592 read; carrying on"
                );
                false
            }
        }
    }

    /// The RFC 7592 §2.1 read, with its §3 consequence: a new `client_secret` or
    /// `registration_access_token` in the answer is used from now on, so the whole updated
    /// entry is saved to the keychain in one call before it is used. The read is sent with the
    /// newest credentials: the keychain entry is read again first, under the cross-process
    /// lock, and another process's newer ones for the same client are used. `Err` only when the
    /// entry could not be read, or the save failed: the old entry is then kept (in memory and in
    /// the keychain) and the store error reported.
    ///
    /// 401 counts as gone (see [`read_response`]). RFC 7592 §2.1 answers 401 both for a client
    /// that does not exist and for a registration access token the server no longer accepts, so
    /// a 401 would be wrong only if the server expired the token while the client lived on, or
    /// rotated it without this device hearing of it. Rotation is covered: a read that rotates it
    /// is stored before the lock is let go, and every read starts from the entry (a server such
    /// as Keycloak rotates it on every call, RFC 7592 §3). oidc-provider (`tests/idp`) gives the
    /// token no lifetime. A server that did expire it would cost one extra registration login,
    /// with the old client left behind (which "forget this device" could not delete without the
    /// token either); the other mistake, keeping a client that can never sign in, leaves the
    /// user stuck. So 401 is taken at its word.
    pub(super) async fn check_client(
        &self,
        stored: &StoredRegistration,
    ) -> Result<Liveness, Error> {
        // From reading the entry to saving what the read rotated, under the cross-process lock:
        // another process may have stored rotated credentials since this one read them (a server
        // may rotate the registration access token on every RFC 7592 call, RFC 7592 §3, so ours
        // may be dead), and none may rotate them again in between.
        let _lock = self.entry.lock().await;
        let stored = self.newest(stored).await?;
        let Some(request) = prepare_read(&stored.registration) else {
            return Ok(Liveness::Unknown(Box::new(stored)));
        };
        // The registration's own redirect (loopback mode registers the loopback one), never the
        // configured one.
        let redirect = self.entry.binding().redirect_uri().as_str();
        let status = match self.send(request).await {
            Ok(response) => {
                read_response(response, &stored.registration, redirect, now()).map_err(Error::from)
            }
            Err(error) => Err(RegistrationError::Transport(error).into()),
        };
        match status {
            Ok(ClientStatus::Active) => Ok(Liveness::Alive(Box::new(stored))),
            Ok(ClientStatus::Updated(registration)) => {
                let updated = StoredRegistration {
                    registration: *registration,
                    registered_at: stored.registered_at,
                    device_key: stored.device_key.clone(),
                    refresh_token: stored.refresh_token.clone(),
                };
                self.entry.replace_if_ours(&stored, &updated).await?;
                info!(client_id = %updated.registration.client_id, "RFC 7592 read: the identity server rotated this client's credentials; stored them");
                self.adopt_credentials(&updated).await;
                Ok(Liveness::Alive(Box::new(updated)))
            }
            Ok(ClientStatus::Gone) => {
                info!(client_id = %stored.registration.client_id, "RFC 7592 read: the identity server no longer knows this client");
                Ok(Liveness::Gone)
            }
            Err(error) => {
                warn!(
                    kind = %error.kind(),
                    "could not check the registration (RFC 7592 read); carrying on"
                );
                Ok(Liveness::Unknown(Box::new(stored)))
            }
        }
    }

    /// T2: the client is dead. Wipe it, say why, and do not retry or register again: that is
    /// the user's choice (it asks for the password).
    ///
    /// Unless the server itself said the client is gone (`server_said_gone`, an RFC 7592 read),
    /// it may still exist there, only disabled: after the local wipe it is deleted (RFC 7592
    /// §2.3) while we still hold its registration access token, so no client is left alive on
    /// the server that nobody can manage any more.
    pub(super) async fn revoked(
        &self,
        stored: &StoredRegistration,
        server_said_gone: bool,
    ) -> Error {
        warn!("the identity server rejected this device's client; wiping the registration");
        // The newest credentials this session has seen for the client (an RFC 7592 read may have
        // picked up rotated ones), to compare the entry with and to delete the client with.
        let stored = self.newest_known(stored).await;
        // Only our own entry: another process may have stored a newer registration meanwhile.
        let remaining = self
            .entry
            .wipe_if_ours(&stored)
            .await
            .unwrap_or_else(|error| {
                warn!(kind = %error.kind(), "could not delete the keychain entry");
                None
            });
        {
            let mut inner = self.inner.lock().await;
            inner.registration = remaining;
            inner.tokens = None;
            inner.reason = Some(Reason::Revoked);
            inner.last_event = Some(Event::Revoked);
            // A dead client has no session to end and nothing left to delete but below.
            inner.pending = None;
        }
        if !server_said_gone {
            self.delete_on_server(&stored).await;
        }
        Error::ClientRevoked
    }
}

/// `invalid_client` from the token endpoint: the client was revoked, deleted or expired.
pub(super) fn is_invalid_client(error: &Error) -> bool {
    error.is_invalid_client()
}

/// A 401 from the token endpoint without an OAuth error body: maybe a proxy or a gateway, so
/// no proof that the client is dead (RFC 6749 §5.2 puts `invalid_client` in the body). The
/// session asks the server (RFC 7592 read) before it wipes anything.
pub(super) fn is_bare_unauthorized(error: &Error) -> bool {
    matches!(error, Error::Token(TokenError::Unauthorized))
}
/// The browser step did not come back with a code: the user agent failed or was closed, or
/// the server redirected back with an error. With a deleted client that is all a sign-in can
/// get, so the session asks the server again before reporting it.
pub(super) fn is_browser_step_failure(error: &Error) -> bool {
    matches!(
        error,
        Error::UserAgent(_)
            | Error::Callback(
                CallbackError::Cancelled
                    | CallbackError::AccessDenied { .. }
                    | CallbackError::Server(_)
            )
    )
}
