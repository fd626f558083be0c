//! The desktop shell. It knows windows; the engine (`dcr-core`) knows OAuth.
//!
//! - `commands`: one-line commands for the main window.
//! - `shell`: the managed state; turns engine calls into progress and state events.
//! - `user_agents`: which user agent runs browser steps (`userAgent`: embedded, system or
//!   loopback).
//! - `browser`: the embedded sign-in window.
//! - `navigation`: what the sign-in window may load (pure).
//! - `about`, `folder_opener`: About this device (the shell's facts; "Open log folder").
//! - `assets`: the page's files; `main.js` is served as one build-time bundle of `ui/`.
//! - `startup`: the startup stages, stamped at debug level (docs/benchmarks.md).
//! - `config_source`: `--config`, `DCR_CONFIG`, the user's config folder, the system-wide file;
//!   no built-in default (without a config the UI shows its setup screen).

mod about;
mod assets;
mod browser;
mod commands;
mod config_source;
mod error;
mod events;
mod first_view;
mod folder_opener;
mod logging;
mod navigation;
mod shell;
mod startup;
mod user_agents;
// build.rs runs it; its tests run with the shell's.
#[cfg(test)]
#[path = "../build/ui_bundle.rs"]
mod ui_bundle;

use std::path::Path;

use tauri::webview::PageLoadEvent;
use tauri::Manager;
use tauri_plugin_deep_link::DeepLinkExt;

/// Set when the keychain read-ahead has started (the main page's first commit).
static READ_AHEAD: std::sync::OnceLock<()> = std::sync::OnceLock::new();

pub fn run() {
    startup::begin();
    let mut context = tauri::generate_context!();
    assets::bundle_main_script(&mut context);
    tauri::Builder::default()
        // Deep links (RFC 8252 §7.1, `userAgent: "system"`): on Linux and Windows the OS starts
        // the app with the callback URL as its only argument; the plugin reads it from argv.
        .plugin(tauri_plugin_deep_link::init())
        .setup(|app| {
            // Tauri builds the windows of tauri.conf.json just before it calls setup.
            let window_created = startup::now_ms();
            let paths = app.path();
            let log_file = paths.app_log_dir().ok().and_then(|dir| logging::init(&dir));
            startup::log("process start", 0.0);
            startup::log("window created", window_created);
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
                        .with_facts(about::Facts::new(Some(&source), log_file))
                }
                Err(searched) => {
                    tracing::warn!(?searched, "no config found; showing the setup screen");
                    shell::Shell::without_config(app.handle().clone(), searched, user_file)
                        .with_facts(about::Facts::new(None, log_file))
                }
            };
            let system = shell.allows_system_browser();
            app.manage(shell);
            if system {
                // Single instance only when this mode is allowed: a second launch carries the callback URL
                // and must hand it to the instance whose sign-in waits for it, then exit (the
                // plugin forwards its argv to the deep-link plugin). Registered here, after the
                // config is known, so instances in the other modes stay independent.
                app.handle()
                    .plugin(tauri_plugin_single_instance::Builder::new().build())?;
            }
            let handle = app.handle().clone();
            app.deep_link().on_open_url(move |event| {
                let shell = handle.state::<shell::Shell>();
                for link in event.urls() {
                    shell.deliver_deep_link(&link);
                }
                shell.focus();
            });
            // A cold start with a callback URL: no step can be waiting in this new process, so
            // the link is ignored (and logged) and the normal screen shows.
            if let Ok(Some(links)) = app.deep_link().get_current() {
                let shell = app.state::<shell::Shell>();
                for link in links {
                    shell.deliver_deep_link(&link);
                }
            }
            startup::stage("setup done");
            Ok(())
        })
        .on_page_load(|webview, payload| {
            if webview.label() != "main" {
                return;
            }
            match payload.event() {
                // WebKit's "committed": the page's first bytes are in; it paints from here.
                PageLoadEvent::Started => {
                    startup::stage("page committed");
                    // The keychain (D-Bus, the Secret Service) is read while the page loads
                    // and paints its first frame, not in setup before the window: see
                    // `Shell::read_ahead`. Once per process, not on a reload.
                    if READ_AHEAD.set(()).is_ok() {
                        let handle = webview.app_handle().clone();
                        tauri::async_runtime::spawn(async move {
                            match handle.try_state::<shell::Shell>() {
                                Some(shell) => shell.read_ahead().await,
                                None => first_view::FIRST_VIEW.offer(None::<&()>),
                            }
                        });
                    }
                }
                PageLoadEvent::Finished => startup::stage("page loaded"),
            }
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
            commands::about,
            commands::open_log_folder,
            commands::startup_marks,
        ])
        .run(context)
        .expect("the Tauri runtime failed to start");
}
