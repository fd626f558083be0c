//! The shell contains no OAuth parsing: the desktop shell (`src-tauri/src`) and the
//! UI (`ui/`) never read OAuth parameters out of URLs. What a browser step is for comes from the
//! engine (`BrowserStep::purpose`), and callbacks are checked by the engine alone
//! (`dcr_core::protocol::callback`, `dcr_core::agents::deep_link`). The shell once decoded `client_id` and
//! `prompt` from authorization URLs to guess the step (and said "Signing you in…" while signing
//! out); this keeps that from coming back. It reads source text, so it is cheap and needs no
//! display.

use std::path::{Path, PathBuf};

/// Ways to take a URL's query apart, and the OAuth parameter names one would look for.
const RUST_FORBIDDEN: &[&str] = &[
    "query_pairs",
    "form_urlencoded",
    ".query()",
    "\"client_id\"",
    "\"state\"",
    "\"code\"",
    "\"prompt\"",
    "\"redirect_uri\"",
    "\"id_token_hint\"",
    "\"error_description\"",
];
const JS_FORBIDDEN: &[&str] = &[
    "URLSearchParams",
    "searchParams",
    "new URL(",
    "client_id",
    "redirect_uri",
    "prompt=",
    "code=",
    "state=",
];

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            found.extend(files(&path, ext));
        } else if path.extension().is_some_and(|e| e == ext) {
            found.push(path);
        }
    }
    found
}

fn offences(files: &[PathBuf], forbidden: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).expect("a readable source file");
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for needle in forbidden {
                if code.contains(needle) {
                    found.push(format!("{}:{}: {needle}", file.display(), number + 1));
                }
            }
        }
    }
    found
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn the_desktop_shell_parses_no_oauth_parameters() {
    let sources = files(&root().join("src-tauri/src"), "rs");
    assert!(
        sources.len() >= 10,
        "found the shell's sources: {sources:?}"
    );
    let found = offences(&sources, RUST_FORBIDDEN);
    assert!(
        found.is_empty(),
        "OAuth parsing in the shell (move it to dcr-core): {found:#?}"
    );
}

#[test]
fn the_ui_parses_no_oauth_parameters() {
    let sources = files(&root().join("ui"), "js");
    assert!(sources.len() >= 10, "found the UI's sources: {sources:?}");
    let found = offences(&sources, JS_FORBIDDEN);
    assert!(found.is_empty(), "OAuth parsing in the UI: {found:#?}");
}

/// The check itself finds what the old shell did.
#[test]
fn the_check_finds_a_decoded_parameter() {
    let dir = std::env::temp_dir().join(format!("dcr-no-oauth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    let file = dir.join("guess.rs");
    std::fs::write(
        &file,
        "let purpose = url.query_pairs().find(|(k, _)| k == \"prompt\");\n// query_pairs in a comment is fine\n",
    )
    .expect("written");
    let found = offences(&[file], RUST_FORBIDDEN);
    assert_eq!(found.len(), 2, "{found:?}");
    std::fs::remove_dir_all(&dir).expect("cleaned up");
}
