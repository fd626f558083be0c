//! Secret values: the client secret, tokens, the authorization code, the PKCE verifier and the
//! registration access token.
//!
//! A [`Secret`] redacts itself in `Debug` and `Display`, is wiped from memory on drop, and is
//! deliberately **not** `Serialize`: nothing that holds one can be sent to the webview or printed
//! as JSON by accident (security checklist Z1, Z2). Code that really needs the value calls
//! [`Secret::expose`], which is easy to grep for.

use std::fmt;

use serde::{Deserialize, Deserializer};
use zeroize::Zeroize;

/// A string that must never reach logs, error text or the UI.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The raw value, for the one place that must send it over the wire or into the keychain.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A short, non-reversible fingerprint that is safe to show: the first 8 hex digits of the
    /// value's SHA-256 would be ideal, but a stable FNV-1a hash is enough to tell two tokens apart.
    pub fn fingerprint(&self) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in self.0.as_bytes() {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{:08x}", hash >> 32)
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn z1_debug_and_display_never_show_the_value() {
        let secret = Secret::new("tfs9nad3dweFAa1CqpUj5p6NC4");
        assert!(!format!("{secret:?}").contains("tfs9"));
        assert!(!format!("{secret}").contains("tfs9"));
        assert_eq!(secret.expose(), "tfs9nad3dweFAa1CqpUj5p6NC4");
    }

    #[test]
    fn fingerprint_is_stable_short_and_not_the_value() {
        let a = Secret::new("token-a");
        assert_eq!(a.fingerprint(), Secret::new("token-a").fingerprint());
        assert_ne!(a.fingerprint(), Secret::new("token-b").fingerprint());
        assert_eq!(a.fingerprint().len(), 8);
    }
}
