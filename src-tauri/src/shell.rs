//! The shell's managed state: the engine session (or why there is none), and the glue that
//! turns each engine call into progress and state-changed events. Commands are one-liners into
//! this; all OAuth lives in `dcr-core`.

use dcr_core::session::{Session, StateView};
use dcr_core::store::KeychainStore;
use tauri::AppHandle;

use crate::browser::{clear_sign_in_data, EmbeddedBrowser};
use crate::error::UiError;
use crate::events::{emit_progress, emit_state, Step};

pub struct Shell {
    app: AppHandle,
    /// `Err` when the config is invalid: every command answers with that error, so the UI can
    /// show which key to fix.
    session: Result<Session, UiError>,
}

impl Shell {
    pub fn new(app: AppHandle, session: Result<Session, UiError>) -> Self {
        Self { app, session }
    }

    pub fn start(
        app: AppHandle,
        config: Result<dcr_core::config::Config, dcr_core::Error>,
    ) -> Self {
        let session = config
            .map(|config| {
                Session::new(
                    config,
                    dcr_core::http::back_channel_client(),
                    Box::new(KeychainStore::new()),
                )
            })
            .map_err(UiError::from);
        Self::new(app, session)
    }

    fn session(&self) -> Result<&Session, UiError> {
        self.session.as_ref().map_err(Clone::clone)
    }

    fn browser(&self, session: &Session) -> EmbeddedBrowser {
        EmbeddedBrowser::new(self.app.clone(), session.config().allowed_sign_in_origins())
    }

    /// Tells the UI the outcome. A failure can still change the state (a revoked client moves to
    /// Unregistered), so the current state is published either way.
    async fn publish(
        &self,
        session: &Session,
        outcome: Result<StateView, dcr_core::Error>,
    ) -> Result<StateView, UiError> {
        match outcome {
            Ok(view) => {
                emit_state(&self.app, &view);
                Ok(view)
            }
            Err(error) => {
                if let Ok(view) = session.state().await {
                    emit_state(&self.app, &view);
                }
                Err(UiError::from(error))
            }
        }
    }

    pub async fn get_state(&self) -> Result<StateView, UiError> {
        let session = self.session()?;
        Ok(session.state().await?)
    }

    /// Registration login, DCR, keychain, then straight on into the SSO sign-in: one click.
    pub async fn register(&self) -> Result<StateView, UiError> {
        let session = self.session()?;
        let outcome = session.register_and_sign_in(&self.browser(session)).await;
        self.publish(session, outcome).await
    }

    pub async fn sign_in(&self) -> Result<StateView, UiError> {
        let session = self.session()?;
        let outcome = session.sign_in(&self.browser(session)).await;
        self.publish(session, outcome).await
    }

    pub async fn refresh(&self) -> Result<StateView, UiError> {
        let session = self.session()?;
        emit_progress(&self.app, Step::Refreshing);
        let outcome = session.refresh().await;
        self.publish(session, outcome).await
    }

    pub async fn sign_out(&self) -> Result<StateView, UiError> {
        let session = self.session()?;
        emit_progress(&self.app, Step::SigningOut);
        let outcome = session.sign_out(&self.browser(session)).await;
        self.publish(session, outcome).await
    }

    pub async fn forget_device(&self) -> Result<StateView, UiError> {
        let session = self.session()?;
        emit_progress(&self.app, Step::Forgetting);
        let outcome = session.forget().await;
        clear_sign_in_data(&self.app);
        self.publish(session, outcome).await
    }
}
