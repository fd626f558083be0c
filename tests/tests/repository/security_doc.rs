//! `docs/security.md` is the map from each security case to the test that pins it. This keeps the
//! map honest: every case has a row, every row names at least one test, and every test it names
//! exists (a renamed or deleted test fails here, not silently in the docs).

use std::collections::BTreeSet;
use std::path::Path;

/// Every case ID the app is built to survive (docs/security.md explains each).
const CASES: &[&str] = &[
    "D1", "D2", "D3", "D4", "D5", "D6", "A1", "A2", "A3", "A5", "A6", "T1", "T2", "T3", "T4", "T5",
    "T6", "T7", "I1", "I2", "I3", "I4", "I5", "I6", "I8", "I9", "I10", "I12", "R1", "R2", "R3",
    "R4", "R5", "R6", "R7", "R8", "F1", "F2", "F3", "F5", "F6", "F7", "F8", "L1", "L2", "L3", "L4",
    "N1", "N2", "N3", "N4", "S1", "S2", "S3", "S4", "S5", "S6", "S7", "X1", "X3", "X4", "X5", "X6",
    "X7", "X8", "X9", "X10", "Z1", "Z2", "Z3", "K1", "K2", "K3", "K4", "K5", "KR1", "KR2", "KR3",
    "KR4", "KR5", // Fault injection (docs/faults.md).
    "FI1", "FI2", "FI3", "FI4", "FI5",
];

fn rust_sources(dir: &Path, out: &mut String) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "node_modules" && name != "target" {
                rust_sources(&path, out);
            }
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
        }
    }
}

#[test]
fn every_security_case_has_a_row_naming_tests_that_exist() {
    let root = dcr_tests::repo_root();
    let doc = std::fs::read_to_string(root.join("docs/security.md")).expect("docs/security.md");
    let mut sources = String::new();
    for dir in ["crates", "src-tauri/src", "tests"] {
        rust_sources(&root.join(dir), &mut sources);
    }

    let mut listed = BTreeSet::new();
    for row in doc.lines().filter(|line| line.starts_with("| ")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let id = cells[1];
        if !CASES.contains(&id) {
            continue;
        }
        assert!(listed.insert(id), "{id} has two rows");
        let pinned_by = cells[cells.len() - 2];
        let tests: Vec<&str> = pinned_by
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|name| !name.is_empty())
            .collect();
        assert!(!tests.is_empty(), "{id} names no test: {row}");
        for test in tests {
            assert!(
                sources.contains(&format!("fn {test}(")),
                "{id} names `{test}`, but no such test function exists"
            );
        }
    }
    let missing: Vec<_> = CASES.iter().filter(|id| !listed.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "cases without a row in docs/security.md: {missing:?}"
    );
}
