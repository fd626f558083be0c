//! The shell's managed state: the engine session (or why there is none), and the glue that
//! turns each engine call into progress and state-changed events. Commands are one-liners into
//! this; all OAuth lives in `dcr-core`.

use std::panic::resume_unwind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use dcr_core::config::{Config, UserAgentKind};
use dcr_core::device::store::KeychainStore;
use dcr_core::diagnostics::About;
use dcr_core::session::{Session, StateView};
use tauri::AppHandle;

use dcr_core::agents::deep_link::DeepLinkInbox;
use dcr_core::agents::BrowserControl;
use url::Url;

use crate::about::Facts;
use crate::browser::{clear_sign_in_data, close_sign_in_window, show_sign_in_window};
use crate::config_source::{save, MAX_CONFIG_BYTES};
use crate::error::UiError;
use crate::events::{emit_state, ProgressEvents};
use crate::folder_opener::open_folder;
use crate::user_agents::DesktopAgent;

mod modes;

/// What the app runs on. Only `Building` (to `Ready`, once built) and `Missing` (to `Ready`,
/// when the user picks a config on the setup screen) change; the lock is held for those swaps
/// and for cloning the `Arc`, never across an engine call.
enum Loaded {
    /// The session is being built on a thread of its own: its back channel loads the OS's
    /// trust store from disk, and on the main thread that would hold up the page's first
    /// requests (Tauri serves them there). The first caller that needs the session waits for it.
    Building(Option<std::thread::JoinHandle<Session>>),
    Ready(Arc<Session>),
    /// The config is invalid: every command answers with this error, so the UI can show which
    /// key to fix.
    Invalid(UiError),
    /// No config anywhere (there is no built-in default).
    Missing {
        searched: Vec<PathBuf>,
        save_to: Option<PathBuf>,
    },
}

pub struct Shell {
    app: AppHandle,
    loaded: RwLock<Loaded>,
    /// Cancel and "Open the browser again" for a step waiting in the user's browser.
    loopback: BrowserControl,
    /// Where the OS's deep links arrive (`userAgent: "system"`).
    deep_links: DeepLinkInbox,
    /// About this device: the config file in use and why, the log file.
    facts: RwLock<Facts>,
    /// A config that allows several modes: whether the session is on the mode this install
    /// registered with yet ([`Shell::registered_mode`]). Serialized by `choosing`.
    mode_found: AtomicBool,
    choosing: tokio::sync::Mutex<()>,
    /// The first state read is a startup stage (`startup`); later ones are not stamped.
    state_read: AtomicBool,
    /// The config allows `userAgent: "system"` (known before the session is built).
    system_browser: bool,
}

/// The engine reports its own progress; the shell forwards it as `progress` events.
fn new_session(app: &AppHandle, config: Config) -> Session {
    Session::new(
        config,
        dcr_core::platform::http::back_channel_client(),
        Box::new(KeychainStore::new()),
    )
    .with_progress(Arc::new(ProgressEvents(app.clone())))
}

impl Shell {
    fn new(app: AppHandle, loaded: Loaded, system_browser: bool) -> Self {
        Self {
            app,
            loaded: RwLock::new(loaded),
            loopback: BrowserControl::default(),
            deep_links: DeepLinkInbox::default(),
            facts: RwLock::new(Facts::default()),
            mode_found: AtomicBool::new(false),
            choosing: tokio::sync::Mutex::new(()),
            state_read: AtomicBool::new(false),
            system_browser,
        }
    }

    /// What About this device says about this run (see [`Facts`]).
    pub fn with_facts(self, facts: Facts) -> Self {
        *self.facts.write().unwrap_or_else(PoisonError::into_inner) = facts;
        self
    }

    pub fn start(app: AppHandle, config: Result<Config, dcr_core::Error>) -> Self {
        match config {
            Ok(config) => {
                let system = config
                    .allowed_user_agents()
                    .contains(&UserAgentKind::System);
                let handle = app.clone();
                let building = std::thread::Builder::new()
                    .name("session".into())
                    .spawn(move || new_session(&handle, config))
                    .expect("a thread to build the session on");
                Self::new(app, Loaded::Building(Some(building)), system)
            }
            Err(error) => Self::new(app, Loaded::Invalid(UiError::from(error)), false),
        }
    }

    /// No config found: the setup screen lists `searched` and saves a chosen file to `save_to`
    /// (the user's config folder).
    pub fn without_config(
        app: AppHandle,
        searched: Vec<PathBuf>,
        save_to: Option<PathBuf>,
    ) -> Self {
        Self::new(app, Loaded::Missing { searched, save_to }, false)
    }

    fn session(&self) -> Result<Arc<Session>, UiError> {
        let building = matches!(
            *self.loaded.read().unwrap_or_else(PoisonError::into_inner),
            Loaded::Building(_)
        );
        if building {
            let mut loaded = self.loaded.write().unwrap_or_else(PoisonError::into_inner);
            if let Loaded::Building(thread) = &mut *loaded {
                let thread = thread.take().expect("joined once, under the write lock");
                // The thread only panics where building in place would have (no TLS backend).
                let session = thread.join().unwrap_or_else(|panic| resume_unwind(panic));
                *loaded = Loaded::Ready(Arc::new(session));
            }
        }
        match &*self.loaded.read().unwrap_or_else(PoisonError::into_inner) {
            Loaded::Building(_) => unreachable!("the session was built above"),
            Loaded::Ready(session) => Ok(session.clone()),
            Loaded::Invalid(error) => Err(error.clone()),
            Loaded::Missing { searched, save_to } => {
                Err(UiError::config_missing(searched, save_to.as_deref()))
            }
        }
    }

    /// The setup screen's file: validated exactly like a config file at start, then saved to the
    /// user's config folder (atomically) and used from now on. Nothing is written unless it is
    /// valid, and only while there is no config at all: a config in use is never replaced
    /// from the webview.
    pub async fn install_config(&self, text: &str) -> Result<StateView, UiError> {
        let session = self.install(text)?;
        Ok(session.state().await?)
    }

    fn install(&self, text: &str) -> Result<Arc<Session>, UiError> {
        let mut loaded = self.loaded.write().unwrap_or_else(PoisonError::into_inner);
        let Loaded::Missing { save_to, .. } = &*loaded else {
            return Err(UiError::config_not_saved(
                "the app already has a configuration; edit that file and restart the app",
            ));
        };
        let config = check_and_save(text, save_to.as_deref())?;
        tracing::info!("saved the chosen config; using it from now on");
        if let Some(path) = save_to {
            self.facts
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .chosen_in_setup(path);
        }
        let session = Arc::new(new_session(&self.app, config));
        *loaded = Loaded::Ready(session.clone());
        Ok(session)
    }

    fn browser(&self, session: &Session) -> DesktopAgent {
        DesktopAgent::for_config(
            &self.app,
            session.config(),
            &self.loopback,
            &self.deep_links,
        )
    }

    /// `userAgent` allows `system`: browser steps may come back as deep links.
    pub fn allows_system_browser(&self) -> bool {
        self.system_browser
    }

    /// Brings the main window forward: the user comes back from the browser.
    pub fn focus(&self) {
        use tauri::Manager;
        if let Some(window) = self.app.get_webview_window("main") {
            let _ = window.unminimize();
            let _ = window.set_focus();
        }
    }

    /// A deep link from the OS (RFC 8252 §7.1): it ends the waiting step only when it is that
    /// step's redirect with its `state`; anything else is ignored and logged, never an error.
    pub fn deliver_deep_link(&self, link: &Url) {
        let _ = self.deep_links.deliver(link);
    }

    /// Cancel on the waiting screen: the step in the user's browser, or the embedded sign-in
    /// window (closing it cancels, as when the user closes it).
    pub fn cancel_browser_step(&self) {
        self.loopback.cancel();
        close_sign_in_window(&self.app);
    }

    /// "Open the browser again" (the same request in the user's browser), or, in embedded mode,
    /// "Show the sign-in window" (shows and focuses it, hidden or behind the main window).
    pub fn open_browser_again(&self) {
        self.loopback.open_again();
        show_sign_in_window(&self.app);
    }

    /// Tells the UI the outcome. A failure can still change the state (a revoked client moves to
    /// Unregistered), so the current state is published either way, and the error reply
    /// carries it too: the window shows the engine's state, never one it works out itself.
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
                let mut failure = UiError::from(error);
                if let Ok(view) = session.state().await {
                    emit_state(&self.app, &view);
                    failure.state = Some(Box::new(view));
                }
                Err(failure)
            }
        }
    }

    /// About this device. Without a usable config (or with a keychain that cannot be read) it
    /// still answers with what is known: the version, the config file, the log.
    pub async fn about(&self) -> About {
        let session = self.session().ok();
        let view = match &session {
            Some(session) => session.state().await.ok(),
            None => None,
        };
        let facts = self
            .facts
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .for_engine();
        About::new(
            facts,
            session.as_deref().map(Session::config),
            view.as_ref(),
            now(),
        )
    }

    /// "Open log folder": the folder of the log this process writes, in the file manager.
    pub fn open_log_folder(&self) -> Result<(), UiError> {
        let facts = self.facts.read().unwrap_or_else(PoisonError::into_inner);
        let folder = facts
            .log_folder()
            .ok_or_else(|| UiError::folder_not_opened("this app writes no log file"))?;
        tracing::info!(folder = %folder.display(), "opening the log folder");
        open_folder(folder).map_err(UiError::folder_not_opened)
    }

    /// The state; on the first call with `rememberSignIn`, after signing in again with the
    /// remembered refresh token (one refresh, no window). Later calls only read it.
    pub async fn get_state(&self) -> Result<StateView, UiError> {
        let first = !self.state_read.swap(true, Ordering::AcqRel);
        if first {
            crate::startup::stage("state read started");
        }
        let answer = self.read_state().await;
        if first {
            crate::startup::stage("state read done");
        }
        answer
    }

    /// Reads this install's keychain entries while the page is still loading, and hands the
    /// state to the page's first script (`first_view.rs`), so its first frame is the screen.
    /// Keychain only, no network and no event: a remembered sign-in's refresh stays with
    /// `get_state`, whose progress the page shows. A failure is left for `get_state` to meet
    /// again and report on its screen.
    pub async fn read_ahead(&self) {
        crate::startup::stage("keychain read-ahead started");
        let view = match self.registered_mode().await {
            Ok(session) => session.resume_from_keychain().await.ok().flatten(),
            Err(_) => None,
        };
        crate::first_view::FIRST_VIEW.offer(view.as_ref());
        crate::startup::stage("keychain read-ahead done");
    }

    async fn read_state(&self) -> Result<StateView, UiError> {
        let session = self.registered_mode().await?;
        // Not published: the UI asks for the state in answer to state-changed events.
        Ok(session.resume().await?)
    }

    /// Registration login, DCR, keychain, then straight on into the SSO sign-in: one click.
    /// `mode`: the registration screen's choice when the config allows several.
    pub async fn register(&self, mode: Option<&str>) -> Result<StateView, UiError> {
        let mut session = self.registered_mode().await?;
        if let Some(mode) = mode {
            session = self.choose_mode(session, mode).await?;
        }
        let browser = self.browser(&session);
        let outcome = session.register_and_sign_in(&browser).await;
        self.publish_and_finish(&session, outcome, &browser).await
    }

    /// [`Self::publish`], then the end of the command's browser ([`DesktopAgent::finish`]): the
    /// state goes out first, so the main window can draw it while the sign-in window goes.
    async fn publish_and_finish(
        &self,
        session: &Session,
        outcome: Result<StateView, dcr_core::Error>,
        browser: &DesktopAgent,
    ) -> Result<StateView, UiError> {
        let answer = self.publish(session, outcome).await;
        browser.finish();
        answer
    }

    /// [`Self::run`] for an action with browser steps: one agent (one sign-in window) for all
    /// of them, ended with the command.
    async fn run_browsing(
        &self,
        action: impl AsyncFnOnce(&Session, &DesktopAgent) -> Result<StateView, dcr_core::Error>,
    ) -> Result<StateView, UiError> {
        let session = self.registered_mode().await?;
        let browser = self.browser(&session);
        let outcome = action(&session, &browser).await;
        self.publish_and_finish(&session, outcome, &browser).await
    }

    /// One engine action on the session of the mode registered (or configured): its outcome,
    /// and the state after it, go to the UI through [`Self::publish`].
    async fn run(
        &self,
        action: impl AsyncFnOnce(&Session) -> Result<StateView, dcr_core::Error>,
    ) -> Result<StateView, UiError> {
        let session = self.registered_mode().await?;
        let outcome = action(&session).await;
        self.publish(&session, outcome).await
    }

    pub async fn sign_in(&self) -> Result<StateView, UiError> {
        self.run_browsing(async |session, browser| session.sign_in(browser).await)
            .await
    }

    pub async fn refresh(&self) -> Result<StateView, UiError> {
        self.run(async |session| session.refresh().await).await
    }

    pub async fn sign_out(&self) -> Result<StateView, UiError> {
        self.run_browsing(async |session, browser| session.sign_out(browser).await)
            .await
    }

    /// Tries the server half of a sign-out or forget again (`pendingServerCleanup`). A pending
    /// sign-out may open the identity server's logout page, so it gets the sign-in window.
    pub async fn finish_server_cleanup(&self) -> Result<StateView, UiError> {
        self.run_browsing(async |session, browser| session.finish_server_cleanup(browser).await)
            .await
    }

    pub async fn forget_device(&self) -> Result<StateView, UiError> {
        self.run(async |session| {
            let outcome = session.forget().await;
            clear_sign_in_data(&self.app);
            outcome
        })
        .await
    }

    /// "Rotate device key": RFC 7592 update with a new key pair; no browser step.
    pub async fn rotate_device_key(&self) -> Result<StateView, UiError> {
        self.run(async |session| session.rotate_device_key().await)
            .await
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

/// The setup screen's check: the size, then exactly the validation a config file gets at start
/// (messages name the key and the fix), then an atomic save. Nothing is written unless valid.
fn check_and_save(text: &str, save_to: Option<&Path>) -> Result<Config, UiError> {
    if text.len() > MAX_CONFIG_BYTES {
        return Err(UiError {
            kind: dcr_core::error::ErrorKind::Config,
            message: format!(
                "the file is too large for a config.json ({} bytes; at most {MAX_CONFIG_BYTES})",
                text.len()
            ),
            setup: None,
            state: None,
        });
    }
    let config = Config::from_json(text).map_err(|e| UiError::from(dcr_core::Error::from(e)))?;
    let Some(path) = save_to else {
        return Err(UiError::config_not_saved(
            "this system has no config folder for the app",
        ));
    };
    save(path, text).map_err(|error| {
        UiError::config_not_saved(format!("cannot write {}: {error}", path.display()))
    })?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = r#"{"issuer": "https://idsvr.example.com/oauth/v2/oauth-anonymous",
        "registrationClientID": "mobile-dcr-client", "redirectUri": "io.curity.dcrclient:/callback",
        "postLogoutRedirectUri": "io.curity.dcrclient:/logoutcallback", "scope": "openid profile"}"#;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dcr-shell-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn an_invalid_config_is_refused_with_the_key_and_nothing_is_written() {
        let dir = scratch("invalid");
        let path = dir.join("config.json");
        let typo = VALID.replace("{", r#"{"registrationClientId": "typo","#);
        let error = check_and_save(&typo, Some(&path)).expect_err("refused");
        assert_eq!(error.kind, "config");
        assert!(
            error.message.contains("registrationClientId"),
            "{}",
            error.message
        );
        assert!(!dir.exists(), "nothing written, not even the folder");
        let error = check_and_save("x".repeat(MAX_CONFIG_BYTES + 1).as_str(), Some(&path))
            .expect_err("too large");
        assert!(error.message.contains("too large"), "{}", error.message);
    }

    #[test]
    fn a_valid_config_is_saved_as_is() {
        let dir = scratch("valid");
        let path = dir.join("io.curity.dcrclient").join("config.json");
        let config = check_and_save(VALID, Some(&path)).expect("saved");
        assert_eq!(config.registration_client_id, "mobile-dcr-client");
        assert_eq!(std::fs::read_to_string(&path).expect("read back"), VALID);
        let error = check_and_save(VALID, None).expect_err("nowhere to save");
        assert_eq!(error.kind, "configNotSaved");
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn config_missing_carries_the_searched_paths_for_the_setup_screen() {
        let searched = [
            PathBuf::from("/u/config.json"),
            PathBuf::from("/etc/x/config.json"),
        ];
        let error = UiError::config_missing(&searched, Some(Path::new("/u/config.json")));
        let json = serde_json::to_value(&error).expect("serializes");
        assert_eq!(json["kind"], "configMissing");
        assert_eq!(
            json["setup"],
            serde_json::json!({"searched": ["/u/config.json", "/etc/x/config.json"], "saveTo": "/u/config.json"})
        );
        assert!(json["message"]
            .as_str()
            .expect("message")
            .contains("/etc/x/config.json"));
        let plain = serde_json::to_value(UiError::config_not_saved("x")).expect("serializes");
        assert_eq!(
            plain.as_object().expect("object").len(),
            2,
            "{{kind, message}} only: {plain}"
        );
    }
}
