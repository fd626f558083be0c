//! What the sign-in window may load. Pure, so every case is a unit test (security checklist X3, X8).

use dcr_core::config::RedirectUri;
use url::Url;

/// The decision for one navigation in the sign-in window.
#[derive(Debug, PartialEq, Eq)]
pub enum Navigation {
    /// The exact redirect URI: refuse the navigation and hand the URL to the engine.
    Redirect,
    /// An ordinary web page of the identity server (or wherever its login leads).
    Allow,
    /// `file:`, `data:`, `javascript:`, other custom schemes, or our scheme on another path.
    Block,
}

/// RFC 8252 §7.1: only the exact registered redirect URI is ours; everything that is not a
/// web page is refused, so the login page can never reach the local file system or run script
/// through a URL (X8).
pub fn classify(url: &Url, redirect: &RedirectUri) -> Navigation {
    if redirect.matches(url) {
        return Navigation::Redirect;
    }
    match url.scheme() {
        "http" | "https" => Navigation::Allow,
        // WebKit loads about:blank while it sets up a window; it runs nothing.
        "about" if url.as_str() == "about:blank" => Navigation::Allow,
        _ => Navigation::Block,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redirect() -> RedirectUri {
        RedirectUri::parse("io.curity.dcrclient:/callback").expect("valid redirect")
    }

    fn classify_str(url: &str) -> Navigation {
        classify(&Url::parse(url).expect("valid url"), &redirect())
    }

    #[test]
    fn the_exact_redirect_is_caught() {
        assert_eq!(
            classify_str("io.curity.dcrclient:/callback?code=abc&state=x"),
            Navigation::Redirect
        );
    }

    #[test]
    fn identity_server_pages_load() {
        assert_eq!(
            classify_str("http://127.0.0.1:8443/oauth/v2/oauth-anonymous/auth"),
            Navigation::Allow
        );
        assert_eq!(
            classify_str("https://login.example.com/authn"),
            Navigation::Allow
        );
    }

    #[test]
    fn x8_file_data_and_javascript_urls_are_blocked() {
        assert_eq!(classify_str("file:///etc/passwd"), Navigation::Block);
        assert_eq!(
            classify_str("data:text/html,<script>alert(1)</script>"),
            Navigation::Block
        );
        assert_eq!(classify_str("javascript:alert(1)"), Navigation::Block);
    }

    #[test]
    fn x8_our_scheme_on_another_path_is_blocked_not_caught() {
        assert_eq!(
            classify_str("io.curity.dcrclient:/other?code=abc"),
            Navigation::Block
        );
        assert_eq!(
            classify_str("io.curity.dcrclient:/callbackx?code=abc"),
            Navigation::Block
        );
    }

    #[test]
    fn other_custom_schemes_are_blocked() {
        assert_eq!(
            classify_str("mailto:someone@example.com"),
            Navigation::Block
        );
    }
}
