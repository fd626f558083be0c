//! Runs the UI's own tests (`tests/ui/*.test.mjs`: the pure state machine, formatting, and DOM
//! built only with textContent) with the machine's Node, as part of `cargo test`.

use std::process::Command;

#[test]
fn the_ui_node_tests_pass() {
    let root = dcr_tests::repo_root();
    let output = Command::new("node")
        .arg("--test")
        .arg(root.join("tests/ui"))
        .current_dir(&root)
        .output()
        .expect("node is not installed: the UI tests need Node.js 20 or newer");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "node --test tests/ui failed");
    assert!(stdout.contains("# pass"), "node ran no UI test");
    assert!(!stdout.contains("# pass 0"), "node ran no UI test");
}
