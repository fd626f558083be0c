//! What the sign-in window may load. Pure, so every case is a unit test (security checklist X3,
//! X8).
//!
//! The window has no address bar, so whatever it shows, the user takes for the identity server.
//! It may therefore show only the origins the config names: the issuer's, and `signInOrigins`
//! ([`dcr_core::Config::allowed_sign_in_origins`]). Everything else is refused before any
//! request is made, and the user is told which host was refused.

use dcr_core::config::RedirectUri;
use dcr_core::text::is_loopback;
use url::{Origin, Url};

/// The decision for one navigation in the sign-in window.
#[derive(Debug, PartialEq, Eq)]
pub enum Navigation {
    /// The exact redirect URI: refuse the navigation and hand the URL to the engine.
    Redirect,
    /// A page on an allowed origin.
    Allow,
    /// Anything else: `file:`, `data:`, `javascript:`, other schemes, our scheme on another
    /// path, another origin, plain http to a remote host. Carries what to tell the user.
    Block(Refused),
}

/// Where a refused navigation wanted to go, as the user is told: a host (with its port, and
/// its scheme when that is not https), or just the scheme for addresses without a host. Never
/// a path or query: those can carry codes and state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub place: String,
}

/// The policy: the exact redirect is caught (RFC 8252 §7.1); a page loads only when its origin
/// is one of `allowed` and it travels over https, or http on loopback (RFC 8252 §8.3, RFC 9700
/// §2.6); nothing else.
pub fn classify(url: &Url, redirect: &RedirectUri, allowed: &[Origin]) -> Navigation {
    if redirect.matches(url) {
        return Navigation::Redirect;
    }
    // WebKit loads about:blank while it sets up a window; it runs nothing.
    if url.as_str() == "about:blank" {
        return Navigation::Allow;
    }
    let secure = match url.scheme() {
        "https" => true,
        "http" => is_loopback(url),
        _ => false,
    };
    // `Origin` compares scheme, host and port; the config validated every entry, and the
    // transport check above holds even if it had not.
    if secure && url.username().is_empty() && allowed.contains(&url.origin()) {
        return Navigation::Allow;
    }
    Navigation::Block(Refused {
        place: place_of(url),
    })
}

/// How the window title and the refusal notice name a URL's host: `login.example.com`,
/// `127.0.0.1:8443`, `http://203.0.113.9`, `ftp://x`, or `file:` when there is no host. ASCII
/// only (the URL parser punycodes hosts), and clipped.
pub fn place_of(url: &Url) -> String {
    let place = match url.host_str() {
        Some(host) => {
            let host = match url.port() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_owned(),
            };
            if url.scheme() == "https" {
                host
            } else {
                format!("{}://{host}", url.scheme())
            }
        }
        None => format!("{}:", url.scheme()),
    };
    dcr_core::text::sanitize(&place, 80)
}

/// The sign-in window's title for the page it shows: who is asking for the password (the
/// window has no address bar). Plain http shows its scheme, so a development issuer says so.
pub fn title_for(verb: &str, shown: &Url) -> String {
    format!("{verb} — {}", place_of(shown))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redirect() -> RedirectUri {
        RedirectUri::parse("io.curity.dcrclient:/callback").expect("valid redirect")
    }

    fn allowed() -> Vec<Origin> {
        [
            "http://127.0.0.1:8443",
            "https://login.example.com",
            "https://login.partner.example",
        ]
        .iter()
        .map(|o| Url::parse(o).expect("origin").origin())
        .collect()
    }

    fn classify_str(url: &str) -> Navigation {
        classify(
            &Url::parse(url).expect("valid url"),
            &redirect(),
            &allowed(),
        )
    }

    fn refused(url: &str) -> String {
        match classify_str(url) {
            Navigation::Block(Refused { place }) => place,
            other => panic!("{url} was not refused: {other:?}"),
        }
    }

    /// Each URL is refused, and the refusal names the place given beside it.
    fn assert_refused_as(cases: &[(&str, &str)]) {
        for (url, place) in cases {
            assert_eq!(refused(url), *place, "{url}");
        }
    }

    #[test]
    fn the_exact_redirect_is_caught() {
        assert_eq!(
            classify_str("io.curity.dcrclient:/callback?code=abc&state=x"),
            Navigation::Redirect
        );
    }

    #[test]
    fn x3_the_issuer_and_listed_origins_load() {
        for url in [
            "http://127.0.0.1:8443/oauth/v2/oauth-anonymous/auth",
            "https://login.example.com/authn",
            "https://login.example.com:443/authn?x=1",
            "https://LOGIN.partner.example/federated",
            "about:blank",
        ] {
            assert_eq!(classify_str(url), Navigation::Allow, "{url}");
        }
    }

    #[test]
    fn x3_another_https_origin_is_refused_and_named() {
        assert_refused_as(&[
            ("https://evil.example/login", "evil.example"),
            // Same host, other port or scheme: another origin.
            ("https://login.example.com:8443/", "login.example.com:8443"),
            ("https://127.0.0.1:8443/", "127.0.0.1:8443"),
            ("http://127.0.0.1:9999/", "http://127.0.0.1:9999"),
            // A subdomain of an allowed origin is not that origin.
            ("https://x.login.example.com/", "x.login.example.com"),
        ]);
    }

    #[test]
    fn x3_plain_http_to_a_remote_host_is_refused_even_for_a_listed_host() {
        assert_refused_as(&[
            ("http://203.0.113.9/", "http://203.0.113.9"),
            ("http://login.example.com/authn", "http://login.example.com"),
        ]);
    }

    #[test]
    fn x3_credentials_in_the_url_are_refused() {
        assert_eq!(
            refused("https://user@login.example.com/"),
            "login.example.com"
        );
    }

    #[test]
    fn x8_file_data_and_javascript_urls_are_blocked() {
        assert_refused_as(&[
            ("file:///etc/passwd", "file:"),
            ("data:text/html,<script>alert(1)</script>", "data:"),
            ("javascript:alert(1)", "javascript:"),
        ]);
    }

    #[test]
    fn x8_our_scheme_on_another_path_is_blocked_not_caught() {
        assert_refused_as(&[
            (
                "io.curity.dcrclient:/other?code=abc",
                "io.curity.dcrclient:",
            ),
            (
                "io.curity.dcrclient:/callbackx?code=abc",
                "io.curity.dcrclient:",
            ),
        ]);
    }

    #[test]
    fn other_schemes_are_blocked() {
        assert_refused_as(&[
            ("ftp://x/", "ftp://x"),
            ("mailto:someone@example.com", "mailto:"),
            ("ws://127.0.0.1:8443/", "ws://127.0.0.1:8443"),
        ]);
    }

    #[test]
    fn the_place_never_carries_a_path_or_query() {
        let place = refused("https://evil.example/cb?code=secret-code&state=s#frag");
        assert_eq!(place, "evil.example");
    }

    #[test]
    fn the_title_names_the_page_shown() {
        let title = |url: &str| title_for("Sign in", &Url::parse(url).expect("url"));
        assert_eq!(
            title("http://127.0.0.1:8443/oauth/auth"),
            "Sign in — http://127.0.0.1:8443"
        );
        assert_eq!(
            title("https://login.partner.example/federated?x=1"),
            "Sign in — login.partner.example"
        );
    }
}
