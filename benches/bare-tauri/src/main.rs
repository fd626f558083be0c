//! The baseline for the shell benchmarks (docs/benchmarks.md, tests/benches/shell.rs): the
//! smallest Tauri 2 app, one window showing one static page, no commands and no plugins.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("error while running the bare Tauri app");
}
