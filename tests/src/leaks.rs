//! The secret search of the leak tests (the `logs` test binary, and the About report in the
//! `desktop` one): every secret, whole and in pieces, looked for in a text, failing with the
//! kind and place and never printing the value. (Each test uses one [`Jwts`] rule.)

use std::collections::HashMap;

/// Length of the pieces searched for: a leak of part of a secret is still a leak.
pub const PIECE: usize = 16;

/// Which secrets are compact JWTs, whose header and claims are not secret on their own (a DPoP
/// proof's header is the public key) while the signature is.
#[derive(Clone, Copy)]
pub enum Jwts {
    /// Only values of kind `id_token`.
    IdTokens,
    /// Any value with three dot-separated parts (assertions, proofs, ID tokens).
    AnyCompactJws,
}

/// Fails naming the kind of secret and where, never printing the value.
pub fn assert_no_secret_in(place: &str, text: &str, secrets: &[(String, String)], jwts: Jwts) {
    let mut pieces: HashMap<&[u8], &str> = HashMap::new();
    for (kind, value) in secrets {
        assert!(
            !text.contains(value.as_str()),
            "a whole {kind} appears in {place}"
        );
        let is_jwt = match jwts {
            Jwts::IdTokens => kind == "id_token",
            Jwts::AnyCompactJws => value.matches('.').count() == 2,
        };
        let secret_part = if is_jwt {
            value.rsplit('.').next().unwrap_or(value)
        } else {
            value
        };
        for piece in secret_part.as_bytes().windows(PIECE) {
            pieces.insert(piece, kind);
        }
    }
    for (at, window) in text.as_bytes().windows(PIECE).enumerate() {
        if let Some(kind) = pieces.get(window) {
            let line = 1 + text.as_bytes()[..at]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            panic!("part of a {kind} appears in {place}, line {line}");
        }
    }
}
