//! Every error kind the engine can report has its own words on the UI's error screen, and the UI
//! handles no kind the engine does not have (`ui/errors.js` against `ErrorKind::ALL`).

use std::collections::BTreeSet;
use std::process::Command;

use dcr_core::error::ErrorKind;

#[test]
fn the_ui_and_the_engine_know_the_same_error_kinds() {
    let root = dcr_tests::repo_root();
    let script = "import { ERROR_SCREENS, UI_ONLY_KINDS } from './ui/errors.js';\
                  console.log(JSON.stringify({ screens: Object.keys(ERROR_SCREENS), uiOnly: UI_ONLY_KINDS }));";
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
    let ui_only = strings(&listed["uiOnly"]);
    let ui: BTreeSet<String> = strings(&listed["screens"])
        .difference(&ui_only)
        .cloned()
        .collect();
    let engine: BTreeSet<String> = ErrorKind::ALL
        .iter()
        .map(|kind| kind.as_str().to_owned())
        .collect();
    let missing_in_ui: Vec<_> = engine.difference(&ui).collect();
    let unknown_to_engine: Vec<_> = ui.difference(&engine).collect();
    assert!(
        missing_in_ui.is_empty(),
        "kinds the engine reports but ui/errors.js has no screen for: {missing_in_ui:?}"
    );
    assert!(
        unknown_to_engine.is_empty(),
        "kinds ui/errors.js handles but ErrorKind does not have: {unknown_to_engine:?}"
    );
    for kind in &ui_only {
        assert!(
            !engine.contains(kind),
            "{kind} is listed as UI-only but the engine has it"
        );
    }
}
