//! The state machine, and the only owner of mutable state.
//!
//! `Unregistered → register → Registered → sign_in → SignedIn → refresh* → sign_out → Registered`
//!
//! Two tokio mutexes: `op` serializes whole operations (so two refreshes never race on a rotated
//! refresh token, F3), and `inner` guards the data for short moments only, so [`Session::state`]
//! answers while a browser step is open. Every operation computes its result first and commits
//! it in one step, so a failure or cancellation leaves the state exactly as it was.
//!
//! # Components
//!
//! The operations are built from parts that each own one responsibility and depend one way
//! (→ means "uses"); none of them touches `inner`, so only the state machine commits:
//!
//! - `registering` (`Registrar`): registration login, RFC 7591, keychain save; new, adopted
//!   from another process, or refused and deleted → server, shared entry, client management;
//! - `signing_in` (`SignIn`): the browser sign-in, code exchange, ID token and UserInfo, and
//!   the server half of logout → server, credentials;
//! - `tokens` (`Refresher`, `RefreshFlight`): the refresh grant, single flight, and when to
//!   refresh next → server, credentials;
//! - `client_management` (`ClientManager`): RFC 7592 read, update, delete, and adopting
//!   rotated credentials → back channel, shared entry;
//! - `shared_entry` (`SharedEntry`): the keychain entry under the cross-process lock, written
//!   and wiped only by compare-and-swap on the credential generation;
//! - `server` (`IdentityServer`): the back channel, with the discovery document, key set and
//!   DPoP nonces it has taught this session (caches, under their own lock);
//! - `credentials`: how the per-install client proves itself (secret, `private_key_jwt`, DPoP key).
//!
//! The state machine's own files are its transitions: `entry` (the in-memory registration kept
//! in step with the keychain entry), `refresh` and `remember` (refresh and remembered sign-in),
//! `revocation` (a client the server no longer knows), `rotation` (device-key rotation),
//! `cleanup` (the server half of sign-out and forget, retried), `modes` (which user-agent mode
//! this install registered in) and `view` (what the shells see).

mod cleanup;
mod client_management;
mod credentials;
mod entry;
mod modes;
mod refresh;
mod registering;
mod remember;
mod revocation;
mod rotation;
mod server;
mod shared_entry;
mod signing_in;
mod tokens;
mod view;

use std::sync::Arc;

use tokio::sync::Mutex;
use tracing::info;

pub use modes::ModeError;
pub use view::{
    Credential, Event, Reason, RegistrationView, ServerCleanup, StateName, StateView, UserView,
};

use crate::agents::UserAgent;
use crate::config::Config;
use crate::device::store::{RegistrationStore, StoredRegistration};
use crate::error::Error;
use crate::platform::http::Transport;
use crate::platform::lock::ProcessLock;
use crate::progress::{NoProgress, Progress, ProgressSink};
use cleanup::PendingCleanup;
use client_management::{ClientManager, DeleteOutcome, Liveness};
use registering::{NewRegistration, Registrar};
use revocation::{is_bare_unauthorized, is_browser_step_failure, is_invalid_client};
use server::IdentityServer;
use shared_entry::SharedEntry;
use signing_in::SignIn;
use tokens::{RefreshFlight, Refresher, Tokens};

/// The engine's one stateful object. `Send + Sync`; every method takes `&self`.
pub struct Session {
    config: Config,
    /// The back channel, and the discovery, key set and DPoP nonces it has taught this session.
    server: IdentityServer,
    /// The keychain entry, its mode's redirect URIs and its cross-process lock.
    entry: SharedEntry,
    op: Mutex<()>,
    inner: Mutex<Inner>,
    /// Where each step is reported; nowhere unless a shell sets one.
    progress: Arc<dyn ProgressSink>,
    /// Single flight for refreshes (`tokens.rs`).
    refreshes: RefreshFlight,
}

#[derive(Default)]
struct Inner {
    /// Whether the store has been read (lazily, on first use).
    loaded: bool,
    registration: Option<StoredRegistration>,
    tokens: Option<Tokens>,
    reason: Option<Reason>,
    last_event: Option<Event>,
    /// The server half of a sign-out or forget that failed, kept to try again. Memory only:
    /// it never survives a restart (see `cleanup.rs`).
    pending: Option<PendingCleanup>,
    /// Whether [`Session::resume`] has done its one try (`remember.rs`).
    resumed: bool,
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Session {
    /// A session over the real back channel. Build `http` with [`crate::platform::http::back_channel_client`].
    /// Registration and refresh are serialized with this user's other processes
    /// ([`ProcessLock::for_user`]).
    pub fn new(config: Config, http: reqwest::Client, store: Box<dyn RegistrationStore>) -> Self {
        let session = Self::with_transport(config, Arc::new(http), store);
        let lock = ProcessLock::for_user(&session.entry.key().fingerprint());
        session.with_process_lock(lock)
    }

    /// Reports what the engine is doing to `sink` (the desktop shell's progress screen).
    pub fn with_progress(mut self, sink: Arc<dyn ProgressSink>) -> Self {
        self.progress = sink;
        self
    }

    pub(crate) fn report(&self, step: Progress) {
        self.progress.report(step);
    }

    /// Replaces the cross-process lock (by default none for [`Session::with_transport`]).
    pub fn with_process_lock(mut self, lock: ProcessLock) -> Self {
        self.entry.set_lock(lock);
        self
    }

    /// A session over any [`Transport`] (tests use a fake identity server).
    pub fn with_transport(
        config: Config,
        http: Arc<dyn Transport>,
        store: Box<dyn RegistrationStore>,
    ) -> Self {
        let entry = SharedEntry::new(&config, Arc::from(store));
        Self::on_store(config, http, entry)
    }

    fn on_store(config: Config, http: Arc<dyn Transport>, entry: SharedEntry) -> Self {
        Self {
            entry,
            server: IdentityServer::new(http, config.issuer.clone()),
            config,
            op: Mutex::new(()),
            inner: Mutex::new(Inner::default()),
            progress: Arc::new(NoProgress),
            refreshes: RefreshFlight::default(),
        }
    }

    /// Sets the least time between two key-set fetches caused by an unknown `kid` (D6;
    /// default [`JWKS_MIN_REFETCH_SECS`](crate::protocol::id_token::JWKS_MIN_REFETCH_SECS)). A server
    /// that rotates its keys more often than this is seen as `keysUnavailable` until the
    /// interval has passed. Tests against a real server shorten it to see a rotation at once.
    pub fn set_key_refetch_interval(&self, interval: std::time::Duration) {
        let secs = i64::try_from(interval.as_secs()).unwrap_or(i64::MAX);
        self.server.set_key_refetch_secs(secs);
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The current state. The first call restores the registration from the keychain; a locked
    /// or unavailable keychain is an error here, never "unregistered" (S2).
    pub async fn state(&self) -> Result<StateView, Error> {
        if !self.inner.lock().await.loaded {
            let _op = self.op.lock().await;
            self.ensure_loaded().await?;
        }
        Ok(self.view().await)
    }

    /// The RFC 7592 calls on this install's client, over this session's back channel and entry.
    fn clients(&self) -> ClientManager<'_> {
        ClientManager::new(self.server.http(), &self.entry)
    }

    /// The registering component over this session's server, entry and progress sink.
    fn registrar(&self) -> Registrar<'_> {
        Registrar {
            config: &self.config,
            server: &self.server,
            entry: &self.entry,
            progress: self.progress.as_ref(),
        }
    }

    /// The signing-in component over this session's server, entry and progress sink.
    fn signing_in(&self) -> SignIn<'_> {
        SignIn {
            config: &self.config,
            server: &self.server,
            entry: &self.entry,
            progress: self.progress.as_ref(),
        }
    }

    /// The refresh grant over this session's server.
    fn refresher(&self) -> Refresher<'_> {
        Refresher {
            config: &self.config,
            server: &self.server,
        }
    }

    /// A copy of the registration this session holds; `NotRegistered` when there is none.
    async fn current_registration(&self) -> Result<StoredRegistration, Error> {
        self.inner
            .lock()
            .await
            .registration
            .clone()
            .ok_or(Error::NotRegistered)
    }

    /// Registration login + RFC 7591 registration + keychain save. A no-op when a registration
    /// with a live secret exists (`lastEvent: alreadyRegistered`): forget first to replace it.
    pub async fn register(&self, ua: &dyn UserAgent) -> Result<StateView, Error> {
        let _op = self.op.lock().await;
        self.ensure_loaded().await?;
        let existing = self.inner.lock().await.registration.clone();
        match existing {
            Some(stored) if !stored.registration.secret_expired(now()) => {
                self.inner.lock().await.last_event = Some(Event::AlreadyRegistered);
            }
            old => match self.registrar().register(ua).await? {
                NewRegistration::Created(fresh) => {
                    self.commit_registration(fresh, old.is_some()).await;
                    if let Some(old) = old {
                        self.clients().delete_on_server(&old).await;
                    }
                }
                NewRegistration::Adopted(theirs) => self.adopt(theirs).await,
            },
        }
        Ok(self.view().await)
    }

    /// The SSO sign-in with the per-install client. Registers again first when the stored
    /// secret has expired (R6). A client the server no longer knows is found out before the
    /// browser opens, and wiped (T2, `revocation.rs`).
    pub async fn sign_in(&self, ua: &dyn UserAgent) -> Result<StateView, Error> {
        self.sign_in_reading(ua, true).await
    }

    /// `read_first: false` skips the RFC 7592 read (see [`Session::register_and_sign_in`]).
    async fn sign_in_reading(
        &self,
        ua: &dyn UserAgent,
        read_first: bool,
    ) -> Result<StateView, Error> {
        let _op = self.op.lock().await;
        self.report(Progress::SigningIn);
        self.ensure_loaded().await?;
        let mut stored = self.current_registration().await?;
        if stored.registration.secret_expired(now()) {
            info!(client_id = %stored.registration.client_id, "client secret expired; registering again");
            stored = match self.registrar().register(ua).await? {
                NewRegistration::Created(fresh) => {
                    self.commit_registration(fresh.clone(), true).await;
                    self.clients().delete_on_server(&stored).await;
                    fresh
                }
                NewRegistration::Adopted(theirs) => {
                    self.adopt(theirs.clone()).await;
                    theirs
                }
            };
        } else if read_first {
            match self.check_client(&stored).await? {
                // RFC 7592 §2.1: the browser step could never finish, so it is not opened.
                Liveness::Gone => return Err(self.revoked(&stored, true).await),
                // RFC 7592 §3: a rotated secret or token is used from now on, and so are the
                // newest credentials in the keychain entry when the read could not tell.
                Liveness::Alive(current) | Liveness::Unknown(current) => stored = *current,
            }
        }
        // A key the TPM no longer loads could never redeem the code: found out before the
        // browser opens, so nobody types a password for nothing.
        if let Some(key) = &stored.device_key {
            if let Err(error) = key.check_available() {
                let error = Error::from(error);
                if error.is_device_key_lost() {
                    return Err(self.device_key_lost(&stored).await);
                }
                return Err(error);
            }
        }
        let tokens = match self.signing_in().sign_in(&stored, ua).await {
            Err(error) if is_invalid_client(&error) => {
                return Err(self.revoked(&stored, false).await)
            }
            Err(error) if error.is_device_key_lost() => {
                return Err(self.device_key_lost(&stored).await)
            }
            // Ask again: the client may have been deleted while the window was open, or the
            // first read could not tell, or a bare 401 (a proxy?) stood in for invalid_client.
            // A live client keeps the error and the state as they are, so cancelling still
            // changes nothing.
            Err(error)
                if (is_browser_step_failure(&error) || is_bare_unauthorized(&error))
                    && self.client_gone(&stored).await =>
            {
                return Err(self.revoked(&stored, true).await)
            }
            other => other?,
        };
        let refresh_token = tokens.refresh_token.clone();
        let mut inner = self.inner.lock().await;
        inner.tokens = Some(tokens);
        inner.reason = None;
        inner.last_event = Some(Event::SignedIn);
        inner.pending = None;
        info!(client_id = %stored.registration.client_id, "signed in");
        drop(inner);
        if self.config.remember_sign_in {
            self.keep_refresh_token(refresh_token).await;
        }
        Ok(self.view().await)
    }

    /// RP-initiated logout. Local tokens are wiped first and stay wiped whatever the server
    /// part does (L1); `lastEvent` says whether the server confirmed (`signedOut`) or not.
    /// When the server part failed and can be tried again, what it needs is kept in memory
    /// (`pendingServerCleanup: signOut`, see [`Session::finish_server_cleanup`]).
    pub async fn sign_out(&self, ua: &dyn UserAgent) -> Result<StateView, Error> {
        let _op = self.op.lock().await;
        self.report(Progress::SigningOut);
        self.ensure_loaded().await?;
        let (tokens, client_id) = {
            let mut inner = self.inner.lock().await;
            let tokens = inner.tokens.take();
            inner.last_event = Some(Event::SignedOutLocally);
            let client_id = inner
                .registration
                .as_ref()
                .map(|s| s.registration.client_id.clone());
            (tokens, client_id)
        };
        // Whatever `rememberSignIn` says now: a token remembered earlier goes too.
        if client_id.is_some() {
            self.keep_refresh_token(None).await;
        }
        if let (Some(tokens), Some(client_id)) = (tokens, client_id) {
            info!("signed out locally; ending the server session");
            self.finish_sign_out(tokens, client_id, ua).await;
        }
        Ok(self.view().await)
    }

    /// "Forget this device": RFC 7592 delete, then the keychain entry and all tokens. When the
    /// delete failed but could be tried again, the registration is kept in memory only
    /// (`pendingServerCleanup: forget`).
    pub async fn forget(&self) -> Result<StateView, Error> {
        let _op = self.op.lock().await;
        self.report(Progress::Forgetting);
        self.ensure_loaded().await?;
        let Some(stored) = self.inner.lock().await.registration.clone() else {
            return Ok(self.view().await);
        };
        let server_deleted = self.discard(&stored, None).await?;
        info!(server_deleted, "registration forgotten");
        Ok(self.view().await)
    }

    /// Forget's transition, also taken when the device key is lost (`revocation.rs`): the
    /// RFC 7592 §2.3 delete (the registration access token is a bearer token, no device
    /// signature needed), then the keychain entry, and the session ends unregistered with
    /// `reason`. A delete that failed but can be sent again is kept in memory
    /// (`pendingServerCleanup: forget`). True when the server confirmed the delete.
    async fn discard(
        &self,
        stored: &StoredRegistration,
        reason: Option<Reason>,
    ) -> Result<bool, Error> {
        // From reading the entry to wiping it, under the cross-process lock: the delete needs
        // the newest registration access token (another process may have rotated it, RFC 7592
        // §3), and the wipe must not take away a registration stored meanwhile.
        let lock = self.entry.lock().await;
        let stored = self.newest(stored).await?;
        let outcome = self.clients().delete_outcome(&stored).await;
        let server_deleted = outcome == DeleteOutcome::Confirmed;
        let remaining = self.entry.wipe_if_ours(&stored).await?;
        drop(lock);
        let mut inner = self.inner.lock().await;
        inner.registration = remaining;
        inner.tokens = None;
        inner.reason = reason;
        inner.last_event = Some(if server_deleted {
            Event::Forgotten
        } else {
            Event::ForgottenLocally
        });
        inner.pending = PendingCleanup::after_forget(stored, outcome);
        Ok(server_deleted)
    }

    /// The first-run path: register, then the SSO sign-in (one password in total).
    pub async fn register_and_sign_in(&self, ua: &dyn UserAgent) -> Result<StateView, Error> {
        let view = self.register(ua).await?;
        // RFC 7591 §3.2.1: the 201 just now says the client exists; an RFC 7592 read could only
        // repeat it (a request the first run need not make). A failed browser step
        // still asks the server; an existing or adopted registration is read as always.
        let fresh = matches!(
            view.last_event,
            Some(Event::Registered | Event::Reregistered)
        );
        self.sign_in_reading(ua, !fresh).await
    }
}

#[cfg(test)]
mod tests;
