//! What the engine is doing, told to the shell as it happens: injected like the
//! transport and the store, so the desktop shell's progress screen shows facts instead of
//! guessing the step from URLs or from which button was clicked. The CLI ignores it.
//!
//! A step names work, never data: no URL, client ID or token ever rides along (Z2).

/// One step the engine can report. The serialized names are what the desktop shell sends in
/// its `progress` event; `ui/state.js` has a text for each
/// (tests/tests/repository/progress_steps.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Progress {
    /// A browser step that needs the user (the registration login, `prompt=login`).
    WaitingForSignIn,
    /// The registration login came back; RFC 7591 registration and the keychain save.
    Registering,
    /// The sign-in with the per-install client: the RFC 7592 check, the (usually SSO) browser
    /// step, the code exchange and the ID token checks.
    SigningIn,
    Refreshing,
    /// Local wipe, revocation and the end-session page (or trying its server half again).
    SigningOut,
    /// RFC 7592 delete and the keychain wipe (or trying the delete again).
    Forgetting,
    /// RFC 7592 update with a new device key, then the keychain save.
    RotatingKey,
}

impl Progress {
    /// Every step, for the test that keeps the UI's texts complete.
    pub const ALL: [Progress; 7] = [
        Progress::WaitingForSignIn,
        Progress::Registering,
        Progress::SigningIn,
        Progress::Refreshing,
        Progress::SigningOut,
        Progress::Forgetting,
        Progress::RotatingKey,
    ];

    /// The serialized name (`waitingForSignIn`, …).
    pub fn name(self) -> &'static str {
        match self {
            Progress::WaitingForSignIn => "waitingForSignIn",
            Progress::Registering => "registering",
            Progress::SigningIn => "signingIn",
            Progress::Refreshing => "refreshing",
            Progress::SigningOut => "signingOut",
            Progress::Forgetting => "forgetting",
            Progress::RotatingKey => "rotatingKey",
        }
    }
}

/// Where the engine reports [`Progress`]. Called on the engine's task: keep it quick (send an
/// event, push to a channel), never block.
pub trait ProgressSink: Send + Sync {
    fn report(&self, step: Progress);
}

/// The default sink: reports go nowhere.
pub struct NoProgress;

impl ProgressSink for NoProgress {
    fn report(&self, _step: Progress) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_serialized_names() {
        for step in Progress::ALL {
            assert_eq!(
                serde_json::to_value(step).unwrap(),
                serde_json::Value::String(step.name().into())
            );
        }
    }
}
