//! Every error kind the engine can report has its own words on the UI's error screen, and the UI
//! handles no kind the engine does not have (`ui/errors.js` against `ErrorKind::ALL`).

use std::collections::BTreeSet;

use dcr_core::error::ErrorKind;
use dcr_tests::ui::{node_json, string_set};

#[test]
fn the_ui_and_the_engine_know_the_same_error_kinds() {
    let script = "import { ERROR_SCREENS, UI_ONLY_KINDS } from './ui/errors.js';\
                  console.log(JSON.stringify({ screens: Object.keys(ERROR_SCREENS), uiOnly: UI_ONLY_KINDS }));";
    let listed = node_json(script);
    let ui_only = string_set(&listed["uiOnly"]);
    let ui: BTreeSet<String> = string_set(&listed["screens"])
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
