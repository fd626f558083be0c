//! Events the shell sends to the main window. Payloads are `StateView`s and step names only:
//! never a token, code or secret (Z2).

use serde::Serialize;
use tauri::{AppHandle, Emitter};

/// What the app is doing right now, for the progress screen: the engine's own report
/// ([`dcr_core::Progress`], through [`ProgressEvents`]), or a step only the shell knows of.
/// Serialized as the bare name (`"signingIn"`, `"waitingInBrowser"`); `ui/copy.js` has a text
/// for each (tests/tests/repository/progress_steps.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Step {
    Engine(dcr_core::Progress),
    Shell(ShellStep),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ShellStep {
    /// Loopback mode: the user's own browser has the sign-in page; the screen offers Cancel and
    /// "Open the browser again" (and says the browser will say when to close the tab).
    WaitingInBrowser,
    /// The same for the end-session page.
    SigningOutInBrowser,
    /// System mode: the same, but the browser hands the answer to the app through the OS (it
    /// may ask to open the app; there is no "close this tab" page).
    WaitingInSystemBrowser,
    /// The same for the end-session page.
    SigningOutInSystemBrowser,
    /// Embedded mode, a few seconds into a sign-in window step: the screen offers "Show the
    /// sign-in window" and Cancel, whether or not the window could be seen.
    WaitingInWindow,
    /// The same for the end-session page.
    SigningOutInWindow,
}

impl ShellStep {
    #[cfg(test)]
    pub const ALL: [ShellStep; 6] = [
        ShellStep::WaitingInBrowser,
        ShellStep::SigningOutInBrowser,
        ShellStep::WaitingInSystemBrowser,
        ShellStep::SigningOutInSystemBrowser,
        ShellStep::WaitingInWindow,
        ShellStep::SigningOutInWindow,
    ];
}

impl From<dcr_core::Progress> for Step {
    fn from(step: dcr_core::Progress) -> Self {
        Step::Engine(step)
    }
}

/// The engine's progress sink: each report becomes a `progress` event to the main window.
pub struct ProgressEvents(pub AppHandle);

impl dcr_core::ProgressSink for ProgressEvents {
    fn report(&self, step: dcr_core::Progress) {
        emit_progress(&self.0, step.into());
    }
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

/// The sign-in window refused a page: tell the user where it wanted to go.
pub fn emit_refused(app: &AppHandle, host: String) {
    let _ = app.emit_to("main", "sign-in-refused", SignInRefused { host });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shell's own steps are exactly `SHELL_STEPS` in ui/copy.js (whose STEP_TEXT
    /// tests/tests/repository/progress_steps.rs checks), and serialize as bare names like the
    /// engine's.
    #[test]
    fn shell_steps_match_the_ui_list() {
        let copy = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/copy.js"),
        )
        .expect("ui/copy.js");
        let line = copy
            .lines()
            .find(|line| line.starts_with("export const SHELL_STEPS"))
            .expect("SHELL_STEPS in ui/copy.js");
        let listed: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
        let ours: Vec<String> = ShellStep::ALL
            .iter()
            .map(|step| {
                serde_json::to_value(Step::Shell(*step))
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(listed, ours);
        assert_eq!(
            serde_json::to_value(Step::from(dcr_core::Progress::SigningIn)).unwrap(),
            "signingIn"
        );
    }
}
