//! macOS: `open` shows a folder in Finder. Untested.
pub fn command() -> std::process::Command {
    std::process::Command::new("open")
}
