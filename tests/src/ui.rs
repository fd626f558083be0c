//! What the UI's own modules declare, read by running them under the machine's Node, so Rust
//! tests can hold the UI and the engine to the same lists (error kinds, progress steps).

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;

/// Runs `script` as an ES module from the repository root and parses the one JSON line it prints.
pub fn node_json(script: &str) -> Value {
    let output = Command::new("node")
        .args(["--input-type=module", "-e", script])
        .current_dir(crate::repo_root())
        .output()
        .expect("node is not installed: this test needs Node.js 20 or newer");
    let stdout = crate::procs::stdout_of_success("the node script", output);
    serde_json::from_slice(&stdout).expect("the script printed JSON")
}

/// A JSON array of strings as a set.
pub fn string_set(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v.as_str().expect("a string").to_owned())
        .collect()
}
