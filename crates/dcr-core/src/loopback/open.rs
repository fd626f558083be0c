//! Opening a URL in the user's default browser (RFC 8252 §7.1's "external user-agent").
//!
//! Linux and the BSDs: the `BROWSER` environment variable when set (the convention of
//! `xdg-open`, Python's `webbrowser` and others: a `:`-separated list of commands, `%s` marks
//! where the URL goes, otherwise it is the last argument; the first entry is used), else
//! `xdg-open`. macOS: `open`. Windows: the shell's URL handler. Only Linux is tested.
//!
//! The URL is passed as one argument, never through a shell, so nothing in it is interpreted.

use std::process::{Command, Stdio};

use url::Url;

use super::agent::BrowserOpener;

/// The user's default browser.
pub struct SystemBrowser;

impl BrowserOpener for SystemBrowser {
    fn open(&self, url: &Url) -> Result<(), String> {
        let mut command = command_for(url.as_str(), std::env::var("BROWSER").ok().as_deref());
        let program = command.get_program().to_string_lossy().into_owned();
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|error| format!("could not start {program}: {error}"))?;
        // Reaped in the background: `xdg-open` returns at once, a browser may run for hours.
        std::thread::spawn(move || {
            let _ = child.wait();
        });
        Ok(())
    }
}

#[cfg(not(any(target_os = "macos", target_os = "windows")))]
fn command_for(url: &str, browser: Option<&str>) -> Command {
    let first = browser.and_then(|list| {
        list.split(':')
            .map(str::trim)
            .find(|entry| !entry.is_empty())
    });
    let Some(entry) = first else {
        let mut command = Command::new("xdg-open");
        command.arg(url);
        return command;
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
fn command_for(url: &str, _browser: Option<&str>) -> Command {
    let mut command = Command::new("open");
    command.arg(url);
    command
}

#[cfg(target_os = "windows")]
fn command_for(url: &str, _browser: Option<&str>) -> Command {
    // Not `cmd /c start`: cmd would read `&` in the query as a command separator.
    let mut command = Command::new("rundll32");
    command.arg("url.dll,FileProtocolHandler").arg(url);
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
        let url = "https://idp.example/authorize?a=1&state=x y";
        assert_eq!(argv(&command_for(url, None)), ["xdg-open", url]);
        assert_eq!(argv(&command_for(url, Some(""))), ["xdg-open", url]);
        assert_eq!(
            argv(&command_for(url, Some("/tmp/shim --new-tab:firefox"))),
            ["/tmp/shim", "--new-tab", url]
        );
        assert_eq!(
            argv(&command_for(url, Some("lynx -dump %s"))),
            ["lynx", "-dump", url]
        );
    }
}
