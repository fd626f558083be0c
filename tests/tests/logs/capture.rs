//! Every log event of every crate captured at TRACE into one buffer, as a user running the app
//! with `RUST_LOG=trace` would get it.
//!
//! A tracing subscriber set with `set_global_default` is process-wide and can be set only once,
//! so this binary installs one for good, the first time a test asks, and lets one test at a time
//! own it: [`capture_logs`] waits for the previous test to finish and empties the buffer, so a
//! test reads only the events of its own run. (A thread-local `set_default` instead would miss
//! the events logged on other threads.)

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use tokio::sync::MutexGuard;
use tracing::level_filters::LevelFilter;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

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
    fn clear(&self) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

/// The buffer the one subscriber writes into, with the lock a test holds while it owns it.
struct Shared {
    buffer: Buffer,
    owner: tokio::sync::Mutex<()>,
}

static SHARED: OnceLock<Shared> = OnceLock::new();

/// What a test captured so far. Holding it keeps the other test out; the next test starts on an
/// empty buffer once it is dropped.
pub struct Capture {
    buffer: Buffer,
    _owner: MutexGuard<'static, ()>,
}

impl Capture {
    pub fn text(&self) -> String {
        self.buffer.text()
    }
}

/// Everything, at TRACE, whatever `RUST_LOG` says, from now until the returned [`Capture`] is
/// dropped; waits while another test of this binary captures.
pub async fn capture_logs() -> Capture {
    let shared = SHARED.get_or_init(|| {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(LevelFilter::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        Shared {
            buffer,
            owner: tokio::sync::Mutex::const_new(()),
        }
    });
    let owner = shared.owner.lock().await;
    shared.buffer.clear();
    Capture {
        buffer: shared.buffer.clone(),
        _owner: owner,
    }
}
