//! The choice of user-agent mode (issue 8): which mode's registration this install has, and
//! the registration screen's choice. A registration is bound to its mode (each mode has its own
//! keychain entry: `Config::store_mode`, and loopback's own redirect), so the session is
//! swapped for the chosen mode's only while nothing is registered.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use dcr_core::config::UserAgentKind;
use dcr_core::session::{Session, StateName};

use super::{new_session, Loaded, Shell};
use crate::error::UiError;
use std::sync::PoisonError;

impl Shell {
    /// The session, on the mode this install registered with (issue 8). With several allowed
    /// modes each has its own keychain entry; the first (in the config's order) that holds a
    /// registration is the install's mode, else the default. Looked up once, then kept.
    pub(super) async fn registered_mode(&self) -> Result<Arc<Session>, UiError> {
        let session = self.session()?;
        if self.mode_found.load(Ordering::Acquire) {
            return Ok(session);
        }
        let _choosing = self.choosing.lock().await;
        let session = self.session()?;
        if self.mode_found.load(Ordering::Acquire) {
            return Ok(session);
        }
        let config = session.config().clone();
        for mode in config.allowed_user_agents() {
            if mode == config.active_user_agent() {
                if session.state().await?.state != StateName::Unregistered {
                    break;
                }
                continue;
            }
            let other = Arc::new(new_session(&self.app, config.with_user_agent(mode)?));
            if other.state().await?.state != StateName::Unregistered {
                tracing::info!(
                    mode = mode.as_str(),
                    "this install is registered in this mode"
                );
                self.swap(&session, other.clone());
                self.mode_found.store(true, Ordering::Release);
                return Ok(other);
            }
        }
        self.mode_found.store(true, Ordering::Release);
        Ok(session)
    }

    /// The registration screen's choice: `mode` becomes the session's mode, allowed by the
    /// config and only while unregistered (a registration is bound to its mode; forget it to
    /// switch). The same mode is a no-op.
    pub(super) async fn choose_mode(
        &self,
        session: Arc<Session>,
        mode: &str,
    ) -> Result<Arc<Session>, UiError> {
        let _choosing = self.choosing.lock().await;
        let mode = UserAgentKind::parse(mode).ok_or_else(|| UiError::unknown_mode(mode))?;
        if mode == session.config().active_user_agent() {
            return Ok(session);
        }
        // Not allowed by the config: the webview asked for it, so it is a user-agent error (the
        // config itself is fine).
        let config = session
            .config()
            .with_user_agent(mode)
            .map_err(UiError::mode_not_allowed)?;
        if session.state().await?.state != StateName::Unregistered {
            return Err(UiError::mode_bound(
                session.config().active_user_agent().as_str(),
            ));
        }
        tracing::info!(mode = mode.as_str(), "registering in the chosen mode");
        let chosen = Arc::new(new_session(&self.app, config));
        self.swap(&session, chosen.clone());
        Ok(chosen)
    }

    /// Replaces `old` with `new` as the session every command uses.
    fn swap(&self, old: &Arc<Session>, new: Arc<Session>) {
        let mut loaded = self.loaded.write().unwrap_or_else(PoisonError::into_inner);
        if matches!(&*loaded, Loaded::Ready(current) if Arc::ptr_eq(current, old)) {
            *loaded = Loaded::Ready(new);
        }
    }
}
