//! Events the shell sends to the main window. Payloads are `StateView`s and step names only:
//! never a token, code or secret (Z2).

use serde::Serialize;
use tauri::{AppHandle, Emitter};

/// What the app is doing right now, for the progress screen.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Step {
    WaitingForSignIn,
    Registering,
    SigningIn,
    Refreshing,
    SigningOut,
    Forgetting,
    RotatingKey,
}

#[derive(Clone, Serialize)]
struct Progress {
    step: Step,
}

pub fn emit_progress(app: &AppHandle, step: Step) {
    let _ = app.emit_to("main", "progress", Progress { step });
}

pub fn emit_state(app: &AppHandle, view: &dcr_core::session::StateView) {
    let _ = app.emit_to("main", "state-changed", view);
}

#[derive(Clone, Serialize)]
struct SignInRefused {
    /// A host (or `file:`-style scheme) from [`crate::navigation::place_of`]: sanitized, no
    /// path or query, so no code or state can ride along.
    host: String,
}

/// The sign-in window refused a page: tell the user where it wanted to go (issue 7, defect 3).
pub fn emit_refused(app: &AppHandle, host: String) {
    let _ = app.emit_to("main", "sign-in-refused", SignInRefused { host });
}
