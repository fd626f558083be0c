//! The soak's bookkeeping: resident memory sampled every few runs, failures counted (and the
//! soak carried on), a table, the leak verdict, and the chart.
//!
//! A leak is judged by the slope: an ordinary least-squares line of each memory figure over
//! the lifecycle number (`dcr_tests::stats::least_squares`), fitted to the samples after a
//! warm-up prefix, in bytes per lifecycle. The first column is judged against
//! [`LEAK_BOUND`]; why that bound is in docs/benchmarks.md ("Soaks: a leak is a slope").

use dcr_tests::stats::{least_squares, Fit};

use super::svg::{line_chart, Series, Trend};
use super::{mib, write_chart};

/// The largest growth of the judged figure, in bytes per lifecycle, that still counts as flat.
/// A leak of a few hundred bytes per lifecycle is at least twice this; over the 900 fitted
/// lifecycles of the engine soak this bound is 88 KiB in total, 22 pages of the 4 KiB that RSS
/// moves by, so a run resolves it. Explained in docs/benchmarks.md.
pub const LEAK_BOUND: f64 = 100.0;

/// The number of lifecycles: `DCR_SOAK_RUNS` when set (a shorter check of the soak itself, or a
/// longer soak), else 100 with `DCR_BENCH_QUICK=1`, else `full`.
pub fn runs(full: usize) -> usize {
    if let Ok(value) = std::env::var("DCR_SOAK_RUNS") {
        return value
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .unwrap_or_else(|| panic!("DCR_SOAK_RUNS={value:?}: expected a positive number"));
    }
    if std::env::var("DCR_BENCH_QUICK").as_deref() == Ok("1") {
        full.min(100)
    } else {
        full
    }
}

pub struct Soak {
    /// Memory is sampled after every `every`-th run (and before the first).
    every: usize,
    /// Samples taken before this many runs are warm-up and not fitted.
    warmup: usize,
    /// (runs done, KiB per measured figure) — one column per figure.
    samples: Vec<(usize, Vec<u64>)>,
    failures: Vec<(usize, String)>,
}

/// One figure's fit, in bytes per lifecycle.
struct Slope {
    fit: Fit,
    /// The fitted line's growth over the fitted runs, in bytes.
    total: f64,
}

/// How a slope compares with [`LEAK_BOUND`], given its standard error: the slope ± 2 standard
/// errors (about 95 %) must lie wholly on one side of the bound for a verdict.
#[derive(Debug, PartialEq)]
enum Verdict {
    Met,
    NotMet,
    /// The interval straddles the bound (or there is no standard error, with two samples): the
    /// run had too few lifecycles or too much noise to tell.
    Unresolved,
}

fn verdict(fit: &Fit) -> Verdict {
    let Some(error) = fit.slope_error else {
        return Verdict::Unresolved;
    };
    if fit.slope + 2.0 * error <= LEAK_BOUND {
        Verdict::Met
    } else if fit.slope - 2.0 * error > LEAK_BOUND {
        Verdict::NotMet
    } else {
        Verdict::Unresolved
    }
}

impl Soak {
    /// A soak that samples every `every` runs and fits from run `warmup` on (rounded up to a
    /// sampled run, so no warm-up sample is ever fitted).
    pub fn new(every: usize, warmup: usize) -> Soak {
        assert!(every > 0, "sample at least every run");
        Soak {
            every,
            warmup: warmup.div_ceil(every) * every,
            samples: Vec::new(),
            failures: Vec::new(),
        }
    }

    /// Whether memory is sampled after run `run`.
    pub fn due(&self, run: usize) -> bool {
        run.is_multiple_of(self.every)
    }

    pub fn sample(&mut self, runs: usize, kib: Vec<u64>) {
        self.samples.push((runs, kib));
    }

    pub fn fail(&mut self, run: usize, what: String) {
        println!("run {run} failed: {what}");
        self.failures.push((run, what));
    }

    /// Bytes of column `i` over lifecycle number, from the warm-up on.
    fn slope(&self, i: usize) -> Option<Slope> {
        let points: Vec<(f64, f64)> = self
            .samples
            .iter()
            .filter(|(run, _)| *run >= self.warmup)
            .map(|(run, kib)| (*run as f64, kib[i] as f64 * 1024.0))
            .collect();
        let fit = least_squares(&points)?;
        let span = points.last()?.0 - points.first()?.0;
        Some(Slope {
            fit,
            total: fit.slope * span,
        })
    }

    /// Prints the samples, the fitted slopes and the verdicts, and writes `<chart>.svg`.
    /// `columns` names each sampled figure; the leak goal is judged on the first.
    pub fn report(&self, title: &str, chart: &str, runs: usize, columns: &[&str]) {
        println!("\n### {title}\n");
        println!("{runs} lifecycles, {} failed.\n", self.failures.len());
        println!("| after run | {} |", columns.join(" | "));
        println!("|---:|{}", "---:|".repeat(columns.len()));
        for (run, kib) in &self.samples {
            let cells: Vec<String> = kib.iter().map(|k| format!("{:.3} MiB", mib(*k))).collect();
            println!("| {run} | {} |", cells.join(" | "));
        }
        let fitted = self
            .samples
            .iter()
            .filter(|(run, _)| *run >= self.warmup)
            .count();
        println!(
            "\nLeast-squares slope of each figure over the lifecycle number, fitted to the {fitted} samples from run {} on (runs before {} are warm-up); bound for the first: {LEAK_BOUND:.0} bytes per lifecycle.\n",
            self.warmup, self.warmup
        );
        println!("| figure | slope, bytes per lifecycle | ± standard error | fitted growth over the fitted runs | verdict |");
        println!("|---|---:|---:|---:|---|");
        let slopes: Vec<Option<Slope>> = (0..columns.len()).map(|i| self.slope(i)).collect();
        for (i, (name, slope)) in columns.iter().zip(&slopes).enumerate() {
            let Some(s) = slope else {
                println!("| {name} | (too few samples after the warm-up) | | | |");
                continue;
            };
            let judged = if i == 0 {
                match verdict(&s.fit) {
                    Verdict::Met => format!("slope + 2 standard errors ≤ {LEAK_BOUND:.0}: met"),
                    Verdict::NotMet => {
                        format!("slope − 2 standard errors > {LEAK_BOUND:.0}: **NOT met**")
                    }
                    Verdict::Unresolved => format!(
                        "slope ± 2 standard errors straddles {LEAK_BOUND:.0}: **unresolved** (more lifecycles needed)"
                    ),
                }
            } else {
                "not judged (shown for reference)".to_owned()
            };
            println!(
                "| {name} | {:+.1} | {} | {:+.1} KiB | {judged} |",
                s.fit.slope,
                s.fit
                    .slope_error
                    .map_or("n/a".to_owned(), |e| format!("{e:.1}")),
                s.total / 1024.0,
            );
        }
        println!(
            "\nFailures: {} (goal 0: {}).",
            self.failures.len(),
            if self.failures.is_empty() {
                "met"
            } else {
                "NOT met"
            }
        );
        let series: Vec<Series> = columns
            .iter()
            .enumerate()
            .map(|(i, name)| Series {
                name: name.to_string(),
                points: self
                    .samples
                    .iter()
                    .map(|(run, kib)| (*run as f64, mib(kib[i])))
                    .collect(),
            })
            .collect();
        let trends: Vec<Option<Trend>> = slopes
            .iter()
            .map(|slope| {
                slope.as_ref().map(|s| Trend {
                    from: self.warmup as f64,
                    to: self.samples.last().map_or(0.0, |(run, _)| *run as f64),
                    intercept: s.fit.intercept / (1024.0 * 1024.0),
                    slope: s.fit.slope / (1024.0 * 1024.0),
                })
            })
            .collect();
        write_chart(
            chart,
            title,
            &line_chart(
                title,
                "lifecycles done",
                "MiB",
                &series,
                Some(self.warmup as f64),
                &trends,
            ),
        );
    }
}
