// Listing the commands in an app manifest makes each one a permission that must be granted:
// only the main window's capability grants them, so the sign-in window (and any remote page)
// can call none (security checklist X7).
const COMMANDS: &[&str] = &[
    "get_state",
    "register",
    "sign_in",
    "refresh",
    "sign_out",
    "forget_device",
    "install_config",
    "finish_server_cleanup",
    "cancel_browser_step",
    "open_browser_again",
    "rotate_device_key",
    "about",
    "open_log_folder",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("failed to run the Tauri build script");
}
