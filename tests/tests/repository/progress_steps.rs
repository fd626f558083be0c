//! Every step the engine can report has its words on the UI's progress screen, and the UI has
//! text for no step that nobody reports (`ui/copy.js` STEP_TEXT against `Progress::ALL`, the
//! shell's own steps and the UI's own). The shell's list is checked against its Rust enum in
//! src-tauri/src/events.rs.

use std::collections::BTreeSet;

use dcr_core::Progress;
use dcr_tests::ui::{node_json, string_set};

#[test]
fn the_ui_has_text_for_every_progress_step_and_no_other() {
    let script = "import { STEP_TEXT, SHELL_STEPS, UI_ONLY_STEPS } from './ui/copy.js';\
                  console.log(JSON.stringify({ text: Object.keys(STEP_TEXT), shell: SHELL_STEPS, ui: UI_ONLY_STEPS }));";
    let listed = node_json(script);
    let text = string_set(&listed["text"]);
    let engine: BTreeSet<String> = Progress::ALL
        .iter()
        .map(|step| step.name().to_owned())
        .collect();
    let others: BTreeSet<String> = string_set(&listed["shell"])
        .union(&string_set(&listed["ui"]))
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
