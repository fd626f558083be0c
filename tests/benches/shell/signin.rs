//! Password submit to Home in the real window: the release app in its default (embedded) mode
//! on the bundled identity server on loopback, driven through tauri-driver as the e2e tests
//! drive it (`dcr_tests::desktop`). First run: Register, the password typed into the
//! identity server's own form in the sign-in window, then the app registers, signs in by SSO
//! and shows Home by itself.
//!
//! The clock is the pages' own (`Date.now()`, the system clock, shared by every web process):
//! the sign-in page reads it just before it clicks "Sign in"; the main window reads it in the
//! animation frame after Home's user name is in the DOM (the frame that paints it). WebDriver
//! is not on the measured path: it only starts the click and collects the two stamps.

use std::time::Duration;

use dcr_tests::app::open_registration_window;
use dcr_tests::desktop::Desktop;
use dcr_tests::{procs, Idp, DEMO_USER};

/// Records, in the main window, when Home's user name is first painted.
/// Also stamps when the shell's `state-changed` event with the signed-in state reaches the page.
const WATCH_HOME: &str = r#"
    window.__homeAt = null;
    window.__domAt = null;
    window.__replyAt = null;
    window.__TAURI__.event.listen('state-changed', (event) => {
        if (!window.__replyAt && JSON.stringify(event.payload).includes('signedIn')) {
            window.__replyAt = Date.now();
        }
    });
    const seen = () => {
        const name = document.querySelector('#user-name');
        if (name && name.textContent.includes('Demo User')) {
            observer.disconnect();
            window.__domAt = window.__domAt || Date.now();
            requestAnimationFrame(() => { window.__homeAt = window.__homeAt || Date.now(); });
        }
    };
    const observer = new MutationObserver(seen);
    observer.observe(document.body, { subtree: true, childList: true, characterData: true });
    return true;
"#;

/// Submits the login form on the next tick (so this script returns before the navigation) and
/// returns the time of the submit.
const SUBMIT: &str = r#"
    const at = Date.now();
    setTimeout(() => document.querySelector('#login-submit').click(), 0);
    return at;
"#;

const HOME_AT: &str = r#"
    const done = arguments[arguments.length - 1];
    const poll = () => window.__homeAt ? done(window.__homeAt) : setTimeout(poll, 5);
    poll();
"#;

pub struct Run {
    pub submit_to_home: Duration,
    /// Where the time went, from the app's own log (info level) and the page's stamps.
    pub phases: Option<[Duration; 6]>,
    /// Tree PSS in KiB on the first screen and on Home (under WebDriver).
    pub pss_first: u64,
    pub pss_home: u64,
    pub names: Vec<String>,
}

pub async fn first_run(app: &std::path::Path, config: &std::path::Path, settle: Duration) -> Run {
    let config = config.to_str().expect("utf-8 path");
    // The app's default log level (info) has the engine's step lines that `phases` reads.
    let desktop = Desktop::launch_with_env(&["--config", config], &[("RUST_LOG", None)]).await;
    let command_line = vec![
        app.display().to_string(),
        "--config".to_owned(),
        config.to_owned(),
    ];
    let main = desktop.main_window().await;
    desktop.find("#register").await;
    tokio::time::sleep(settle).await;
    let pid = *procs::running(&command_line)
        .first()
        .expect("the app's process");
    let pss_first = procs::tree_memory(pid).pss;

    desktop.eval(WATCH_HOME).await;
    open_registration_window(&desktop, &main).await;
    desktop.type_into("#login", DEMO_USER.0).await;
    desktop.type_into("#password", DEMO_USER.1).await;
    let submitted = desktop.eval(SUBMIT).await.as_f64().expect("a time stamp");
    // One WebDriver command waits inside the main window's page until the stamp is there.
    desktop
        .client
        .switch_to_window(main.clone())
        .await
        .expect("back to main");
    let home = desktop
        .eval_async(HOME_AT)
        .await
        .as_f64()
        .expect("a time stamp");
    let reply = desktop.eval("return window.__replyAt;").await.as_f64();
    let dom = desktop.eval("return window.__domAt;").await.as_f64();
    tokio::time::sleep(settle).await;
    let home_memory = procs::tree_memory(pid);
    desktop.close().await;
    let phases = reply
        .zip(dom)
        .and_then(|(reply, dom)| phases(submitted, reply, dom, home));
    Run {
        submit_to_home: ms(home - submitted),
        phases,
        pss_first,
        pss_home: home_memory.pss,
        names: home_memory.names,
    }
}

/// A fresh identity server for one round (its own port, so no session or client carries over).
pub async fn fresh_idp() -> Idp {
    Idp::start().await
}

fn ms(millis: f64) -> Duration {
    Duration::from_secs_f64(millis.max(0.0) / 1000.0)
}

/// The app's log (`$XDG_DATA_HOME/<identifier>/logs/dcr-client.log`, which scripts/bench.sh
/// points into its scratch folder), read from this launch's first line on: the engine's
/// "registered", "sign-in: waiting for the user agent" and "signed in" lines, with the page's
/// stamps, split submit → Home into: password leg + code exchange + registration + keychain
/// save; to the SSO request; SSO leg + code exchange + key set + UserInfo; the shell's state
/// event reaching the page; Home in the DOM; the animation frame that paints it.
fn phases(submitted: f64, reply: f64, dom: f64, home: f64) -> Option<[Duration; 6]> {
    let dir = std::env::var_os("XDG_DATA_HOME")?;
    let log = std::path::Path::new(&dir).join("io.curity.dcrclient/logs/dcr-client.log");
    let text = std::fs::read_to_string(&log).ok()?;
    let run = &text[text.rfind("loading the config")?..];
    let at = |needle: &str| -> Option<f64> {
        let line = run.lines().find(|l| l.contains(needle))?;
        epoch_ms(line.split_whitespace().next()?)
    };
    let registered = at("registered client_id")?;
    let sso = at("sign-in: waiting for the user agent")?;
    let signed_in = at("signed in client_id")?;
    Some([
        ms(registered - submitted),
        ms(sso - registered),
        ms(signed_in - sso),
        ms(reply - signed_in),
        ms(dom - reply),
        ms(home - dom),
    ])
}

/// `2026-11-27T19:47:40.986421Z` (tracing's UTC timestamp) as milliseconds since the epoch.
fn epoch_ms(stamp: &str) -> Option<f64> {
    let (date, time) = stamp.strip_suffix('Z')?.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>());
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let mut t = time.split(':');
    let (h, min) = (
        t.next()?.parse::<f64>().ok()?,
        t.next()?.parse::<f64>().ok()?,
    );
    let sec = t.next()?.parse::<f64>().ok()?;
    // Days from the civil date (H. Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days as f64 * 24.0 + h) * 60.0 + min) * 60_000.0 + sec * 1000.0)
}
