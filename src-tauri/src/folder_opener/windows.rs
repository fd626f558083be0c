//! Windows: `explorer.exe <folder>` opens it in File Explorer. Untested.
pub fn command() -> std::process::Command {
    std::process::Command::new("explorer")
}
