//! End-to-end (Diagnostics): About this device in the real WebKitGTK window, by
//! keyboard (WebDriver key actions: Tab, Enter, Escape), its facts against what the app was
//! started with, "Open log folder" through a stand-in file manager, and "Copy diagnostics" read
//! back from the system clipboard and searched for every secret the identity server issued.
//!
//! Each test gives the app its own `XDG_DATA_HOME` (so its log folder is known) and points
//! `DCR_FOLDER_OPENER` (honoured by debug builds only) at a script that records the folder it is
//! asked to open instead of starting a file manager.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use dcr_tests::app::{invoke, register_through_ui, write_config, RECORD_IPC};
use dcr_tests::desktop::{Desktop, ONE_WINDOW_AT_A_TIME};
use dcr_tests::engine::SECRET_KINDS;
use dcr_tests::leaks::{assert_no_secret_in, Jwts};
use dcr_tests::Idp;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use serde_json::json;

/// The app's data folder and a file manager that only writes down what it was asked to open.
struct Scratch {
    root: PathBuf,
}

impl Scratch {
    fn new(name: &str) -> Scratch {
        let root = std::env::temp_dir().join(format!("dcr-e2e-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("data")).expect("a scratch data folder");
        let opener = root.join("file-manager");
        std::fs::write(
            &opener,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$@\" >> '{}'\n",
                root.join("opened").display()
            ),
        )
        .expect("write the stand-in file manager");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&opener, std::fs::Permissions::from_mode(0o755))
            .expect("make it executable");
        Scratch { root }
    }

    /// Tauri's `app_log_dir()` on Linux: `$XDG_DATA_HOME/<identifier>/logs`.
    fn log_folder(&self) -> PathBuf {
        self.root.join("data/io.curity.dcrclient/logs")
    }

    fn opened(&self) -> Vec<String> {
        std::fs::read_to_string(self.root.join("opened"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    async fn launch(&self, config: &Path) -> Desktop {
        let data = self.root.join("data");
        let opener = self.root.join("file-manager");
        let env = [
            ("XDG_DATA_HOME", Some(data.as_os_str())),
            ("DCR_FOLDER_OPENER", Some(opener.as_os_str())),
            ("DCR_CONFIG", None::<&OsStr>),
        ];
        let config = config.to_str().expect("utf-8 path");
        Desktop::launch_with_env(&["--config", config], &env).await
    }
}

/// A test's own identity server, a scratch folder `name` and the app in it on a default config
/// for that server.
async fn app_in_scratch(name: &str) -> (Idp, Scratch, PathBuf, Desktop) {
    let idp = Idp::start().await;
    let scratch = Scratch::new(name);
    let config = write_config(&idp, json!({}));
    let desktop = scratch.launch(&config).await;
    (idp, scratch, config, desktop)
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// One key pressed and released, as the keyboard sends it to the focused element.
async fn press(desktop: &Desktop, key: Key) {
    press_together(desktop, &[key.into()]).await;
}

/// Keys pressed down in order and released in reverse (a shortcut such as Ctrl+V), as the
/// keyboard sends them to the focused element.
async fn press_together(desktop: &Desktop, keys: &[char]) {
    let mut actions = KeyActions::new("keyboard".into());
    for &value in keys {
        actions = actions.then(KeyAction::Down { value });
    }
    for &value in keys.iter().rev() {
        actions = actions.then(KeyAction::Up { value });
    }
    desktop
        .client
        .perform_actions(actions)
        .await
        .expect("WebDriver key actions");
}

/// The id of the focused element ("" for none or one without an id).
async fn focused(desktop: &Desktop) -> String {
    desktop
        .eval("const e = document.activeElement; return e && e !== document.body ? (e.id || e.tagName) : '';")
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Presses Tab until `id` has focus (at most `limit` times); returns the ids focused on the way.
async fn tab_to(desktop: &Desktop, id: &str, limit: usize) -> Vec<String> {
    let mut seen = Vec::new();
    for _ in 0..limit {
        press(desktop, Key::Tab).await;
        let now = focused(desktop).await;
        seen.push(now.clone());
        if now == id {
            // Visible focus: the keyboard-focused control matches :focus-visible and has an outline.
            let visible = desktop
                .eval(
                    "const e = document.activeElement; const s = getComputedStyle(e);
                     return e.matches(':focus-visible') && s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;",
                )
                .await;
            assert_eq!(visible, json!(true), "#{id} shows its keyboard focus");
            return seen;
        }
    }
    panic!("Tab never reached #{id}; focus went {seen:?}");
}

pub(super) async fn wait_until(desktop: &Desktop, script: &str, what: &str) {
    for _ in 0..150 {
        if desktop.eval(script).await == json!(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} never happened");
}

pub(super) const ABOUT_OPEN: &str = "return document.getElementById('about-dialog').open === true;";
pub(super) const ABOUT_CLOSED: &str =
    "return document.getElementById('about-dialog').open === false;";

/// Home's "About this device", clicked, and the dialog open.
pub(super) async fn open_about(desktop: &Desktop) {
    desktop.click("#about-open").await;
    wait_until(desktop, ABOUT_OPEN, "the About dialog opening from Home").await;
}

/// "Copy diagnostics" in the open About dialog (from the top of Home, as the README's picture
/// shows it), and the report read back from the system clipboard.
pub(super) async fn copy_diagnostics(desktop: &Desktop, screenshot: &str) -> String {
    desktop.eval("window.scrollTo(0, 0); return true;").await;
    desktop.screenshot(screenshot).await;
    desktop.click("#copy-diagnostics").await;
    desktop
        .wait_for_text("#about-status", "Diagnostics copied to the clipboard.")
        .await;
    paste_from_clipboard(desktop).await
}

/// The registration screen → Tab to "About this device" → Enter → the dialog, its facts and
/// "Open log folder" by keyboard → Escape back, with focus on the button that opened it.
#[tokio::test(flavor = "multi_thread")]
async fn about_by_keyboard_from_registration_and_escape_back() {
    let _one = ONE_WINDOW_AT_A_TIME.lock().await;
    let (idp, scratch, config, desktop) = app_in_scratch("about-keys").await;
    assert_eq!(desktop.text_of("h1").await, "Register this device");

    // Every action on the screen is on the way: Register first, then About.
    let path = tab_to(&desktop, "about-open", 6).await;
    assert!(
        path.contains(&"register".to_owned()),
        "Tab passes Register: {path:?}"
    );
    desktop.screenshot("about-link-focused").await;
    press(&desktop, Key::Enter).await;
    wait_until(&desktop, ABOUT_OPEN, "the About dialog opening on Enter").await;
    assert_eq!(focused(&desktop).await, "copy-diagnostics");

    // The facts: one version (the Cargo package's), the config the app was started with and
    // which source chose it, where the log is.
    let version = format!(
        "{} ({} {})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    let config_file = config.display().to_string();
    let log_file = scratch.log_folder().join("dcr-client.log");
    let log_file_text = log_file.display().to_string();
    desktop
        .assert_texts(&[
            ("#about-version", &version),
            ("#about-config-file", &config_file),
            ("#about-config-origin", "Chosen by the --config option"),
            ("#about-issuer", idp.issuer.as_str().trim_end_matches('/')),
            (
                "#about-user-agent",
                "The app's own sign-in window (embedded)",
            ),
            ("#about-registration", "This device is not registered"),
            ("#about-log-file", &log_file_text),
        ])
        .await;
    assert!(log_file.is_file(), "the app writes the log it names");

    // Tab and Enter reach "Open log folder": the file manager is asked for exactly that folder.
    tab_to(&desktop, "open-log-folder", 3).await;
    press(&desktop, Key::Enter).await;
    for _ in 0..100 {
        if !scratch.opened().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        scratch.opened(),
        vec![scratch.log_folder().display().to_string()]
    );
    desktop
        .wait_for_text(
            "#about-status",
            "The log folder opened in your file manager.",
        )
        .await;
    desktop.screenshot("about-unregistered").await;

    // Escape closes it, and focus goes back to the button that opened it.
    press(&desktop, Key::Escape).await;
    wait_until(&desktop, ABOUT_CLOSED, "the About dialog closing on Escape").await;
    assert_eq!(focused(&desktop).await, "about-open");
    assert_eq!(desktop.text_of("h1").await, "Register this device");
    // And it opens again (the model followed the Escape).
    press(&desktop, Key::Enter).await;
    wait_until(&desktop, ABOUT_OPEN, "the About dialog opening again").await;
    desktop.close().await;
}

/// After a real run (registration, sign-in, refresh), Home → About shows the registration, and
/// "Copy diagnostics" puts a report on the system clipboard that holds none of the secrets the
/// identity server issued, whole or in pieces; nor does anything the About command returned.
#[tokio::test(flavor = "multi_thread")]
async fn copied_diagnostics_hold_no_secret_the_server_issued() {
    let _one = ONE_WINDOW_AT_A_TIME.lock().await;
    let (idp, scratch, config, desktop) = app_in_scratch("about-copy").await;
    let main = desktop.main_window().await;
    desktop.eval(RECORD_IPC).await;
    register_through_ui(&desktop, &main).await;
    desktop.click("#refresh").await;
    desktop
        .wait_for_text("#notice", "The access token was refreshed.")
        .await;
    let client_id = idp.admin_the_only_client().await.client_id;

    open_about(&desktop).await;
    assert_eq!(desktop.text_of("#about-client-id").await, client_id);
    assert!(desktop.has("#about-registered-at").await);
    assert!(
        !desktop.text_of("#about-secret-expires").await.is_empty(),
        "a client secret's expiry is named"
    );
    // The README's picture ("about"): Home from its top, behind the dialog.
    let pasted = copy_diagnostics(&desktop, "about").await;
    assert!(
        pasted.starts_with("DCR Client diagnostics\n"),
        "the clipboard holds the report: {pasted:?}"
    );
    for line in [
        format!("App version: {}", env!("CARGO_PKG_VERSION")),
        format!("Config file: {}", config.display()),
        "Config chosen by: the --config option".to_owned(),
        format!("Client ID: {client_id}"),
        "State: signed in".to_owned(),
        "Secret expires: ".to_owned(),
        format!(
            "Log file: {}",
            scratch.log_folder().join("dcr-client.log").display()
        ),
    ] {
        assert!(pasted.contains(&line), "the report says {line:?}: {pasted}");
    }

    // The ground truth: every secret the server issued in this run, by kind.
    let issued: Vec<(String, String)> = idp
        .admin_issued_secrets_by_kind()
        .await
        .into_iter()
        .map(|secret| (secret.kind, secret.value))
        .collect();
    let kinds: Vec<&str> = issued.iter().map(|(kind, _)| kind.as_str()).collect();
    for kind in SECRET_KINDS {
        assert!(kinds.contains(&kind), "the server reported no {kind}");
    }
    assert_no_secret_in("the copied diagnostics", &pasted, &issued, Jwts::IdTokens);
    // Everything the webview received: events, and the about command's whole answer.
    let about = invoke(&desktop, "about").await;
    assert_eq!(about["registration"]["clientId"], client_id.as_str());
    assert!(about["report"]
        .as_str()
        .is_some_and(|r| r.contains(&client_id)));
    let seen = desktop
        .eval("return window.__dcrSeen || [];")
        .await
        .to_string();
    assert!(seen.contains("signedIn"), "the recorder saw the traffic");
    let received = format!("{about}\n{seen}");
    assert_no_secret_in(
        "what the webview received",
        &received,
        &issued,
        Jwts::IdTokens,
    );

    press(&desktop, Key::Escape).await;
    wait_until(&desktop, ABOUT_CLOSED, "the About dialog closing").await;
    desktop.close().await;
}

/// Reads the system clipboard back the way a user would: Ctrl+V into a text field (WebKit
/// pastes from the GTK clipboard; a script's own clipboard read would need a permission).
/// The field is the test's own, added inside the open modal dialog, where focus can go.
async fn paste_from_clipboard(desktop: &Desktop) -> String {
    desktop
        .eval(
            "const area = document.createElement('textarea');
             area.id = 'test-paste-target';
             document.getElementById('about-dialog').appendChild(area);
             area.focus();
             return document.activeElement === area;",
        )
        .await;
    press_together(desktop, &[Key::Control.into(), 'v']).await;
    let mut last = String::new();
    for _ in 0..100 {
        let value = desktop
            .eval("return document.getElementById('test-paste-target').value;")
            .await;
        last = value.as_str().unwrap_or_default().to_owned();
        if !last.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    desktop
        .eval("document.getElementById('test-paste-target').remove(); return true;")
        .await;
    last
}
