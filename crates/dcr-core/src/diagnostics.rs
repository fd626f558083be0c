//! "About this device" and "Copy diagnostics": what a user reads out to a help desk.
//!
//! [`About`] is built from non-secret inputs only: the shell's own facts (version, which config
//! file and why, where the log is), the validated [`Config`] (which holds no secret) and the
//! session's [`StateView`] (which holds none either: Z2). Nothing here can reach a client
//! secret, a token, a code, a PKCE verifier, the registration access token or the device's
//! private key, so neither the view nor its [`report`](About::report) can leak one; the
//! integration tests still check the report against every secret the identity server issued.
//! Pure: the clock arrives as `now`.

use std::path::Path;

use serde::Serialize;

use crate::config::Config;
use crate::device::signer::KeyHolder;
use crate::session::{Credential, RegistrationView, StateName, StateView};

/// Which of the places the shell looks for a config chose the one in use (in order of
/// precedence: `--config`, `DCR_CONFIG`, the user's file, the system-wide file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ConfigOrigin {
    Argument,
    Environment,
    UserFile,
    SystemFile,
    /// Chosen on the setup screen in this run, and saved to the user's file.
    SetupScreen,
}

impl ConfigOrigin {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Argument => "the --config option",
            Self::Environment => "the DCR_CONFIG variable",
            Self::UserFile => "the user's config folder",
            Self::SystemFile => "the system-wide file (set by an administrator)",
            Self::SetupScreen => "chosen on the setup screen",
        }
    }
}

/// What only the shell knows. Paths are local and public (no secret lives in a file).
#[derive(Debug, Clone, Default)]
pub struct ShellFacts {
    /// The shell's Cargo package version (`env!("CARGO_PKG_VERSION")`): one source.
    pub app_version: String,
    pub config_file: Option<String>,
    pub config_origin: Option<ConfigOrigin>,
    /// `dcr-client.log`; `None` when the app logs to stderr (no log folder).
    pub log_file: Option<String>,
}

/// The About view as the UI shows it, and the report it copies.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct About {
    pub app_version: String,
    /// `os arch`, e.g. `linux x86_64`.
    pub platform: String,
    pub config_file: Option<String>,
    pub config_origin: Option<ConfigOrigin>,
    /// `None` without a valid config.
    pub issuer: Option<String>,
    /// `embedded`, `system` or `loopback` (the config's `userAgent`; `embedded` by default).
    pub user_agent: Option<&'static str>,
    pub token_endpoint_auth_method: Option<&'static str>,
    pub dpop: Option<bool>,
    pub state: Option<StateName>,
    pub registration: Option<RegistrationView>,
    pub credential: Option<Credential>,
    /// RFC 7638 thumbprint of the device's public key: public by design (the `kid`).
    pub device_key_thumbprint: Option<String>,
    /// Who holds the device's private key, and the engine's sentence for it
    /// ([`KeyHolder::describe`]): the holder only, never the key or the TPM's blobs.
    pub device_key_holder: Option<KeyHolder>,
    pub device_key_text: Option<&'static str>,
    pub tokens_bound: bool,
    pub log_file: Option<String>,
    pub log_folder: Option<String>,
    /// The plain-text report "Copy diagnostics" puts on the clipboard.
    pub report: String,
}

impl About {
    pub fn new(
        facts: ShellFacts,
        config: Option<&Config>,
        view: Option<&StateView>,
        now: i64,
    ) -> Self {
        let log_folder = facts.log_file.as_deref().and_then(|file| {
            Path::new(file)
                .parent()
                .map(|dir| dir.display().to_string())
        });
        let mut about = About {
            app_version: facts.app_version,
            platform: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            config_file: facts.config_file,
            config_origin: facts.config_origin,
            issuer: config.map(|c| c.issuer.as_str().to_owned()),
            user_agent: config.map(|c| c.active_user_agent().as_str()),
            token_endpoint_auth_method: config.map(|c| c.token_endpoint_auth_method.as_str()),
            dpop: config.map(|c| c.dpop),
            state: view.map(|v| v.state),
            registration: view.and_then(|v| v.registration.clone()),
            credential: view.map(|v| v.credential),
            device_key_thumbprint: view.and_then(|v| v.device_key_thumbprint.clone()),
            device_key_holder: view.and_then(|v| v.device_key_holder),
            device_key_text: view.and_then(|v| v.device_key_text),
            tokens_bound: view.is_some_and(|v| v.tokens_bound),
            log_file: facts.log_file,
            log_folder,
            report: String::new(),
        };
        about.report = about.render_report(now);
        about
    }

    /// One `label: value` line per fact, in the order a help desk asks for them.
    fn render_report(&self, now: i64) -> String {
        let unknown = || "unknown".to_owned();
        let or_unknown = |value: &Option<String>| value.clone().unwrap_or_else(unknown);
        let mut lines = vec![
            "DCR Client diagnostics".to_owned(),
            format!("Generated: {}", utc(now)),
            format!("App version: {}", self.app_version),
            format!("Platform: {}", self.platform),
            format!("Config file: {}", or_unknown(&self.config_file)),
            format!(
                "Config chosen by: {}",
                self.config_origin.map_or("none", ConfigOrigin::describe)
            ),
            format!("Issuer: {}", or_unknown(&self.issuer)),
            format!("User agent: {}", self.user_agent.unwrap_or("unknown")),
            format!(
                "Client authentication: {}",
                self.token_endpoint_auth_method.unwrap_or("unknown")
            ),
            format!("DPoP: {}", yes_no(self.dpop.unwrap_or(false))),
            format!(
                "State: {}",
                match self.state {
                    Some(StateName::Unregistered) => "not registered",
                    Some(StateName::Registered) => "registered, signed out",
                    Some(StateName::SignedIn) => "signed in",
                    None => "unknown",
                }
            ),
        ];
        if let Some(registration) = &self.registration {
            lines.push(format!("Client ID: {}", registration.client_id));
            lines.push(format!("Registered: {}", utc(registration.registered_at)));
            lines.push(format!(
                "Secret expires: {}",
                match (self.credential, registration.client_secret_expires_at) {
                    (Some(Credential::DeviceKey), _) => "no client secret (device key)".to_owned(),
                    (_, None) => "never".to_owned(),
                    (_, Some(at)) => utc(at),
                }
            ));
            lines.push(format!(
                "Registration form: {}",
                if registration.templatized {
                    "templatized (software_id)"
                } else {
                    "full metadata"
                }
            ));
        }
        if let Some(thumbprint) = &self.device_key_thumbprint {
            lines.push(format!("Device key thumbprint: {thumbprint}"));
        }
        if let Some(holder) = self.device_key_holder {
            // The holder's name as `deviceKeyStorage` spells it, then the sentence the user saw.
            lines.push(format!(
                "Device key holder: {} ({})",
                holder.as_str(),
                holder.describe()
            ));
        }
        lines.push(format!(
            "Tokens bound to the device key: {}",
            yes_no(self.tokens_bound)
        ));
        lines.push(format!("Log file: {}", or_unknown(&self.log_file)));
        lines.push(
            "No client secret, token, code, registration access token or private key is in this report."
                .to_owned(),
        );
        lines.join("\n") + "\n"
    }
}

fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS UTC`: a report read on another machine must not depend
/// on this one's time zone.
pub fn utc(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let seconds = unix.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests;
