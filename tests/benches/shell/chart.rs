//! A small self-contained SVG chart for the shell bench: one horizontal bar per ratio
//! (subject ÷ baseline), a mark at 1× (the baseline) and one at each row's goal. Written to
//! `DCR_BENCH_CHARTS`, which scripts/bench.sh sets to the run's folder
//! (`docs/bench-results/<date>/`, beside its `results.md`); by hand, `target/bench-charts`.

use std::fmt::Write as _;
use std::path::PathBuf;

use dcr_tests::repo_root;

pub fn dir() -> PathBuf {
    std::env::var_os("DCR_BENCH_CHARTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/bench-charts"))
}

/// `rows`: (label, ratio, goal).
pub fn write(file: &str, title: &str, rows: &[(&str, f64, f64)]) {
    let (label_w, plot_w, row_h, top) = (150.0, 420.0, 28.0, 34.0);
    let max = rows
        .iter()
        .flat_map(|(_, r, g)| [*r, *g])
        .fold(1.0_f64, f64::max)
        * 1.15;
    let x = |v: f64| label_w + v / max * plot_w;
    let height = top + row_h * rows.len() as f64 + 24.0;
    let width = label_w + plot_w + 70.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="8" y="18" font-size="13" fill="#1b1f27">{title}</text>
"##
    );
    for (i, (label, ratio, goal)) in rows.iter().enumerate() {
        let y = top + row_h * i as f64;
        let colour = if ratio <= goal { "#1f8a4c" } else { "#b42318" };
        let _ = write!(
            svg,
            r##"<text x="{lx}" y="{ty}" text-anchor="end" fill="#1b1f27">{label}</text>
<rect x="{x0}" y="{y}" width="{w:.1}" height="{bh}" fill="{colour}"/>
<text x="{tx:.1}" y="{ty}" fill="#1b1f27">{ratio:.2}×</text>
<line x1="{gx:.1}" x2="{gx:.1}" y1="{gy0}" y2="{gy1}" stroke="#1b1f27" stroke-width="2"/>
"##,
            lx = label_w - 8.0,
            ty = y + 15.0,
            x0 = label_w,
            w = x(*ratio) - label_w,
            bh = row_h - 8.0,
            tx = x(*ratio) + 4.0,
            gx = x(*goal),
            gy0 = y - 2.0,
            gy1 = y + row_h - 6.0,
        );
    }
    let base = top + row_h * rows.len() as f64;
    let _ = write!(
        svg,
        r##"<line x1="{x1:.1}" x2="{x1:.1}" y1="{top}" y2="{base}" stroke="#5b6372" stroke-dasharray="3 3"/>
<text x="{x1:.1}" y="{ly}" text-anchor="middle" fill="#5b6372">1× (baseline)</text>
</svg>
"##,
        x1 = x(1.0),
        ly = base + 16.0
    );
    let dir = dir();
    std::fs::create_dir_all(&dir).expect("the charts folder");
    std::fs::write(dir.join(file), svg).expect("write the chart");
    // A Markdown image linked by file name: results.md sits beside the charts.
    println!("\n![{title}]({file})\n");
}
