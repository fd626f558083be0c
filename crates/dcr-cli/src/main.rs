//! `dcr`: the scriptable shell over the DCR engine, and its black-box test.
//!
//! Success prints one JSON line on stdout and exits 0. Failure prints one line
//! `error[<kind>]: <message>` on stderr and exits 1 (2 for a usage error). `<kind>` is
//! [`dcr_core::Error::kind`], stable for scripts.

mod args;
mod manual;

use std::process::ExitCode;
use std::sync::Arc;

use dcr_core::agents::loopback::LoopbackAgent;
use dcr_core::agents::SystemBrowser;
use dcr_core::agents::UserBrowser;
use dcr_core::config::UserAgentKind;
use dcr_core::device::store::KeychainStore;
use dcr_core::error::ErrorKind;
use dcr_core::platform::http::back_channel_client;
use dcr_core::session::{Event, ModeError, Session, StateName};
use dcr_core::{Config, Error, UserAgent};
use serde_json::{json, Value};

use crate::args::{Args, Browser, Command, Parsed, USAGE};
use crate::manual::ManualUserAgent;

fn main() -> ExitCode {
    let args = match args::parse(std::env::args_os().skip(1)) {
        Ok(Parsed::Run(args)) => args,
        Ok(Parsed::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Version) => {
            println!("dcr {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error[usage]: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // tpm2-tss writes its own lines on stderr when the TPM refuses something (WARNING:esys:…).
    // The engine reports every TPM failure with a stable kind, and stderr is this tool's error
    // channel (one `error[<kind>]` line), so the TSS's log is off unless the user set TSS2_LOG.
    // Set here, before any thread exists: changing the environment is only sound then.
    if std::env::var_os("TSS2_LOG").is_none() {
        std::env::set_var("TSS2_LOG", "all+none");
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error[internal]: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(output) => {
            println!("{output}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error[{}]: {}", error.kind(), error.message());
            ExitCode::FAILURE
        }
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// What `dcr` fails with: an engine error, or a `--browser loopback` the install's registration
/// does not allow. Both carry a stable kind.
enum Failure {
    Engine(Error),
    Mode(ModeError),
}

impl Failure {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Engine(error) => error.kind(),
            Self::Mode(error) => error.kind(),
        }
    }

    fn message(&self) -> String {
        match self {
            Self::Engine(error) => error.message(),
            Self::Mode(error) => error.message(),
        }
    }
}

impl<E: Into<Error>> From<E> for Failure {
    fn from(error: E) -> Self {
        Self::Engine(error.into())
    }
}

async fn run(args: Args) -> Result<Value, Failure> {
    let mut config = Config::load(&args.config)?;
    // `--browser loopback` chooses loopback mode (RFC 8252 §7.3), whatever `userAgent` lists.
    let loopback = args.browser == Browser::Loopback;
    if loopback {
        config = config.also_allowing(UserAgentKind::Loopback);
    }
    let issuer = config.issuer.as_str().to_owned();
    let session = Arc::new(Session::new(
        config,
        back_channel_client(),
        Box::new(KeychainStore::new()),
    ));
    // The engine says which registration is this install's, exactly as for the desktop app, so
    // `dcr status` and the app agree; a chosen mode is refused while it is registered in another.
    let session = if loopback {
        session
            .choose_mode(UserAgentKind::Loopback)
            .await
            .map_err(Failure::Mode)?
    } else {
        session.on_registered_mode().await?
    };
    // A loopback registration redirects the loopback way (the manual agent cannot).
    let browser = match args.browser {
        Browser::Manual if session.mode() == UserAgentKind::Loopback => Browser::Loopback,
        browser => browser,
    };
    let ua: Box<dyn UserAgent> = match browser {
        Browser::Loopback => Box::new(LoopbackAgent::new(UserBrowser::new(Arc::new(
            SystemBrowser,
        )))),
        browser => Box::new(ManualUserAgent {
            open_browser: browser == Browser::System,
        }),
    };
    let ua = ua.as_ref();
    match args.command {
        Command::Register => {
            let view = session.register(ua).await?;
            let client_id = view.registration.map(|r| r.client_id);
            Ok(json!({ "client_id": client_id }))
        }
        Command::Login { refresh, logout } => {
            // rememberSignIn: one refresh with the token in the keychain entry (shared with the
            // desktop app) instead of a browser step; otherwise, or when refused, the sign-in.
            let resumed = session.resume().await?;
            let remembered = resumed.state == StateName::SignedIn;
            let mut view = if remembered {
                resumed
            } else {
                session.sign_in(ua).await?
            };
            if refresh {
                view = session.refresh().await?;
            }
            let user = view.user.ok_or(Error::NotSignedIn)?;
            let mut out = json!({
                "sub": user.sub,
                // Who the desktop app's Home greets (the engine's choice; null: "Signed in").
                "display_name": user.display_name,
                "claims": user.claims,
                "expires_in": view.access_token_expires_at.map(|at| (at - unix_now()).max(0)),
            });
            if refresh {
                out["refreshed"] = json!(true);
            }
            if remembered {
                out["remembered"] = json!(true);
            }
            if logout {
                let after = session.sign_out(ua).await?;
                out["logged_out"] = json!(true);
                // Whether the identity server confirmed the logout (RP-Initiated Logout §3).
                out["server_logout"] = json!(after.last_event == Some(Event::SignedOut));
            }
            Ok(out)
        }
        Command::Status => {
            let view = session.state().await?;
            let registration = view.registration;
            Ok(json!({
                "registered": registration.is_some(),
                "issuer": issuer,
                "client_id": registration.as_ref().map(|r| r.client_id.clone()),
                "registered_at": registration.as_ref().map(|r| r.registered_at),
                // RFC 7591 §3.2.1 wire form: 0 means the secret never expires.
                "client_secret_expires_at": registration.as_ref().map(|r| r.client_secret_expires_at.unwrap_or(0)),
                // Who holds the device key (`software` or `tpm`, null without one) and the
                // engine's sentence for it, the one the app's Home and About show.
                "device_key_holder": view.device_key_holder,
                "device_key": view.device_key_text,
            }))
        }
        Command::Forget => {
            let view = session.forget().await?;
            Ok(json!({
                "forgotten": true,
                "server_deleted": view.last_event == Some(Event::Forgotten),
            }))
        }
    }
}
