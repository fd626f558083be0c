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
//!
//! The same ending, unregistered and told why, comes when the client is alive but this install
//! can no longer prove it is: the TPM refuses to load the device key ([`Session::device_key_lost`]).

use tracing::warn;

use super::client_management::{newest_known, Liveness};
use super::{Event, Reason, Session};
use crate::device::store::StoredRegistration;
use crate::error::{CallbackError, Error, TokenError};

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

    /// The RFC 7592 §2.1 read (`client_management.rs`). The in-memory registration
    /// takes over the newer credentials it found, even when it reports an error.
    pub(super) async fn check_client(
        &self,
        stored: &StoredRegistration,
    ) -> Result<Liveness, Error> {
        let checked = self.clients().check_client(stored).await;
        if let Some(newer) = &checked.newer {
            self.adopt_credentials(newer).await;
        }
        checked.liveness
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
        let stored = newest_known(self.inner.lock().await.registration.as_ref(), stored);
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
            self.clients().delete_on_server(&stored).await;
        }
        Error::ClientRevoked
    }
}

impl Session {
    /// The TPM no longer loads the device key (cleared or replaced, or the keychain entry was
    /// copied from another computer): nothing can sign for this registration again, so it is
    /// deleted on the server while its registration access token still works (RFC 7592 §2.3,
    /// a bearer token: no signature needed) and here, by forget's own transition. A delete the
    /// server refused still clears it here, and the message says the server's copy may remain.
    /// A keychain that cannot be written (locked) is that error, and nothing changes.
    pub(super) async fn device_key_lost(&self, stored: &StoredRegistration) -> Error {
        warn!("the TPM no longer loads this device's key; deleting the registration");
        let stored = newest_known(self.inner.lock().await.registration.as_ref(), stored);
        match self.discard(&stored, Some(Reason::DeviceKeyLost)).await {
            Ok(server_deleted) => Error::DeviceKeyLost { server_deleted },
            Err(error) => {
                warn!(kind = %error.kind(), "could not delete the registration of the lost key");
                error
            }
        }
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
