//! What the comparison and soak benches (`peers.rs`, `soak.rs`, `app_soak.rs`) measure and draw:
//! process CPU time and small hand-written SVG charts for docs/benchmarks.md (memory is read
//! by the harness's `dcr_tests::procs`).
//! Kept apart from `support` (the shared timer) so the benches of other issues merge cleanly.

// Each bench target compiles this module and uses only part of it.
#![allow(dead_code)]

pub mod heap;
pub mod soak;
pub mod svg;

use std::path::PathBuf;
use std::time::Duration;

/// This process's CPU time so far, user + system, all threads (`getrusage(RUSAGE_SELF)`): the
/// same call Node's `process.cpuUsage()` makes (libuv's `uv_getrusage`), so both sides of the
/// peer comparison are measured alike.
pub fn process_cpu() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(rc, 0, "getrusage failed");
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Where the charts go: `$DCR_BENCH_CHARTS`, which scripts/bench.sh sets to the run's own
/// folder, `docs/bench-results/<date>/`, beside its `results.md`; else `target/bench-charts`
/// under the repository (a bench run by hand).
pub fn chart_dir() -> PathBuf {
    let dir = std::env::var_os("DCR_BENCH_CHARTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| dcr_tests::repo_root().join("target/bench-charts"));
    std::fs::create_dir_all(&dir).expect("cannot create the chart folder");
    dir
}

/// Writes `svg` as `<chart_dir>/<name>.svg` and prints a Markdown image of it, linked by file
/// name: `results.md` sits in the same folder as the charts.
pub fn write_chart(name: &str, alt: &str, svg: &str) {
    let file = format!("{name}.svg");
    std::fs::write(chart_dir().join(&file), svg).expect("cannot write the chart");
    println!("\n![{alt}]({file})\n");
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Nearest-rank percentile of `values` (sorted here).
pub fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let n = sorted.len();
    sorted[((p * n as f64).ceil() as usize).clamp(1, n) - 1]
}

pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// The machine and its load, for each result block (the machine is shared).
pub fn print_load(when: &str) {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    println!("Load average {when}: {}.", load.join(" "));
}
