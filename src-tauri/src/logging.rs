//! Logs go to `dcr-client.log` in the app's log folder. The engine never logs a secret (its
//! secret types redact themselves); `RUST_LOG` sets the level (default `info`), as a level or
//! `target=level` pairs (`info,dcr_core=debug`). That is `Targets`' syntax, not `EnvFilter`'s:
//! the shipped app needs no span or regex filters, and `EnvFilter` brings its own matcher.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Returns the log file, or `None` when it cannot be written (then logs go to stderr).
pub fn init(log_dir: &Path) -> Option<PathBuf> {
    let path = log_dir.join("dcr-client.log");
    let file = std::fs::create_dir_all(log_dir)
        .and_then(|_| OpenOptions::new().create(true).append(true).open(&path));
    let filter = level_filter(std::env::var("RUST_LOG").ok().as_deref());
    let layer = tracing_subscriber::fmt::layer().with_ansi(false);
    let registry = tracing_subscriber::registry().with(filter);
    match file {
        Ok(file) => {
            let writer = std::sync::Mutex::new(file);
            let _ = registry.with(layer.with_writer(writer)).try_init();
            Some(path)
        }
        Err(_) => {
            let _ = registry.with(layer.with_writer(std::io::stderr)).try_init();
            None
        }
    }
}

/// `RUST_LOG` as `Targets`, or `info` when it is unset or does not parse.
fn level_filter(rust_log: Option<&str>) -> Targets {
    rust_log
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO))
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    use super::level_filter;

    #[test]
    fn rust_log_sets_the_level_per_target_and_info_is_the_default() {
        let default = level_filter(None);
        assert!(default.would_enable("dcr_core", &Level::INFO));
        assert!(!default.would_enable("dcr_core", &Level::DEBUG));
        let pairs = level_filter(Some("warn,dcr_core=debug"));
        assert!(pairs.would_enable("dcr_core::session", &Level::DEBUG));
        assert!(!pairs.would_enable("tauri", &Level::INFO));
        let unreadable = level_filter(Some("dcr_core=loud"));
        assert!(unreadable.would_enable("dcr_core", &Level::INFO));
        assert!(!unreadable.would_enable("dcr_core", &Level::DEBUG));
    }
}
