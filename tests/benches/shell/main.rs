//! The desktop shell against a bare Tauri app (`benches/bare-tauri`), both release builds, in
//! one run, alternating launches (docs/benchmarks.md, "The shell against a bare Tauri app" and
//! "Password submit to Home"):
//!
//! 1. Binary size.
//! 2. Exec to the first screen painted under Xvfb ([`paint`]), for the app with its identity
//!    server up, the bare app, and the app with an issuer that never answers (a listener that
//!    accepts nothing): the first screen must not wait on the network.
//! 3. Process-tree PSS on the first screen (both apps) and on Home (the app, after a signed-in
//!    first run through WebDriver, [`signin`]).
//! 4. Password submit to Home in the sign-in window, against the same first run by hand with an
//!    HTTP client ([`floor`]).
//!
//! Binaries: `DCR_SHELL_APP` (default `$CARGO_TARGET_DIR/release/dcr-desktop`) and
//! `DCR_SHELL_BARE` (default `$CARGO_TARGET_DIR/release/bare-tauri`); scripts/bench.sh builds
//! both. Charts go to `DCR_BENCH_CHARTS` (default docs/benchmarks/).

#[allow(dead_code)]
#[path = "../../tests/support/desktop.rs"]
mod desktop;
#[allow(dead_code)]
#[path = "../support/flows.rs"]
mod flows;
#[allow(dead_code)]
#[path = "../support/mod.rs"]
mod support;

mod chart;
mod floor;
mod paint;
mod procs;
mod screen;
mod signin;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use dcr_tests::{repo_root, Idp};
use paint::Launch;
use support::{fmt, Stats};

const PAINT_ROUNDS: usize = 10;
const SIGN_IN_ROUNDS: usize = 6;

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
}

fn binary(var: &str, name: &str) -> PathBuf {
    let path = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("release").join(name));
    assert!(
        path.is_file(),
        "{} is missing: `cargo build --release -p dcr-desktop -p bare-tauri` (scripts/bench.sh does)",
        path.display()
    );
    path
}

/// The app's config.json for `issuer`, in a folder of its own.
fn write_config(name: &str, issuer: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dcr-bench-shell-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a config folder");
    let path = dir.join("config.json");
    let config = serde_json::json!({
        "issuer": issuer.trim_end_matches('/'),
        "registrationClientID": "mobile-dcr-client",
        "redirectUri": "io.curity.dcrclient:/callback",
        "postLogoutRedirectUri": "io.curity.dcrclient:/logoutcallback",
        "scope": "openid profile"
    });
    std::fs::write(&path, config.to_string()).expect("write the config");
    path
}

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

fn main() {
    if !support::bench_mode("shell") {
        return;
    }
    if std::env::var("DCR_BENCH_SKIP_DESKTOP").as_deref() == Ok("1") {
        println!("shell: DCR_BENCH_SKIP_DESKTOP=1; skipped");
        return;
    }
    support::require_keyring("the shell bench");
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "the shell bench needs DISPLAY (scripts/bench.sh starts Xvfb)"
    );
    let app = binary("DCR_SHELL_APP", "dcr-desktop");
    let bare = binary("DCR_SHELL_BARE", "bare-tauri");
    // tests/tests/support/desktop.rs launches DCR_APP_BINARY; set before any thread exists.
    std::env::set_var("DCR_APP_BINARY", &app);
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(run(&app, &bare));
}

async fn run(app: &Path, bare: &Path) {
    support::print_header("The shell against a bare Tauri app");
    println!("\n`{}` against `{}`.", app.display(), bare.display());
    let idp = Idp::start().await;
    let live = write_config("live", idp.issuer.as_str());
    // An issuer that never answers: connections are queued by the kernel, never accepted.
    let tarpit = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let dead_issuer = format!(
        "http://127.0.0.1:{}/oauth/v2/oauth-anonymous",
        tarpit.local_addr().expect("port").port()
    );
    let dead = write_config("dead", &dead_issuer);
    let config_args = |path: &Path| vec!["--config".to_owned(), path.display().to_string()];
    let launches = [
        Launch {
            program: app,
            args: config_args(&live),
            colour: paint::APP_PRIMARY,
        },
        Launch {
            program: bare,
            args: Vec::new(),
            colour: paint::BARE_BACKGROUND,
        },
        Launch {
            program: app,
            args: config_args(&dead),
            colour: paint::APP_PRIMARY,
        },
    ];
    let names = [
        "dcr-desktop, identity server up",
        "bare-tauri (baseline)",
        "dcr-desktop, issuer never answers",
    ];

    // 1. Size.
    let size = |p: &Path| std::fs::metadata(p).expect("binary").len();
    let (app_size, bare_size) = (size(app), size(bare));

    // 2 and 3. First paint and first-screen PSS, launches rotated round by round.
    let screen = screen::Screen::open();
    let probes: Vec<_> = launches.iter().map(|l| l.calibrate(&screen)).collect();
    let mut painted: [Vec<Duration>; 3] = Default::default();
    let mut pss: [Vec<u64>; 3] = Default::default();
    let mut never: [usize; 3] = [0; 3];
    let mut tree_names: [Vec<String>; 3] = Default::default();
    let rounds = support::iterations(PAINT_ROUNDS);
    for round in 0..rounds {
        for k in 0..launches.len() {
            // A B C, then B C A, then C A B …: each launch goes first equally often.
            let i = (k + round) % launches.len();
            let m = launches[i].measure(&screen, &probes[i]);
            match m.painted {
                Some(t) => {
                    painted[i].push(t);
                    pss[i].push(m.pss);
                    tree_names[i] = m.names;
                }
                None => never[i] += 1,
            }
        }
    }
    drop(tarpit);

    // 4. Password submit to Home, and PSS on Home; the floor on the same server, alternating.
    let mut to_home = Vec::new();
    let (mut floor_total, mut floor_redirects) = (Vec::new(), Vec::new());
    let (mut wd_first, mut wd_home) = (Vec::new(), Vec::new());
    let mut home_names = Vec::new();
    let mut phases = Vec::new();
    for round in 0..support::iterations(SIGN_IN_ROUNDS) {
        let idp = signin::fresh_idp().await;
        let config = write_config(&format!("signin-{round}"), idp.issuer.as_str());
        let floor_first = round % 2 == 1;
        if floor_first {
            let f = floor::first_run(&idp).await;
            floor_total.push(f.total);
            floor_redirects.push(f.redirects);
        }
        let run = signin::first_run(app, &config, paint::SETTLE).await;
        to_home.push(run.submit_to_home);
        wd_first.push(run.pss_first);
        wd_home.push(run.pss_home);
        home_names = run.names;
        phases.extend(run.phases);
        if !floor_first {
            let f = floor::first_run(&idp).await;
            floor_total.push(f.total);
            floor_redirects.push(f.redirects);
        }
        let _ = std::fs::remove_dir_all(config.parent().expect("folder"));
    }
    drop(idp);
    for path in [&live, &dead] {
        let _ = std::fs::remove_dir_all(path.parent().expect("folder"));
    }

    report(Report {
        app_size,
        bare_size,
        names,
        painted,
        never,
        pss,
        tree_names,
        to_home,
        floor_total,
        floor_redirects,
        wd_first,
        wd_home,
        home_names,
        phases,
    });
}

struct Report {
    app_size: u64,
    bare_size: u64,
    names: [&'static str; 3],
    painted: [Vec<Duration>; 3],
    never: [usize; 3],
    pss: [Vec<u64>; 3],
    tree_names: [Vec<String>; 3],
    to_home: Vec<Duration>,
    floor_total: Vec<Duration>,
    floor_redirects: Vec<Duration>,
    wd_first: Vec<u64>,
    wd_home: Vec<u64>,
    home_names: Vec<String>,
    phases: Vec<[Duration; 6]>,
}

fn report(r: Report) {
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
    let home_ratio = ratio(home as f64, pss_bare as f64);

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
        "| tree PSS, Home (app) vs first screen (bare), median | {} | {} | {home_ratio:.2}× | ≤ 1.2× | {} |",
        procs::mib(home),
        procs::mib(pss_bare),
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
            "signed in → the signed-in state event in the page (sign-in window closed, state published over IPC)",
            "state event → Home in the DOM (the UI renders it when the command's reply arrives)",
            "Home in the DOM → painted (the next animation frame)",
        ];
        for (i, name) in names.iter().enumerate() {
            let s = stats(&r.phases.iter().map(|p| p[i]).collect::<Vec<_>>());
            println!("| {name} | {} | {} |", fmt(s.median), fmt(s.min));
        }
    }

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
