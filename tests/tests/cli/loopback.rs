//! `dcr --browser loopback` as a black box against the bundled identity server and the real
//! keychain: the CLI opens the user's browser through `BROWSER` (a shim script that writes the
//! URL to a file), and the test is that browser: it signs in with [`ScriptedBrowser`] and
//! delivers the answer to the CLI's loopback listener with an HTTP GET, after a forged one that
//! must get a 400. Register, `login --refresh --logout`, status, forget.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use dcr_tests::browser_shim::BrowserShim;
use dcr_tests::cli::cli_binary;
use dcr_tests::engine::{self, Form};
use dcr_tests::keyring::require_test_keyring;
use dcr_tests::loopback::LoopbackBrowser;
use dcr_tests::{Idp, ScriptedBrowser};
use serde_json::Value;

/// One test's `dcr` runs: a scratch folder with the config, the `BROWSER` shim that records the
/// URLs `dcr` opens, and the browser the test plays for them.
struct Cli {
    dir: PathBuf,
    config: PathBuf,
    shim: BrowserShim,
    browser: Arc<ScriptedBrowser>,
}

impl Cli {
    /// The folder for test `name`, with the tutorial's config pointed at `idp` and `extra` keys
    /// added.
    fn new(idp: &Idp, name: &str, extra: Value) -> Cli {
        let dir = std::env::temp_dir().join(format!(
            "dcr-cli-{name}-{}-{}",
            std::process::id(),
            idp.issuer.port().unwrap_or(0)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("config.json");
        let mut json = engine::config_json(idp, Form::Full);
        if let (Some(json), Value::Object(extra)) = (json.as_object_mut(), extra) {
            json.extend(extra);
        }
        std::fs::write(&config, json.to_string()).unwrap();
        Cli {
            dir,
            config,
            shim: BrowserShim::new(&format!("cli-{name}"), idp),
            browser: Arc::new(ScriptedBrowser::new()),
        }
    }

    /// Runs `dcr --browser loopback <args>`; see [`Cli::run_as_is`].
    async fn run(&self, args: &[&str]) -> (Value, usize) {
        let flagged: Vec<&str> = ["--browser", "loopback"]
            .iter()
            .chain(args)
            .copied()
            .collect();
        self.run_as_is(&flagged).await
    }

    /// Runs `dcr <args>` (no `--browser` added); plays the browser for each URL the shim
    /// receives until the CLI exits. Returns stdout's JSON and how many browser steps there were.
    async fn run_as_is(&self, args: &[&str]) -> (Value, usize) {
        // The shim keeps every URL of the test; this run's are the ones after these.
        let earlier = self.shim.opened().len();
        let mut child = tokio::process::Command::new(cli_binary())
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .env("BROWSER", self.shim.script())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("dcr starts");
        let mut played = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait().expect("dcr runs") {
                let output = child.wait_with_output().await.expect("output");
                assert!(
                    status.success(),
                    "dcr failed: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
                let json = serde_json::from_slice(&output.stdout).expect("one JSON line");
                return (json, played);
            }
            if let Some(url) = self.shim.opened().get(earlier + played) {
                let delivery = LoopbackBrowser::play(self.browser.clone(), url.clone()).await;
                assert_eq!(delivery.error, None, "{delivery:?}");
                assert_eq!(delivery.loopback_only, Some(true));
                assert_eq!(delivery.forged_status, Some(400));
                assert_eq!(delivery.status, Some(200));
                played += 1;
                continue;
            }
            assert!(tokio::time::Instant::now() < deadline, "dcr did not finish");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Cli {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn cli_loopback_register_login_refresh_logout_forget() {
    require_test_keyring("cli_loopback_register_login_refresh_logout_forget");
    let idp = Idp::start().await;
    let cli = Cli::new(&idp, "loopback", Value::Null);

    let (registered, steps) = cli.run(&["register"]).await;
    assert_eq!(steps, 1);
    let client_id = registered["client_id"]
        .as_str()
        .expect("a client ID")
        .to_owned();
    let clients = idp.admin_list_clients().await;
    assert_eq!(clients[0].client_id, client_id);
    assert_eq!(clients[0].redirect_uris, ["http://127.0.0.1/callback"]);

    let (login, steps) = cli.run(&["login", "--refresh", "--logout"]).await;
    assert_eq!(steps, 2, "sign-in and the end-session page");
    assert_eq!(login["sub"], "demouser");
    assert_eq!(login["refreshed"], true);
    assert_eq!(
        login["server_logout"], true,
        "the loopback post-logout redirect confirmed"
    );

    let (status, _) = cli.run(&["status"]).await;
    assert_eq!(status["registered"], true);
    let (_, _) = cli.run(&["forget"]).await;
    assert!(idp.admin_list_clients().await.is_empty());
}

/// `dcr status` and a plain `dcr login` find a registration made by `dcr --browser loopback
/// register` under `userAgent: ["embedded", "loopback"]`: the engine looks over the allowed
/// modes, as it does for the desktop app, so they agree.
#[tokio::test]
async fn cli_finds_the_loopback_registration_among_the_allowed_modes() {
    require_test_keyring("cli_finds_the_loopback_registration_among_the_allowed_modes");
    let idp = Idp::start().await;
    let cli = Cli::new(
        &idp,
        "modes",
        serde_json::json!({ "userAgent": ["embedded", "loopback"] }),
    );

    let (registered, _) = cli.run(&["register"]).await;
    let client_id = registered["client_id"].as_str().expect("a client ID");
    let (status, steps) = cli.run_as_is(&["status"]).await;
    assert_eq!(steps, 0);
    assert_eq!(status["registered"], true, "{status}");
    assert_eq!(status["client_id"], client_id);
    // The registration's mode, not the config's default: the sign-in comes back to loopback.
    let (login, steps) = cli.run_as_is(&["login"]).await;
    assert_eq!(steps, 1);
    assert_eq!(login["sub"], "demouser");

    let (_, _) = cli.run_as_is(&["forget"]).await;
    assert!(idp.admin_list_clients().await.is_empty());
    let (status, _) = cli.run_as_is(&["status"]).await;
    assert_eq!(status["registered"], false, "{status}");
}
