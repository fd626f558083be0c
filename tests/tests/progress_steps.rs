//! Every step the engine can report has its words on the UI's progress screen, and the UI has
//! text for no step that nobody reports (`ui/state.js` STEP_TEXT against `Progress::ALL`, the
//! shell's own steps and the UI's own). The shell's list is checked against its Rust enum in
//! src-tauri/src/events.rs.

use std::collections::BTreeSet;
use std::process::Command;

use dcr_core::Progress;

#[test]
fn the_ui_has_text_for_every_progress_step_and_no_other() {
    let root = dcr_tests::repo_root();
    let script = "import { STEP_TEXT, SHELL_STEPS, UI_ONLY_STEPS } from './ui/state.js';\
                  console.log(JSON.stringify({ text: Object.keys(STEP_TEXT), shell: SHELL_STEPS, ui: UI_ONLY_STEPS }));";
    let output = Command::new("node")
        .args(["--input-type=module", "-e", script])
        .current_dir(&root)
        .output()
        .expect("node is not installed: this test needs Node.js 20 or newer");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let listed: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let strings = |value: &serde_json::Value| -> BTreeSet<String> {
        value
            .as_array()
            .expect("an array")
            .iter()
            .map(|v| v.as_str().expect("a string").to_owned())
            .collect()
    };
    let text = strings(&listed["text"]);
    let engine: BTreeSet<String> = Progress::ALL
        .iter()
        .map(|step| step.name().to_owned())
        .collect();
    let others: BTreeSet<String> = strings(&listed["shell"])
        .union(&strings(&listed["ui"]))
        .cloned()
        .collect();
    let missing: Vec<_> = engine.difference(&text).collect();
    assert!(
        missing.is_empty(),
        "steps the engine reports but STEP_TEXT has no text for: {missing:?}"
    );
    let known: BTreeSet<String> = engine.union(&others).cloned().collect();
    let unknown: Vec<_> = text.difference(&known).collect();
    assert!(
        unknown.is_empty(),
        "STEP_TEXT entries nobody reports: {unknown:?}"
    );
    let overlap: Vec<_> = engine.intersection(&others).collect();
    assert!(
        overlap.is_empty(),
        "listed as shell or UI steps but the engine has them: {overlap:?}"
    );
    let untexted: Vec<_> = others.difference(&text).collect();
    assert!(untexted.is_empty(), "no STEP_TEXT for {untexted:?}");
}
