//! Shared by the leak tests (`engine_logs.rs`, `engine_device_bound_logs.rs`): every log event
//! captured at TRACE, and a search for secrets, whole and in pieces, that never prints one.
//! (Each including binary uses one `Jwts` rule.)
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::level_filters::LevelFilter;

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

#[derive(Clone, Default)]
pub struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

/// Everything, at TRACE, whatever `RUST_LOG` says. The subscriber is process-wide, so a binary
/// that calls this holds a single test.
pub fn capture_logs() -> Buffer {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(LevelFilter::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
    buffer
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
