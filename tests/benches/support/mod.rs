//! A small benchmark harness shared by the bench targets (no criterion: it would add minutes of
//! compile time on two cores for a few medians).
//!
//! Project rule: speed and memory are measured here, always next to a baseline measured in the
//! same run, never asserted in timed tests. Every bench therefore measures its subject and its
//! baseline interleaved (A B B A …), so a build that starts on the other core in the middle of a
//! run slows both sides alike instead of skewing the comparison.
//!
//! The bench binaries are `harness = false`. `cargo bench` passes `--bench`; without it (e.g.
//! `cargo test --benches`, which runs bench targets as tests) [`bench_mode`] is false and the
//! binary measures nothing.

// Each bench target compiles this module and uses only part of it.
#![allow(dead_code)]

pub mod summary;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// One HTTP client for every call of `dcr_tests::flows` in a bench, as a real app keeps one:
/// building a client loads the OS trust store, which would otherwise be timed as part of every
/// round trip of the baseline. (A bench runs on one runtime, which the pooled connections
/// belong to.)
pub fn http() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(dcr_tests::flows::http)
}

/// Whether this binary was started by `cargo bench` (or directly with `--bench`). Prints why
/// nothing is measured otherwise.
pub fn bench_mode(name: &str) -> bool {
    let on = std::env::args().any(|arg| arg == "--bench");
    if !on {
        println!("{name}: benchmarks run only under `cargo bench` (scripts/bench.sh); skipped");
    }
    on
}

/// Whether a bench of the desktop app runs: under `cargo bench` ([`bench_mode`]), not turned
/// off with `DCR_BENCH_SKIP_DESKTOP=1`, and with the Secret Service the app keeps its
/// registration in ([`require_keyring`]; `what` names the bench in its message).
pub fn desktop_bench(name: &str, what: &str) -> bool {
    if !bench_mode(name) {
        return false;
    }
    if std::env::var("DCR_BENCH_SKIP_DESKTOP").as_deref() == Ok("1") {
        println!("{name}: DCR_BENCH_SKIP_DESKTOP=1; skipped");
        return false;
    }
    require_keyring(what);
    true
}

/// The frame of an engine bench whose registrations go to the Secret Service: under `cargo
/// bench` only ([`bench_mode`]), with a keyring ([`require_keyring`]), its `title` printed
/// ([`print_header`]), then `bench` on a tokio runtime with the bundled identity server.
pub fn with_keyring_and_idp<F, Fut>(name: &str, title: &str, bench: F)
where
    F: FnOnce(dcr_tests::Idp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if !bench_mode(name) {
        return;
    }
    require_keyring(&format!("the {name} bench"));
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async {
        print_header(title);
        bench(dcr_tests::Idp::start().await).await;
    });
}

/// `DCR_BENCH_QUICK=1`: a few iterations only, to check that a bench runs at all.
pub fn quick() -> bool {
    std::env::var("DCR_BENCH_QUICK").as_deref() == Ok("1")
}

/// `full` iterations, or a handful in quick mode.
pub fn iterations(full: usize) -> usize {
    if quick() {
        full.min(3)
    } else {
        full
    }
}

/// Order statistics of one series of samples.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub n: usize,
    pub median: Duration,
    pub p95: Duration,
    pub min: Duration,
    pub mean: Duration,
}

impl Stats {
    pub fn of(samples: &[Duration]) -> Stats {
        assert!(!samples.is_empty(), "no samples");
        let mut sorted = samples.to_vec();
        sorted.sort();
        let n = sorted.len();
        // Nearest-rank percentiles.
        let rank = |p: f64| sorted[((p * n as f64).ceil() as usize).clamp(1, n) - 1];
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2
        };
        Stats {
            n,
            median,
            p95: rank(0.95),
            min: sorted[0],
            mean: sorted.iter().sum::<Duration>() / n as u32,
        }
    }
}

/// Collects named series and prints them as one markdown table.
#[derive(Default)]
pub struct Table {
    rows: Vec<(String, Stats)>,
}

impl Table {
    pub fn new() -> Table {
        Table::default()
    }

    pub fn add(&mut self, name: impl Into<String>, samples: &[Duration]) -> Stats {
        let stats = Stats::of(samples);
        self.rows.push((name.into(), stats));
        stats
    }

    pub fn print(&self, title: &str) {
        println!("\n### {title}\n");
        println!("| measurement | n | median | p95 | min | mean |");
        println!("|---|---:|---:|---:|---:|---:|");
        for (name, s) in &self.rows {
            println!(
                "| {name} | {} | {} | {} | {} | {} |",
                s.n,
                fmt(s.median),
                fmt(s.p95),
                fmt(s.min),
                fmt(s.mean)
            );
        }
    }
}

/// A duration with three significant digits in a fitting unit.
pub fn fmt(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    let (value, unit) = if ns < 1e3 {
        (ns, "ns")
    } else if ns < 1e6 {
        (ns / 1e3, "µs")
    } else if ns < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.digits$} {unit}")
}

/// `a / b` of two medians, e.g. "41.3×".
pub fn ratio(a: Duration, b: Duration) -> String {
    if b.is_zero() {
        return "n/a".into();
    }
    format!("{:.1}×", a.as_secs_f64() / b.as_secs_f64())
}

/// Times `batch` calls of `f`, per call.
fn time_batch(batch: usize, f: &mut impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..batch {
        f();
    }
    start.elapsed() / batch as u32
}

/// Measures `subject` and `baseline` interleaved: `warmup` untimed rounds, then `samples`
/// rounds, each timing `batch` calls of one and `batch` calls of the other (the order flips
/// every round). Returns per-call samples `(subject, baseline)`.
pub fn paired(
    warmup: usize,
    samples: usize,
    batch: usize,
    mut subject: impl FnMut(),
    mut baseline: impl FnMut(),
) -> (Vec<Duration>, Vec<Duration>) {
    for _ in 0..warmup {
        time_batch(batch, &mut subject);
        time_batch(batch, &mut baseline);
    }
    let (mut a, mut b) = (Vec::with_capacity(samples), Vec::with_capacity(samples));
    for round in 0..samples {
        if round % 2 == 0 {
            a.push(time_batch(batch, &mut subject));
            b.push(time_batch(batch, &mut baseline));
        } else {
            b.push(time_batch(batch, &mut baseline));
            a.push(time_batch(batch, &mut subject));
        }
    }
    (a, b)
}

/// Fails with a clear message unless the D-Bus session with an unlocked gnome-keyring that
/// scripts/bench.sh starts is there.
pub fn require_keyring(bench: &str) {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "{bench} needs the Secret Service: run it through scripts/bench.sh, which starts a \
         D-Bus session with a throwaway unlocked gnome-keyring"
    );
}

/// Prints the profile this binary was built with, so every result block says it.
pub fn print_header(title: &str) {
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release (cargo bench)"
    };
    println!("\n## {title}\n\nBuild profile of the measuring binary: {profile}.");
    if quick() {
        println!("DCR_BENCH_QUICK=1: a few iterations only; not for the write-up.");
    }
}
