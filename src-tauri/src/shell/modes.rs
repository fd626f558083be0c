//! The choice of user-agent mode. The engine owns the rule (`Session::on_registered_mode`,
//! `Session::choose_mode`: a registration is bound to its mode); the shell only keeps the
//! session it answers with as the one every command uses.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::sync::PoisonError;

use dcr_core::config::UserAgentKind;
use dcr_core::session::{ModeError, Session};

use super::{Loaded, Shell};
use crate::error::UiError;

impl Shell {
    /// The session, on this install's registration (asked once, then kept).
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
        let found = session.clone().on_registered_mode().await?;
        self.swap(&session, found.clone());
        self.mode_found.store(true, Ordering::Release);
        Ok(found)
    }

    /// The registration screen's choice of `mode`.
    pub(super) async fn choose_mode(
        &self,
        session: Arc<Session>,
        mode: &str,
    ) -> Result<Arc<Session>, UiError> {
        let _choosing = self.choosing.lock().await;
        let mode = UserAgentKind::parse(mode).ok_or_else(|| UiError::unknown_mode(mode))?;
        let chosen = session
            .clone()
            .choose_mode(mode)
            .await
            .map_err(|error| match error {
                ModeError::Engine(error) => UiError::from(error),
                // The webview asked for it: a user-agent error (the config itself is fine).
                refused => UiError::mode_refused(&refused),
            })?;
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
