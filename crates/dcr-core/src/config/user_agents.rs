//! `userAgent`: where browser steps run. One mode (`"system"`), or a list of the modes
//! this deployment allows (`["embedded", "loopback"]`): the first is the default, and the
//! desktop app's registration screen offers the others.
//!
//! A mode is bound to the registration made with it: the keychain entry's key includes the
//! registered redirect (loopback registers `http://127.0.0.1/…`, RFC 8252 §7.3) and, for
//! `system`, the mode itself ([`Config::store_mode`]), so a mode switch is a new registration
//! and a restart finds the mode the install registered with.

use serde_json::{Map, Value};

use super::{invalid, Config, UserAgentKind};
use crate::error::ConfigError;

const KEY: &str = "userAgent";
const FIX: &str = "use \"embedded\", \"system\" or \"loopback\", or a list of them such as [\"embedded\", \"loopback\"] (the first is the default)";

impl UserAgentKind {
    /// Every mode, in the order `docs/configuration.md` lists them.
    pub const ALL: [UserAgentKind; 3] = [Self::Embedded, Self::System, Self::Loopback];

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "embedded" => Some(Self::Embedded),
            "system" => Some(Self::System),
            "loopback" => Some(Self::Loopback),
            _ => None,
        }
    }

    /// What a keychain entry's key adds for a registration made in this mode, beyond its
    /// registered redirect: `system` shares the private-use redirect with `embedded`, so it is
    /// named; the other two add nothing (their entries keep the keys they had before modes were
    /// a choice).
    pub fn store_tag(self) -> Option<&'static str> {
        (self == Self::System).then_some("system")
    }

    /// The config's (and the UI's) name of the mode.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Embedded => "embedded",
            Self::System => "system",
            Self::Loopback => "loopback",
        }
    }
}

/// Reads `userAgent`: absent (`[]`: embedded, the default), one name, or a non-empty list of
/// distinct names. Returns the allowed modes in order.
pub(super) fn user_agents(map: &mut Map<String, Value>) -> Result<Vec<UserAgentKind>, ConfigError> {
    let names = match map.remove(KEY) {
        None => return Ok(Vec::new()),
        Some(Value::String(name)) => vec![name],
        Some(Value::Array(items)) if items.is_empty() => {
            return invalid(KEY, format!("the list is empty; {FIX}"))
        }
        Some(Value::Array(items)) => {
            let mut names = Vec::new();
            for item in items {
                let Value::String(name) = item else {
                    return invalid(KEY, format!("use strings in the list; {FIX}"));
                };
                names.push(name);
            }
            names
        }
        Some(_) => return invalid(KEY, FIX),
    };
    let mut modes = Vec::new();
    for name in names {
        let Some(mode) = UserAgentKind::parse(&name) else {
            return invalid(
                KEY,
                format!(
                    "\"{}\" is not a mode; {FIX}",
                    crate::text::sanitize(&name, 40)
                ),
            );
        };
        if modes.contains(&mode) {
            return invalid(
                KEY,
                format!("\"{name}\" is listed twice; name each mode once"),
            );
        }
        modes.push(mode);
    }
    Ok(modes)
}

impl Config {
    /// The modes this config allows, the default first (`[embedded]` when `userAgent` is absent).
    pub fn allowed_user_agents(&self) -> Vec<UserAgentKind> {
        if self.user_agents.is_empty() {
            vec![UserAgentKind::Embedded]
        } else {
            self.user_agents.clone()
        }
    }

    /// The mode this config runs browser steps in (`user_agent`, or the default).
    pub fn active_user_agent(&self) -> UserAgentKind {
        self.user_agent.unwrap_or(UserAgentKind::Embedded)
    }

    /// This config in another of its allowed modes (the registration screen's choice). The
    /// result is a different keychain entry unless the mode is the same.
    pub fn with_user_agent(&self, mode: UserAgentKind) -> Result<Config, ConfigError> {
        if !self.allowed_user_agents().contains(&mode) {
            let allowed: Vec<&str> = self
                .allowed_user_agents()
                .iter()
                .map(|mode| mode.as_str())
                .collect();
            return invalid(
                KEY,
                format!(
                    "\"{}\" is not allowed by this config (it allows {}); add it to the userAgent list to offer it",
                    mode.as_str(),
                    allowed.join(", ")
                ),
            );
        }
        let mut config = self.clone();
        config.user_agent = Some(mode);
        Ok(config)
    }

    /// What the keychain entry's key adds for this config's own mode ([`UserAgentKind::store_tag`]).
    pub fn store_mode(&self) -> Option<&'static str> {
        self.active_user_agent().store_tag()
    }

    /// This config with `mode` among its allowed modes (appended, so the default stays first):
    /// the `dcr` CLI's `--browser loopback` offers loopback whatever `userAgent` lists.
    pub fn also_allowing(mut self, mode: UserAgentKind) -> Config {
        let mut allowed = self.allowed_user_agents();
        if !allowed.contains(&mode) {
            allowed.push(mode);
        }
        self.user_agents = allowed;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#""issuer": "https://idp.example", "registrationClientID": "c",
        "redirectUri": "io.curity.dcrclient:/callback",
        "postLogoutRedirectUri": "io.curity.dcrclient:/logoutcallback", "scope": "openid""#;

    fn config(user_agent: &str) -> Result<Config, ConfigError> {
        Config::from_json(&format!("{{{BASE}, \"userAgent\": {user_agent}}}"))
    }

    fn reason(user_agent: &str) -> String {
        match config(user_agent) {
            Err(ConfigError::Invalid { key, reason }) => {
                assert_eq!(key, "userAgent");
                reason
            }
            other => panic!("{user_agent}: expected userAgent to be refused, got {other:?}"),
        }
    }

    #[test]
    fn one_mode_or_a_list_whose_first_is_the_default() {
        let absent = Config::from_json(&format!("{{{BASE}}}")).unwrap();
        assert_eq!(absent.allowed_user_agents(), [UserAgentKind::Embedded]);
        assert_eq!(absent.active_user_agent(), UserAgentKind::Embedded);
        assert_eq!(absent.user_agent, None);

        let one = config(r#""loopback""#).unwrap();
        assert_eq!(one.allowed_user_agents(), [UserAgentKind::Loopback]);
        assert_eq!(one.user_agent, Some(UserAgentKind::Loopback));

        let list = config(r#"["system", "embedded", "loopback"]"#).unwrap();
        assert_eq!(
            list.allowed_user_agents(),
            [
                UserAgentKind::System,
                UserAgentKind::Embedded,
                UserAgentKind::Loopback
            ]
        );
        assert_eq!(list.user_agent, Some(UserAgentKind::System));
        assert_eq!(
            list.registered_redirect_uri().as_str(),
            "io.curity.dcrclient:/callback"
        );
    }

    #[test]
    fn a_bad_user_agent_is_refused_with_the_fix() {
        assert!(reason(r#""browser""#).contains("\"browser\" is not a mode"));
        assert!(reason("[]").contains("the list is empty"));
        assert!(reason(r#"["embedded", 1]"#).contains("use strings"));
        assert!(reason(r#"["loopback", "loopback"]"#).contains("listed twice"));
        assert!(reason("true").contains("[\"embedded\", \"loopback\"]"));
        for fix in [reason(r#""x""#), reason("[]"), reason("{}")] {
            assert!(fix.contains("the first is the default"), "{fix}");
        }
    }

    #[test]
    fn choosing_a_mode_changes_the_registered_redirect_and_the_entry() {
        let list = config(r#"["embedded", "system", "loopback"]"#).unwrap();
        let embedded = list.with_user_agent(UserAgentKind::Embedded).unwrap();
        let system = list.with_user_agent(UserAgentKind::System).unwrap();
        let loopback = list.with_user_agent(UserAgentKind::Loopback).unwrap();
        assert_eq!(
            loopback.registered_redirect_uri().as_str(),
            "http://127.0.0.1/callback"
        );
        assert_eq!(
            system.registered_redirect_uri(),
            embedded.registered_redirect_uri()
        );
        // Same redirect, so the mode itself tells the two entries apart.
        assert_eq!(embedded.store_mode(), None);
        assert_eq!(system.store_mode(), Some("system"));
        assert_eq!(loopback.store_mode(), None);
        // Every mode stays on the allowed list.
        assert_eq!(system.allowed_user_agents(), list.allowed_user_agents());
    }

    #[test]
    fn a_mode_the_config_does_not_allow_cannot_be_chosen() {
        let only = config(r#"["embedded", "system"]"#).unwrap();
        match only.with_user_agent(UserAgentKind::Loopback) {
            Err(ConfigError::Invalid { key, reason }) => {
                assert_eq!(key, "userAgent");
                assert!(reason.contains("not allowed"), "{reason}");
                assert!(reason.contains("embedded, system"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
}
