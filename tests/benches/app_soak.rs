//! Soak through the desktop app: 200 consecutive lifecycles through the app's own
//! commands — first run (`register`: registration login, RFC 7591, keychain, SSO sign-in) →
//! `refresh` → `sign_out` → `forget_device` — in one running app, twice:
//!
//! 1. **Loopback mode, debug build** (`DCR_APP_BINARY`, as the tests build it): each command
//!    invoked over the app's real IPC from its webview (`window.__TAURI__.core.invoke`, through
//!    WebDriver), exactly as the UI calls it. The app in loopback mode (`userAgent: "loopback"`,
//!    RFC 8252 §7.3) is a shipped configuration whose browser steps run in "the user's
//!    browser": here the e2e tests' `BROWSER` shim plus the scripted browser, over HTTP, which
//!    finishes each step at the app's loopback listener. Every engine, keychain, shell and IPC
//!    path runs, but not the embedded sign-in window.
//! 2. **Embedded mode, release build** (`DCR_SHELL_APP`, default
//!    `$CARGO_TARGET_DIR/release/dcr-desktop`, which scripts/bench.sh builds): the shipped
//!    binary in the default mode, driven as a person drives it: Register, the password typed
//!    into the identity server's form in the app's own sign-in window, Home; Refresh; Sign out
//!    (confirming in the sign-in window when the server asks); then `forget_device` over IPC
//!    and the page reloaded (see [`embedded_lifecycle`]). So the sign-in windows and their web
//!    views, created and destroyed every lifecycle, are in the figures too.
//!
//! Why not a unit-level soak: the commands need a live Tauri app (`State<Shell>`, an
//! `AppHandle` for the events), and Tauri's mock runtime would need the `test` feature, a second
//! build of Tauri on two shared cores.
//!
//! Memory (the app process's RSS, its process tree's RSS and PSS) every 10 lifecycles; a leak
//! is judged by the least-squares slope of the app process's RSS over the lifecycle number,
//! after a warm-up of the first quarter of the runs (`measure::soak`). A failed command is
//! counted and the soak carries on; in the embedded part a window step that cannot be driven
//! at all (the harness panics) stops the bench.
//!
//! A benchmark, not a test: scripts/bench.sh runs it (display, D-Bus, keyring, DCR_APP_BINARY,
//! the release app). `DCR_SOAK_RUNS=N` changes the number of lifecycles of each part.

mod measure;
mod support;

use std::sync::Arc;

use dcr_tests::app::{
    current_state, launch_with_browser, register_through_ui, sign_out_through_ui, write_config,
};
use dcr_tests::browser_shim::BrowserShim;
use dcr_tests::desktop::{app_binary, Desktop};
use dcr_tests::loopback::LoopbackBrowser;
use dcr_tests::{procs, Idp, ScriptedBrowser};
use fantoccini::wd::WindowHandle;
use measure::soak::Soak;
use serde_json::{json, Value};

const RUNS: usize = 200;
/// Memory is sampled after every this many lifecycles: 21 samples over 200, for the fit.
const EVERY: usize = 10;

/// Invokes one of the app's commands from its webview and returns its answer (`{ok}` or
/// `{error}`).
async fn invoke(desktop: &Desktop, command: &str) -> Value {
    desktop
        .eval_async(&format!(
            "const done = arguments[arguments.length - 1];
             window.__TAURI__.core.invoke('{command}').then((v) => done({{ ok: v }}), (e) => done({{ error: e }}));"
        ))
        .await
}

fn expect(answer: &Value, step: &str, key: &str, value: &str) -> Result<(), String> {
    if answer["ok"][key] == value {
        Ok(())
    } else {
        Err(format!("{step}: {answer}"))
    }
}

/// One lifecycle; `opened` counts the URLs the app has opened in "the browser" so far.
async fn lifecycle(
    desktop: &Desktop,
    shim: &BrowserShim,
    browser: &Arc<ScriptedBrowser>,
    opened: usize,
) -> Result<(), String> {
    let steps = async {
        play(shim, browser, opened + 1).await?;
        play(shim, browser, opened + 2).await
    };
    let (answer, steps) = tokio::join!(invoke(desktop, "register"), steps);
    steps?;
    expect(&answer, "register", "state", "signedIn")?;
    expect(
        &invoke(desktop, "refresh").await,
        "refresh",
        "lastEvent",
        "refreshed",
    )?;
    let (answer, step) = tokio::join!(invoke(desktop, "sign_out"), play(shim, browser, opened + 3));
    step?;
    expect(&answer, "sign_out", "lastEvent", "signedOut")?;
    let answer = invoke(desktop, "forget_device").await;
    expect(&answer, "forget_device", "lastEvent", "forgotten")?;
    expect(&answer, "forget_device", "state", "unregistered")
}

/// One browser step in the user's browser (shared across the lifecycle: its SSO session makes
/// the second step of the first run need no password).
async fn play(shim: &BrowserShim, browser: &Arc<ScriptedBrowser>, n: usize) -> Result<(), String> {
    let url = shim.wait_for(n).await;
    let delivery = LoopbackBrowser::play(browser.clone(), url).await;
    match (delivery.error, delivery.status) {
        (None, Some(200)) => Ok(()),
        (error, status) => Err(format!("browser step {n}: {error:?} (HTTP {status:?})")),
    }
}

/// One lifecycle in the embedded mode, through the UI as a person clicks it. Only forgetting
/// goes over IPC: the Sign-in screen has no Forget button (Home has), and the UI follows only the
/// commands it started itself (another command's progress event leaves it on that command's
/// progress screen), so the page is reloaded afterwards, which shows the first screen again.
async fn embedded_lifecycle(desktop: &Desktop, main: &WindowHandle) -> Result<(), String> {
    register_through_ui(desktop, main).await;
    let state = current_state(desktop).await;
    if state["state"] != "signedIn" {
        return Err(format!("register: {state}"));
    }
    desktop.click("#refresh").await;
    desktop
        .wait_for_text("#notice", "The access token was refreshed")
        .await;
    let state = current_state(desktop).await;
    if state["lastEvent"] != "refreshed" {
        return Err(format!("refresh: {state}"));
    }
    sign_out_through_ui(desktop, main).await;
    let state = current_state(desktop).await;
    if state["lastEvent"] != "signedOut" {
        return Err(format!("sign_out: {state}"));
    }
    let answer = invoke(desktop, "forget_device").await;
    expect(&answer, "forget_device", "lastEvent", "forgotten")?;
    expect(&answer, "forget_device", "state", "unregistered")?;
    reload(desktop).await;
    Ok(())
}

/// Reloads the main window's page and waits for the first screen.
async fn reload(desktop: &Desktop) {
    desktop
        .client
        .refresh()
        .await
        .unwrap_or_else(|error| panic!("cannot reload the page: {error}"));
    desktop.find("#register").await;
}

/// The release build: `DCR_SHELL_APP`, else `$CARGO_TARGET_DIR/release/dcr-desktop`.
fn release_binary() -> std::path::PathBuf {
    let path = std::env::var_os("DCR_SHELL_APP")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| dcr_tests::repo_root().join("target"))
                .join("release/dcr-desktop")
        });
    assert!(
        path.is_file(),
        "{} is missing: `cargo build --release -p dcr-desktop` (scripts/bench.sh builds it)",
        path.display()
    );
    path
}

fn sample(app: u32) -> Vec<u64> {
    let tree = procs::tree_memory(app);
    vec![procs::rss_kib(Some(app)), tree.rss, tree.pss]
}

const COLUMNS: [&str; 3] = ["app process RSS", "tree RSS (with WebKit)", "tree PSS"];

fn main() {
    if !support::desktop_bench("app_soak", "the app soak") {
        return;
    }
    let runs = measure::soak::runs(RUNS);
    // In the run of 2026-11-27 the app's RSS rose from 163.6 to 167.0 MiB within the first 50
    // lifecycles (the first sign-ins load the engine's and WebKit's lazily built state): the
    // first quarter is warm-up, not fitted.
    let warmup = runs / 4;
    let release = release_binary();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async {
        support::print_header("Soak: lifecycles through the desktop app's commands");
        loopback_debug(runs, warmup).await;
        embedded_release(&release, runs, warmup).await;
    });
}

/// Part 1: the debug build in loopback mode, every command over IPC.
async fn loopback_debug(runs: usize, warmup: usize) {
    println!("\n### Loopback mode, debug build\n");
    measure::print_load("before");
    println!("App binary: `{}`.", app_binary().display());
    let idp = Idp::start().await;
    let config = write_config(&idp, json!({ "userAgent": "loopback" }));
    let shim = BrowserShim::new("app-soak", &idp);
    let desktop = launch_with_browser(&config, &shim).await;
    desktop.find("#register").await;
    let app = procs::running_binary(&app_binary()).expect("the app's process");
    let outcome = soak_loop(app, runs, warmup, async |_run| {
        let opened = shim.opened().len();
        let browser = Arc::new(ScriptedBrowser::new());
        let result = lifecycle(&desktop, &shim, &browser, opened).await;
        if result.is_err() {
            let _ = invoke(&desktop, "sign_out").await;
            let _ = invoke(&desktop, "forget_device").await;
        }
        result
    })
    .await;
    outcome
        .report(
            &idp,
            "including WebDriver and the shim's polling",
            &format!(
            "Soak: {runs} lifecycles through the app's commands (loopback, debug build), memory"
        ),
            "soak-app-rss",
        )
        .await;
    measure::print_load("after");
    desktop.close().await;
}

/// A soak's samples and how long its lifecycles took.
struct SoakOutcome {
    soak: Soak,
    runs: usize,
    took: std::time::Duration,
}

/// The loop both parts share: memory sampled before the first lifecycle and every `EVERY`
/// lifecycles, each lifecycle run by `lifecycle` (which puts the app back where a lifecycle
/// starts when it fails), and every failure recorded.
async fn soak_loop(
    app: u32,
    runs: usize,
    warmup: usize,
    mut lifecycle: impl AsyncFnMut(usize) -> Result<(), String>,
) -> SoakOutcome {
    let mut soak = Soak::new(EVERY, warmup);
    soak.sample(0, sample(app));
    let started = std::time::Instant::now();
    for run in 1..=runs {
        if let Err(what) = lifecycle(run).await {
            soak.fail(run, what);
        }
        if soak.due(run) {
            soak.sample(run, sample(app));
        }
    }
    SoakOutcome {
        soak,
        runs,
        took: started.elapsed(),
    }
}

impl SoakOutcome {
    /// The timing, the fit and its chart, and the clients left behind on the identity server.
    async fn report(&self, idp: &Idp, wall_includes: &str, title: &str, chart: &str) {
        println!(
            "\n{} lifecycles in {:.1} s ({:.0} ms each, wall, {wall_includes}).",
            self.runs,
            self.took.as_secs_f64(),
            self.took.as_secs_f64() * 1000.0 / self.runs as f64
        );
        self.soak.report(title, chart, self.runs, &COLUMNS);
        println!(
            "Clients left on the identity server: {}.",
            idp.admin_list_clients().await.len()
        );
    }
}

/// Part 2: the release build in the default embedded mode, the windows driven as a person would.
async fn embedded_release(release: &std::path::Path, runs: usize, warmup: usize) {
    println!("\n### Embedded mode (the default), release build\n");
    measure::print_load("before");
    println!("App binary: `{}`.", release.display());
    let idp = Idp::start().await;
    let config = write_config(&idp, json!({}));
    let config = config.to_str().expect("utf-8 path");
    let desktop = Desktop::launch_binary(release, &["--config", config], &[]).await;
    let main = desktop.main_window().await;
    desktop.find("#register").await;
    let app = procs::running_binary(release).expect("the app's process");
    let outcome = soak_loop(app, runs, warmup, async |_run| {
        let result = embedded_lifecycle(&desktop, &main).await;
        if result.is_err() {
            // Not `sign_out`: in this mode it may wait on a window step nobody drives here.
            // Forgetting needs no window and leaves the app unregistered.
            let _ = invoke(&desktop, "forget_device").await;
            reload(&desktop).await;
        }
        result
    })
    .await;
    outcome
        .report(
            &idp,
            "including WebDriver and its polling of the windows",
            &format!("Soak: {runs} lifecycles through the app (embedded, release build), memory"),
            "soak-app-release-embedded-rss",
        )
        .await;
    measure::print_load("after");
    desktop.close().await;
}
