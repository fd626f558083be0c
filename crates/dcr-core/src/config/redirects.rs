//! Which redirect URIs a registration asks for, by user-agent mode.
//!
//! In `loopback` mode (RFC 8252 §7.3) the browser comes back to `http://127.0.0.1:<port>/…`
//! on a port picked per browser step, so the client is registered with the port-less loopback
//! URI: "the authorization server MUST allow any port to be specified at the time of the
//! request for loopback IP redirect URIs". The path is the configured redirect's path
//! (`io.curity.dcrclient:/callback` → `http://127.0.0.1/callback`), and likewise for the
//! post-logout redirect, so one config file serves every mode. The port of each step comes
//! from the user agent ([`crate::UserAgent::prepare_redirect`]).

use super::{Config, RedirectUri, UserAgentKind};

impl Config {
    /// True when `userAgent` is `loopback`.
    pub fn loopback_mode(&self) -> bool {
        self.user_agent == Some(UserAgentKind::Loopback)
    }

    /// The redirect URI the client is registered with in this config's own mode (see
    /// [`Config::redirect_uri_in`]).
    pub fn registered_redirect_uri(&self) -> RedirectUri {
        self.redirect_uri_in(self.active_user_agent())
    }

    /// The post-logout redirect URI, by the same rule.
    pub fn registered_post_logout_redirect_uri(&self) -> RedirectUri {
        self.post_logout_redirect_uri_in(self.active_user_agent())
    }

    /// The redirect URI a registration made in `mode` lists, and a browser step prepares its
    /// redirect from: the configured one, or its port-less loopback form in loopback mode.
    pub fn redirect_uri_in(&self, mode: UserAgentKind) -> RedirectUri {
        in_mode(&self.redirect_uri, mode)
    }

    /// The post-logout redirect URI a registration made in `mode` lists.
    pub fn post_logout_redirect_uri_in(&self, mode: UserAgentKind) -> RedirectUri {
        in_mode(&self.post_logout_redirect_uri, mode)
    }

    /// The redirect URI a registration asks for in each mode: the configured one and its
    /// loopback form. A template client serving the app in every mode lists both.
    pub fn redirect_uris_of_every_mode(&self) -> [RedirectUri; 2] {
        [self.redirect_uri.clone(), loopback_form(&self.redirect_uri)]
    }
}

fn in_mode(configured: &RedirectUri, mode: UserAgentKind) -> RedirectUri {
    if mode != UserAgentKind::Loopback {
        return configured.clone();
    }
    loopback_form(configured)
}

fn loopback_form(configured: &RedirectUri) -> RedirectUri {
    // A private-use scheme written without the slash (`app:callback`) has an opaque path.
    let path = configured.url().path();
    if path.starts_with('/') {
        loopback(path)
    } else {
        loopback(&format!("/{path}"))
    }
}

fn loopback(path: &str) -> RedirectUri {
    RedirectUri::parse(&format!("http://127.0.0.1{path}"))
        .expect("an http loopback URI with a path is a valid redirect URI")
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#""issuer": "https://idp.example", "registrationClientID": "c",
        "redirectUri": "io.curity.dcrclient:/callback",
        "postLogoutRedirectUri": "io.curity.dcrclient:/logoutcallback", "scope": "openid""#;

    fn config(extra: &str) -> Config {
        Config::from_json(&format!("{{{BASE}{extra}}}")).unwrap()
    }

    #[test]
    fn loopback_mode_registers_the_port_less_loopback_uris_with_the_configured_paths() {
        let loopback = config(r#", "userAgent": "loopback""#);
        assert!(loopback.loopback_mode());
        assert_eq!(
            loopback.registered_redirect_uri().as_str(),
            "http://127.0.0.1/callback"
        );
        assert_eq!(
            loopback.registered_post_logout_redirect_uri().as_str(),
            "http://127.0.0.1/logoutcallback"
        );
        for other in [
            "",
            r#", "userAgent": "embedded""#,
            r#", "userAgent": "system""#,
        ] {
            let config = config(other);
            assert!(!config.loopback_mode());
            assert_eq!(config.registered_redirect_uri(), config.redirect_uri);
            assert_eq!(
                config.registered_post_logout_redirect_uri(),
                config.post_logout_redirect_uri
            );
        }
        for config in [loopback, config("")] {
            assert_eq!(
                config
                    .redirect_uris_of_every_mode()
                    .map(|uri| uri.as_str().to_owned()),
                ["io.curity.dcrclient:/callback", "http://127.0.0.1/callback"]
            );
        }
    }
}
