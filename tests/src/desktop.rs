//! Drives the built desktop app in a real WebKitGTK window through `tauri-driver` and
//! `WebKitWebDriver`. The test command (`scripts/test.sh`) provides the display (Xvfb), the
//! D-Bus session with an unlocked gnome-keyring, and `DCR_APP_BINARY`.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::wd::WindowHandle;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tokio::process::{Child, Command};

use crate::procs;

/// End-to-end tests share one display and one keychain; they run one at a time.
pub static ONE_WINDOW_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub struct Desktop {
    pub client: Client,
    driver: Child,
    /// Every window handle a test has already used: a sign-in window that has just been
    /// destroyed can linger in WebDriver's list for a moment, and must never be picked again.
    used_windows: std::sync::Mutex<Vec<WindowHandle>>,
    /// The app's command line (binary and arguments), to find its process after the session.
    command_line: Vec<String>,
}

/// Two free loopback ports, different from each other (both are held until both are chosen).
fn two_free_ports() -> (u16, u16) {
    let bind = || TcpListener::bind("127.0.0.1:0").expect("no free loopback port");
    let (first, second) = (bind(), bind());
    let port = |listener: &TcpListener| listener.local_addr().expect("bound port").port();
    (port(&first), port(&second))
}

/// tauri-driver on two fresh ports, with the app's environment: its WebDriver port and the
/// process.
fn spawn_driver(env: &[(&str, Option<&std::ffi::OsStr>)]) -> (u16, Child) {
    let (port, native_port) = two_free_ports();
    let mut driver = Command::new("tauri-driver");
    for (name, _) in env.iter().filter(|(_, value)| value.is_none()) {
        driver.env_remove(name);
    }
    let driver = driver
        .args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native_port.to_string(),
        ])
        .args(["--native-driver", "/usr/bin/WebKitWebDriver"])
        .envs(
            env.iter()
                .filter_map(|(name, value)| value.map(|v| (name, v))),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("tauri-driver is not installed: `cargo install tauri-driver --locked`");
    (port, driver)
}

pub fn app_binary() -> PathBuf {
    let path = std::env::var_os("DCR_APP_BINARY")
        .map(PathBuf::from)
        .expect("DCR_APP_BINARY is unset: run the end-to-end tests through `make test`");
    assert!(
        path.exists(),
        "the app binary {} does not exist: build it with `cargo build -p dcr-desktop`",
        path.display()
    );
    path
}

/// Where screenshots go: `$DCR_ARTIFACTS/screenshots`, or `target`'s sibling when unset.
pub fn screenshot_dir() -> PathBuf {
    let base = std::env::var_os("DCR_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../artifacts"));
    let dir = base.join("screenshots");
    std::fs::create_dir_all(&dir).expect("cannot create the screenshot folder");
    dir
}

impl Desktop {
    /// Starts `tauri-driver` on free ports and opens a WebDriver session, which launches the app
    /// with `args`.
    pub async fn launch(args: &[&str]) -> Desktop {
        Self::launch_with_env(args, &[]).await
    }

    /// [`launch`](Self::launch), with environment changes for the app (`None` removes the
    /// variable). tauri-driver and WebKitWebDriver pass their environment on to the app.
    pub async fn launch_with_env(
        args: &[&str],
        env: &[(&str, Option<&std::ffi::OsStr>)],
    ) -> Desktop {
        Self::launch_binary(&app_binary(), args, env).await
    }

    /// [`launch_with_env`](Self::launch_with_env) with another binary than `DCR_APP_BINARY` (the
    /// package test runs the installed `/usr/bin/dcr-desktop`).
    pub async fn launch_binary(
        binary: &std::path::Path,
        args: &[&str],
        env: &[(&str, Option<&std::ffi::OsStr>)],
    ) -> Desktop {
        // Both rustls crypto backends end up in the dependency graph; pick one for the process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let capabilities = json!({
            "tauri:options": { "application": binary, "args": args }
        });
        let capabilities = capabilities.as_object().cloned().unwrap_or_default();
        let started = std::time::Instant::now();
        let mut last_error = String::new();
        // The driver's two ports are free when chosen, but another process may take one before
        // tauri-driver or WebKitWebDriver binds it ("Unable to listen for HTTP server"): then the
        // driver never answers, and a new one on new ports is started, at most three times.
        for _ in 0..3 {
            let (port, mut driver) = spawn_driver(env);
            let url = format!("http://127.0.0.1:{port}");
            for _ in 0..100 {
                if let Ok(Some(status)) = driver.try_wait() {
                    last_error = format!("tauri-driver exited ({status})");
                    break;
                }
                // WebKitWebDriver waits for the app's window without a limit of its own (an app
                // that exits at once, say by handing its arguments to a running single instance,
                // would hang the test): bound each attempt.
                let mut builder = ClientBuilder::rustls().expect("rustls setup");
                builder.capabilities(capabilities.clone());
                let connect = builder.connect(&url);
                let attempt = tokio::time::timeout(Duration::from_secs(60), connect)
                    .await
                    .unwrap_or_else(|_| {
                        panic!("the app's window did not appear within 60 s (did it exit at once?)")
                    });
                match attempt {
                    Ok(client) => {
                        println!("app window up in {:?}", started.elapsed());
                        // A click that starts a navigation waits for it to finish. When that
                        // navigation is our redirect, the app cancels it and destroys the sign-in
                        // window, so it never finishes: keep WebDriver's page-load wait short
                        // (default 300 s).
                        let timeouts = fantoccini::wd::TimeoutConfiguration::new(
                            Some(Duration::from_secs(30)),
                            Some(Duration::from_secs(5)),
                            Some(Duration::ZERO),
                        );
                        client
                            .update_timeouts(timeouts)
                            .await
                            .expect("cannot set WebDriver timeouts");
                        let command_line = std::iter::once(binary.display().to_string())
                            .chain(args.iter().map(|arg| arg.to_string()))
                            .collect();
                        return Desktop {
                            client,
                            driver,
                            used_windows: std::sync::Mutex::new(Vec::new()),
                            command_line,
                        };
                    }
                    Err(error) => last_error = error.to_string(),
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            let _ = driver.start_kill();
            let _ = driver.wait().await;
        }
        panic!("could not open a WebDriver session on tauri-driver: {last_error}");
    }

    /// Waits for an element and returns its text. Screens re-render on events (Home after a
    /// background refresh), so an element found a moment ago may be gone when its text is read:
    /// then the selector is looked up again (WebDriver's "stale element reference", W3C
    /// WebDriver §12.1), until the 20-second wait runs out.
    pub async fn text_of(&self, css: &str) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let element = self
                .client
                .wait()
                .at_most(left)
                .for_element(Locator::Css(css))
                .await
                .unwrap_or_else(|error| panic!("no element matches `{css}`: {error}"));
            match element.text().await {
                Ok(text) => return text,
                Err(fantoccini::error::CmdError::Standard(ref error))
                    if error.error == fantoccini::error::ErrorStatus::StaleElementReference
                        && tokio::time::Instant::now() < deadline => {}
                Err(error) => panic!("cannot read the text of `{css}`: {error:?}"),
            }
        }
    }

    /// Waits until `css` is on the page and visible, then returns it.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(error) => {
                // Origin and path only: the query may hold a code or an id_token_hint.
                let url = self
                    .client
                    .current_url()
                    .await
                    .map(|u| format!("{}{}", u.origin().ascii_serialization(), u.path()));
                let windows = self.client.windows().await.map(|w| w.len());
                let shot = match self.client.screenshot().await {
                    Ok(png) => {
                        let path = screenshot_dir()
                            .join(format!("failure-{}.png", css.trim_start_matches('#')));
                        std::fs::write(&path, png)
                            .map(|_| path.display().to_string())
                            .unwrap_or_default()
                    }
                    Err(error) => format!("none ({error})"),
                };
                panic!("no element matches `{css}`: {error}; current url {url:?}, {windows:?} windows, screenshot {shot}")
            }
        }
    }

    /// Clicks once the element can take the click (a window may still be appearing).
    pub async fn click(&self, css: &str) {
        let mut last = String::new();
        for _ in 0..50 {
            match self.find(css).await.click().await {
                Ok(()) => return,
                Err(error) => last = format!("{error:?}"),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("cannot click `{css}`: {last}");
    }

    /// Clicks a button that ends its window's life (the login form's submit, the logout
    /// confirmation): the app catches the redirect it starts and closes the window, so whatever
    /// WebDriver answers afterwards (page-load timeout, no such window) is expected.
    pub async fn click_and_let_go(&self, css: &str) {
        let element = self.find(css).await;
        let _ = tokio::time::timeout(Duration::from_secs(10), element.click()).await;
    }

    /// Types into a field once it takes input (a hidden window may still be appearing).
    pub async fn type_into(&self, css: &str, text: &str) {
        let mut last = String::new();
        for _ in 0..50 {
            let element = self.find(css).await;
            match element.clear().await {
                Ok(()) => {
                    element
                        .send_keys(text)
                        .await
                        .unwrap_or_else(|error| panic!("cannot type into `{css}`: {error}"));
                    return;
                }
                Err(error) => last = format!("{error:?}"),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("cannot type into `{css}`: {last}");
    }

    /// Gives an `<input type="file">` this file, as a person choosing it in the file chooser
    /// would: WebDriver's Element Send Keys with the path (W3C WebDriver §12.5.3, file inputs).
    pub async fn choose_file(&self, css: &str, path: &std::path::Path) {
        let path = path.to_str().expect("utf-8 path");
        self.find(css)
            .await
            .send_keys(path)
            .await
            .unwrap_or_else(|error| panic!("cannot choose {path} in `{css}`: {error}"));
    }

    /// Polls until the element's text contains `needle` (screens re-render on events).
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> String {
        let mut last = String::new();
        for _ in 0..150 {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                if let Ok(text) = element.text().await {
                    if text.contains(needle) {
                        return text;
                    }
                    last = text;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("`{css}` never contained {needle:?}; last text: {last:?}");
    }

    /// Each element's text is as expected, checked one after another.
    pub async fn assert_texts(&self, expected: &[(&str, &str)]) {
        for (css, text) in expected {
            assert_eq!(self.text_of(css).await, *text, "the text of {css}");
        }
    }

    /// Whether an element is on the page right now (no waiting).
    pub async fn has(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    /// The main window's handle: the first one the session saw.
    pub async fn main_window(&self) -> WindowHandle {
        self.client.window().await.expect("no current window")
    }

    /// A window this test has not used yet, if one is open now (it is then marked used).
    pub async fn new_window(&self, main: &WindowHandle) -> Option<WindowHandle> {
        let handles = self.client.windows().await.ok()?;
        let mut used = self.used_windows.lock().expect("window list");
        let fresh = handles
            .into_iter()
            .find(|handle| handle != main && !used.contains(handle))?;
        used.push(fresh.clone());
        Some(fresh)
    }

    /// Waits for a new window (the sign-in window: one this test has not used yet) and switches
    /// to it.
    pub async fn switch_to_other_window(&self, main: &WindowHandle) -> WindowHandle {
        for _ in 0..150 {
            if let Some(window) = self.new_window(main).await {
                if self.client.switch_to_window(window.clone()).await.is_ok() {
                    return window;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("the sign-in window never opened");
    }

    /// Waits until the sign-in windows are gone (at most 15 s), then switches back to the main
    /// window.
    pub async fn back_to_main(&self, main: &WindowHandle) {
        for _ in 0..75 {
            if let Ok(handles) = self.client.windows().await {
                let used = self.used_windows.lock().expect("window list").clone();
                if !handles.iter().any(|handle| used.contains(handle)) {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        self.client
            .switch_to_window(main.clone())
            .await
            .expect("cannot switch back to the main window");
    }

    /// Runs script in the current window and returns its JSON result.
    pub async fn eval(&self, script: &str) -> serde_json::Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|error| panic!("script failed: {error}"))
    }

    /// Runs async script (last argument is the callback) and returns its JSON result.
    pub async fn eval_async(&self, script: &str) -> serde_json::Value {
        self.client
            .execute_async(script, vec![])
            .await
            .unwrap_or_else(|error| panic!("script failed: {error}"))
    }

    /// Saves a PNG of the window and prints its path, so a person can look at it.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        // Let WebKit paint the latest render first: two animation frames.
        let _ = self
            .client
            .execute_async("const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));", vec![])
            .await;
        let png = self
            .client
            .screenshot()
            .await
            .expect("WebDriver could not take a screenshot");
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is not a PNG");
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("cannot write the screenshot");
        println!("screenshot: {}", path.display());
        path
    }

    /// Ends the session (which closes the app), then stops tauri-driver with SIGTERM: after
    /// SIGKILL its WebKitWebDriver child would be orphaned and keep its port.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        if let Some(pid) = self.driver.id() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), self.driver.wait()).await;
        // The app normally exits with its session; one that lingers would, in system mode, take
        // the next launch's arguments as a single instance. Wait for it, and stop it if need be.
        // Only an app with arguments (a test's own config path or URL) can be told apart from
        // the apps of tests running at the same time.
        if self.command_line.len() > 1 {
            let what = format!("the app ({})", self.command_line.join(" "));
            procs::wait_until_gone(|| procs::running(&self.command_line), &what).await;
        }
    }
}

impl Desktop {
    /// SIGKILLs this session's app (a crash, or the user killing it mid-step): no cleanup of its
    /// own runs. Matched by its exact command line, so it needs arguments (a config path).
    /// [`close`](Self::close) afterwards only tidies up the driver.
    pub fn kill_app(&self) {
        assert!(
            self.command_line.len() > 1,
            "only an app with arguments can be told apart"
        );
        let pids = procs::running(&self.command_line);
        assert!(!pids.is_empty(), "the app is not running");
        for pid in pids {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }
}

/// A test that panics never reaches [`Desktop::close`]: stop tauri-driver with SIGTERM here too,
/// so it takes its WebKitWebDriver and the app down with it instead of orphaning them (SIGKILL,
/// which `kill_on_drop` would send, leaves both running and the next test waiting on them).
impl Drop for Desktop {
    fn drop(&mut self) {
        if let Some(pid) = self.driver.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
            for _ in 0..50 {
                if matches!(self.driver.try_wait(), Ok(Some(_))) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}
