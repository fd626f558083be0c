//! Logs go to `dcr-client.log` in the app's log folder. The engine never logs a secret (its
//! secret types redact themselves); `RUST_LOG` sets the level (default `info`).

use std::fs::OpenOptions;
use std::path::Path;

use tracing_subscriber::EnvFilter;

pub fn init(log_dir: &Path) {
    let file = std::fs::create_dir_all(log_dir).and_then(|_| {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_dir.join("dcr-client.log"))
    });
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false);
    let _ = match file {
        Ok(file) => builder.with_writer(std::sync::Mutex::new(file)).try_init(),
        Err(_) => builder.with_writer(std::io::stderr).try_init(),
    };
}
