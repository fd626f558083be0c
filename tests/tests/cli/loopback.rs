//! `dcr --browser loopback` as a black box against the bundled identity server and the real
//! keychain: the CLI opens the user's browser through `BROWSER` (a shim script that writes the
//! URL to a file), and the test is that browser: it signs in with [`ScriptedBrowser`] and
//! delivers the answer to the CLI's loopback listener with an HTTP GET, after a forged one that
//! must get a 400. Register, `login --refresh --logout`, status, forget.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use dcr_tests::cli::cli_binary;
use dcr_tests::engine::{self, Form};
use dcr_tests::keyring::require_test_keyring;
use dcr_tests::loopback::LoopbackBrowser;
use dcr_tests::{Idp, ScriptedBrowser};
use serde_json::Value;
use url::Url;

/// Runs `dcr --browser loopback <args>`; plays the browser for each URL the shim receives
/// until the CLI exits. Returns stdout's JSON and how many browser steps there were.
async fn dcr(
    dir: &Path,
    config: &Path,
    args: &[&str],
    browser: &Arc<ScriptedBrowser>,
) -> (Value, usize) {
    let flagged: Vec<&str> = ["--browser", "loopback"]
        .iter()
        .chain(args)
        .copied()
        .collect();
    dcr_as_is(dir, config, &flagged, browser).await
}

/// Runs `dcr <args>` (no `--browser` added) the same way.
async fn dcr_as_is(
    dir: &Path,
    config: &Path,
    args: &[&str],
    browser: &Arc<ScriptedBrowser>,
) -> (Value, usize) {
    let opened = dir.join("opened");
    let _ = std::fs::remove_file(&opened);
    let mut child = tokio::process::Command::new(cli_binary())
        .arg("--config")
        .arg(config)
        .args(args)
        .env("BROWSER", dir.join("browser"))
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
        let urls: Vec<Url> = std::fs::read_to_string(&opened)
            .unwrap_or_default()
            .lines()
            .map(|line| Url::parse(line).expect("a URL"))
            .collect();
        if let Some(url) = urls.get(played) {
            let delivery = LoopbackBrowser::play(browser.clone(), url.clone()).await;
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

/// A folder for one test with the `BROWSER` shim in it, and `config` (the tutorial's, pointed
/// at `idp`, with `extra` keys) written there.
fn setup(idp: &Idp, name: &str, extra: Value) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "dcr-cli-{name}-{}-{}",
        std::process::id(),
        idp.issuer.port().unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("browser");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n",
            dir.join("opened").display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = dir.join("config.json");
    let mut json = engine::config_json(idp, Form::Full);
    if let (Some(json), Value::Object(extra)) = (json.as_object_mut(), extra) {
        json.extend(extra);
    }
    std::fs::write(&config, json.to_string()).unwrap();
    (dir, config)
}

#[tokio::test]
async fn cli_loopback_register_login_refresh_logout_forget() {
    require_test_keyring("cli_loopback_register_login_refresh_logout_forget");
    let idp = Idp::start().await;
    let (dir, config) = setup(&idp, "loopback", Value::Null);
    let browser = Arc::new(ScriptedBrowser::new());

    let (registered, steps) = dcr(&dir, &config, &["register"], &browser).await;
    assert_eq!(steps, 1);
    let client_id = registered["client_id"]
        .as_str()
        .expect("a client ID")
        .to_owned();
    let clients = idp.admin_list_clients().await;
    assert_eq!(clients[0].client_id, client_id);
    assert_eq!(clients[0].redirect_uris, ["http://127.0.0.1/callback"]);

    let (login, steps) = dcr(&dir, &config, &["login", "--refresh", "--logout"], &browser).await;
    assert_eq!(steps, 2, "sign-in and the end-session page");
    assert_eq!(login["sub"], "demouser");
    assert_eq!(login["refreshed"], true);
    assert_eq!(
        login["server_logout"], true,
        "the loopback post-logout redirect confirmed"
    );

    let (status, _) = dcr(&dir, &config, &["status"], &browser).await;
    assert_eq!(status["registered"], true);
    let (_, _) = dcr(&dir, &config, &["forget"], &browser).await;
    assert!(idp.admin_list_clients().await.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `dcr status` and a plain `dcr login` find a registration made by `dcr --browser loopback
/// register` under `userAgent: ["embedded", "loopback"]`: the engine looks over the allowed
/// modes, as it does for the desktop app, so they agree.
#[tokio::test]
async fn cli_finds_the_loopback_registration_among_the_allowed_modes() {
    require_test_keyring("cli_finds_the_loopback_registration_among_the_allowed_modes");
    let idp = Idp::start().await;
    let (dir, config) = setup(
        &idp,
        "modes",
        serde_json::json!({ "userAgent": ["embedded", "loopback"] }),
    );
    let browser = Arc::new(ScriptedBrowser::new());

    let (registered, _) = dcr(&dir, &config, &["register"], &browser).await;
    let client_id = registered["client_id"].as_str().expect("a client ID");
    let (status, steps) = dcr_as_is(&dir, &config, &["status"], &browser).await;
    assert_eq!(steps, 0);
    assert_eq!(status["registered"], true, "{status}");
    assert_eq!(status["client_id"], client_id);
    // The registration's mode, not the config's default: the sign-in comes back to loopback.
    let (login, steps) = dcr_as_is(&dir, &config, &["login"], &browser).await;
    assert_eq!(steps, 1);
    assert_eq!(login["sub"], "demouser");

    let (_, _) = dcr_as_is(&dir, &config, &["forget"], &browser).await;
    assert!(idp.admin_list_clients().await.is_empty());
    let (status, _) = dcr_as_is(&dir, &config, &["status"], &browser).await;
    assert_eq!(status["registered"], false, "{status}");
    let _ = std::fs::remove_dir_all(&dir);
}
