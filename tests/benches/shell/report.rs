//! The shell bench's tables and charts (docs/benchmarks.md).

use std::time::Duration;

use crate::support::summary::{self, Row};
use crate::support::{fmt, Stats};
use crate::{chart, paint};
use dcr_tests::procs;

fn stats(samples: &[Duration]) -> Stats {
    Stats::of(samples)
}

fn ratio(a: f64, b: f64) -> f64 {
    a / b
}

fn verdict(ratio: f64, goal: f64) -> &'static str {
    if ratio <= goal {
        "met"
    } else {
        "**not met**"
    }
}

fn median_u64(values: &[u64]) -> u64 {
    let mut v = values.to_vec();
    v.sort_unstable();
    v[v.len() / 2]
}

pub struct Report {
    pub app_size: u64,
    pub bare_size: u64,
    pub names: [&'static str; 3],
    pub painted: [Vec<Duration>; 3],
    pub never: [usize; 3],
    pub pss: [Vec<u64>; 3],
    pub tree_names: [Vec<String>; 3],
    /// Each paint round's exec → paint per launch (`None`: not painted).
    pub paint_rounds: Vec<[Option<Duration>; 3]>,
    /// The bare app's first-screen tree PSS (KiB), one launch per sign-in round.
    pub bare_pss: Vec<u64>,
    pub to_home: Vec<Duration>,
    pub floor_total: Vec<Duration>,
    pub floor_redirects: Vec<Duration>,
    pub wd_first: Vec<u64>,
    pub wd_home: Vec<u64>,
    pub home_names: Vec<String>,
    pub phases: Vec<[Duration; 6]>,
}

pub fn report(r: Report) {
    let mb = |b: u64| format!("{:.2} MiB", b as f64 / 1048576.0);
    let size_ratio = ratio(r.app_size as f64, r.bare_size as f64);
    let median = |v: &[Duration]| (!v.is_empty()).then(|| stats(v));
    let paint: Vec<Option<Stats>> = r.painted.iter().map(|v| median(v)).collect();
    let (Some(ours), Some(base)) = (paint[0], paint[1]) else {
        panic!("a first screen never painted: {:?}", r.never);
    };
    let paint_ratio = ratio(ours.median.as_secs_f64(), base.median.as_secs_f64());
    let pss_ours = median_u64(&r.pss[0]);
    let pss_bare = median_u64(&r.pss[1]);
    let pss_ratio = ratio(pss_ours as f64, pss_bare as f64);
    let home = median_u64(&r.wd_home);
    // Against the bare app's first screen launched in the same rounds as the sign-ins.
    let pss_bare_signin = median_u64(&r.bare_pss);
    let home_ratio = ratio(home as f64, pss_bare_signin as f64);

    println!("\n### dcr-desktop against bare-tauri (release builds)\n");
    println!("| measure | dcr-desktop | bare-tauri | ratio | goal | |");
    println!("|---|---:|---:|---:|---:|---|");
    println!(
        "| binary size | {} | {} | {size_ratio:.2}× | ≤ 1.5× | {} |",
        mb(r.app_size),
        mb(r.bare_size),
        verdict(size_ratio, 1.5)
    );
    println!(
        "| exec → first screen painted, median (p95) | {} ({}) | {} ({}) | {paint_ratio:.2}× | ≤ 1.1× | {} |",
        fmt(ours.median),
        fmt(ours.p95),
        fmt(base.median),
        fmt(base.p95),
        verdict(paint_ratio, 1.1)
    );
    println!(
        "| tree PSS, first screen, median | {} | {} | {pss_ratio:.2}× | ≤ 1.2× | {} |",
        procs::mib(pss_ours),
        procs::mib(pss_bare),
        verdict(pss_ratio, 1.2)
    );
    println!(
        "| tree PSS, Home (app) vs first screen (bare, launched in the sign-in rounds), median | {} | {} | {home_ratio:.2}× | ≤ 1.2× | {} |",
        procs::mib(home),
        procs::mib(pss_bare_signin),
        verdict(home_ratio, 1.2)
    );
    println!(
        "\n{} launches of each, rotated (A B C, B C A, C A B, …); PSS read {} s after the paint. \
         Processes counted: {} (app), {} (bare).",
        r.painted[1].len(),
        paint::SETTLE.as_secs(),
        r.tree_names[0].join(", "),
        r.tree_names[1].join(", ")
    );

    println!("\n### The first screen does not wait on the network\n");
    println!("| launch | n | painted | median | p95 | min | tree PSS |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for i in [0, 2, 1] {
        let n = r.painted[i].len() + r.never[i];
        match paint[i] {
            Some(s) => println!(
                "| {} | {n} | {} | {} | {} | {} | {} |",
                r.names[i],
                r.painted[i].len(),
                fmt(s.median),
                fmt(s.p95),
                fmt(s.min),
                procs::mib(median_u64(&r.pss[i]))
            ),
            None => println!("| {} | {n} | 0 | never | | | |", r.names[i]),
        }
    }
    if let Some(dead) = paint[2] {
        println!(
            "\nIssuer never answering vs up: {:.2}× (median).",
            dead.median.as_secs_f64() / ours.median.as_secs_f64()
        );
    }

    let app = stats(&r.to_home);
    let total = stats(&r.floor_total);
    let redirects = stats(&r.floor_redirects);
    let home_goal = ratio(app.median.as_secs_f64(), total.median.as_secs_f64());
    println!("\n### Password submit to Home (first run: registration + SSO sign-in)\n");
    println!("| path | n | median | p95 | min | app ÷ this |");
    println!("|---|---:|---:|---:|---:|---:|");
    println!(
        "| dcr-desktop: submit in the sign-in window → Home painted | {} | {} | {} | {} | |",
        app.n,
        fmt(app.median),
        fmt(app.p95),
        fmt(app.min)
    );
    println!(
        "| floor: the same first run by hand (HTTP client), password POST → second token response | {} | {} | {} | {} | {home_goal:.2}× |",
        total.n,
        fmt(total.median),
        fmt(total.p95),
        fmt(total.min)
    );
    println!(
        "| of which the two browser legs' redirects | {} | {} | {} | {} | {:.2}× |",
        redirects.n,
        fmt(redirects.median),
        fmt(redirects.p95),
        fmt(redirects.min),
        app.median.as_secs_f64() / redirects.median.as_secs_f64()
    );
    println!(
        "\nGoal ≤ 1.5× the floor: {home_goal:.2}×, {}. PSS under WebDriver in the same runs: \
         first screen {}, Home {} (processes: {}).",
        verdict(home_goal, 1.5),
        procs::mib(median_u64(&r.wd_first)),
        procs::mib(home),
        r.home_names.join(", ")
    );

    if !r.phases.is_empty() {
        println!(
            "\n#### Where the app's time goes, submit → Home (medians of {} runs; engine log lines + page stamps)\n",
            r.phases.len()
        );
        println!("| phase | median | min |");
        println!("|---|---:|---:|");
        let names = [
            "password leg (WebKit + server redirects), code exchange, RFC 7591 registration, keychain save",
            "registered → SSO request sent to the window",
            "SSO leg in the sign-in window, code exchange, key set, UserInfo, ID-token checks",
            "signed in → the signed-in state event in the page (state published over IPC, then the sign-in window closes)",
            "state event → Home in the DOM (the UI draws Home from the event, not from the reply behind it)",
            "Home in the DOM → painted (the next animation frame)",
        ];
        for (i, name) in names.iter().enumerate() {
            let s = stats(&r.phases.iter().map(|p| p[i]).collect::<Vec<_>>());
            println!("| {name} | {} | {} |", fmt(s.median), fmt(s.min));
        }
    }

    record_summary(&r);

    chart::write(
        "shell-vs-bare.svg",
        "dcr-desktop ÷ bare-tauri (bar) and the goal (line)",
        &[
            ("binary size", size_ratio, 1.5),
            ("first paint", paint_ratio, 1.1),
            ("PSS, first screen", pss_ratio, 1.2),
            ("PSS, Home", home_ratio, 1.2),
        ],
    );
    chart::write(
        "password-to-home.svg",
        "password submit → Home ÷ the HTTP floor (bar) and the goal (line)",
        &[("app ÷ floor", home_goal, 1.5)],
    );
}

/// Goals a–d for the run's summary table, each from its own rounds (`support::summary`).
fn record_summary(r: &Report) {
    let ms = |v: &[Duration]| -> Vec<f64> { v.iter().map(|d| d.as_secs_f64() * 1e3).collect() };
    let mib = |v: &[u64]| -> Vec<f64> { v.iter().map(|&k| k as f64 / 1024.0).collect() };
    summary::record(Row {
        id: "a",
        ratio: "password submit → Home painted ÷ the identity server's own time for the same first run (HTTP floor)",
        subject: "dcr-desktop (release, embedded)",
        baseline: "floor: HTTP client",
        unit: "ms",
        subject_samples: &ms(&r.to_home),
        baseline_samples: &ms(&r.floor_total),
        goal: 1.5,
        bench: "shell",
    });
    summary::record(Row {
        id: "b",
        ratio: "release binary size ÷ bare Tauri app's (same profile)",
        subject: "dcr-desktop",
        baseline: "bare-tauri",
        unit: "MiB",
        subject_samples: &[r.app_size as f64 / 1048576.0],
        baseline_samples: &[r.bare_size as f64 / 1048576.0],
        goal: 1.5,
        bench: "shell",
    });
    // Rounds where both painted; a launch that never painted is in the bench's own table.
    let (app, bare): (Vec<Duration>, Vec<Duration>) = r
        .paint_rounds
        .iter()
        .filter_map(|round| round[0].zip(round[1]))
        .unzip();
    summary::record(Row {
        id: "c",
        ratio: "exec → first screen painted ÷ bare Tauri app's",
        subject: "dcr-desktop, identity server up",
        baseline: "bare-tauri",
        unit: "ms",
        subject_samples: &ms(&app),
        baseline_samples: &ms(&bare),
        goal: 1.1,
        bench: "shell",
    });
    summary::record(Row {
        id: "d",
        ratio: "process-tree PSS on Home ÷ bare Tauri app's on its screen",
        subject: "dcr-desktop on Home (under WebDriver)",
        baseline: "bare-tauri, first screen",
        unit: "MiB",
        subject_samples: &mib(&r.wd_home),
        baseline_samples: &mib(&r.bare_pss),
        goal: 1.2,
        bench: "shell",
    });
}
