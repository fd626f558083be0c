//! The desktop shell. It knows windows; the engine (`dcr-core`) knows OAuth.
//!
//! - `commands`: one-line commands for the main window.
//! - `shell`: the managed state; turns engine calls into progress and state events.
//! - `user_agents`: which user agent runs browser steps (`userAgent`: embedded or loopback).
//! - `browser`: the embedded sign-in window.
//! - `navigation`: what the sign-in window may load (pure).
//! - `config_source`: `--config`, `DCR_CONFIG`, the user's config folder, the system-wide file;
//!   no built-in default (without a config the UI shows its setup screen).

mod browser;
mod commands;
mod config_source;
mod error;
mod events;
mod logging;
mod navigation;
mod shell;
mod user_agents;

use std::path::Path;

use tauri::Manager;

pub fn run() {
    tauri::Builder::default()
        .setup(|app| {
            let paths = app.path();
            if let Ok(log_dir) = paths.app_log_dir() {
                logging::init(&log_dir);
            }
            let user_file = paths
                .app_config_dir()
                .ok()
                .map(|dir| dir.join("config.json"));
            let candidates = config_source::Candidates {
                args: std::env::args().collect(),
                env_value: std::env::var("DCR_CONFIG").ok(),
                user_file: user_file.clone(),
                system_file: config_source::system_config_path(),
            };
            let shell = match config_source::resolve(&candidates, Path::is_file) {
                Ok(source) => {
                    tracing::info!(?source, "loading the config");
                    let config = config_source::load(&source);
                    if let Err(error) = &config {
                        tracing::error!(kind = %error.kind(), "the config is invalid");
                    }
                    shell::Shell::start(app.handle().clone(), config)
                }
                Err(searched) => {
                    tracing::warn!(?searched, "no config found; showing the setup screen");
                    shell::Shell::without_config(app.handle().clone(), searched, user_file)
                }
            };
            app.manage(shell);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::get_state,
            commands::register,
            commands::sign_in,
            commands::refresh,
            commands::sign_out,
            commands::forget_device,
            commands::install_config,
            commands::finish_server_cleanup,
            commands::cancel_browser_step,
            commands::open_browser_again,
            commands::rotate_device_key,
        ])
        .run(tauri::generate_context!())
        .expect("the Tauri runtime failed to start");
}
