//! The server half of sign-out and forget, when it failed after the local half was done.
//!
//! Sign-out wipes the tokens first (L1) and forget wipes the keychain entry even when the
//! identity server cannot be told (RFC 7592 §2.3 delete failed). The user must hear that their
//! session or registration there may still be active, and be able to try again. What a retry
//! needs is kept here, in memory only:
//! - sign-out: the tokens (the ID token is the `id_token_hint`, the refresh token is revoked,
//!   RFC 7009) and the client id;
//! - forget: the registration with its management endpoint and registration access token
//!   (already gone from the keychain).
//!
//! It is never written anywhere, so it does not survive a restart: a restarted app cannot
//! retry, and says nothing about it. Writing it back to the keychain would bring a forgotten
//! registration back to life, which is the opposite of what the user asked for. It is dropped
//! when the retry succeeds, and by a new registration or sign-in (which make it moot).

use tracing::info;

use super::client_management::DeleteOutcome;
use super::tokens::Tokens;
use super::{Event, ServerCleanup, Session, StateView};
use crate::agents::UserAgent;
use crate::device::store::StoredRegistration;
use crate::error::Error;
use crate::progress::Progress;
use crate::protocol::registration::prepare_delete;

/// How the server half of a logout went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ServerLogout {
    Confirmed,
    /// The server has no end-session endpoint (L2).
    Unsupported,
    /// Unreachable, cancelled, or not confirmed: worth trying again.
    Failed,
}

/// A server part still to do.
pub(super) enum PendingCleanup {
    SignOut {
        tokens: Tokens,
        client_id: String,
    },
    /// `unanswered`: the last delete got no answer, so the server may have done it.
    Forget {
        stored: StoredRegistration,
        unanswered: bool,
    },
}

impl PendingCleanup {
    pub(super) fn kind(&self) -> ServerCleanup {
        match self {
            Self::SignOut { .. } => ServerCleanup::SignOut,
            Self::Forget { .. } => ServerCleanup::Forget,
        }
    }

    /// After forget: worth keeping only when the delete failed and can be sent again.
    pub(super) fn after_forget(stored: StoredRegistration, outcome: DeleteOutcome) -> Option<Self> {
        let retryable =
            outcome != DeleteOutcome::Confirmed && prepare_delete(&stored.registration).is_some();
        retryable.then_some(Self::Forget {
            stored,
            unanswered: outcome == DeleteOutcome::Unanswered,
        })
    }
}

impl Session {
    /// Ends the server session for tokens already wiped locally, and keeps them for a retry
    /// when that failed (not when the server has no end-session endpoint: L2, nothing to retry).
    pub(super) async fn finish_sign_out(
        &self,
        tokens: Tokens,
        client_id: String,
        ua: &dyn UserAgent,
    ) {
        let stored = self.inner.lock().await.registration.clone();
        let outcome = self
            .signing_in()
            .end_server_session(stored.as_ref(), &tokens, &client_id, ua)
            .await;
        let mut inner = self.inner.lock().await;
        inner.pending = None;
        match outcome {
            ServerLogout::Confirmed => inner.last_event = Some(Event::SignedOut),
            ServerLogout::Unsupported => inner.last_event = Some(Event::SignedOutLocally),
            ServerLogout::Failed => {
                inner.last_event = Some(Event::SignedOutLocally);
                inner.pending = Some(PendingCleanup::SignOut { tokens, client_id });
            }
        }
    }

    /// Tries the pending server part of a sign-out or forget again. Succeeds (with
    /// `pendingServerCleanup` cleared and `lastEvent` `signedOut` / `forgotten`) or keeps it
    /// pending (`signedOutLocally` / `forgottenLocally`); a no-op when nothing is pending.
    pub async fn finish_server_cleanup(&self, ua: &dyn UserAgent) -> Result<StateView, Error> {
        let _op = self.op.lock().await;
        let pending = self.inner.lock().await.pending.take();
        match pending {
            None => {}
            Some(PendingCleanup::SignOut { tokens, client_id }) => {
                self.report(Progress::SigningOut);
                info!("trying the server half of the sign-out again");
                self.finish_sign_out(tokens, client_id, ua).await;
            }
            Some(PendingCleanup::Forget { stored, unanswered }) => {
                self.report(Progress::Forgetting);
                info!("trying the RFC 7592 delete of the forgotten registration again");
                let mut outcome = self.clients().delete_outcome(&stored).await;
                // docs/faults.md: the server deleted the client but its answer was
                // lost. RFC 7592 §2.3: a delete invalidates the registration access token, and a
                // client that does not exist is answered 401; so after an unanswered delete a
                // 401 is our own delete having gone through. Counting it as failed kept
                // "forgotten here only" and its retry button forever, since every retry is 401.
                if unanswered && outcome == DeleteOutcome::Unauthorized {
                    info!("the earlier, unanswered delete went through: the server no longer accepts the registration access token");
                    outcome = DeleteOutcome::Confirmed;
                }
                let deleted = outcome == DeleteOutcome::Confirmed;
                let mut inner = self.inner.lock().await;
                inner.last_event = Some(if deleted {
                    Event::Forgotten
                } else {
                    Event::ForgottenLocally
                });
                inner.pending = PendingCleanup::after_forget(stored, outcome);
            }
        }
        Ok(self.view().await)
    }
}
