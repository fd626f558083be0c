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
    "startup_marks",
];

#[path = "build/ui_bundle.rs"]
mod ui_bundle;

fn main() {
    // ui/main.js with its imports as one script, served in place of main.js (src/assets.rs).
    let ui = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui");
    let (script, read) = ui_bundle::bundle(&ui, "main.js").unwrap_or_else(|error| {
        panic!("bundling ui/: {error}");
    });
    for path in read {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out.join("ui-main.js"), script).expect("write the UI bundle");

    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("failed to run the Tauri build script");
}
