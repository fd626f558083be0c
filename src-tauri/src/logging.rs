//! Logs go to `dcr-client.log` in the app's log folder. The engine never logs a secret (its
//! secret types redact themselves); `RUST_LOG` sets the level (default `info`).

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use tracing_subscriber::EnvFilter;

/// Returns the log file, or `None` when it cannot be written (then logs go to stderr).
pub fn init(log_dir: &Path) -> Option<PathBuf> {
    let path = log_dir.join("dcr-client.log");
    let file = std::fs::create_dir_all(log_dir)
        .and_then(|_| OpenOptions::new().create(true).append(true).open(&path));
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false);
    match file {
        Ok(file) => {
            let _ = builder.with_writer(std::sync::Mutex::new(file)).try_init();
            Some(path)
        }
        Err(_) => {
            let _ = builder.with_writer(std::io::stderr).try_init();
            None
        }
    }
}
