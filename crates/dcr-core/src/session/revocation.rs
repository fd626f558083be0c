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

use super::{Event, Reason, Session};
use crate::error::{CallbackError, Error, RegistrationError};
use crate::registration::{prepare_read, read_response, ClientStatus};
use crate::store::StoredRegistration;

impl Session {
    /// The RFC 7592 §2.1 read: true only when the server says this client no longer exists.
    /// Whenever it cannot tell (no management endpoint, a transport failure, an unexpected
    /// answer) this is false and the caller carries on as before: a flaky read must never block
    /// a sign-in, and must never wipe a registration.
    ///
    /// 401 counts as gone (see [`read_response`]). RFC 7592 §2.1 answers 401 both for a client
    /// that does not exist and for a registration access token the server no longer accepts, so
    /// a 401 would be wrong only if the server expired or rotated the token while the client
    /// lived on. oidc-provider (`tests/idp`) gives the token no lifetime, rotates it only on an
    /// update (RFC 7592 §2.2, which this engine never sends), and deletes it together with the
    /// client. A server that did expire it would cost one extra registration login, with the
    /// old client left behind (which "forget this device" could not delete without the token
    /// either); the other mistake, keeping a client that can never sign in, leaves the user
    /// stuck. So 401 is taken at its word.
    pub(super) async fn client_gone(&self, stored: &StoredRegistration) -> bool {
        let Some(request) = prepare_read(&stored.registration) else {
            return false;
        };
        let status = match self.send(request).await {
            Ok(response) => read_response(response).map_err(Error::from),
            Err(error) => Err(RegistrationError::Transport(error).into()),
        };
        match status {
            Ok(ClientStatus::Active) => false,
            Ok(ClientStatus::Gone) => {
                info!(client_id = %stored.registration.client_id, "RFC 7592 read: the identity server no longer knows this client");
                true
            }
            Err(error) => {
                warn!(
                    kind = %error.kind(),
                    "could not check the registration (RFC 7592 read); carrying on"
                );
                false
            }
        }
    }

    /// T2: the client is dead. Wipe it, say why, and do not retry or register again: that is
    /// the user's choice (it asks for the password).
    pub(super) async fn revoked(&self) -> Error {
        warn!("the identity server rejected this device's client; wiping the registration");
        let ours = self
            .inner
            .lock()
            .await
            .registration
            .as_ref()
            .map(|stored| stored.registration.client_id.clone());
        let remaining = match ours {
            Some(client_id) => self
                .wipe_entry_if_ours(&client_id)
                .await
                .unwrap_or_else(|error| {
                    warn!(kind = %error.kind(), "could not delete the keychain entry");
                    None
                }),
            None => None,
        };
        let mut inner = self.inner.lock().await;
        inner.registration = remaining;
        inner.tokens = None;
        inner.reason = Some(Reason::Revoked);
        inner.last_event = Some(Event::Revoked);
        Error::ClientRevoked
    }
}

/// `invalid_client` from the token endpoint: the client was revoked, deleted or expired.
pub(super) fn is_invalid_client(error: &Error) -> bool {
    error.is_invalid_client()
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
