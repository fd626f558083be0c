//! Leaf helpers that every part of the engine may use: making untrusted text safe to show,
//! random tokens, a constant-time compare, and the URL rules (which hosts may use plain http).
//!
//! This module imports nothing from the crate, so any module can depend on it without forming
//! an import cycle (`tests/module_cycles.rs`). A helper that two modules share belongs here,
//! not inside the protocol step that happened to need it first.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use url::Url;

/// Makes untrusted text (a server's `error_description`, a claim, a URL fragment) safe to
/// display: control characters are dropped (no terminal escapes, no fake log lines), and so are
/// invisible formatting characters ([`is_invisible`]: bidi overrides and isolates, zero-width
/// characters), which could reorder or hide what the user reads (the "Trojan Source" trick,
/// CVE-2021-42574). The result is cut to `max` characters.
pub fn sanitize(text: &str, max: usize) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|c| !c.is_control() && !is_invisible(*c))
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.chars().count() <= max {
        return cleaned.to_owned();
    }
    let mut cut: String = cleaned.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Unicode format characters (general category Cf) that change how text is ordered or that
/// render as nothing. `char::is_control` covers only Cc, so these are listed here.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'                    // soft hyphen
        | '\u{034F}'                  // combining grapheme joiner
        | '\u{061C}'                  // Arabic letter mark (bidi)
        | '\u{115F}' | '\u{1160}'     // Hangul fillers
        | '\u{17B4}' | '\u{17B5}'     // Khmer invisible vowels
        | '\u{180B}'..='\u{180F}'     // Mongolian variation selectors, vowel separator
        | '\u{200B}'..='\u{200F}'     // zero-width space/joiners, LRM, RLM
        | '\u{202A}'..='\u{202E}'     // bidi embeddings and overrides
        | '\u{2060}'..='\u{206F}'     // word joiner, invisible operators, bidi isolates
        | '\u{3164}'                  // Hangul filler
        | '\u{FE00}'..='\u{FE0F}'     // variation selectors
        | '\u{FEFF}'                  // zero-width no-break space (BOM)
        | '\u{FFA0}'                  // half-width Hangul filler
        | '\u{FFF9}'..='\u{FFFB}'     // interlinear annotation
        | '\u{1D173}'..='\u{1D17A}'   // musical formatting
        | '\u{E0000}'..='\u{E0FFF}' // tags and variation selectors supplement
    )
}

/// `n` bytes from the OS CSPRNG, base64url-encoded.
pub(crate) fn random_token(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        // The OS RNG failing is a broken system, not bad input; there is no safe fallback.
        .expect("the operating system's random number generator failed");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Compares secrets without an early exit, so timing does not reveal a matching prefix.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Reads the query as a map, refusing repeated parameters (RFC 6749 §3.1) and NUL bytes (X3).
/// The error is fixed text naming what is wrong, never the query (it may carry a code).
pub(crate) fn single_valued_query(url: &Url) -> Result<HashMap<String, String>, &'static str> {
    let mut params = HashMap::new();
    for (key, value) in url.query_pairs() {
        if key.contains('\0') || value.contains('\0') {
            return Err("it contains a NUL byte");
        }
        if params
            .insert(key.into_owned(), value.into_owned())
            .is_some()
        {
            return Err("a parameter is repeated");
        }
    }
    Ok(params)
}

/// `127.0.0.1`, `[::1]` and `localhost`: the only hosts where plain http is acceptable.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// D3, N1 (RFC 9700 §2.6): https everywhere, http only on loopback.
pub fn check_secure_url(url: &Url) -> Result<(), String> {
    match url.scheme() {
        "https" if url.host().is_some() => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => {
            Err("http:// is only allowed for 127.0.0.1, [::1] or localhost; use https://".into())
        }
        _ => Err("use an https:// URL".into()),
    }
}

/// Appends one part of a hash input, tagged and length-prefixed (absent: 0; present: 1, its
/// length as 8 big-endian bytes, its bytes), so no two different lists of parts give the same
/// input by shifting text from one part to the next.
pub fn push_field(input: &mut Vec<u8>, part: Option<&str>) {
    match part {
        None => input.push(0),
        Some(text) => {
            input.push(1);
            input.extend_from_slice(&(text.len() as u64).to_be_bytes());
            input.extend_from_slice(text.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_strips_control_characters_and_truncates() {
        let hostile = format!("bad\u{1b}[31m\nline\r\u{0}{}", "x".repeat(1000));
        let clean = sanitize(&hostile, 300);
        assert!(!clean.chars().any(char::is_control));
        assert_eq!(clean.chars().count(), 300);
        assert!(clean.starts_with("bad[31m line"));
    }

    #[test]
    fn sanitize_strips_bidi_overrides_and_zero_width_characters() {
        // "Trojan Source": RLO makes "evil.example/moc.knab" read as "bank.com/elpmaxe.live".
        let hostile = "sign in at \u{202E}moc.knab\u{202C} now\u{200B}\u{2066}x\u{2069}\u{FEFF}\u{E0041}\u{061C}\u{00AD}!";
        let clean = sanitize(hostile, 300);
        assert_eq!(clean, "sign in at moc.knab nowx!");
        assert!(!clean.chars().any(is_invisible));
        // Visible non-ASCII text is kept.
        assert_eq!(sanitize("Grüße, 東京 — ok", 100), "Grüße, 東京 — ok");
    }

    #[test]
    fn random_tokens_are_base64url_and_differ() {
        let (a, b) = (random_token(32), random_token(32));
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
        assert!(constant_time_eq("", ""));
    }

    #[test]
    fn queries_with_repeated_parameters_or_nul_bytes_are_refused() {
        let url = |text: &str| Url::parse(text).unwrap();
        let params = single_valued_query(&url("app:/cb?code=1&state=2")).unwrap();
        assert_eq!(params["code"], "1");
        assert_eq!(
            single_valued_query(&url("app:/cb?state=1&state=2")),
            Err("a parameter is repeated")
        );
        assert_eq!(
            single_valued_query(&url("app:/cb?state=%00")),
            Err("it contains a NUL byte")
        );
    }

    #[test]
    fn plain_http_only_on_loopback_hosts() {
        for ok in [
            "http://127.0.0.1:8443/x",
            "http://[::1]/",
            "http://LocalHost/",
            "https://idp.example/",
        ] {
            assert_eq!(check_secure_url(&Url::parse(ok).unwrap()), Ok(()), "{ok}");
        }
        for bad in [
            "http://idp.example/",
            "http://127.0.0.1.evil.example/",
            "ftp://idp.example/",
        ] {
            assert!(
                check_secure_url(&Url::parse(bad).unwrap()).is_err(),
                "{bad}"
            );
        }
    }
}
