//! Time from exec to the first screen painted, and the process tree's PSS on that screen.
//!
//! "Painted" means a colour that only the rendered first screen has is on the root window of
//! the virtual display, not that a window was mapped: the app's primary button (#2f5bd8, the
//! "Register this device" button; the loading screen before it has no filled area of that
//! colour), the bare app's page background (#3a7bd5). A calibration launch per app (untimed,
//! which also warms the page cache for both alike) finds where that colour shows; each timed
//! launch then polls that one strip every millisecond.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::screen::{Probe, Rgb, Screen};
use dcr_tests::procs;

/// The app's `--primary` (ui/styles.css, light scheme).
pub const APP_PRIMARY: Rgb = 0x2f5bd8;
/// benches/bare-tauri/ui/index.html's background.
pub const BARE_BACKGROUND: Rgb = 0x3a7bd5;
/// A first screen that is not there after this counts as "never painted".
pub const PAINT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long after the paint the tree's memory is read (WebKit finishes starting its processes).
pub const SETTLE: Duration = Duration::from_secs(3);
const POLL: Duration = Duration::from_millis(1);

/// One app to launch: its binary, arguments, and the first screen's marker colour.
pub struct Launch<'a> {
    pub program: &'a Path,
    pub args: Vec<String>,
    pub colour: Rgb,
}

impl Launch<'_> {
    fn spawn(&self) -> std::process::Child {
        Command::new(self.program)
            .args(&self.args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.program.display()))
    }

    /// An untimed launch that finds where the marker colour shows once the screen has settled.
    pub fn calibrate(&self, screen: &Screen) -> Probe {
        let mut child = self.spawn();
        let started = Instant::now();
        let mut found = None;
        while started.elapsed() < PAINT_TIMEOUT {
            std::thread::sleep(Duration::from_millis(250));
            if let Some(probe) = screen.find(self.colour) {
                // A filled area: a run at least 40 px wide.
                if probe.width >= 40 {
                    found = Some(probe);
                    break;
                }
            }
        }
        // Let layout settle, then look again (the button may move once fonts load).
        std::thread::sleep(Duration::from_secs(2));
        let settled = screen.find(self.colour).or(found);
        procs::stop(&mut child);
        let probe = settled.unwrap_or_else(|| {
            panic!(
                "{} never showed #{:06x} on the screen",
                self.program.display(),
                self.colour
            )
        });
        // Keep off the anti-aliased ends and any text: the run's first and last 4 pixels and
        // its middle, as a strip of the run's left quarter.
        Probe {
            x: probe.x + 4,
            y: probe.y,
            width: (probe.width / 4).max(1),
            colour: probe.colour,
        }
    }

    /// A timed launch: exec to paint (None if not within [`PAINT_TIMEOUT`]), and the tree's
    /// PSS in KiB [`SETTLE`] after the paint.
    pub fn measure(&self, screen: &Screen, probe: &Probe) -> Measured {
        // The screen must not show the colour before the app does (a leftover window).
        wait_until_clear(screen, probe);
        let started = Instant::now();
        let mut child = self.spawn();
        let mut painted = None;
        while started.elapsed() < PAINT_TIMEOUT {
            if screen.shows(probe) {
                painted = Some(started.elapsed());
                break;
            }
            std::thread::sleep(POLL);
        }
        let (pss, names) = if painted.is_some() {
            std::thread::sleep(SETTLE);
            let tree = procs::tree_memory(child.id());
            (tree.pss, tree.names)
        } else {
            (0, Vec::new())
        };
        procs::stop(&mut child);
        Measured {
            painted,
            pss,
            names,
        }
    }
}

pub struct Measured {
    pub painted: Option<Duration>,
    pub pss: u64,
    pub names: Vec<String>,
}

fn wait_until_clear(screen: &Screen, probe: &Probe) {
    for _ in 0..200 {
        if !screen.shows(probe) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the screen still shows the marker colour from an earlier launch");
}
