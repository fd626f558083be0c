//! "Open log folder" (About this device): shows a local folder in the system's file manager,
//! through the engine's one opener ([`dcr_core::agents::open_on_desktop`]: `xdg-open`, `open`
//! or `explorer`). The folder always comes from the shell itself (the log folder), never from
//! the webview.

use std::path::Path;
use std::process::Command;

use dcr_core::agents::{launch_detached, open_on_desktop, OpenTarget};

/// Starts the file manager on `folder` and returns once it is started.
pub fn open_folder(folder: &Path) -> Result<(), String> {
    match opener_override() {
        Some(mut command) => {
            command.arg(folder);
            launch_detached(command)
        }
        None => open_on_desktop(OpenTarget::Folder(folder)),
    }
}

/// Debug builds only: `DCR_FOLDER_OPENER` names a program to run instead, so the end-to-end
/// tests can check which folder was asked for without a real file manager. A release build
/// always uses the platform's own opener.
fn opener_override() -> Option<Command> {
    #[cfg(debug_assertions)]
    if let Some(program) = std::env::var_os("DCR_FOLDER_OPENER").filter(|v| !v.is_empty()) {
        return Some(Command::new(program));
    }
    None
}
