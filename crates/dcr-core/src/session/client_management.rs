//! Client management: the RFC 7592 calls on this install's client, and taking over the
//! credentials they (or another process) rotated.
//!
//! [`ClientManager`] owns the read (RFC 7592 §2.1), the update (§2.2) and the delete (§2.3),
//! and the rule that follows from §3: a server may issue a new `client_secret` or
//! `registration_access_token` in the answer to any of these calls, after which only the
//! newest copy works. So every call starts from the newest credentials in the shared entry,
//! and what a call rotated is saved there before it is used.
//!
//! It depends only on the back channel ([`Transport`]) and the [`SharedEntry`], and never
//! touches the session's state: it returns new [`StoredRegistration`] values and outcomes, and
//! the session decides what they mean (a dead client, an event, a reason) and commits them.

use std::sync::Arc;

use tracing::{debug, info, warn};

use super::now;
use super::shared_entry::{Newest, SharedEntry};
use crate::device::key::DeviceKey;
use crate::device::store::StoredRegistration;
use crate::error::{Error, RegistrationError};
use crate::platform::http::{CappedResponse, OutgoingRequest, SendError, Transport};
use crate::protocol::registration::{
    delete_response, prepare_delete, prepare_read, prepare_update, read_response, update_response,
    ClientRegistration, ClientStatus,
};

/// The RFC 7592 calls on this install's client, over `http`, with the credentials in `entry`.
pub(super) struct ClientManager<'a> {
    http: &'a dyn Transport,
    entry: &'a SharedEntry,
}

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

/// An RFC 7592 read and the credentials it leaves the session with.
pub(super) struct Checked {
    /// Newer credentials for the client than the ones it was asked about: stored by another
    /// process, or rotated by the read itself and stored (RFC 7592 §3). The session takes them
    /// over ([`adopted`]) whatever `liveness` says.
    pub(super) newer: Option<StoredRegistration>,
    /// `Err` only when the entry could not be read, or the rotated credentials not saved.
    pub(super) liveness: Result<Liveness, Error>,
}

/// The newest credentials for a client, read from the entry under the lock.
pub(super) struct Current {
    pub(super) stored: StoredRegistration,
    /// Whether they are newer than the ones asked about (another process stored them).
    pub(super) rotated: bool,
}

/// How an RFC 7592 §2.3 delete went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DeleteOutcome {
    /// 200, 204 or 404.
    Confirmed,
    /// 401: the registration access token was not accepted.
    Unauthorized,
    /// No answer (unreachable, reset, timed out): the server may or may not have deleted it.
    Unanswered,
    /// Any other answer, or no management endpoint.
    Failed,
}

/// Sends `request` on the back channel. Logs the method and host only: URLs may carry state,
/// and bodies carry secrets.
pub(super) async fn send(
    http: &dyn Transport,
    request: OutgoingRequest,
) -> Result<CappedResponse, SendError> {
    debug!(method = ?request.method, host = request.url.host_str().unwrap_or_default(), "back-channel request");
    http.send(request).await
}

impl<'a> ClientManager<'a> {
    pub(super) fn new(http: &'a Arc<dyn Transport>, entry: &'a SharedEntry) -> Self {
        Self {
            http: http.as_ref(),
            entry,
        }
    }

    /// Under the lock: the entry's registration when it holds `stored`'s client (another
    /// process may have stored rotated credentials since this one read them), else `stored`.
    pub(super) async fn newest(&self, stored: &StoredRegistration) -> Result<Current, Error> {
        Ok(match self.entry.newest(stored).await? {
            Newest::Same(current) => Current {
                stored: current,
                rotated: false,
            },
            Newest::Rotated(current) => {
                info!("using the credentials another process stored for this client");
                Current {
                    stored: current,
                    rotated: true,
                }
            }
            Newest::Other => Current {
                stored: stored.clone(),
                rotated: false,
            },
        })
    }

    /// The RFC 7592 §2.1 read, with its §3 consequence: a new `client_secret` or
    /// `registration_access_token` in the answer is used from now on, so the whole updated
    /// entry is saved to the keychain in one call before it is used. The read is sent with the
    /// newest credentials: the keychain entry is read again first, under the cross-process
    /// lock, and another process's newer ones for the same client are used. `liveness` is
    /// `Err` only when the entry could not be read, or the save failed: the old entry is then
    /// kept in the keychain and the store error reported.
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
    pub(super) async fn check_client(&self, stored: &StoredRegistration) -> Checked {
        // From reading the entry to saving what the read rotated, under the cross-process lock:
        // another process may have stored rotated credentials since this one read them (a server
        // may rotate the registration access token on every RFC 7592 call, RFC 7592 §3, so ours
        // may be dead), and none may rotate them again in between.
        let _lock = self.entry.lock().await;
        let current = match self.newest(stored).await {
            Ok(current) => current,
            Err(error) => {
                return Checked {
                    newer: None,
                    liveness: Err(error),
                }
            }
        };
        let stored = current.stored;
        let mut newer = current.rotated.then(|| stored.clone());
        let liveness = self.read(stored).await.map(|(liveness, updated)| {
            if updated.is_some() {
                newer = updated;
            }
            liveness
        });
        Checked { newer, liveness }
    }

    /// The read itself, with `stored` the newest credentials; under the lock. Returns the
    /// registration the read rotated and stored, if any, alongside what it found out.
    async fn read(
        &self,
        stored: StoredRegistration,
    ) -> Result<(Liveness, Option<StoredRegistration>), Error> {
        let Some(request) = prepare_read(&stored.registration) else {
            return Ok((Liveness::Unknown(Box::new(stored)), None));
        };
        // The registration's own redirect (loopback mode registers the loopback one), never the
        // configured one.
        let redirect = self.entry.binding().redirect_uri().as_str();
        let status = match send(self.http, request).await {
            Ok(response) => {
                read_response(response, &stored.registration, redirect, now()).map_err(Error::from)
            }
            Err(error) => Err(RegistrationError::Transport(error).into()),
        };
        match status {
            Ok(ClientStatus::Active) => Ok((Liveness::Alive(Box::new(stored)), None)),
            Ok(ClientStatus::Updated(registration)) => {
                let updated = StoredRegistration {
                    registration: *registration,
                    registered_at: stored.registered_at,
                    device_key: stored.device_key.clone(),
                    refresh_token: stored.refresh_token.clone(),
                };
                self.entry.replace_if_ours(&stored, &updated).await?;
                info!(client_id = %updated.registration.client_id, "RFC 7592 read: the identity server rotated this client's credentials; stored them");
                Ok((Liveness::Alive(Box::new(updated.clone())), Some(updated)))
            }
            Ok(ClientStatus::Gone) => {
                info!(client_id = %stored.registration.client_id, "RFC 7592 read: the identity server no longer knows this client");
                Ok((Liveness::Gone, None))
            }
            Err(error) => {
                warn!(
                    kind = %error.kind(),
                    "could not check the registration (RFC 7592 read); carrying on"
                );
                Ok((Liveness::Unknown(Box::new(stored)), None))
            }
        }
    }

    /// The RFC 7592 §2.2 update that registers `key`'s public half as the client's only key.
    pub(super) async fn update_keys(
        &self,
        current: &ClientRegistration,
        key: &DeviceKey,
        old_kid: Option<&str>,
    ) -> Result<ClientRegistration, Error> {
        let request = prepare_update(current, &key.public_jwks())?;
        let response = send(self.http, request)
            .await
            .map_err(RegistrationError::Transport)?;
        Ok(update_response(
            response,
            current,
            key.thumbprint(),
            old_kid,
            // The registration's own redirect (loopback mode registers the loopback one).
            self.entry.binding().redirect_uri().as_str(),
            now(),
        )?)
    }

    /// After a failed save of a key rotation: the server holds the new key, the keychain the
    /// old one. Put the old key back on the server; its answer (with yet another registration
    /// access token) is saved if the keychain takes it now. If the server refuses, the new key
    /// is the only one it accepts. Returns the registration to use for the rest of this
    /// session.
    pub(super) async fn roll_back(
        &self,
        rotated: StoredRegistration,
        old_key: Arc<DeviceKey>,
    ) -> StoredRegistration {
        let new_kid = rotated
            .device_key
            .as_deref()
            .map(|key| key.thumbprint().to_owned());
        let current = match self
            .update_keys(&rotated.registration, &old_key, new_kid.as_deref())
            .await
        {
            Ok(registration) => StoredRegistration {
                registration,
                registered_at: rotated.registered_at,
                device_key: Some(old_key),
                refresh_token: rotated.refresh_token.clone(),
            },
            Err(error) => {
                warn!(kind = %error.kind(), "the server kept the new device key; keeping it");
                rotated
            }
        };
        if let Err(error) = self.entry.save(&current).await {
            warn!(kind = %error.kind(), "the keychain still refuses the registration");
        }
        current
    }

    /// RFC 7592 §2.3 delete, best effort. True when the server confirmed.
    pub(super) async fn delete_on_server(&self, stored: &StoredRegistration) -> bool {
        self.delete_outcome(stored).await == DeleteOutcome::Confirmed
    }

    /// RFC 7592 §2.3 delete, best effort, saying how it failed.
    pub(super) async fn delete_outcome(&self, stored: &StoredRegistration) -> DeleteOutcome {
        let Some(request) = prepare_delete(&stored.registration) else {
            warn!(
                "the registration has no management endpoint; it cannot be deleted on the server"
            );
            return DeleteOutcome::Failed;
        };
        self.send_delete_outcome(request).await
    }

    /// Sends an RFC 7592 §2.3 delete. True only when the server confirmed it.
    pub(super) async fn send_delete(&self, request: OutgoingRequest) -> bool {
        self.send_delete_outcome(request).await == DeleteOutcome::Confirmed
    }

    async fn send_delete_outcome(&self, request: OutgoingRequest) -> DeleteOutcome {
        let result = match send(self.http, request).await {
            Ok(response) => delete_response(response).map_err(Error::from),
            Err(error) => Err(RegistrationError::Transport(error).into()),
        };
        match result {
            Ok(()) => DeleteOutcome::Confirmed,
            Err(error) => {
                warn!(
                    kind = %error.kind(),
                    "deleting the registration on the server failed"
                );
                match error {
                    Error::Registration(RegistrationError::DeleteUnauthorized) => {
                        DeleteOutcome::Unauthorized
                    }
                    Error::Registration(RegistrationError::Transport(_)) => {
                        DeleteOutcome::Unanswered
                    }
                    _ => DeleteOutcome::Failed,
                }
            }
        }
    }
}

/// The newest credentials this session holds for `stored`'s client: `ours` (its in-memory
/// registration) when that is the same client, else `stored`.
pub(super) fn newest_known(
    ours: Option<&StoredRegistration>,
    stored: &StoredRegistration,
) -> StoredRegistration {
    match ours {
        Some(ours) if ours.registration.client_id == stored.registration.client_id => ours.clone(),
        _ => stored.clone(),
    }
}

/// `ours` (the in-memory registration) with `current`'s credentials when it is the same
/// client, else `None` (nothing to take over). It keeps the refresh token it last saw in the
/// entry: the session compares with that to notice a newer one another process stored.
pub(super) fn adopted(
    ours: &StoredRegistration,
    current: &StoredRegistration,
) -> Option<StoredRegistration> {
    (ours.registration.client_id == current.registration.client_id).then(|| StoredRegistration {
        refresh_token: ours.refresh_token.clone(),
        ..current.clone()
    })
}
