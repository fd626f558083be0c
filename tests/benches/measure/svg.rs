//! Small hand-written SVG charts (no plotting crate, no network): a bar chart for a comparison
//! and a line chart for memory over a soak. Plain text, so they diff in review and render on
//! any forge.

use std::fmt::Write as _;

const W: f64 = 560.0;
const FONT: &str = "font-family=\"sans-serif\" font-size=\"12\"";
const COLOURS: [&str; 4] = ["#2b6cb0", "#c05621", "#2f855a", "#6b46c1"];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A "nice" upper bound for an axis: 1, 2, 2.5 or 5 times a power of ten, at least `max`.
fn nice_max(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|v| *v >= max)
        .unwrap_or(10.0 * power)
}

fn number(value: f64) -> String {
    let text = if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    };
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// One bar: label, value, and an optional (low, high) whisker (e.g. p5–p95).
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub whisker: Option<(f64, f64)>,
}

/// Horizontal bars with values printed at their ends; `goal` draws a dashed vertical line.
pub fn bar_chart(title: &str, unit: &str, bars: &[Bar], goal: Option<(&str, f64)>) -> String {
    let row = 34.0;
    let (left, right, top) = (170.0, 70.0, 40.0);
    let height = top + row * bars.len() as f64 + 40.0;
    let max = bars
        .iter()
        .map(|b| b.whisker.map_or(b.value, |(_, hi)| hi.max(b.value)))
        .chain(goal.map(|(_, v)| v))
        .fold(0.0, f64::max);
    let max = nice_max(max);
    let plot = W - left - right;
    let x = |v: f64| left + plot * v / max;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{height}\" viewBox=\"0 0 {W} {height}\" {FONT}>\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{}</text>",
        10,
        escape(title)
    );
    for (i, bar) in bars.iter().enumerate() {
        let y = top + row * i as f64;
        let colour = COLOURS[i % COLOURS.len()];
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n\
             <rect x=\"{left}\" y=\"{}\" width=\"{:.1}\" height=\"20\" fill=\"{colour}\"/>",
            left - 8.0,
            y + 15.0,
            escape(&bar.label),
            y + 2.0,
            (x(bar.value) - left).max(1.0)
        );
        if let Some((lo, hi)) = bar.whisker {
            let mid = y + 12.0;
            let _ = writeln!(
                s,
                "<path d=\"M{:.1} {mid} H{:.1} M{:.1} {} V{} M{:.1} {} V{}\" stroke=\"#222\" fill=\"none\"/>",
                x(lo),
                x(hi),
                x(lo),
                mid - 5.0,
                mid + 5.0,
                x(hi),
                mid - 5.0,
                mid + 5.0
            );
        }
        let end = bar.whisker.map_or(bar.value, |(_, hi)| hi.max(bar.value));
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{}\">{} {}</text>",
            x(end) + 5.0,
            y + 15.0,
            number(bar.value),
            escape(unit)
        );
    }
    let axis_y = top + row * bars.len() as f64;
    let _ = writeln!(
        s,
        "<line x1=\"{left}\" y1=\"{axis_y}\" x2=\"{}\" y2=\"{axis_y}\" stroke=\"#888\"/>",
        left + plot
    );
    for k in 0..=4 {
        let v = max * k as f64 / 4.0;
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
            x(v),
            axis_y + 16.0,
            number(v)
        );
    }
    if let Some((label, value)) = goal {
        let _ = writeln!(
            s,
            "<line x1=\"{gx:.1}\" y1=\"{}\" x2=\"{gx:.1}\" y2=\"{axis_y}\" stroke=\"#c53030\" stroke-dasharray=\"5 4\"/>\n\
             <text x=\"{gx:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"#c53030\">{}</text>",
            top - 6.0,
            top - 9.0,
            escape(label),
            gx = x(value)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// One line: name and (x, y) points.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// Lines over a shared x axis; `band` shades y values within ±fraction of `reference` (the
/// soak's "flat" goal: within 5 % of the 100th run's sample).
/// A fitted straight line drawn over a series, in the chart's units: `intercept + slope · x`
/// from `from` to `to`.
pub struct Trend {
    pub from: f64,
    pub to: f64,
    pub intercept: f64,
    pub slope: f64,
}

/// Memory over a soak: one line per series; `warmup` shades the runs left out of the fit, and
/// `trends` (one per series, if fitted) draws each series' least-squares line, dashed.
pub fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    warmup: Option<f64>,
    trends: &[Option<Trend>],
) -> String {
    let (left, right, top, bottom) = (60.0, 20.0, 44.0, 44.0);
    let height = 300.0;
    let points = series.iter().flat_map(|s| s.points.iter());
    let x_max = nice_max(points.clone().map(|p| p.0).fold(0.0, f64::max));
    let y_top = points.map(|p| p.1).fold(0.0, f64::max);
    let y_max = nice_max(y_top * 1.1);
    let (pw, ph) = (W - left - right, height - top - bottom);
    let x = |v: f64| left + pw * v / x_max;
    let y = |v: f64| top + ph * (1.0 - v / y_max);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{height}\" viewBox=\"0 0 {W} {height}\" {FONT}>\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{}</text>",
        escape(title)
    );
    if let Some(end) = warmup.filter(|w| *w > 0.0) {
        let _ = writeln!(
            s,
            "<rect x=\"{left}\" y=\"{top}\" width=\"{:.1}\" height=\"{ph}\" fill=\"#edf2f7\"/>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#555\">warm-up (not fitted)</text>",
            x(end) - left,
            left + 4.0,
            top + ph - 6.0
        );
    }
    for k in 0..=4 {
        let v = y_max * k as f64 / 4.0;
        let _ = writeln!(
            s,
            "<line x1=\"{left}\" y1=\"{yy:.1}\" x2=\"{}\" y2=\"{yy:.1}\" stroke=\"#e2e2e2\"/>\n\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#555\">{}</text>",
            left + pw,
            left - 6.0,
            y(v) + 4.0,
            number(v),
            yy = y(v)
        );
        let xv = x_max * k as f64 / 4.0;
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
            x(xv),
            top + ph + 16.0,
            number(xv)
        );
    }
    let _ = writeln!(
        s,
        "<path d=\"M{left} {top} V{} H{}\" stroke=\"#888\" fill=\"none\"/>\n\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n\
         <text x=\"14\" y=\"{}\" transform=\"rotate(-90 14 {})\" text-anchor=\"middle\">{}</text>",
        top + ph,
        left + pw,
        left + pw / 2.0,
        height - 8.0,
        escape(x_label),
        top + ph / 2.0,
        top + ph / 2.0,
        escape(y_label)
    );
    for (i, line) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let path: Vec<String> = line
            .points
            .iter()
            .enumerate()
            .map(|(k, (px, py))| {
                format!(
                    "{}{:.1} {:.1}",
                    if k == 0 { "M" } else { "L" },
                    x(*px),
                    y(*py)
                )
            })
            .collect();
        let _ = writeln!(
            s,
            "<path d=\"{}\" stroke=\"{colour}\" stroke-width=\"2\" fill=\"none\"/>",
            path.join(" ")
        );
        if let Some(Some(trend)) = trends.get(i) {
            let _ = writeln!(
                s,
                "<path d=\"M{:.1} {:.1} L{:.1} {:.1}\" stroke=\"{colour}\" stroke-width=\"1\" stroke-dasharray=\"6 4\" fill=\"none\"/>",
                x(trend.from),
                y(trend.intercept + trend.slope * trend.from),
                x(trend.to),
                y(trend.intercept + trend.slope * trend.to)
            );
        }
        for (px, py) in &line.points {
            let _ = writeln!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"/>",
                x(*px),
                y(*py)
            );
        }
        // Legend in a row above the plot, each entry as wide as its text (about 7 px a letter).
        let offset: f64 = series[..i]
            .iter()
            .map(|l| 7.0 * l.name.chars().count() as f64 + 24.0)
            .sum();
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" fill=\"{colour}\">{}</text>",
            left + 10.0 + offset,
            top - 8.0,
            escape(&line.name)
        );
    }
    s.push_str("</svg>\n");
    s
}
