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

use dcr_tests::app::{register_through_ui, write_config, RECORD_IPC};
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

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// One key pressed and released, as the keyboard sends it to the focused element.
async fn press(desktop: &Desktop, key: Key) {
    let key: char = key.into();
    let actions = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
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

/// The registration screen → Tab to "About this device" → Enter → the dialog, its facts and
/// "Open log folder" by keyboard → Escape back, with focus on the button that opened it.
#[tokio::test(flavor = "multi_thread")]
async fn about_by_keyboard_from_registration_and_escape_back() {
    let _one = ONE_WINDOW_AT_A_TIME.lock().await;
    let idp = Idp::start().await;
    let scratch = Scratch::new("about-keys");
    let config = write_config(&idp, json!({}));
    let desktop = scratch.launch(&config).await;
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
    assert_eq!(
        desktop.text_of("#about-version").await,
        format!(
            "{} ({} {})",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::env::consts::ARCH
        )
    );
    assert_eq!(
        desktop.text_of("#about-config-file").await,
        config.display().to_string()
    );
    assert_eq!(
        desktop.text_of("#about-config-origin").await,
        "Chosen by the --config option"
    );
    assert_eq!(
        desktop.text_of("#about-issuer").await,
        idp.issuer.as_str().trim_end_matches('/')
    );
    assert_eq!(
        desktop.text_of("#about-user-agent").await,
        "The app's own sign-in window (embedded)"
    );
    assert_eq!(
        desktop.text_of("#about-registration").await,
        "This device is not registered"
    );
    let log_file = scratch.log_folder().join("dcr-client.log");
    assert_eq!(
        desktop.text_of("#about-log-file").await,
        log_file.display().to_string()
    );
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
    let idp = Idp::start().await;
    let scratch = Scratch::new("about-copy");
    let config = write_config(&idp, json!({}));
    let desktop = scratch.launch(&config).await;
    let main = desktop.main_window().await;
    desktop.eval(RECORD_IPC).await;
    register_through_ui(&desktop, &main).await;
    desktop.click("#refresh").await;
    desktop
        .wait_for_text("#notice", "The access token was refreshed.")
        .await;
    let clients = idp.admin_list_clients().await;
    assert_eq!(clients.len(), 1);
    let client_id = clients[0].client_id.clone();

    desktop.click("#about-open").await;
    wait_until(&desktop, ABOUT_OPEN, "the About dialog opening from Home").await;
    assert_eq!(desktop.text_of("#about-client-id").await, client_id);
    assert!(desktop.has("#about-registered-at").await);
    assert!(
        !desktop.text_of("#about-secret-expires").await.is_empty(),
        "a client secret's expiry is named"
    );
    // The README's picture: Home from its top, behind the dialog.
    desktop.eval("window.scrollTo(0, 0); return true;").await;
    desktop.screenshot("about").await;

    desktop.click("#copy-diagnostics").await;
    desktop
        .wait_for_text("#about-status", "Diagnostics copied to the clipboard.")
        .await;
    let pasted = paste_from_clipboard(&desktop).await;
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
    let about = desktop
        .eval_async(
            "const done = arguments[arguments.length - 1];
             window.__TAURI__.core.invoke('about').then(done, (e) => done({ error: e }));",
        )
        .await;
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
pub(super) async fn paste_from_clipboard(desktop: &Desktop) -> String {
    desktop
        .eval(
            "const area = document.createElement('textarea');
             area.id = 'test-paste-target';
             document.getElementById('about-dialog').appendChild(area);
             area.focus();
             return document.activeElement === area;",
        )
        .await;
    let control: char = Key::Control.into();
    let actions = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: control })
        .then(KeyAction::Down { value: 'v' })
        .then(KeyAction::Up { value: 'v' })
        .then(KeyAction::Up { value: control });
    desktop
        .client
        .perform_actions(actions)
        .await
        .expect("WebDriver key actions");
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
