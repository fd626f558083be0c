//! Soak through the desktop app: 200 consecutive lifecycles through the app's own
//! commands — first run (`register`: registration login, RFC 7591, keychain, SSO sign-in) →
//! `refresh` → `sign_out` → `forget_device` — in one running app, each command invoked over the
//! app's real IPC from its webview (`window.__TAURI__.core.invoke`, through WebDriver), exactly
//! as the UI calls it.
//!
//! Why this way: the commands need a live Tauri app (`State<Shell>`, an `AppHandle` for the
//! events), and Tauri's mock runtime would need the `test` feature, a second build of Tauri on
//! two shared cores. The app in loopback mode (`userAgent: "loopback"`, RFC 8252 §7.3) is a
//! shipped configuration whose browser steps run in "the user's browser": here the e2e tests'
//! `BROWSER` shim plus the scripted browser, over HTTP, which finishes each step at the app's
//! loopback listener. So every engine, keychain, shell and IPC path the app ships runs, and no
//! login window has to be driven by hand. RSS of the app process (and of its WebKit process
//! tree) every 50 runs.
//!
//! A benchmark, not a test: scripts/bench.sh runs it (display, D-Bus, keyring, DCR_APP_BINARY).

mod measure;
mod support;

use std::sync::Arc;

use dcr_tests::app::{launch_with_browser, write_config};
use dcr_tests::browser_shim::BrowserShim;
use dcr_tests::desktop::{app_binary, Desktop};
use dcr_tests::loopback::LoopbackBrowser;
use dcr_tests::{procs, Idp, ScriptedBrowser};
use measure::soak::{Soak, EVERY};
use serde_json::{json, Value};

const RUNS: usize = 200;

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

fn sample(app: u32) -> Vec<u64> {
    let tree = procs::tree_memory(app);
    vec![procs::rss_kib(Some(app)), tree.rss, tree.pss]
}

fn main() {
    if !support::bench_mode("app_soak") {
        return;
    }
    support::require_keyring("the app soak");
    let runs = if support::quick() { 100 } else { RUNS };
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async {
        support::print_header("Soak: lifecycles through the desktop app's commands");
        measure::print_load("before");
        println!("App binary: `{}`.", app_binary().display());
        let idp = Idp::start().await;
        let config = write_config(&idp, json!({ "userAgent": "loopback" }));
        let shim = BrowserShim::new("app-soak", &idp);
        let desktop = launch_with_browser(&config, &shim).await;
        desktop.find("#register").await;
        let app = procs::running_binary(&app_binary()).expect("the app's process");
        let mut soak = Soak::default();
        soak.sample(0, sample(app));
        let started = std::time::Instant::now();
        for run in 1..=runs {
            let opened = shim.opened().len();
            let browser = Arc::new(ScriptedBrowser::new());
            if let Err(what) = lifecycle(&desktop, &shim, &browser, opened).await {
                soak.fail(run, what);
                let _ = invoke(&desktop, "sign_out").await;
                let _ = invoke(&desktop, "forget_device").await;
            }
            if run % EVERY == 0 {
                soak.sample(run, sample(app));
            }
        }
        println!(
            "\n{runs} lifecycles in {:.1} s ({:.0} ms each, wall, including WebDriver and the shim's polling).",
            started.elapsed().as_secs_f64(),
            started.elapsed().as_secs_f64() * 1000.0 / runs as f64
        );
        soak.report(
            &format!("Soak: {runs} lifecycles through the app's commands, memory"),
            "soak-app-rss",
            runs,
            &[
                "app process RSS",
                "tree RSS (with WebKit)",
                "tree PSS",
            ],
        );
        println!(
            "Clients left on the identity server: {}.",
            idp.admin_list_clients().await.len()
        );
        measure::print_load("after");
        desktop.close().await;
    });
}
