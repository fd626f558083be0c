//! The run's one summary table (docs/benchmarks.md, "The summary table"): every goal that is a
//! ratio of a subject to a baseline measured in the same run. A bench that measures one appends
//! it as one JSON line to `$DCR_BENCH_CHARTS/summary.jsonl` (scripts/bench.sh sets it to the
//! run's folder and empties the file first); at the end of the run `scripts/bench-summary.mjs`
//! turns the lines into the table at the end of `results.md` and the chart `summary.svg`.
//!
//! Each row carries the subject's and the baseline's median, the ratio of the medians (the judged
//! figure, as everywhere in the benches), and the spread of the per-round ratios: subject ÷
//! baseline within each round, the two measured next to each other in alternating order, so a
//! round slowed by other work on the machine shows as one outlier instead of moving both medians.

use std::io::Write as _;
use std::path::PathBuf;

/// What a bench reports for one goal.
pub struct Row<'a> {
    /// The goal's letter in docs/benchmarks.md (`a` … `e`), which orders the table.
    pub id: &'a str,
    /// What is divided by what, in words.
    pub ratio: &'a str,
    pub subject: &'a str,
    pub baseline: &'a str,
    /// The unit of the two medians (`ms`, `MiB`).
    pub unit: &'a str,
    /// One value per round for each side, in the same round order: `subject[i]` and
    /// `baseline[i]` were measured next to each other. A figure that does not vary (a file's
    /// size) is one value each.
    pub subject_samples: &'a [f64],
    pub baseline_samples: &'a [f64],
    /// The ratio of the medians must be at most this.
    pub goal: f64,
    /// The bench target that measured it.
    pub bench: &'a str,
}

fn median(values: &[f64]) -> f64 {
    quantile(values, 0.5)
}

/// Linear interpolation between the closest ranks (the median of an even count is the mean of
/// the two middle values, as `Stats::of` has it).
fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

fn path() -> PathBuf {
    let dir = std::env::var_os("DCR_BENCH_CHARTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| dcr_tests::repo_root().join("target/bench-charts"));
    std::fs::create_dir_all(&dir).expect("cannot create the charts folder");
    dir.join("summary.jsonl")
}

/// Appends `row` to the run's summary file and returns the ratio of the medians.
pub fn record(row: Row) -> f64 {
    let (subject, baseline) = (row.subject_samples, row.baseline_samples);
    assert!(
        !subject.is_empty() && subject.len() == baseline.len(),
        "{}: one subject and one baseline value per round ({} and {})",
        row.id,
        subject.len(),
        baseline.len()
    );
    let per_round: Vec<f64> = subject.iter().zip(baseline).map(|(s, b)| s / b).collect();
    let ratio = median(subject) / median(baseline);
    let line = serde_json::json!({
        "id": row.id,
        "ratio": row.ratio,
        "subject": row.subject,
        "baseline": row.baseline,
        "unit": row.unit,
        "rounds": subject.len(),
        "subject_median": median(subject),
        "baseline_median": median(baseline),
        "ratio_of_medians": ratio,
        "per_round": {
            "median": median(&per_round),
            "q1": quantile(&per_round, 0.25),
            "q3": quantile(&per_round, 0.75),
            "min": quantile(&per_round, 0.0),
            "max": quantile(&per_round, 1.0),
        },
        "goal": row.goal,
        "met": ratio <= row.goal,
        "bench": row.bench,
        "quick": super::quick(),
    });
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path())
        .expect("cannot open the summary file");
    writeln!(file, "{line}").expect("cannot write the summary file");
    ratio
}
