//! The soak's bookkeeping: resident memory sampled every [`EVERY`] runs, failures counted (and
//! the soak carried on), a table, and the chart. Goal: zero failures and flat memory,
//! the last sample within 5 % of the one after the 100th run.

use super::svg::{line_chart, Series};
use super::{mib, write_chart};

pub const EVERY: usize = 50;
pub const FLAT: f64 = 0.05;

#[derive(Default)]
pub struct Soak {
    /// (runs done, KiB per measured process) — one column per process name.
    pub samples: Vec<(usize, Vec<u64>)>,
    pub failures: Vec<(usize, String)>,
}

impl Soak {
    pub fn sample(&mut self, runs: usize, kib: Vec<u64>) {
        self.samples.push((runs, kib));
    }

    pub fn fail(&mut self, run: usize, what: String) {
        println!("run {run} failed: {what}");
        self.failures.push((run, what));
    }

    /// Prints the table and writes `<chart>.svg`. `columns` names each sampled figure; the
    /// goal is judged on the first.
    pub fn report(&self, title: &str, chart: &str, runs: usize, columns: &[&str]) {
        println!("\n### {title}\n");
        println!("{runs} lifecycles, {} failed.\n", self.failures.len());
        println!("| after run | {} |", columns.join(" | "));
        println!("|---:|{}", "---:|".repeat(columns.len()));
        for (run, kib) in &self.samples {
            let cells: Vec<String> = kib.iter().map(|k| format!("{:.1} MiB", mib(*k))).collect();
            println!("| {run} | {} |", cells.join(" | "));
        }
        let at = |run: usize| {
            self.samples
                .iter()
                .find(|(r, _)| *r == run)
                .map(|(_, k)| k[0] as f64)
        };
        let last = self.samples.last().map(|(_, k)| k[0] as f64);
        if let (Some(reference), Some(last)) = (at(100), last) {
            let drift = (last - reference) / reference;
            println!(
                "\n{}: last sample {:.1} MiB vs {:.1} MiB after run 100: {:+.1} % (goal within ±{:.0} %: {}). Failures: {} (goal 0: {}).",
                columns[0],
                last / 1024.0,
                reference / 1024.0,
                drift * 100.0,
                FLAT * 100.0,
                if drift.abs() <= FLAT { "met" } else { "NOT met" },
                self.failures.len(),
                if self.failures.is_empty() { "met" } else { "NOT met" }
            );
        }
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
        write_chart(
            chart,
            &line_chart(
                title,
                "lifecycles done",
                "RSS, MiB",
                &series,
                at(100).map(|r| (r / 1024.0, FLAT)),
            ),
        );
    }
}
