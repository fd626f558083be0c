//! `signInOrigins`: the web origins, besides the issuer's, that the embedded sign-in window may
//! show (a federated login page, a separate authentication service). Everything else is refused
//! by the shell, so the list is the whole of what the user can be led to (RFC 8252 §8.12: an
//! embedded user agent is only for a first-party server, and this keeps it on that server).

use serde_json::{Map, Value};
use url::{Origin, Url};

use super::{check_secure_url, invalid};
use crate::error::ConfigError;

const KEY: &str = "signInOrigins";
const EXAMPLE: &str = "e.g. [\"https://login.partner.example\"]";

/// Reads and validates the optional `signInOrigins` array. Absent means none.
pub(super) fn sign_in_origins(map: &mut Map<String, Value>) -> Result<Vec<Origin>, ConfigError> {
    let items = match map.remove(KEY) {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return invalid(KEY, format!("use an array of origins, {EXAMPLE}")),
    };
    let mut origins = Vec::new();
    for item in items {
        let Value::String(text) = item else {
            return invalid(KEY, format!("use strings, {EXAMPLE}"));
        };
        let origin = parse_origin(&text).or_else(|reason| {
            invalid(
                KEY,
                format!("\"{}\": {reason}", crate::text::sanitize(&text, 80)),
            )
        })?;
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    Ok(origins)
}

/// One origin (RFC 6454 §4): scheme, host and port, nothing else. https, or http on loopback
/// only (RFC 8252 §8.3, RFC 9700 §2.6: a password page over plain http to a remote host could
/// be read or replaced on the way).
fn parse_origin(text: &str) -> Result<Origin, String> {
    if text.contains('*') {
        return Err("wildcards are not supported; list each origin".into());
    }
    let url = Url::parse(text)
        .map_err(|e| format!("not an origin ({e}); write it like https://login.example.com"))?;
    check_secure_url(&url)?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("an origin has no user name or password".into());
    }
    // Url gives a bare origin the path "/"; accept the trailing slash, nothing longer.
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(
            "an origin is only scheme, host and port: remove the path, query and fragment".into(),
        );
    }
    Ok(url.origin())
}
