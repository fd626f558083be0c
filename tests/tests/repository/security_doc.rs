//! `docs/security.md` is the map from each security case to the test that pins it. This keeps the
//! map honest: every case has a row, every row names at least one test, and every test it names
//! is one that runs (a renamed, deleted or ignored test fails here, not silently in the docs).
//!
//! A name counts only as a live test function: `fn name(` with `#[test]` or `#[tokio::test]`
//! among the attributes directly above it and no `#[ignore]`. A helper function, an ignored
//! test, or a test that is only mentioned in a comment or a string pins nothing.

use std::collections::BTreeSet;
use std::path::Path;

/// Every case ID the app is built to survive (docs/security.md explains each).
const CASES: &[&str] = &[
    "D1", "D2", "D3", "D4", "D5", "D6", "A1", "A2", "A3", "A5", "A6", "T1", "T2", "T3", "T4", "T5",
    "T6", "T7", "I1", "I2", "I3", "I4", "I5", "I6", "I8", "I9", "I10", "I12", "R1", "R2", "R3",
    "R4", "R5", "R6", "R7", "R8", "F1", "F2", "F3", "F5", "F6", "F7", "F8", "L1", "L2", "L3", "L4",
    "N1", "N2", "N3", "N4", "S1", "S2", "S3", "S4", "S5", "S6", "S7", "X1", "X3", "X4", "X5", "X6",
    "X7", "X8", "X9", "X10", "Z1", "Z2", "Z3", "K1", "K2", "K3", "K4", "K5", "K6", "K7", "K8",
    "KR1", "KR2", "KR3", "KR4", "KR5", // Fault injection (docs/faults.md).
    "FI1", "FI2", "FI3", "FI4", "FI5",
];

fn rust_sources(dir: &Path, out: &mut Vec<String>) {
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
            out.push(std::fs::read_to_string(&path).unwrap_or_default());
        }
    }
}

/// The source with comments (doc comments included) removed and the contents of string and
/// character literals blanked, so that only code is left to read: `fn x(` in a comment or a
/// string is not a function, and a `]` in a string does not end an attribute.
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            // Block comments nest in Rust.
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r'
            && matches!(next, Some('"' | '#'))
            && (i == 0
                || !ident(chars[i - 1])
                || (chars[i - 1] == 'b' && (i < 2 || !ident(chars[i - 2]))))
            && chars[i + 1..].iter().find(|&&h| h != '#') == Some(&'"')
        {
            // A raw string: r"…", r#"…"#, br##"…"##.
            let hashes = chars[i + 1..].iter().take_while(|&&h| h == '#').count();
            i += 1 + hashes + 1;
            let closing: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            while i < chars.len() && !chars[i..].starts_with(&closing) {
                i += 1;
            }
            i += closing.len();
            out.push_str("\"\"");
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A character literal ('x', '\n', '\u{7f}'); anything else after `'` is a lifetime.
            i += 2;
            while i < chars.len() && chars[i] != '\'' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The names of the live test functions in `source`: each `fn name` whose attributes directly
/// above (other attributes and `pub`/`async`/`unsafe`/`const` may come between) include
/// `#[test]` or `#[tokio::test]`, and not `#[ignore]`.
fn live_tests(source: &str) -> BTreeSet<String> {
    let code = code_only(source);
    let bytes = code.as_bytes();
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut live = BTreeSet::new();
    let mut at = 0;
    while let Some(found) = code[at..].find("fn ") {
        let start = at + found;
        at = start + 3;
        if start > 0 && is_ident(bytes[start - 1]) {
            continue;
        }
        let rest = code[at..].trim_start();
        let name: String = rest
            .chars()
            .take_while(|&c| c.is_alphanumeric() || c == '_')
            .collect();
        if name.is_empty() || !rest[name.len()..].trim_start().starts_with(['(', '<']) {
            continue;
        }
        let attributes = attributes_above(&code[..start]);
        let has = |wanted: &[&str]| {
            attributes.iter().any(|attribute| {
                wanted.iter().any(|path| {
                    attribute
                        .strip_prefix(path)
                        .is_some_and(|after| after.is_empty() || after.starts_with(['(', '=']))
                })
            })
        };
        if has(&["test", "tokio::test"]) && !has(&["ignore"]) {
            live.insert(name);
        }
    }
    live
}

/// The attributes that end right where `before` ends, nearest last, without spaces, after
/// stepping back over the qualifiers a function may have (`pub(crate) async unsafe const`).
fn attributes_above(before: &str) -> Vec<String> {
    let mut rest = before.trim_end();
    loop {
        let word_start = rest
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map_or(0, |i| i + 1);
        match &rest[word_start..] {
            "pub" | "async" | "unsafe" | "const" => rest = rest[..word_start].trim_end(),
            _ if rest.ends_with(')') => match rest.rfind('(') {
                // pub(crate), pub(super), pub(in path)
                Some(open) if rest[..open].trim_end().ends_with("pub") => {
                    rest = rest[..open].trim_end();
                }
                _ => break,
            },
            _ => break,
        }
    }
    let mut attributes = Vec::new();
    while rest.ends_with(']') {
        let mut depth = 0;
        let mut open = None;
        for (i, c) in rest.char_indices().rev() {
            match c {
                ']' => depth += 1,
                '[' => {
                    depth -= 1;
                    if depth == 0 {
                        open = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(open) = open.filter(|&open| rest[..open].ends_with('#')) else {
            break;
        };
        let inner: String = rest[open + 1..rest.len() - 1].split_whitespace().collect();
        attributes.push(inner);
        rest = rest[..open - 1].trim_end();
    }
    attributes
}

/// Checks the rows of `doc` against the live tests: every case has one row, and every row names
/// tests, each of them live. Returns what is wrong, one line each.
fn check_doc(doc: &str, live: &BTreeSet<String>, cases: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut listed = BTreeSet::new();
    for row in doc.lines().filter(|line| line.starts_with("| ")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let id = cells[1];
        if !cases.contains(&id) {
            continue;
        }
        if !listed.insert(id) {
            problems.push(format!("{id} has two rows"));
        }
        let pinned_by = cells[cells.len() - 2];
        let tests: Vec<&str> = pinned_by
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|name| !name.is_empty())
            .collect();
        if tests.is_empty() {
            problems.push(format!("{id} names no test: {row}"));
        }
        for test in tests {
            if !live.contains(test) {
                problems.push(format!(
                    "{id} names `{test}`, but no such test runs (no live #[test] or \
                     #[tokio::test] fn of that name: missing, ignored or a helper)"
                ));
            }
        }
    }
    let missing: Vec<_> = cases.iter().filter(|id| !listed.contains(*id)).collect();
    if !missing.is_empty() {
        problems.push(format!(
            "cases without a row in docs/security.md: {missing:?}"
        ));
    }
    problems
}

/// What the checker must tell apart: only the first three are live tests.
const SAMPLE: &str = r####"
#[test]
fn a1_live() {}

#[tokio::test(flavor = "multi_thread")]
#[cfg(unix)]
pub(crate) async fn a2_live_async_with_attributes_between() { let _ = "fn a2_in_a_string() {}"; }

#[cfg_attr(miri, allow(unused))]
#[tokio::test]
async fn a3_live_after_another_attribute() { let _quote = '"'; let _ = r#"fn a3_raw_string("#; }

#[tokio::test]
#[ignore = "started by another test [in a child process]"]
async fn a4_ignored() {}

#[ignore]
#[test]
fn a5_ignored_above() {}

fn a6_helper() {}

#[derive(Debug)]
struct Helper;

// #[test]
// fn a7_commented_out() {}

/// #[test]
/// fn a8_in_a_doc_comment() {}

/* #[test] /* nested */ fn a9_in_a_block_comment() {} */

#[test_case::case]
fn a10_another_attribute_named_like_test() {}

#[test]
fn a11_live() {}
fn a12_helper_right_after_a_test() {}
"####;

#[test]
fn every_security_case_has_a_row_naming_tests_that_exist() {
    // The checker first: on a made-up source and doc, only live tests pin a row.
    let live = live_tests(SAMPLE);
    assert_eq!(
        live,
        BTreeSet::from(
            [
                "a1_live",
                "a2_live_async_with_attributes_between",
                "a3_live_after_another_attribute",
                "a11_live"
            ]
            .map(String::from)
        ),
        "the checker read the sample wrong"
    );
    let sample_doc = "| A1 | rule | `a1_live`, `a11_live` |\n\
                      | A2 | rule | `a2_live_async_with_attributes_between` |\n\
                      | A3 | rule | `a4_ignored` |\n\
                      | A5 | rule | `a6_helper` |\n\
                      | A6 | rule | `a7_commented_out` |\n";
    let problems = check_doc(sample_doc, &live, &["A1", "A2", "A3", "A5", "A6"]);
    for rejected in ["a4_ignored", "a6_helper", "a7_commented_out"] {
        assert!(
            problems
                .iter()
                .any(|problem| problem.contains(&format!("`{rejected}`"))),
            "a row naming {rejected} was accepted: {problems:?}"
        );
    }
    assert_eq!(problems.len(), 3, "{problems:?}");

    // Then the real map against the real sources.
    let root = dcr_tests::repo_root();
    let doc = std::fs::read_to_string(root.join("docs/security.md")).expect("docs/security.md");
    let mut sources = Vec::new();
    for dir in ["crates", "src-tauri/src", "tests"] {
        rust_sources(&root.join(dir), &mut sources);
    }
    let live: BTreeSet<String> = sources
        .iter()
        .flat_map(|source| live_tests(source))
        .collect();
    let problems = check_doc(&doc, &live, CASES);
    assert!(
        problems.is_empty(),
        "docs/security.md:\n{}",
        problems.join("\n")
    );
}
