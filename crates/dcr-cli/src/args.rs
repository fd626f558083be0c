//! `dcr [--config PATH] [--browser manual|system|loopback] <register|login|status|forget>`
//! with `login [--refresh] [--logout]`. Hand-rolled: four commands do not need a parser crate.

use std::ffi::OsString;
use std::path::PathBuf;

pub const USAGE: &str =
    "usage: dcr [--config PATH] [--browser manual|system|loopback] <register|login|status|forget>
       dcr login [--refresh] [--logout]

  register   sign in once to get a registration token, register this device, store it
  login      sign in with this device's registration and print the user as JSON; with
               rememberSignIn in the config, signs in with the remembered refresh token
               (no browser step, `\"remembered\": true`) when there is one
               --refresh  also refresh the tokens once
               --logout   finish with a logout (one more browser step)
  status     print whether this device is registered (never a secret)
  forget     delete this device's registration on the server and locally

  --config PATH     the config file (default ./config.json)
  --browser MODE    manual (default): print `open: <url>` on stderr, read the final URL on stdin
                    system: also open the URL in the default browser
                    loopback: open the URL in the default browser (BROWSER, else xdg-open) and
                              receive the answer on http://127.0.0.1:<port>/ (RFC 8252 §7.3);
                              the registration uses the loopback redirect (userAgent \"loopback\")";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Browser {
    Manual,
    System,
    /// The user's browser and a loopback listener: `userAgent: "loopback"` for this run.
    Loopback,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Register,
    Login { refresh: bool, logout: bool },
    Status,
    Forget,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Args {
    pub config: PathBuf,
    pub browser: Browser,
    pub command: Command,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    Run(Args),
    Help,
    Version,
}

/// Parses the arguments (without the program name). Options may come before or after the
/// command; `--opt=value` and `--opt value` both work.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Parsed, String> {
    let mut config = None;
    let mut browser = Browser::Manual;
    let mut command = None;
    let (mut refresh, mut logout) = (false, false);
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let arg = arg
            .into_string()
            .map_err(|_| "arguments must be valid UTF-8".to_owned())?;
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                (name.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            match inline.clone() {
                Some(value) => Ok(value),
                None => args
                    .next()
                    .and_then(|v| v.into_string().ok())
                    .ok_or_else(|| format!("{name} needs a value")),
            }
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(Parsed::Help),
            "-V" | "--version" => return Ok(Parsed::Version),
            "--config" => config = Some(PathBuf::from(value("--config")?)),
            "--browser" => {
                browser = match value("--browser")?.as_str() {
                    "manual" => Browser::Manual,
                    "system" => Browser::System,
                    "loopback" => Browser::Loopback,
                    other => {
                        return Err(format!(
                            "--browser must be manual, system or loopback, not {other:?}"
                        ))
                    }
                }
            }
            "--refresh" => refresh = true,
            "--logout" => logout = true,
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            word => {
                if command.is_some() {
                    return Err(format!(
                        "unexpected argument {word:?}: give exactly one command"
                    ));
                }
                command = Some(word.to_owned());
            }
        }
    }
    let command = match command.as_deref() {
        Some("register") => Command::Register,
        Some("login") => Command::Login { refresh, logout },
        Some("status") => Command::Status,
        Some("forget") => Command::Forget,
        Some(other) => return Err(format!("unknown command {other:?}")),
        None => return Err("give a command: register, login, status or forget".into()),
    };
    if (refresh || logout) && !matches!(command, Command::Login { .. }) {
        return Err("--refresh and --logout only apply to login".into());
    }
    Ok(Parsed::Run(Args {
        config: config.unwrap_or_else(|| PathBuf::from("config.json")),
        browser,
        command,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Parsed, String> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn defaults() {
        assert_eq!(
            run(&["status"]).unwrap(),
            Parsed::Run(Args {
                config: "config.json".into(),
                browser: Browser::Manual,
                command: Command::Status
            })
        );
    }

    #[test]
    fn options_in_any_position_and_both_forms() {
        let expected = Parsed::Run(Args {
            config: "/etc/dcr.json".into(),
            browser: Browser::System,
            command: Command::Login {
                refresh: true,
                logout: true,
            },
        });
        assert_eq!(
            run(&[
                "--config",
                "/etc/dcr.json",
                "--browser=system",
                "login",
                "--refresh",
                "--logout"
            ])
            .unwrap(),
            expected
        );
        assert_eq!(
            run(&[
                "login",
                "--logout",
                "--config=/etc/dcr.json",
                "--refresh",
                "--browser",
                "system"
            ])
            .unwrap(),
            expected
        );
    }

    #[test]
    fn errors_are_clear() {
        assert!(run(&[]).unwrap_err().contains("give a command"));
        assert!(run(&["fly"]).unwrap_err().contains("unknown command"));
        assert!(run(&["status", "login"])
            .unwrap_err()
            .contains("exactly one command"));
        assert!(run(&["--config"]).unwrap_err().contains("needs a value"));
        assert_eq!(
            run(&["--browser", "loopback", "login"]).map(|p| match p {
                Parsed::Run(args) => Some(args.browser),
                _ => None,
            }),
            Ok(Some(Browser::Loopback))
        );
        assert!(run(&["--browser", "lynx", "status"])
            .unwrap_err()
            .contains("manual, system or loopback"));
        assert!(run(&["status", "--refresh"])
            .unwrap_err()
            .contains("only apply to login"));
        assert!(run(&["-x", "status"])
            .unwrap_err()
            .contains("unknown option"));
        assert_eq!(run(&["status", "--help"]).unwrap(), Parsed::Help);
    }
}
