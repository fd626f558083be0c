//! Which user-agent mode a session runs in. A registration is bound to its mode (its redirect
//! URIs and keychain entry, [`crate::device::Binding`]), so a session is too: another mode is
//! another session over the same back channel and keychain, with that mode's entry and lock.
//!
//! The desktop app and the `dcr` CLI both ask here, so they always agree: a shell opens the
//! session on this install's registration ([`Session::on_registered_mode`], the rule is
//! [`crate::device::find`]), and a mode the user picks ([`Session::choose_mode`]) is refused
//! while the install is registered in another one (forget it first).

use std::sync::Arc;

use tracing::info;

use super::Session;
use crate::config::{Config, UserAgentKind};
use crate::error::{sanitize, ConfigError, Error, ErrorKind, MAX_MESSAGE_CHARS};

/// Why a chosen mode was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModeError {
    /// The config's `userAgent` does not allow it.
    #[error(transparent)]
    NotAllowed(ConfigError),
    /// The install is registered in another mode.
    #[error("This device is already registered for the {} mode; forget this device to register it for another mode", .registered.as_str())]
    Bound { registered: UserAgentKind },
    /// The keychain could not be read to find out.
    #[error(transparent)]
    Engine(#[from] Error),
}

impl ModeError {
    /// The stable kind: `userAgent` for a refused choice (the config itself is fine).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Engine(error) => error.kind(),
            Self::NotAllowed(_) | Self::Bound { .. } => ErrorKind::UserAgent,
        }
    }

    /// A message safe to show.
    pub fn message(&self) -> String {
        match self {
            Self::Engine(error) => error.message(),
            Self::NotAllowed(_) | Self::Bound { .. } => {
                sanitize(&self.to_string(), MAX_MESSAGE_CHARS)
            }
        }
    }
}

impl Session {
    /// The user-agent mode this session registers and signs in with.
    pub fn mode(&self) -> UserAgentKind {
        self.entry.binding().mode()
    }

    /// The mode of this install's registration over the config's allowed modes, `None` while
    /// unregistered (see [`crate::device::find`]). A locked keychain is an error (S2).
    pub async fn registered_mode(&self) -> Result<Option<UserAgentKind>, Error> {
        let found = self.entry.find(&self.config).await?;
        Ok(found.map(|registration| registration.mode()))
    }

    /// The session on this install's registration: this one, or the same session in the mode
    /// the install registered in (the first of the config's allowed modes, in its order, whose
    /// keychain entry holds a registration). Unregistered, this session as it is.
    pub async fn on_registered_mode(self: Arc<Self>) -> Result<Arc<Session>, Error> {
        match self.registered_mode().await? {
            Some(mode) if mode != self.mode() => {
                info!(
                    mode = mode.as_str(),
                    "this install is registered in this mode"
                );
                let config = self.config.with_user_agent(mode)?;
                Ok(Arc::new(self.in_mode(config)))
            }
            _ => Ok(self),
        }
    }

    /// The session for `mode`, the user's choice: allowed by the config, and only while the
    /// install is unregistered or registered in that very mode. The same mode is this session.
    pub async fn choose_mode(
        self: Arc<Self>,
        mode: UserAgentKind,
    ) -> Result<Arc<Session>, ModeError> {
        let config = self
            .config
            .with_user_agent(mode)
            .map_err(ModeError::NotAllowed)?;
        match self.registered_mode().await? {
            Some(registered) if registered != mode => Err(ModeError::Bound { registered }),
            _ if mode == self.mode() => Ok(self),
            _ => {
                info!(mode = mode.as_str(), "registering in the chosen mode");
                Ok(Arc::new(self.in_mode(config)))
            }
        }
    }

    /// This session's back channel, keychain, progress sink and settings, on `config`'s mode.
    fn in_mode(&self, config: Config) -> Session {
        let entry = self.entry.for_config(&config);
        let mut session = Session::on_store(config, self.server.http().clone(), entry);
        session.progress = self.progress.clone();
        session
            .server
            .set_key_refetch_secs(self.server.key_refetch_secs());
        session
    }
}
