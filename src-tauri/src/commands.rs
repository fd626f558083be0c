//! The commands the main window may call. Each is one line into [`Shell`].

use dcr_core::diagnostics::About;
use dcr_core::session::StateView;
use tauri::State;

use crate::error::UiError;
use crate::shell::Shell;

type Answer = Result<StateView, UiError>;

#[tauri::command]
pub async fn get_state(shell: State<'_, Shell>) -> Answer {
    shell.get_state().await
}

/// `mode`: the registration screen's choice (`embedded`, `system`, `loopback`) when the config
/// allows more than one; absent means the current one.
#[tauri::command]
pub async fn register(shell: State<'_, Shell>, mode: Option<String>) -> Answer {
    shell.register(mode.as_deref()).await
}

#[tauri::command]
pub async fn sign_in(shell: State<'_, Shell>) -> Answer {
    shell.sign_in().await
}

#[tauri::command]
pub async fn refresh(shell: State<'_, Shell>) -> Answer {
    shell.refresh().await
}

#[tauri::command]
pub async fn sign_out(shell: State<'_, Shell>) -> Answer {
    shell.sign_out().await
}

#[tauri::command]
pub async fn forget_device(shell: State<'_, Shell>) -> Answer {
    shell.forget_device().await
}

/// The setup screen's chosen `config.json`, as text (a config holds no secret).
#[tauri::command]
pub async fn install_config(shell: State<'_, Shell>, text: String) -> Answer {
    shell.install_config(&text).await
}

#[tauri::command]
pub async fn rotate_device_key(shell: State<'_, Shell>) -> Answer {
    shell.rotate_device_key().await
}

#[tauri::command]
pub async fn finish_server_cleanup(shell: State<'_, Shell>) -> Answer {
    shell.finish_server_cleanup().await
}

/// The waiting screen's Cancel: ends the step waiting in the user's browser, or closes the
/// embedded sign-in window (the engine then reports `cancelled`); does nothing when none waits.
#[tauri::command]
pub fn cancel_browser_step(shell: State<'_, Shell>) {
    shell.cancel_browser_step();
}

/// The waiting screen's "Open the browser again" (the same request), or in embedded mode "Show
/// the sign-in window" (shows and focuses it).
#[tauri::command]
pub fn open_browser_again(shell: State<'_, Shell>) {
    shell.open_browser_again();
}

/// About this device: facts and the redacted diagnostics report (no secret: see
/// `dcr_core::diagnostics`).
#[tauri::command]
pub async fn about(shell: State<'_, Shell>) -> Result<About, UiError> {
    Ok(shell.about().await)
}

/// About this device: "Open log folder". No argument: the shell knows its own log folder.
#[tauri::command]
pub fn open_log_folder(shell: State<'_, Shell>) -> Result<(), UiError> {
    shell.open_log_folder()
}

/// The page's startup stamps, sent once its first screen is up: logged at debug level with the
/// shell's own (`startup`). Not on the way to the first screen.
#[tauri::command]
pub fn startup_marks(marks: crate::startup::PageMarks) {
    crate::startup::page_marks(&marks);
}
