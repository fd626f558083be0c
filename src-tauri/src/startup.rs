//! Startup stages, stamped at debug level so the way to the first screen can be split
//! (docs/benchmarks.md, "Reading the startup stamps"). Every line carries the milliseconds
//! since `run()` began ("process start"; the dynamic loader's work before `main` is not in it).
//! The shell stamps what it sees itself (setup, the page's commit, the state read); the page
//! stamps its own stages on its clock (`Date.now()`, the system clock both processes share) and
//! reports them in one command once the first screen is up, so no IPC sits on the way to it.

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

/// `RUST_LOG=info,dcr_desktop::startup=debug` shows the stamps and nothing else new.
const TARGET: &str = "dcr_desktop::startup";

struct Origin {
    instant: Instant,
    /// The same moment on the system clock, in ms since the Unix epoch (the page's clock).
    epoch_ms: f64,
}

static ORIGIN: OnceLock<Origin> = OnceLock::new();

fn origin() -> &'static Origin {
    ORIGIN.get_or_init(|| Origin {
        instant: Instant::now(),
        epoch_ms: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |since| since.as_secs_f64() * 1000.0),
    })
}

/// Fixes the origin of every stamp: the first thing `run()` does.
pub fn begin() {
    origin();
}

/// Milliseconds since the origin, for a stage reached before the log is set up.
pub fn now_ms() -> f64 {
    origin().instant.elapsed().as_secs_f64() * 1000.0
}

/// The shell reached `stage` now.
pub fn stage(stage: &'static str) {
    log(stage, now_ms());
}

/// The shell reached `stage` at `ms` (from [`now_ms`]); logged now.
pub fn log(stage: &str, ms: f64) {
    tracing::debug!(target: TARGET, stage, ms = %format_args!("{ms:.1}"), "startup stage");
}

/// The page's own stamps, each `Date.now()` (ms since the epoch) or absent when the page could
/// not take it (no paint-timing entry, say). Numbers only: nothing the page sends is echoed
/// into the log as text.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PageMarks {
    /// `performance.timeOrigin`: the navigation began.
    pub navigation_start: Option<f64>,
    /// The first line of `main.js` ran: every module it imports has loaded.
    pub first_script: Option<f64>,
    /// The first contentful paint (the neutral "Starting…" frame), from the Paint Timing API.
    pub first_paint: Option<f64>,
    /// `get_state` answered and its screen entered the DOM.
    pub screen_rendered: Option<f64>,
    /// The frame after the first real screen (Register, Sign in, Home, setup, error) entered
    /// the DOM: the bench's "first screen painted".
    pub screen_painted: Option<f64>,
}

/// Logs the page's stamps as stages, in the order the page reached them.
pub fn page_marks(marks: &PageMarks) {
    let origin = origin().epoch_ms;
    let stages = [
        ("navigation start", marks.navigation_start),
        ("first script", marks.first_script),
        ("first paint", marks.first_paint),
        ("state rendered in the page", marks.screen_rendered),
        ("first screen painted", marks.screen_painted),
    ];
    for (stage, at) in stages {
        if let Some(at) = at.filter(|at| at.is_finite()) {
            log(stage, at - origin);
        }
    }
}
