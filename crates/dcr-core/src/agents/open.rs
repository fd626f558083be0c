//! Opening something with the desktop's own handler: a URL in the user's default browser
//! (RFC 8252 §7.1's "external user-agent"), or a local folder in the file manager. Both are the
//! same call, so the engine, the desktop shell and the CLI share this one opener.
//!
//! Linux and the BSDs: `xdg-open`; for a URL, the `BROWSER` environment variable first when set
//! (the convention of `xdg-open`, Python's `webbrowser` and others: a `:`-separated list of
//! commands, `%s` marks where the URL goes, otherwise it is the last argument; the first entry is
//! used). macOS: `open`. Windows: the shell's URL handler for a URL, `explorer` for a folder.
//! Only Linux is tested.
//!
//! The URL or folder is passed as one argument, never through a shell, so nothing in it is
//! interpreted.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Stdio};

use url::Url;

use super::BrowserOpener;

/// The user's default browser.
pub struct SystemBrowser;

impl BrowserOpener for SystemBrowser {
    fn open(&self, url: &Url) -> Result<(), String> {
        open_on_desktop(OpenTarget::Url(url))
    }
}

/// What to show the user.
#[derive(Debug, Clone, Copy)]
pub enum OpenTarget<'a> {
    /// A web page, in the default browser.
    Url(&'a Url),
    /// A local folder, in the file manager. It must come from the app itself, never from a
    /// web page or a server.
    Folder(&'a Path),
}

/// Starts the desktop's handler for `target` and returns once it is started. The error text
/// names the program, never the URL (it carries `state` and the PKCE challenge).
pub fn open_on_desktop(target: OpenTarget<'_>) -> Result<(), String> {
    launch_detached(command_for(
        target,
        std::env::var("BROWSER").ok().as_deref(),
    ))
}

/// Starts `command` with no input and its output discarded (a terminal protocol such as the
/// CLI's `open:` line must not be interleaved with a browser's messages), and returns at once:
/// `xdg-open` returns quickly, but a browser or file manager started directly may run for
/// hours, so it is reaped in the background.
pub fn launch_detached(mut command: Command) -> Result<(), String> {
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|error| format!("could not start {program}: {error}"))?;
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(())
}

#[cfg(not(any(target_os = "macos", target_os = "windows")))]
fn command_for(target: OpenTarget<'_>, browser: Option<&str>) -> Command {
    let url = match target {
        OpenTarget::Url(url) => url.as_str(),
        OpenTarget::Folder(folder) => return with_argument("xdg-open", folder.as_os_str()),
    };
    let first = browser.and_then(|list| {
        list.split(':')
            .map(str::trim)
            .find(|entry| !entry.is_empty())
    });
    let Some(entry) = first else {
        return with_argument("xdg-open", url.as_ref());
    };
    let mut words = entry.split_whitespace();
    let mut command = Command::new(words.next().unwrap_or("xdg-open"));
    let mut placed = false;
    for word in words {
        if word.contains("%s") {
            command.arg(word.replace("%s", url));
            placed = true;
        } else {
            command.arg(word);
        }
    }
    if !placed {
        command.arg(url);
    }
    command
}

#[cfg(target_os = "macos")]
fn command_for(target: OpenTarget<'_>, _browser: Option<&str>) -> Command {
    match target {
        OpenTarget::Url(url) => with_argument("open", url.as_str().as_ref()),
        OpenTarget::Folder(folder) => with_argument("open", folder.as_os_str()),
    }
}

#[cfg(target_os = "windows")]
fn command_for(target: OpenTarget<'_>, _browser: Option<&str>) -> Command {
    match target {
        OpenTarget::Url(url) => {
            // Not `cmd /c start`: cmd would read `&` in the query as a command separator.
            let mut command = Command::new("rundll32");
            command.arg("url.dll,FileProtocolHandler").arg(url.as_str());
            command
        }
        OpenTarget::Folder(folder) => with_argument("explorer", folder.as_os_str()),
    }
}

fn with_argument(program: &str, argument: &OsStr) -> Command {
    let mut command = Command::new(program);
    command.arg(argument);
    command
}

#[cfg(all(test, not(any(target_os = "macos", target_os = "windows"))))]
mod tests {
    use super::*;

    fn argv(command: &Command) -> Vec<String> {
        std::iter::once(command.get_program())
            .chain(command.get_args())
            .map(|s| s.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn browser_variable_is_honoured_and_the_url_stays_one_argument() {
        let text = "https://idp.example/authorize?a=1&state=x%20y";
        let url = Url::parse(text).unwrap();
        let url = OpenTarget::Url(&url);
        assert_eq!(argv(&command_for(url, None)), ["xdg-open", text]);
        assert_eq!(argv(&command_for(url, Some(""))), ["xdg-open", text]);
        assert_eq!(
            argv(&command_for(url, Some("/tmp/shim --new-tab:firefox"))),
            ["/tmp/shim", "--new-tab", text]
        );
        assert_eq!(
            argv(&command_for(url, Some("lynx -dump %s"))),
            ["lynx", "-dump", text]
        );
    }

    #[test]
    fn folders_open_with_xdg_open_whatever_the_browser_variable_says() {
        let folder = Path::new("/home/me/.local/state/dcr logs");
        let target = OpenTarget::Folder(folder);
        for browser in [None, Some("/tmp/shim --new-tab")] {
            assert_eq!(
                argv(&command_for(target, browser)),
                ["xdg-open", "/home/me/.local/state/dcr logs"]
            );
        }
    }
}
