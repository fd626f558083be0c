//! Linux and the BSDs: the desktop's file manager through `xdg-open` (freedesktop.org).
pub fn command() -> std::process::Command {
    std::process::Command::new("xdg-open")
}
