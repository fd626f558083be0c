//! The error that crosses to the UI: `{kind, message}`, where `kind` is the engine's stable
//! camelCase kind and `message` is already safe to show (plain, truncated, no secrets). The
//! shell's own kinds (`configMissing`, `configNotSaved`) are built here; `configMissing` also
//! carries `setup`, what the setup screen lists. A failed engine operation also carries
//! `state`, the engine's state after the failure, so the window shows that state rather than
//! working out from the error what the engine did.

use std::path::{Path, PathBuf};

use dcr_core::error::ErrorKind;
use dcr_core::session::StateView;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct UiError {
    pub kind: ErrorKind,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup: Option<Setup>,
    /// The engine's state after the failure (a failure can move it: a revoked client is
    /// Unregistered now), when it could be read. A `StateView` holds no secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<Box<StateView>>,
}

/// Where the app looked for a config, and where a chosen one will be saved. Local paths, no
/// secrets (the config holds none either).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Setup {
    pub searched: Vec<String>,
    pub save_to: Option<String>,
}

impl UiError {
    /// No `--config`, no `DCR_CONFIG`, and none of the `searched` files exists.
    pub fn config_missing(searched: &[PathBuf], save_to: Option<&Path>) -> Self {
        let searched: Vec<String> = searched.iter().map(|p| p.display().to_string()).collect();
        Self {
            kind: ErrorKind::ConfigMissing,
            message: format!(
                "No configuration was found. The app looked for {}, and was given no --config option and no DCR_CONFIG variable.",
                if searched.is_empty() { "no file".to_owned() } else { searched.join(" and ") }
            ),
            setup: Some(Setup {
                searched,
                save_to: save_to.map(|p| p.display().to_string()),
            }),
            state: None,
        }
    }

    /// A chosen config was valid (or never checked) but is not in use: nothing was written.
    pub fn config_not_saved(reason: impl std::fmt::Display) -> Self {
        Self {
            kind: ErrorKind::ConfigNotSaved,
            message: format!("The configuration was not saved: {reason}"),
            setup: None,
            state: None,
        }
    }
}

impl UiError {
    /// "Open log folder" failed: the file manager could not be started.
    pub fn folder_not_opened(reason: impl std::fmt::Display) -> Self {
        Self {
            kind: ErrorKind::FolderNotOpened,
            message: format!("The log folder could not be opened: {reason}"),
            setup: None,
            state: None,
        }
    }

    /// The registration screen named a mode that does not exist (the webview sent it).
    pub fn unknown_mode(mode: &str) -> Self {
        Self {
            kind: ErrorKind::UserAgent,
            message: format!(
                "\"{}\" is not a sign-in mode; choose embedded, system or loopback",
                dcr_core::text::sanitize(mode, 40)
            ),
            setup: None,
            state: None,
        }
    }

    /// The registration screen's mode was refused: the config does not allow it, or this
    /// install is registered in another one (a registration is bound to its mode).
    pub fn mode_refused(error: &dcr_core::session::ModeError) -> Self {
        Self {
            kind: error.kind(),
            message: error.message(),
            setup: None,
            state: None,
        }
    }
}

impl From<dcr_core::error::ConfigError> for UiError {
    fn from(error: dcr_core::error::ConfigError) -> Self {
        Self::from(dcr_core::Error::from(error))
    }
}

impl From<dcr_core::Error> for UiError {
    fn from(error: dcr_core::Error) -> Self {
        Self {
            kind: error.kind(),
            message: error.message(),
            setup: None,
            state: None,
        }
    }
}
