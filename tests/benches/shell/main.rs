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
//! both. Charts go to `DCR_BENCH_CHARTS` (scripts/bench.sh: the run's folder in docs/bench-results).

#[path = "../support/mod.rs"]
mod support;

mod chart;
mod floor;
mod paint;
mod report;
mod screen;
mod signin;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use dcr_tests::{repo_root, Idp};
use paint::Launch;

const PAINT_ROUNDS: usize = 10;
/// At least 10 for every ratio in the run's summary table (docs/benchmarks.md).
const SIGN_IN_ROUNDS: usize = 10;

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

fn main() {
    if !support::desktop_bench("shell", "the shell bench") {
        return;
    }
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "the shell bench needs DISPLAY (scripts/bench.sh starts Xvfb)"
    );
    let app = binary("DCR_SHELL_APP", "dcr-desktop");
    let bare = binary("DCR_SHELL_BARE", "bare-tauri");
    // dcr_tests::desktop launches DCR_APP_BINARY; set before any thread exists.
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
    // Per round, for the per-round ratios of the summary table.
    let mut paint_rounds: Vec<[Option<Duration>; 3]> = Vec::new();
    let rounds = support::iterations(PAINT_ROUNDS);
    for round in 0..rounds {
        let mut this_round = [None; 3];
        for k in 0..launches.len() {
            // A B C, then B C A, then C A B …: each launch goes first equally often.
            let i = (k + round) % launches.len();
            let m = launches[i].measure(&screen, &probes[i]);
            this_round[i] = m.painted;
            match m.painted {
                Some(t) => {
                    painted[i].push(t);
                    pss[i].push(m.pss);
                    tree_names[i] = m.names;
                }
                None => never[i] += 1,
            }
        }
        paint_rounds.push(this_round);
    }
    drop(tarpit);

    // 4. Password submit to Home, and PSS on Home; the floor on the same server, and the bare
    // app's first screen (the baseline of PSS on Home), rotated round by round.
    let mut to_home = Vec::new();
    let mut bare_pss = Vec::new();
    let (mut floor_total, mut floor_redirects) = (Vec::new(), Vec::new());
    let (mut wd_first, mut wd_home) = (Vec::new(), Vec::new());
    let mut home_names = Vec::new();
    let mut phases = Vec::new();
    for round in 0..support::iterations(SIGN_IN_ROUNDS) {
        let idp = signin::fresh_idp().await;
        let config = write_config(&format!("signin-{round}"), idp.issuer.as_str());
        // app, floor, bare; then floor, bare, app; then bare, app, floor …
        for k in 0..3 {
            match (k + round) % 3 {
                0 => {
                    let run = signin::first_run(app, &config, paint::SETTLE).await;
                    to_home.push(run.submit_to_home);
                    wd_first.push(run.pss_first);
                    wd_home.push(run.pss_home);
                    home_names = run.names;
                    phases.extend(run.phases);
                }
                1 => {
                    let f = floor::first_run(&idp).await;
                    floor_total.push(f.total);
                    floor_redirects.push(f.redirects);
                }
                _ => {
                    let m = launches[1].measure(&screen, &probes[1]);
                    assert!(m.painted.is_some(), "bare-tauri's page never painted");
                    bare_pss.push(m.pss);
                }
            }
        }
        let _ = std::fs::remove_dir_all(config.parent().expect("folder"));
    }
    drop(idp);
    for path in [&live, &dead] {
        let _ = std::fs::remove_dir_all(path.parent().expect("folder"));
    }

    report::report(report::Report {
        app_size,
        bare_size,
        names,
        painted,
        never,
        pss,
        tree_names,
        paint_rounds,
        bare_pss,
        to_home,
        floor_total,
        floor_redirects,
        wd_first,
        wd_home,
        home_names,
        phases,
    });
}
