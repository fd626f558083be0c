//! "Open log folder" (About this device): shows a local folder in the system's file manager.
//!
//! Linux and the BSDs: `xdg-open` (tested). macOS: `open`, Windows: `explorer` (each in its own
//! small file, untested there). The folder is one argument, never through a shell. The folder
//! always comes from the shell itself (the log folder), never from the webview.

use std::path::Path;
use std::process::{Command, Stdio};

#[cfg(target_os = "macos")]
#[path = "folder_opener/macos.rs"]
mod platform;
#[cfg(windows)]
#[path = "folder_opener/windows.rs"]
mod platform;
#[cfg(not(any(target_os = "macos", windows)))]
#[path = "folder_opener/xdg.rs"]
mod platform;

/// Starts the file manager on `folder` and returns once it is started (it may run for hours:
/// it is reaped in the background).
pub fn open_folder(folder: &Path) -> Result<(), String> {
    let mut command = opener_override().unwrap_or_else(platform::command);
    command.arg(folder);
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|error| format!("could not start {program}: {error}"))?;
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(not(any(target_os = "macos", windows)))]
    #[test]
    fn linux_opens_folders_with_xdg_open() {
        assert_eq!(platform::command().get_program(), "xdg-open");
    }
}
