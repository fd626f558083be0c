//! Checks on the repository's own text, with no identity server and no window: the UI against
//! the engine's error kinds and progress steps, the UI's node tests, the shell's freedom from
//! OAuth parsing, and docs/security.md against the tests it names.

mod error_kinds;
mod progress_steps;
mod security_doc;
mod shell_no_oauth;
mod ui_node;
