//! The desktop shell. It knows windows; the engine (`dcr-core`) knows OAuth.

pub fn run() {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("the Tauri runtime failed to start");
}
