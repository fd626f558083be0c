//! The desktop shell. It knows windows; the engine (`dcr-core`) knows OAuth.
//!
//! - `commands`: one-line commands for the main window.
//! - `shell`: the managed state; turns engine calls into progress and state events.
//! - `browser`: the embedded sign-in window, the engine's user agent.
//! - `navigation`: what the sign-in window may load (pure).
//! - `config_source`: `--config`, `DCR_CONFIG`, the user's config folder, the bundled default.

mod browser;
mod commands;
mod config_source;
mod error;
mod events;
mod logging;
mod navigation;
mod shell;

use tauri::Manager;

pub fn run() {
    tauri::Builder::default()
        .setup(|app| {
            let paths = app.path();
            if let Ok(log_dir) = paths.app_log_dir() {
                logging::init(&log_dir);
            }
            let args: Vec<String> = std::env::args().collect();
            let user_dir = paths.app_config_dir().ok();
            let source = config_source::resolve(
                &args,
                std::env::var("DCR_CONFIG").ok(),
                user_dir.as_deref(),
            );
            tracing::info!(?source, "loading the config");
            let config = config_source::load(&source);
            if let Err(error) = &config {
                tracing::error!(kind = error.kind(), "the config is invalid");
            }
            app.manage(shell::Shell::start(app.handle().clone(), config));
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::get_state,
            commands::register,
            commands::sign_in,
            commands::refresh,
            commands::sign_out,
            commands::forget_device,
            commands::finish_server_cleanup,
        ])
        .run(tauri::generate_context!())
        .expect("the Tauri runtime failed to start");
}
